#include "codec/json_reader.h"

#include <gtest/gtest.h>

#include "codec/yaml_reader.h"

namespace meshfed {
namespace {

Node Json(std::string_view text) {
  Node out;
  std::string error;
  EXPECT_TRUE(ReadJson(text, out, error)) << text << ": " << error;
  return out;
}

TEST(JsonReader, KeepsTypesAsTheYamlReaderResolvesThem) {
  Node n = Json(R"({"port": 9080, "big": 18446744073709551615, "neg": -3, "weight": 1.0,
                    "pct": 50.5, "exp": 1e3, "name": "9080", "on": true, "off": false,
                    "none": null, "list": [1, "a", [], {}]})");
  ASSERT_TRUE(n.IsMapping());
  EXPECT_EQ(n.Find("port")->scalar_type(), ScalarType::Int);
  EXPECT_EQ(n.Find("port")->text(), "9080");
  EXPECT_EQ(n.Find("big")->text(), "18446744073709551615");
  EXPECT_EQ(n.Find("neg")->text(), "-3");
  EXPECT_EQ(n.Find("weight")->scalar_type(), ScalarType::Float);
  EXPECT_EQ(n.Find("weight")->text(), "1.0");
  EXPECT_EQ(n.Find("pct")->text(), "50.5");
  EXPECT_EQ(n.Find("exp")->scalar_type(), ScalarType::Float);
  EXPECT_EQ(n.Find("name")->scalar_type(), ScalarType::String);
  EXPECT_EQ(n.Find("on")->scalar_type(), ScalarType::Bool);
  EXPECT_EQ(n.Find("off")->text(), "false");
  EXPECT_TRUE(n.Find("none")->IsNull());
  const Node& list = *n.Find("list");
  ASSERT_EQ(list.items().size(), 4u);
  EXPECT_TRUE(list.items()[2].IsSequence());
  EXPECT_TRUE(list.items()[3].IsMapping());
}

TEST(JsonReader, KeepsKeyOrderAndEscapes) {
  Node n = Json(R"({"z": "caf\u00e9 \"q\"\n", "a": "\ud83d\ude00", "m": 1})");
  ASSERT_EQ(n.entries().size(), 3u);
  EXPECT_EQ(n.entries()[0].key, "z");
  EXPECT_EQ(n.entries()[1].key, "a");
  EXPECT_EQ(n.entries()[0].value.text(), "caf\xc3\xa9 \"q\"\n");
  EXPECT_EQ(n.entries()[1].value.text(), "\xf0\x9f\x98\x80");
}

TEST(JsonReader, ReadsWhatTheYamlReaderReads) {
  // The same answer through both readers: the same tree (positions aside).
  std::string text =
      R"({"apiVersion": "v1", "kind": "List", "items": [{"metadata": {"name": "reviews",)"
      R"( "labels": {"app": "reviews", "version": "v1"}}, "spec": {"ports": [{"port": 9080,)"
      R"( "name": "http"}], "selector": {"app": "reviews"}}}]})";
  ReadResult yaml = ReadYamlStream(text, "answer.json");
  ASSERT_TRUE(yaml.diagnostics.empty());
  EXPECT_EQ(Json(text), yaml.documents.at(0));
}

TEST(JsonReader, RejectsWhatIsNotOneJsonValue) {
  for (std::string_view bad : {"", "{", "{\"a\": 1,}", "{\"a\": 1} {}", "[1, 2", "{a: 1}",
                               "\"\xff\"", "123456789012345678901234567890", "nul"}) {
    Node out = Node::String("untouched");
    std::string error;
    EXPECT_FALSE(ReadJson(bad, out, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
    EXPECT_EQ(out.text(), "untouched") << bad;
  }
}

}  // namespace
}  // namespace meshfed
