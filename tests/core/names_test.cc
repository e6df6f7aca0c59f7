#include "core/translate/names.h"

#include <gtest/gtest.h>

#include <cctype>
#include <regex>
#include <set>
#include <string>

namespace meshfed {
namespace {

// What the API server accepts as the name of the objects meshfed generates from these parts: a
// DNS-1123 subdomain (lower-case alphanumerics, '-' and '.', each dot-separated part starting and
// ending with an alphanumeric), here at most 63 characters so that a Service may have it too.
bool IsObjectName(const std::string& s) {
  static const std::regex re("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  return s.size() <= 63 && std::regex_match(s, re);
}

// A Kubernetes label value: empty, or at most 63 alphanumerics, '-', '_' and '.', starting and
// ending with an alphanumeric.
bool IsLabelValue(const std::string& s) {
  static const std::regex re("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
  return s.size() <= 63 && std::regex_match(s, re);
}

TEST(Names, GeneratedNamesAreValidWhereverTheyAreCut) {
  std::set<std::string> names;
  // Long enough to be cut at every place: just after a letter, after the '-' that joins the
  // parts, after a '.' of a part that is a host name.
  for (size_t n = 1; n <= 70; ++n) {
    const std::string letters(n, 'a');
    for (const std::string& first : {letters, letters + ".example", letters + "-x"}) {
      std::string name = GeneratedName({first, "default"});
      EXPECT_TRUE(IsObjectName(name)) << name;
      EXPECT_EQ(name.rfind("meshfed-", 0), 0u) << name;
      ASSERT_GE(name.size(), 9u);
      EXPECT_EQ(name.substr(name.size() - 9),
                "-" + ShortHash({std::string_view(first), std::string_view("default")}))
          << name;
      names.insert(name);
    }
  }
  EXPECT_EQ(names.size(), 3u * 70u) << "every set of parts has its own name";
  EXPECT_EQ(GeneratedName({"reviews", "default"}).substr(0, 24), "meshfed-reviews-default-");
  EXPECT_NE(GeneratedName({"a-b", "c"}), GeneratedName({"a", "b-c"}));
}

TEST(Names, LabelValuesAreValidAndKeptWhenTheyFit) {
  const std::string fits(63, 'a');
  EXPECT_EQ(LabelValue(fits), fits);
  EXPECT_EQ(LabelValue("reviews.default"), "reviews.default");
  std::set<std::string> values;
  // A value of 64 characters or more is cut and hashed; the cut never ends in '-', '.' or '_'.
  for (size_t n = 1; n <= 70; ++n) {
    for (char separator : {'-', '.', '_'}) {
      std::string value = std::string(n, 'a') + separator + std::string(70, 'b');
      std::string label = LabelValue(value);
      EXPECT_TRUE(IsLabelValue(label)) << label;
      EXPECT_EQ(label.substr(label.size() - 9), "-" + ShortHash({std::string_view(value)}))
          << label;
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(label[label.size() - 10])))
          << "the cut ends at a letter or digit: " << label;
      values.insert(label);
    }
  }
  EXPECT_EQ(values.size(), 3u * 70u) << "values that share a long prefix keep apart";
}

}  // namespace
}  // namespace meshfed
