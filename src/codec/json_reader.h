// Reads JSON with simdjson, several times faster than going through libyaml: one value (an API
// server's answer, a watch event) without positions, or a file's document with them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "codec/yaml_reader.h"
#include "core/model/node.h"

namespace meshfed {

struct JsonOptions {
  // Leave out every object's metadata.managedFields: what an API server sends for server-side
  // apply's bookkeeping, often as large as the fields themselves, which a reader that never
  // looks at it need not build (client-go's informers drop it too: TransformStripManagedFields).
  bool drop_managed_fields = false;
};

// Numbers keep their type as a YAML reader would resolve them (an integer stays an integer, a
// number with a fraction or exponent a float); strings are quoted strings. False, with `error`
// set and `out` untouched, when `text` is not exactly one JSON value (or nests deeper than
// simdjson's limit of 1024, or holds an integer beyond 64 bits).
bool ReadJson(std::string_view text, Node& out, std::string& error, JsonOptions options = {});

// The simdjson parsers ReadJson has made so far in this process, and the most it makes. It keeps
// them, with their buffers, for the next reads; a thread that finds every one in use waits for one.
size_t JsonParsersMade();
size_t JsonParsersAtMost();

// A file holding one JSON object or array, read into the tree (and positions) that the YAML reader
// would read from it: ReadYamlStream takes this road first. Nothing when it cannot promise that
// tree: invalid JSON, or what libyaml reads differently or reports on (text outside printable
// ASCII, tabs, carriage returns, \u escapes, duplicate or `<<` keys, keys near YAML's 1,024
// character limit, anything over `limits`); the YAML reader then reads the file and reports.
std::optional<ReadResult> ReadJsonDocument(std::string_view content, const ReadLimits& limits);

}  // namespace meshfed
