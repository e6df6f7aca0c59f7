// Go's `%q` for a string (strconv.Quote), which Istio's validation messages use: meshfed's
// diagnostics repeat Istio's message texts byte for byte.
#pragma once

#include <string>
#include <string_view>

namespace meshfed {

// Whether Go's strconv.IsPrint accepts code point `r`: letters, marks, numbers, punctuation and
// symbols of Unicode 15.0.0 (Go 1.21 and later), and the ASCII space.
bool GoIsPrint(char32_t r);

// strconv.Quote(s): `s` in double quotes, with
// - `"` and `\` escaped by a backslash;
// - \a \b \f \n \r \t \v as those letters;
// - other ASCII controls and DEL as \xhh;
// - a byte that does not start a valid UTF-8 sequence (overlong forms, surrogates, code points
//   past U+10FFFF, cut-off sequences) as \xhh, one byte at a time;
// - a code point GoIsPrint rejects as \uhhhh, or \Uhhhhhhhh past U+FFFF;
// - everything else as it is. Hex digits are lower case.
std::string GoQuote(std::string_view s);
void AppendGoQuote(std::string& out, std::string_view s);  // GoQuote(s) appended to `out`

}  // namespace meshfed
