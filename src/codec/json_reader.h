// Reads one JSON value (an API server's answer, a watch event) into a tree, without positions:
// simdjson parses it, several times faster than going through the YAML reader. For files, whose
// values must keep their line and column, ReadYamlStream reads JSON too.
#pragma once

#include <string>
#include <string_view>

#include "core/model/node.h"

namespace meshfed {

// Numbers keep their type as a YAML reader would resolve them (an integer stays an integer, a
// number with a fraction or exponent a float); strings are quoted strings. False, with `error`
// set and `out` untouched, when `text` is not exactly one JSON value (or nests deeper than
// simdjson's limit of 1024, or holds an integer beyond 64 bits).
bool ReadJson(std::string_view text, Node& out, std::string& error);

}  // namespace meshfed
