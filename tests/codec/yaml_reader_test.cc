#include "codec/yaml_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "codec/json_reader.h"

namespace meshfed {
namespace {

ReadResult Read(const std::string& text, ReadLimits limits = {}) {
  return ReadYamlStream(text, "in.yaml", limits);
}

Diagnostic OnlyError(const ReadResult& r) {
  EXPECT_EQ(r.diagnostics.size(), 1u);
  return r.diagnostics.empty() ? Diagnostic{} : r.diagnostics.front();
}

TEST(YamlReader, KeepsLineAndColumnOfEveryValueAndKey) {
  ReadResult r = Read("a: 1\nb:\n  - x\n  - {c: \"9080\"}\n");
  ASSERT_TRUE(r.diagnostics.empty());
  ASSERT_EQ(r.documents.size(), 1u);
  const Node& doc = r.documents[0];
  EXPECT_EQ(doc.entries()[1].key_position.line, 2u);
  const Node* b = doc.Find("b");
  EXPECT_EQ(b->items()[0].position().line, 3u);
  EXPECT_EQ(b->items()[0].position().column, 5u);
  const Node* c = b->items()[1].Find("c");
  EXPECT_EQ(c->position().line, 4u);
  EXPECT_EQ(c->position().column, 9u);
  EXPECT_EQ(c->scalar_type(), ScalarType::String) << "a quoted number stays a string";
  EXPECT_EQ(doc.Find("a")->scalar_type(), ScalarType::Int);
}

TEST(YamlReader, ReadsEveryDocumentOfAStreamIncludingEmptyOnes) {
  ReadResult r = Read("---\na: 1\n---\n---\nb: 2\n...\n");
  ASSERT_TRUE(r.diagnostics.empty());
  ASSERT_EQ(r.documents.size(), 3u);
  EXPECT_TRUE(r.documents[1].IsNull());
  EXPECT_EQ(r.documents[2].Find("b")->text(), "2");
}

TEST(YamlReader, ReadsJson) {
  ReadResult r = Read("{\"kind\":\"Service\",\n \"spec\": {\"ports\": [{\"port\": 80}]}}");
  ASSERT_TRUE(r.diagnostics.empty()) << r.diagnostics[0].Format();
  const Node* port = r.documents[0].Find("spec")->Find("ports")->items()[0].Find("port");
  EXPECT_EQ(port->scalar_type(), ScalarType::Int);
  EXPECT_EQ(port->position().line, 2u);
}

TEST(YamlReader, DuplicateKeyIsAnErrorAtTheSecondKey) {
  const Diagnostic d = OnlyError(Read("metadata:\n  name: a\n  name: b\n"));
  EXPECT_EQ(d.code, "MF1003");
  EXPECT_EQ(d.position.line, 3u);
  EXPECT_EQ(d.position.column, 3u);
  EXPECT_NE(d.message.find("`name`"), std::string::npos);
}

TEST(YamlReader, ProseElisionGetsItsPositionAndAHint) {
  const Diagnostic d =
      OnlyError(Read("kind: VirtualService\nmetadata:\n  name: details-v1\n  ...\nspec: {}\n"));
  EXPECT_EQ(d.code, "MF1001");
  EXPECT_EQ(d.file, "in.yaml");
  EXPECT_EQ(d.position.line, 4u);
  EXPECT_EQ(d.position.column, 3u);
  EXPECT_NE(d.message.find("hint"), std::string::npos);
  EXPECT_NE(d.message.find("delete the line"), std::string::npos);
}

TEST(YamlReader, SyntaxErrorNamesLineAndColumn) {
  const Diagnostic d = OnlyError(Read("a: [1, 2\nb: 3\n"));
  EXPECT_EQ(d.code, "MF1001");
  EXPECT_GE(d.position.line, 2u);
}

TEST(YamlReader, TabIndentationIsAnError) {
  EXPECT_EQ(OnlyError(Read("a:\n\tb: 1\n")).code, "MF1001");
}

// Big mappings (a ConfigMap of thousands of keys) are checked for duplicates through a hash set
// once they pass 16 keys; what is found must not change: as YAML, as JSON, and around merges.
TEST(YamlReader, DuplicateKeysInBigMappings) {
  for (size_t n : {15u, 16u, 17u, 40u, 20000u}) {
    std::string yaml, json = "{";
    for (size_t i = 0; i < n; ++i) {
      yaml += "k" + std::to_string(i) + ": " + std::to_string(i) + "\n";
      json += (i ? ", \"k" : "\"k") + std::to_string(i) + "\": " + std::to_string(i);
    }
    ReadResult fine = Read(yaml);
    ASSERT_TRUE(fine.diagnostics.empty()) << n;
    EXPECT_EQ(fine.documents.at(0).entries().size(), n);
    ASSERT_TRUE(ReadYamlStream(json + "}", "in.json").diagnostics.empty()) << n;
    // The first key again, last: reported where it is, by both readers.
    Diagnostic d = OnlyError(Read(yaml + "k0: again\n"));
    EXPECT_EQ(d.code, "MF1003") << n;
    EXPECT_EQ(d.position.line, n + 1) << n;
    d = OnlyError(ReadYamlStream(json + ", \"k0\": 0}", "in.json"));
    EXPECT_EQ(d.code, "MF1003") << n;
  }
  // Merged keys in a big mapping: an explicit key replaces a merged one once; twice is a
  // duplicate.
  std::string big = "base: &b {m: 1}\nmerged:\n";
  for (int i = 0; i < 20; ++i) big += "  k" + std::to_string(i) + ": 0\n";
  big += "  <<: *b\n";
  for (int i = 20; i < 40; ++i) big += "  k" + std::to_string(i) + ": 0\n";
  ReadResult r = Read(big + "  m: 2\n");
  ASSERT_TRUE(r.diagnostics.empty()) << r.diagnostics[0].Format();
  EXPECT_EQ(r.documents[0].Find("merged")->Find("m")->text(), "2");
  EXPECT_EQ(OnlyError(Read(big + "  m: 2\n  m: 3\n")).code, "MF1003");
  EXPECT_EQ(OnlyError(Read(big + "  k3: 1\n")).code, "MF1003");
}

TEST(YamlReader, AliasesExpandAndMergeKeysApply) {
  ReadResult r = Read("base: &b {x: 1, y: 2}\nuse: *b\nmerged:\n  <<: *b\n  y: 3\n");
  ASSERT_TRUE(r.diagnostics.empty()) << r.diagnostics[0].Format();
  const Node& doc = r.documents[0];
  EXPECT_EQ(doc.Find("use")->Find("x")->text(), "1");
  EXPECT_EQ(doc.Find("merged")->Find("y")->text(), "3") << "explicit keys beat merged ones";
  EXPECT_EQ(doc.Find("merged")->Find("x")->text(), "1");
}

// JSON has no merge key: kubectl reads a .json file as JSON, where `<<` is a key like any other
// (and the JSON reader for API answers agrees). In a YAML file, the same text merges.
TEST(YamlReader, MergeKeyIsAKeyInJsonFiles) {
  const std::string text = R"({"<<": {"k": [1]}, "a": 2})";
  ReadResult json = ReadYamlStream(text, "f.json");
  ASSERT_TRUE(json.diagnostics.empty()) << json.diagnostics[0].Format();
  ASSERT_EQ(json.documents.size(), 1u);
  ASSERT_NE(json.documents[0].Find("<<"), nullptr);
  EXPECT_EQ(json.documents[0].Find("k"), nullptr);
  Node answer;
  std::string error;
  ASSERT_TRUE(ReadJson(text, answer, error)) << error;
  EXPECT_EQ(answer, json.documents[0]);
  ReadResult yaml = ReadYamlStream(text, "f.yaml");
  ASSERT_TRUE(yaml.diagnostics.empty()) << yaml.diagnostics[0].Format();
  EXPECT_EQ(yaml.documents[0].Find("<<"), nullptr);
  ASSERT_NE(yaml.documents[0].Find("k"), nullptr);
  // A .json file repeating `<<` repeats a key.
  EXPECT_EQ(OnlyError(ReadYamlStream(R"({"<<": {}, "<<": {}})", "f.json")).code, "MF1003");
}

TEST(YamlReader, UnknownAliasIsAnError) { EXPECT_EQ(OnlyError(Read("a: *nope\n")).code, "MF1001"); }

TEST(YamlReader, BillionLaughsStopsAtTheNodeLimit) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c) {
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) text += std::string(i ? ", *" : "*") + prev;
    text += "]\n";
    prev = c;
  }
  ReadLimits limits;
  limits.max_nodes = 100000;
  const Diagnostic d = OnlyError(Read(text, limits));
  EXPECT_EQ(d.code, "MF1002");
}

