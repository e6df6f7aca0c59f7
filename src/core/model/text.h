// Small text helpers shared by the core.
#pragma once

#include <absl/hash/hash.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/model/node.h"

namespace meshfed {

// Hashes any string-like key (std::string, std::string_view, Key): with std::equal_to<>, a map
// keyed by std::string is searched for a view without a copy.
struct TextHash {
  using is_transparent = void;
  // Abseil's hash (wyhash-like for longer texts): keys such as a status entry's run to a few
  // hundred bytes, where it took a fifth fewer instructions than libstdc++'s Murmur-based
  // std::hash in the translator (callgrind, the large fleet).
  size_t operator()(std::string_view s) const {
    return absl::Hash<absl::string_view>{}(absl::string_view(s.data(), s.size()));
  }
};

// ASCII lower case (what std::tolower does in the "C" locale, without a call per byte). A string
// that is going away anyway (ToLower(ResolveShortName(...))) is lowered in place, not copied.
inline std::string ToLower(std::string&& s) {
  std::string out(std::move(s));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}
inline std::string ToLower(std::string_view s) { return ToLower(std::string(s)); }

// Appends each part to `out`: text as it is, an integer in decimal. What fmt::format_to with "{}"
// for each part writes, without reading a format string at run time: the translator builds
// hundreds of thousands of keys and messages, and fmt's parsing and its output iterator into a
// std::string were a fifth of its instructions (docs/performance-history.md, "Eleventh session").
template <typename... Parts>
void AppendText(std::string& out, const Parts&... parts) {
  [[maybe_unused]] auto one = [&out](const auto& part) {
    using Part = std::decay_t<decltype(part)>;
    if constexpr (std::is_integral_v<Part> && !std::is_same_v<Part, char> &&
                  !std::is_same_v<Part, bool>) {
      char digits[24];
      auto [end, ec] = std::to_chars(digits, digits + sizeof digits, part);
      out.append(digits, end);
    } else {
      out.append(std::string_view(part));
    }
  };
  (one(parts), ...);
}

template <typename... Parts>
std::string ConcatText(const Parts&... parts) {
  std::string out;
  AppendText(out, parts...);
  return out;
}

// The items of `items` (texts or integers) written one after another with `separator` between.
template <typename Items>
void AppendJoined(std::string& out, const Items& items, std::string_view separator) {
  bool first = true;
  for (const auto& item : items) {
    if (!first) out.append(separator);
    first = false;
    AppendText(out, item);
  }
}

template <typename Items>
std::string JoinText(const Items& items, std::string_view separator) {
  std::string out;
  AppendJoined(out, items, separator);
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

// Levenshtein distance, ASCII case-insensitive: to suggest the name a typo meant.
inline size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                  std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The candidate closest to `name` within two edits, or "".
template <typename Names>
std::string ClosestName(std::string_view name, const Names& candidates) {
  std::string best;
  size_t best_distance = 3;
  for (const auto& c : candidates) {
    size_t d = EditDistance(name, c);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(c);
    }
  }
  return best;
}

// The text of a scalar node, or "" for a missing or non-scalar one. A view into the node (valid
// while it is), not a copy.
inline std::string_view ScalarText(const Node* n) {
  return n && n->IsScalar() ? n->text() : std::string_view();
}

// The text of the scalar under `key` of a mapping (`a`, then `b`), or "" when `n` is no mapping
// or anything on the way is missing or not a scalar.
inline std::string_view ScalarAt(const Node* n, std::string_view key) {
  return ScalarText(n ? n->Find(key) : nullptr);
}
inline std::string_view ScalarAt(const Node* n, std::string_view a, std::string_view b) {
  return ScalarAt(n ? n->Find(a) : nullptr, b);
}

}  // namespace meshfed
