// Deterministic emitters: the same tree always gives the same bytes. Keys are written in the
// tree's order (the translator builds objects in kubectl's conventional order), lists block-style
// at the parent's indentation as kubectl writes them, and a string is quoted exactly when a YAML
// 1.1 reader (kubectl's) would otherwise read it as something else.
#pragma once

#include <string>
#include <vector>

#include "core/model/node.h"

namespace meshfed {

// One YAML document (no leading "---").
void EmitYaml(const Node& document, std::string& out);
// Documents separated by "---" lines, each preceded by an optional comment line.
std::string EmitYamlStream(const std::vector<Node>& documents);

// Compact (indent < 0) or indented JSON.
void EmitJson(const Node& value, std::string& out, int indent = 2);

// True when `text` must be quoted to read back as the same string.
bool NeedsQuotes(std::string_view text);

}  // namespace meshfed
