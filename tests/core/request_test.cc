#include "core/simulate/request.h"

#include <gtest/gtest.h>

namespace meshfed {
namespace {

TEST(Request, ParsesUrlHeadersAndQuery) {
  std::string error;
  auto r = ParseRequest("http://Reviews.default:9080/a/b?x=1&y", "POST",
                        {"End-User: jason", "x-multi: a", "x-multi: b", "Host: other:80"}, error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->host, "reviews.default");
  EXPECT_EQ(r->port, 9080);
  EXPECT_EQ(r->path, "/a/b");
  EXPECT_EQ(r->query, "x=1&y");
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->authority, "other:80") << "a Host header overrides the URL's authority";
  EXPECT_EQ(r->Header("end-user").value(), "jason");
  EXPECT_EQ(r->Header("X-MULTI").value(), "a,b");
  auto q = r->QueryParams();
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[1].first, "y");
  EXPECT_EQ(q[1].second, "");
}

TEST(Request, DefaultsAndErrors) {
  std::string error;
  auto r = ParseRequest("http://reviews", "", {}, error);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->port, 80);
  EXPECT_EQ(r->path, "/");
  EXPECT_EQ(r->method, "GET");
  EXPECT_FALSE(ParseRequest("reviews:9080", "GET", {}, error));
  EXPECT_FALSE(ParseRequest("ftp://x/", "GET", {}, error));
  EXPECT_FALSE(ParseRequest("http://x:0/", "GET", {}, error));
  EXPECT_FALSE(ParseRequest("http://x:80a/", "GET", {}, error));
  EXPECT_FALSE(ParseRequest("http:///", "GET", {}, error));
  EXPECT_FALSE(ParseRequest("http://x/", "G E T", {}, error));
  EXPECT_FALSE(ParseRequest("http://x/", "GET", {"bad header"}, error));
}

TEST(Request, AnIpv6HostKeepsItsBracketsAndItsPort) {
  std::string error;
  auto r = ParseRequest("http://[2001:db8::1]:8080/x", "GET", {}, error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->host, "[2001:db8::1]");
  EXPECT_EQ(r->port, 8080);
  r = ParseRequest("http://[2001:db8::1]/x", "GET", {}, error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->host, "[2001:db8::1]");
  EXPECT_EQ(r->port, 80);
  EXPECT_FALSE(ParseRequest("http://[2001:db8::1]:99999/", "GET", {}, error));
  EXPECT_EQ(PortSeparator("reviews:9080"), 7u);
  EXPECT_EQ(PortSeparator("[::1]:80"), 5u);
  EXPECT_EQ(PortSeparator("[::1]"), std::string_view::npos);
  EXPECT_EQ(PortSeparator("reviews"), std::string_view::npos);
}

TEST(Request, NormalizesDotSegments) {
  EXPECT_EQ(NormalizePath("/a/b/../c"), "/a/c");
  EXPECT_EQ(NormalizePath("/a/./b/"), "/a/b/");
  EXPECT_EQ(NormalizePath("/../a"), "/a");
  EXPECT_EQ(NormalizePath("/a/.."), "/");
  EXPECT_EQ(NormalizePath("/a//b"), "/a//b") << "no slash merging by default";
  EXPECT_EQ(NormalizePath("/"), "/");
}

}  // namespace
}  // namespace meshfed
