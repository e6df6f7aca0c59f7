#include "codec/json_reader.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "codec/same_positioned.h"
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

// An API client reads objects without the managedFields it never looks at: in a list's items and
// a watch event's object alike, and only as metadata's field.
TEST(JsonReader, CanLeaveOutManagedFields) {
  std::string text =
      R"({"type": "ADDED", "items": [{"metadata": {"name": "a", "managedFields": [{"manager":)"
      R"( "kubectl", "fieldsV1": {"f:spec": {}}}], "uid": "1"}, "spec": {"managedFields": 1}}],)"
      R"( "object": {"metadata": {"managedFields": [], "name": "b"}}})";
  Node out;
  std::string error;
  ASSERT_TRUE(ReadJson(text, out, error, JsonOptions{.drop_managed_fields = true})) << error;
  EXPECT_EQ(out,
            Json(R"({"type": "ADDED", "items": [{"metadata": {"name": "a", "uid": "1"},)"
                 R"( "spec": {"managedFields": 1}}], "object": {"metadata": {"name": "b"}}})"));
  EXPECT_TRUE(Json(text).Find("object")->Find("metadata")->Find("managedFields"))
      << "kept unless asked";
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

// The parsers are shared by every thread (taken for one parse and given back): threads reading
// at once, documents small and large, good and bad, each get their own answer.
TEST(JsonReader, ReadsOnManyThreadsAtOnce) {
  constexpr int kThreads = 12, kRounds = 150;
  std::vector<int> wrong(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &wrong] {
      for (int r = 0; r < kRounds; ++r) {
        // Sizes vary so that parsers grow and are reused at other sizes.
        std::string items;
        for (int i = 0; i < (t * 7 + r) % 300; ++i) {
          items += fmt::format("{}{{\"i\": {}}}", i ? "," : "", i);
        }
        std::string text =
            fmt::format(R"({{"thread": {}, "round": {}, "items": [{}]}})", t, r, items);
        Node out;
        std::string error;
        bool bad_round = r % 10 == 9;
        if (bad_round) text.pop_back();  // every tenth document is cut short
        bool ok = ReadJson(text, out, error);
        if (ok == bad_round) {
          ++wrong[t];
          continue;
        }
        if (bad_round) continue;
        size_t want_items = static_cast<size_t>((t * 7 + r) % 300);
        if (out.Find("thread")->text() != std::to_string(t) ||
            out.Find("round")->text() != std::to_string(r) ||
            out.Find("items")->items().size() != want_items) {
          ++wrong[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(wrong[t], 0) << "thread " << t;
}

// However many threads read at once, the parsers made stay few: a thread that finds them all in
// use waits for one, instead of making one more and growing the heap by its buffers (megabytes
// for a page of a list). More threads read here than the most there may be.
TEST(JsonReader, MakesNoMoreParsersThanItKeeps) {
  const size_t most = JsonParsersAtMost();
  ASSERT_GE(most, 8u);
  const int threads_reading = static_cast<int>(most) * 3;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_reading; ++t) {
    threads.emplace_back([t, &wrong] {
      for (int r = 0; r < 40; ++r) {
        std::string items;
        for (int i = 0; i < 200 + t; ++i) items += fmt::format("{}\"item-{}\"", i ? "," : "", i);
        Node out;
        std::string error;
        if (!ReadJson("[" + items + "]", out, error) ||
            out.items().size() != static_cast<size_t>(200 + t)) {
          ++wrong;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(JsonParsersMade(), 1u);
  EXPECT_LE(JsonParsersMade(), most);
}

// A file of valid JSON is read by simdjson (ReadJsonDocument) into what libyaml's road reads:
// the same values, types, styles and line:column of every value and key.
TEST(JsonDocument, ReadsFilesIntoWhatTheYamlReaderReads) {
  const std::string files[] = {
      R"({
  "apiVersion": "networking.istio.io/v1beta1",
  "kind": "VirtualService",
  "metadata": {"name": "reviews", "namespace": "default", "labels": {}},
  "spec": {
    "hosts": ["reviews"],
    "http": [
      {"match": [{"headers": {"end-user": {"exact": "jason"}}}],
       "route": [{"destination": {"host": "reviews", "subset": "v2"}, "weight": 100}]},
      {"route": [{"destination": {"host": "reviews", "subset": "v1"}, "weight": 50.5},
                 {"destination": {"host": "reviews", "subset": "v3"}, "weight": -1e-3}]}
    ],
    "numbers": [0, -0, 1E5, 2e+10, 0.25, 123456789012345678901234567890],
    "flags": [true, false, null],
    "strings": ["", "yes", "null", "0777", "a \"quoted\" \\ \/ word", "tab\there\nnewline\b\f\r"],
    "": {"empty key": [], "nested": [[[]], {}]}
  }
}
)",
      "[]",
      "  [1]  \n\n",
      "{\"a\":{\"b\":[{\"c\":null}]}}",
  };
  for (const std::string& text : files) {
    std::optional<ReadResult> fast = ReadJsonDocument(text, ReadLimits{});
    ASSERT_TRUE(fast.has_value()) << text;
    ReadResult slow = ReadYamlEvents(text, "f.json");
    ASSERT_TRUE(slow.diagnostics.empty()) << slow.diagnostics[0].Format();
    ASSERT_TRUE(fast->diagnostics.empty());
    ASSERT_EQ(fast->documents.size(), 1u);
    ASSERT_EQ(slow.documents.size(), 1u);
    ExpectSamePositioned(fast->documents[0], slow.documents[0], "root");
    // ReadYamlStream takes the fast road.
    ReadResult stream = ReadYamlStream(text, "f.json");
    ASSERT_EQ(stream.documents.size(), 1u);
    ExpectSamePositioned(stream.documents[0], slow.documents[0], "stream");
  }
}

// What it cannot promise to read as libyaml does (or what libyaml reports on) is left to the
// YAML reader, which reads and reports as before: the same result through ReadYamlStream.
TEST(JsonDocument, LeavesToTheYamlReaderWhatItCannotPromise) {
  std::string long_key = "{\"" + std::string(1010, 'k') + "\": 1}";
  std::string deep(70, '[');
  deep += std::string(70, ']');
  ReadLimits small;
  small.max_scalar_bytes = 8;
  small.max_nodes = 5;
  struct Case {
    std::string text;
    ReadLimits limits;
  };
  const Case cases[] = {
      {"{\"a\":\t1}", {}},                // a tab
      {"{\"a\": 1}\r\n", {}},             // a carriage return
      {"{\"a\": \"caf\xc3\xa9\"}", {}},   // beyond ASCII
      {"{\"a\": \"\\u00e9\"}", {}},       // a \u escape
      {"{\"a\": 1, \"a\": 2}", {}},       // a duplicate key
      {"{\"<<\": {\"a\": 1}}", {}},       // the merge key
      {long_key, {}},                     // YAML's implicit-key limit
      {deep, {}},                         // deeper than max_depth
      {"{} {}", {}},                      // two values
      {"{\"a\": tru}", {}},               // not JSON
      {"{\"a\": 01}", {}},                // not a JSON number
      {"{\"a\": 1,}", {}},                // a trailing comma
      {"{\"a\": 1} # comment", {}},       // a comment
      {"\"a string\"", {}},               // not an object or a list
      {"", {}},                           // nothing
      {"{\"a\": \"123456789\"}", small},  // a value over max_scalar_bytes
      {"[1, 2, 3, 4, 5, 6]", small},      // more values than max_nodes
      {"{\"a\"\n: 1}", {}},               // a line break between a key and its `:`
      {"a: 1", {}},                       // YAML
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(ReadJsonDocument(c.text, c.limits).has_value()) << c.text;
    ExpectSameAsLibyamlRoad(c.text, "f.json", c.limits);
  }
  // The duplicate key is still reported where it is.
  ReadResult dup = ReadYamlStream("{\"a\": 1,\n \"a\": 2}", "dup.json");
  ASSERT_EQ(dup.diagnostics.size(), 1u);
  EXPECT_EQ(dup.diagnostics[0].position.line, 2u);
  EXPECT_EQ(dup.diagnostics[0].position.column, 2u);
}

}  // namespace
}  // namespace meshfed