TEST(YamlReader, DepthLimit) {
  std::string text(200, '[');
  text += std::string(200, ']');
  EXPECT_EQ(OnlyError(Read(text)).code, "MF1002");
}

TEST(YamlReader, SizeAndScalarLimits) {
  ReadLimits limits;
  limits.max_bytes = 10;
  EXPECT_EQ(OnlyError(Read("a: 1234567890\n", limits)).code, "MF1002");
  limits = {};
  limits.max_scalar_bytes = 4;
  EXPECT_EQ(OnlyError(Read("a: 12345\n", limits)).code, "MF1002");
}

TEST(YamlReader, ByteOrderMarkIsAccepted) {
  ReadResult r = Read(
      "\xEF\xBB\xBF"
      "a: 1\n");
  EXPECT_TRUE(r.diagnostics.empty());
  EXPECT_EQ(r.documents[0].Find("a")->text(), "1");
}

TEST(YamlReader, InvalidUtf8IsAnError) {
  EXPECT_EQ(OnlyError(Read("a: \xff\xfe\n")).code, "MF1001");
}

TEST(YamlReader, ExplicitStringTagMakesAString) {
  ReadResult r = Read("a: !!str 9080\nb: !!int \"7\"\n");
  ASSERT_TRUE(r.diagnostics.empty());
  EXPECT_EQ(r.documents[0].Find("a")->scalar_type(), ScalarType::String);
}

}  // namespace
}  // namespace meshfed
