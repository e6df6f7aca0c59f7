#include "core/model/node.h"

#include <gtest/gtest.h>

namespace meshfed {
namespace {

TEST(ResolvePlainScalar, FollowsYaml11AsKubectlReadsIt) {
  EXPECT_EQ(ResolvePlainScalar("9080"), ScalarType::Int);
  EXPECT_EQ(ResolvePlainScalar("0x1F"), ScalarType::Int);
  EXPECT_EQ(ResolvePlainScalar("yes"), ScalarType::Bool);
  EXPECT_EQ(ResolvePlainScalar("off"), ScalarType::Bool);
  EXPECT_EQ(ResolvePlainScalar("~"), ScalarType::Null);
  EXPECT_EQ(ResolvePlainScalar(""), ScalarType::Null);
  EXPECT_EQ(ResolvePlainScalar("1.5"), ScalarType::Float);
  EXPECT_EQ(ResolvePlainScalar("1e5"), ScalarType::Float);
  EXPECT_EQ(ResolvePlainScalar(".inf"), ScalarType::Float);
  EXPECT_EQ(ResolvePlainScalar("v1"), ScalarType::String);
  EXPECT_EQ(ResolvePlainScalar("1.2.3"), ScalarType::String);
  EXPECT_EQ(ResolvePlainScalar("reviews"), ScalarType::String);
  EXPECT_EQ(ResolvePlainScalar("-"), ScalarType::String);
}

TEST(Node, QuotedNumberIsAString) {
  EXPECT_EQ(Node::String("9080").scalar_type(), ScalarType::String);
  EXPECT_EQ(Node::Plain("9080").scalar_type(), ScalarType::Int);
  EXPECT_FALSE(Node::String("9080") == Node::Plain("9080"));
}

TEST(Node, SetReplacesInPlaceAndKeepsOrder) {
  Node m = Node::Mapping();
  m.Set("a", Node::Int(1));
  m.Set("b", Node::Int(2));
  m.Set("a", Node::Int(3));
  ASSERT_EQ(m.entries().size(), 2u);
  EXPECT_EQ(m.entries()[0].key, "a");
  EXPECT_EQ(m.entries()[0].value.text(), "3");
  EXPECT_TRUE(m.Erase("a"));
  EXPECT_FALSE(m.Erase("a"));
  EXPECT_EQ(m.Find("b")->text(), "2");
}

}  // namespace
}  // namespace meshfed
