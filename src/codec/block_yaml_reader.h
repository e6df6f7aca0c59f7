// Reads the plain block YAML that generators, kubectl and meshfed itself write, without libyaml's
// token and event machinery: several times faster, into the same trees and positions.
#pragma once

#include <optional>
#include <string_view>

#include "codec/yaml_reader.h"

namespace meshfed {

// A stream of block mappings and block sequences (documents separated by `---` lines) whose
// scalars each sit on one line: plain, 'single-quoted' or "double-quoted" with the common
// escapes, or an empty `{}` / `[]`. Whole-line and trailing comments are skipped. The result is
// the tree, positions and styles that ReadYamlEvents (libyaml) gives, with no diagnostics.
// Nothing when the text holds anything else or anything libyaml would report on: text outside
// printable ASCII, tabs, anchors, aliases, tags, block scalars, flow collections, multi-line
// scalars, explicit keys, directives, duplicate or `<<` keys, empty documents, anything over
// `limits`. ReadYamlStream then reads the file through libyaml, which reads or reports it.
std::optional<ReadResult> ReadBlockYaml(std::string_view content, const ReadLimits& limits);

}  // namespace meshfed
