#include "core/model/text.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/hosts.h"

namespace meshfed {
namespace {

// AppendText and ConcatText write what fmt writes for "{}" per part: the translator's keys and
// messages kept their text when they moved off fmt.
TEST(Text, ConcatTextWritesEachPartAsFormatDoes) {
  const std::string owned = "reviews";
  const std::string_view view = "default";
  const char* pointer = "svc.cluster.local";
  EXPECT_EQ(ConcatText(owned, ".", view, ".", pointer),
            fmt::format("{}.{}.{}", owned, view, pointer));
  for (int64_t n : {int64_t{0}, int64_t{7}, int64_t{-1}, int64_t{9080}, int64_t{INT_MIN},
                    int64_t{INT64_MIN}, int64_t{INT64_MAX}}) {
    EXPECT_EQ(ConcatText("port ", n, ":", static_cast<int>(n)),
              fmt::format("port {}:{}", n, static_cast<int>(n)));
  }
  EXPECT_EQ(ConcatText(size_t{SIZE_MAX}, "/", uint32_t{UINT32_MAX}),
            fmt::format("{}/{}", size_t{SIZE_MAX}, uint32_t{UINT32_MAX}));
  EXPECT_EQ(ConcatText(), "");
  EXPECT_EQ(ConcatText("", std::string(), std::string_view()), "");

  std::string key = "status.binding";
  AppendText(key, "/", owned.size(), ":", owned);
  EXPECT_EQ(key, fmt::format("status.binding/{}:{}", owned.size(), owned));
}

TEST(Text, JoinTextWritesAsFmtJoinDoes) {
  const std::vector<int> ports = {9080, 8443, -3};
  const std::vector<std::string> clusters = {"cluster-a", "", "cluster-c"};
  EXPECT_EQ(JoinText(ports, ", "), fmt::format("{}", fmt::join(ports, ", ")));
  EXPECT_EQ(JoinText(clusters, "/"), fmt::format("{}", fmt::join(clusters, "/")));
  EXPECT_EQ(JoinText(std::vector<int>{}, ","), "");
  EXPECT_EQ(JoinText(std::vector<std::string>{"one"}, ","), "one");
  std::string out = "ports:";
  AppendJoined(out, ports, ",");
  EXPECT_EQ(out, "ports:9080,8443,-3");
}

TEST(Hosts, AddressesAreToldFromNames) {
  EXPECT_TRUE(IsIpAddress("10.0.0.1"));
  EXPECT_TRUE(IsIpAddress("::1"));
  EXPECT_TRUE(IsIpAddress("fe80::1"));
  EXPECT_FALSE(IsIpAddress("reviews"));
  EXPECT_FALSE(IsIpAddress("reviews.default"));
  EXPECT_FALSE(IsIpAddress("10.0.0"));
  EXPECT_FALSE(IsIpAddress(":"));
  EXPECT_FALSE(IsIpAddress(""));
  // As inet_pton reads it: up to the first NUL.
  EXPECT_TRUE(IsIpAddress(std::string_view("10.0.0.1\0.x", 11)));
  EXPECT_FALSE(IsIpAddress(std::string_view("reviews\0:1", 10)));
  // A short name is resolved in the namespace of the config; an IPv6 address has no dot but is
  // not a name.
  EXPECT_EQ(ResolveShortName("reviews", "prod"), "reviews.prod.svc.cluster.local");
  EXPECT_EQ(ResolveShortName("::1", "prod"), "::1");
  EXPECT_EQ(ResolveShortName("reviews.other", "prod"), "reviews.other");
}

}  // namespace
}  // namespace meshfed
