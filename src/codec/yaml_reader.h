// Reads a stream of YAML (or JSON, which libyaml reads as flow YAML) documents into positioned
// trees. Never throws and never crashes on input: every problem becomes a diagnostic naming the
// file, line and column. A file of plain valid JSON is read with simdjson instead, into the same
// trees (ReadJsonDocument in json_reader.h), about five times faster.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/diagnostic.h"
#include "core/model/node.h"

namespace meshfed {

struct ReadLimits {
  size_t max_bytes = 64u << 20;        // one file
  size_t max_documents = 100000;       // per file
  size_t max_depth = 64;               // nesting of mappings and lists
  size_t max_scalar_bytes = 1u << 20;  // one string
  size_t max_nodes = 4000000;          // per file, after expanding aliases (billion laughs)
};

struct ReadResult {
  std::vector<Node> documents;
  Diagnostics diagnostics;  // on a syntax error, documents holds those read before it
};

// A file named *.json is held to JSON: no comments or trailing commas, and `<<` is a key, not
// YAML's merge key.
ReadResult ReadYamlStream(std::string_view content, const std::string& file,
                          const ReadLimits& limits = {});

// libyaml's events for `content`, counted and dropped (up to the first error): what reading YAML
// through libyaml costs before any tree is built. For benchmarks (meshfed_bench parse).
size_t CountYamlEvents(std::string_view content);

// The same, always through libyaml's events (ReadYamlStream reads valid JSON with simdjson
// first). Tests and the fuzzer hold the two roads to the same result.
ReadResult ReadYamlEvents(std::string_view content, const std::string& file,
                          const ReadLimits& limits = {});

}  // namespace meshfed
