// Small text helpers shared by the core.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
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

// A decimal integer, or `fallback` when `text` is not one (or does not fit an int). Never throws:
// values from user input reach these.
inline int ParseIntOr(std::string_view text, int fallback) {
  int value = 0;
  const char* begin = text.data();
  if (!text.empty() && text.front() == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty() ? value : fallback;
}

// A decimal number, or `fallback`.
inline double ParseDoubleOr(std::string_view text, double fallback) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty() ? value : fallback;
}

// The text of a scalar node, or "" for a missing or non-scalar one.
inline std::string ScalarText(const Node* n) {
  return n && n->IsScalar() ? n->text() : std::string();
}

}  // namespace meshfed
