// Deterministic emitters: the same tree always gives the same bytes. Keys are written in the
// tree's order (the translator builds objects in kubectl's conventional order), lists block-style
// at the parent's indentation as kubectl writes them, and a string is quoted exactly when a YAML
// 1.1 reader (kubectl's) would otherwise read it as something else.
#pragma once

#include <absl/functional/function_ref.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/model/node.h"

namespace meshfed {

// One YAML document (no leading "---").
void EmitYaml(const Node& document, std::string& out);
// Documents separated by "---" lines.
std::string EmitYamlStream(const std::vector<Node>& documents);

// The same bytes, handed to `sink` in pieces instead of held whole: a piece ends after the document
// that brings it to `piece` bytes or more (the large fleet's status file is 18 MiB, and a string
// that grows to it by doubling takes 32 MiB of new memory and copies 31 MiB on the way). What
// documents share is written once per piece: text is copied only from the piece being built.
inline constexpr size_t kEmitPiece = 1 << 20;
void EmitYamlStream(const std::vector<Node>& documents,
                    absl::FunctionRef<void(std::string_view)> sink, size_t piece = kEmitPiece);

// Compact (indent < 0) or indented JSON.
void EmitJson(const Node& value, std::string& out, int indent = 2);

// `items` as a `kind: List` (apiVersion v1), indented JSON and a newline: the text of EmitJson of
// that List, handed to `sink` in pieces as EmitYamlStream's are (a piece ends after the item
// that brings it to `piece` bytes or more).
void EmitJsonList(const std::vector<Node>& items, absl::FunctionRef<void(std::string_view)> sink,
                  size_t piece = kEmitPiece);

// True when `text` must be quoted to read back as the same string.
bool NeedsQuotes(std::string_view text);

}  // namespace meshfed
