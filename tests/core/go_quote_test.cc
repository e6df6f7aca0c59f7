#include "core/validate/go_quote.h"

#include <gtest/gtest.h>

#include <string>

namespace meshfed {
namespace {

// Each expected text is what Go's strconv.Quote (Unicode 15.0.0, Go 1.21 and later) returns.
TEST(GoQuote, EscapesAsciiAsGoDoes) {
  EXPECT_EQ(GoQuote(""), R"("")");
  EXPECT_EQ(GoQuote("reviews.prod.svc"), R"("reviews.prod.svc")");
  EXPECT_EQ(GoQuote("a \"b\" \\c"), R"("a \"b\" \\c")");
  EXPECT_EQ(GoQuote("\a\b\f\n\r\t\v"), R"("\a\b\f\n\r\t\v")");
  EXPECT_EQ(GoQuote(std::string("\x00\x01\x1b\x1f\x7f", 5)), R"("\x00\x01\x1b\x1f\x7f")");
  EXPECT_EQ(GoQuote(" ~'`"), R"(" ~'`")");
  std::string out = "key:";  // appended after what is there
  AppendGoQuote(out, "a\tb\"c");
  EXPECT_EQ(out, R"(key:"a\tb\"c")");
}

TEST(GoQuote, KeepsPrintableUnicodeAndEscapesTheRest) {
  EXPECT_EQ(GoQuote("caf\u00e9 \u263a \U0001F600 \uFFFD"),
            "\"caf\u00e9 \u263a \U0001F600 \uFFFD\"");
  EXPECT_EQ(GoQuote("e\u0301"), "\"e\u0301\"");  // a combining mark (Mn) is printable
  EXPECT_EQ(GoQuote("\u0085"), R"("\u0085")");   // a C1 control
  EXPECT_EQ(GoQuote("\u00a0"), R"("\u00a0")");   // no-break space: only U+0020 is printable
  EXPECT_EQ(GoQuote("\u00ad"), R"("\u00ad")");   // soft hyphen (Cf)
  EXPECT_EQ(GoQuote("\u2028\u2029"), R"("\u2028\u2029")");  // line and paragraph separators
  EXPECT_EQ(GoQuote("\u3000"), R"("\u3000")");              // ideographic space
  EXPECT_EQ(GoQuote("\uFEFF"), R"("\ufeff")");              // byte order mark (Cf)
  EXPECT_EQ(GoQuote("\u0378"), R"("\u0378")");              // unassigned
  EXPECT_EQ(GoQuote("\uE000"), R"("\ue000")");              // private use
  EXPECT_EQ(GoQuote("\U000E0001"), R"("\U000e0001")");      // language tag (Cf)
  EXPECT_EQ(GoQuote("\U0010FFFF"), R"("\U0010ffff")");      // noncharacter
}

TEST(GoQuote, EscapesEachByteOfInvalidUtf8) {
  EXPECT_EQ(GoQuote("\xff"), R"("\xff")");
  EXPECT_EQ(GoQuote("a\x80z"), R"("a\x80z")");                      // a lone continuation byte
  EXPECT_EQ(GoQuote("\xc0\xaf"), R"("\xc0\xaf")");                  // overlong '/'
  EXPECT_EQ(GoQuote("\xe0\x80\xaf"), R"("\xe0\x80\xaf")");          // overlong, three bytes
  EXPECT_EQ(GoQuote("\xed\xa0\x80"), R"("\xed\xa0\x80")");          // a surrogate, U+D800
  EXPECT_EQ(GoQuote("\xf4\x90\x80\x80"), R"("\xf4\x90\x80\x80")");  // past U+10FFFF
  EXPECT_EQ(GoQuote("\xe2\x82"), R"("\xe2\x82")");                  // cut off at the end
  EXPECT_EQ(GoQuote("\xe2\x82z"), R"("\xe2\x82z")");                // cut off by ASCII
  // After an invalid byte, decoding starts again at the next one.
  EXPECT_EQ(GoQuote("\xe2\xe2\x82\xac"), "\"\\xe2\u20ac\"");
}

TEST(GoQuote, PrintableRunsFollowUnicodeCategories) {
  EXPECT_TRUE(GoIsPrint(U' '));
  EXPECT_TRUE(GoIsPrint(U'~'));
  EXPECT_FALSE(GoIsPrint(0x7F));
  EXPECT_FALSE(GoIsPrint(0x9F));
  EXPECT_TRUE(GoIsPrint(0xA1));
  EXPECT_FALSE(GoIsPrint(0xAD));
  EXPECT_TRUE(GoIsPrint(0x4E00));   // inside a range UnicodeData.txt gives as First/Last
  EXPECT_TRUE(GoIsPrint(0x9FFF));   // a CJK ideograph since Unicode 15.0.0
  EXPECT_TRUE(GoIsPrint(0x31350));  // CJK Extension H, new in Unicode 15.0.0
  EXPECT_FALSE(GoIsPrint(0xD800));
  EXPECT_FALSE(GoIsPrint(0x10FFFF));
  EXPECT_FALSE(GoIsPrint(0x110000));
}

}  // namespace
}  // namespace meshfed
