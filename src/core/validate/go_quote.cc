#include "core/validate/go_quote.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

// Sources (golang/go): strconv/quote.go (appendQuotedWith, appendEscapedRune), strconv/isprint.go,
// unicode/utf8/utf8.go (DecodeRuneInString: which sequences are valid).

namespace meshfed {
namespace {

struct Run {
  char32_t first, last;
};
constexpr Run kPrintable[] = {
#include "core/validate/go_printable.inc"
};

constexpr char kHex[] = "0123456789abcdef";

void AppendHex(std::string& out, char letter, uint32_t value, int digits) {
  out += '\\';
  out += letter;
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += kHex[(value >> shift) & 0xF];
}

// The code point a valid UTF-8 sequence at the start of `s` encodes, and its length; length 0
// when the first byte does not start one (utf8.DecodeRuneInString's RuneError of width 1). The
// second byte's range depends on the first, which rules out overlong forms, surrogates and code
// points past U+10FFFF.
struct Decoded {
  char32_t rune;
  size_t length;
};
Decoded DecodeUtf8(std::string_view s) {
  auto byte = [&s](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(0);
  size_t length;
  unsigned char low = 0x80, high = 0xBF;  // the second byte's range
  char32_t rune;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2, rune = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3, rune = b0 & 0x0F;
    if (b0 == 0xE0) low = 0xA0;
    if (b0 == 0xED) high = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4, rune = b0 & 0x07;
    if (b0 == 0xF0) low = 0x90;
    if (b0 == 0xF4) high = 0x8F;
  } else {
    return {0, 0};
  }
  if (s.size() < length || byte(1) < low || byte(1) > high) return {0, 0};
  for (size_t i = 1; i < length; ++i) {
    if (i > 1 && (byte(i) < 0x80 || byte(i) > 0xBF)) return {0, 0};
    rune = (rune << 6) | (byte(i) & 0x3F);
  }
  return {rune, length};
}

}  // namespace

bool GoIsPrint(char32_t r) {
  auto after = std::upper_bound(std::begin(kPrintable), std::end(kPrintable), r,
                                [](char32_t v, const Run& run) { return v < run.first; });
  return after != std::begin(kPrintable) && r <= std::prev(after)->last;
}

void AppendGoQuote(std::string& out, std::string_view s) {
  out += '"';
  while (!s.empty()) {
    // A run of printable ASCII but `"` and `\` is written as it is (strconv.IsPrint accepts
    // 0x20 to 0x7E), without looking each byte up.
    size_t plain = 0;
    while (plain < s.size() && s[plain] >= 0x20 && s[plain] <= 0x7e && s[plain] != '"' &&
           s[plain] != '\\') {
      ++plain;
    }
    out.append(s.substr(0, plain));
    s.remove_prefix(plain);
    if (s.empty()) break;
    auto c = static_cast<unsigned char>(s.front());
    char32_t rune = c;
    size_t length = 1;
    if (c >= 0x80) {
      auto decoded = DecodeUtf8(s);
      if (decoded.length == 0) {
        AppendHex(out, 'x', c, 2);
        s.remove_prefix(1);
        continue;
      }
      rune = decoded.rune, length = decoded.length;
    }
    if (rune == '"' || rune == '\\') {
      out += '\\';
      out += static_cast<char>(rune);
    } else if (GoIsPrint(rune)) {
      out.append(s.substr(0, length));
    } else {
      switch (rune) {
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\v':
          out += "\\v";
          break;
        default:
          if (rune < 0x20 || rune == 0x7F) {
            AppendHex(out, 'x', rune, 2);
          } else if (rune < 0x10000) {
            AppendHex(out, 'u', rune, 4);
          } else {
            AppendHex(out, 'U', rune, 8);
          }
      }
    }
    s.remove_prefix(length);
  }
  out += '"';
}

std::string GoQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendGoQuote(out, s);
  return out;
}

}  // namespace meshfed
