// Small text helpers shared by the core.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "core/model/node.h"

namespace meshfed {

inline std::string ToLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The text of a scalar node, or "" for a missing or non-scalar one.
inline std::string ScalarText(const Node* n) {
  return n && n->IsScalar() ? n->text() : std::string();
}

}  // namespace meshfed
