#include "codec/emitter.h"

#include <gtest/gtest.h>

#include "codec/yaml_reader.h"

namespace meshfed {
namespace {

Node Parse(const std::string& text) {
  ReadResult r = ReadYamlStream(text, "t.yaml");
  EXPECT_TRUE(r.diagnostics.empty());
  return r.documents.empty() ? Node() : r.documents[0];
}

TEST(Emitter, WritesKubectlStyleBlockYaml) {
  Node doc = Parse(
      "spec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews, subset: "
      "v1}\n");
  std::string out;
  EmitYaml(doc, out);
  EXPECT_EQ(out,
            "spec:\n"
            "  hosts:\n"
            "  - reviews\n"
            "  http:\n"
            "  - route:\n"
            "    - destination:\n"
            "        host: reviews\n"
            "        subset: v1\n");
}

TEST(Emitter, QuotesStringsThatWouldReadBackAsSomethingElse) {
  for (const char* s : {"9080",      "true",     "yes",
                        "off",       "null",     "~",
                        "",          "1.5",      "*",
                        "- x",       "a: b",     "x #y",
                        "trailing:", "@at",      "`tick",
                        "0x1F",      "---",      "...",
                        "... x",     "{x}",      "multi\nline",
                        "no",        "N",        "y",
                        "True",      "FALSE",    "false",
                        "On",        "OFF",      ".NaN",
                        "a b:",      "name\x7f", "line\xe2\x80\xa8sep"}) {
    EXPECT_TRUE(NeedsQuotes(s)) << s;
  }
  for (const char* s : {"reviews",
                        "v1",
                        "cluster-a.local/*",
                        "istio-system/reviews.default.svc",
                        "a:b",
                        "x#y",
                        "1.2.3",
                        ".",
                        "nope",
                        "yes-no",
                        "Tuesday",
                        "offset",
                        "x.y/z-w_1",
                        "NaN",
                        "e5",
                        "caf\xc3\xa9",
                        "networking.istio.io/v1",
                        "trafficPolicy",
                        "namespace",
                        "falsey"}) {
    EXPECT_FALSE(NeedsQuotes(s)) << s;
  }
}

TEST(Emitter, YamlRoundTripsEveryScalarType) {
  Node doc = Node::Mapping();
  doc.Set("port", Node::Int(9080));
  doc.Set("portName", Node::String("9080"));
  doc.Set("flag", Node::Bool(true));
  doc.Set("word", Node::String("yes"));
  doc.Set("star", Node::String("*"));
  doc.Set("empty", Node::String(""));
  doc.Set("none", Node::Null());
  doc.Set("text", Node::String("line one\nline \"two\"\ttab"));
  doc.Set("emptyMap", Node::Mapping());
  doc.Set("emptyList", Node::Sequence());
  Node nested = Node::Sequence();
  Node inner = Node::Sequence();
  inner.Append(Node::String("a"));
  nested.Append(inner);
  doc.Set("nested", nested);
  std::string out;
  EmitYaml(doc, out);
  EXPECT_EQ(Parse(out), doc) << out;
}

// YAML's implicit keys end within 1,024 characters: longer keys are written as explicit keys
// (`? key` then `:`), wherever they are and whatever their value (found by the fuzzer).
TEST(Emitter, LongKeysReadBack) {
  std::string plain(1500, 'k');
  std::string quoted = "a: " + std::string(1200, '#');
  std::string edge(999, 'e');
  for (const std::string& key : {plain, quoted, edge, edge + "e"}) {
    Node values = Node::Sequence();
    values.Append(Node::String("scalar"));
    Node map = Node::Mapping();
    map.Set("a", Node::Int(1));
    values.Append(map);
    Node list = Node::Sequence();
    list.Append(Node::String("x"));
    values.Append(list);
    values.Append(Node::Null());
    values.Append(Node::Mapping());
    for (const Node& value : values.items()) {
      Node doc = Node::Mapping();
      doc.Set(key, value);  // at the top
      Node inner = Node::Mapping();
      inner.Set(key, value);
      inner.Set("after", Node::String("y"));
      doc.Set("nested", inner);  // in a mapping
      Node items = Node::Sequence();
      items.Append(inner);  // first in a list item
      doc.Set("items", items);
      std::string out;
      EmitYaml(doc, out);
      ReadResult r = ReadYamlStream(out, "t.yaml");
      ASSERT_TRUE(r.diagnostics.empty()) << r.diagnostics[0].Format() << "\n" << out;
      EXPECT_EQ(r.documents.at(0), doc) << out;
    }
  }
}

TEST(Emitter, JsonIsValidAndTyped) {
  Node doc = Parse("a: 9080\nb: \"9080\"\nc: yes\nd: ~\ne: [x, {f: 0x1F}]\ng: \"quote\\\"d\"\n");
  std::string out;
  EmitJson(doc, out, -1);
  EXPECT_EQ(out,
            R"({"a":9080,"b":"9080","c":true,"d":null,"e":["x",{"f":"0x1F"}],"g":"quote\"d"})");
  EXPECT_EQ(Parse(out).Find("a")->text(), "9080");
}

// Escapes as JSON and YAML read them back, between runs copied as they are: quotes and
// backslashes, the named controls, other controls and DEL, the code points a YAML reader rejects
// or treats as breaks (U+0085, U+2028, U+FEFF), and ordinary UTF-8 (é, €, U+00A0) left alone.
TEST(Emitter, EscapesOnlyWhatMustBeEscaped) {
  std::string text =
      "a\"b\\c\nd\te\rf\x01g\x7fh\xc2\x85i\xe2\x80\xa8j\xef\xbb\xbfk\xc3\xa9l\xe2\x82\xacm\xc2\xa0";
  std::string json;
  EmitJson(Node::String(text), json, -1);
  EXPECT_EQ(json, R"("a\"b\\c\nd\te\rf\u0001g\u007fh\u0085i\u2028j\ufeffk)"
                  "\xc3\xa9l\xe2\x82\xacm\xc2\xa0\"");
  std::string yaml;
  EmitYaml(Node::String(text), yaml);
  EXPECT_EQ(yaml, R"("a\"b\\c\nd\te\rf\x01g\x7fh\u0085i\u2028j\ufeffk)"
                  "\xc3\xa9l\xe2\x82\xacm\xc2\xa0\"\n");
  EXPECT_EQ(Parse("v: " + yaml).Find("v")->text(), text);
  // A special sequence cut short at the end of the text is copied as it is.
  std::string cut;
  EmitJson(Node::String("x\xe2\x80"), cut, -1);
  EXPECT_EQ(cut, "\"x\xe2\x80\"");
}

// Documents holding values shared at every depth (or, unshared, copies of them): labels at the
// top and one level down, a list of ports holding the labels again, and the list deeper still.
std::vector<Node> SharedDocuments(bool share, int count = 3) {
  auto maybe = [&](Node n) { return share ? Node::Share(std::move(n)) : n; };
  Node labels = Node::Mapping();
  labels.Add("app", Node::String("reviews"));
  labels.Add("tier", Node::String("yes"));  // quoted wherever it is copied
  labels = maybe(labels);
  Node port = Node::Mapping();
  port.Add("port", Node::Int(9080));
  port.Add("labels", labels);  // shared inside shared
  Node ports = Node::Sequence();
  ports.Append(port);
  ports.Append(labels);  // a list item
  ports = maybe(ports);
  std::vector<Node> docs;
  for (int i = 0; i < count; ++i) {
    Node doc = Node::Mapping();
    doc.Add("labels", labels);  // at the top
    Node meta = Node::Mapping();
    meta.Add("labels", labels);  // one level down: another indentation
    meta.Add("ports", ports);
    doc.Add("metadata", std::move(meta));
    Node deeper = Node::Mapping();
    deeper.Add("spec", Node::Mapping());
    deeper.Find("spec")->Add("ports", ports);
    doc.Add("deeper", std::move(deeper));
    docs.push_back(std::move(doc));
  }
  return docs;
}

// A value shared by several objects (Node::Share) is written once per indentation and copied
// where it appears again: the stream reads exactly as if every object held its own copy, at
// every depth, in lists, and with shared values inside shared values.
TEST(Emitter, SharedValuesAreWrittenAsTheirCopiesAre) {
  auto documents = [](bool share) { return SharedDocuments(share); };
  std::vector<Node> shared = documents(true);
  ASSERT_TRUE(shared[0].Find("labels")->IsShared());
  std::string text = EmitYamlStream(shared);
  EXPECT_EQ(text, EmitYamlStream(documents(false)));
  ReadResult r = ReadYamlStream(text, "t.yaml");
  ASSERT_EQ(r.documents.size(), 3u);
  for (const Node& doc : r.documents) EXPECT_EQ(doc, shared[0]);
  // JSON, indented (the text depends on the depth) and compact.
  auto list = [](std::vector<Node> docs) {
    Node items = Node::Sequence();
    for (Node& d : docs) items.Append(std::move(d));
    Node l = Node::Mapping();
    l.Add("items", std::move(items));
    return l;
  };
  for (int indent : {2, -1}) {
    std::string json, json_unshared;
    EmitJson(list(documents(true)), json, indent);
    EmitJson(list(documents(false)), json_unshared, indent);
    EXPECT_EQ(json, json_unshared) << indent;
    EXPECT_EQ(Parse(json), list(documents(false))) << indent;
  }
}

TEST(Emitter, StreamSeparatesDocuments) {
  std::vector<Node> docs = {Parse("a: 1\n"), Parse("b: 2\n")};
  EXPECT_EQ(EmitYamlStream(docs), "---\na: 1\n---\nb: 2\n");
}

// A stream handed over in pieces is the same text: each piece ends with a whole document once it
// holds `piece` bytes, and a shared value whose first text went out in an earlier piece is
// written again, not copied from text that is gone.
TEST(Emitter, StreamInPiecesIsTheWholeStream) {
  std::vector<Node> docs = SharedDocuments(true, 40);
  const std::string whole = EmitYamlStream(docs);
  ASSERT_EQ(whole, EmitYamlStream(SharedDocuments(false, 40)));
  for (size_t piece : {size_t{1}, size_t{200}, size_t{1000}, whole.size(), kEmitPiece}) {
    std::vector<std::string> pieces;
    EmitYamlStream(
        docs, [&](std::string_view p) { pieces.emplace_back(p); }, piece);
    std::string joined;
    for (size_t i = 0; i < pieces.size(); ++i) {
      const std::string& p = pieces[i];
      EXPECT_EQ(p.substr(0, 4), "---\n") << piece << " piece " << i;
      if (i + 1 < pieces.size()) {
        EXPECT_GE(p.size(), piece) << piece << " piece " << i;
      }
      joined += p;
    }
    EXPECT_EQ(joined, whole) << piece;
    if (piece == 1) {
      EXPECT_EQ(pieces.size(), docs.size());  // a piece per document
    } else if (piece >= whole.size()) {
      EXPECT_EQ(pieces.size(), 1u);
    } else {
      EXPECT_GT(pieces.size(), 2u) << piece;
    }
  }
  // Nothing to write: no piece.
  size_t calls = 0;
  EmitYamlStream(
      {}, [&](std::string_view) { ++calls; }, 1);
  EXPECT_EQ(calls, 0u);
}

// A JSON List handed over in pieces is the text EmitJson writes for that List, and a newline, with
// or without items; shared values whose text went out in an earlier piece are written again.
TEST(Emitter, JsonListInPiecesIsTheWholeList) {
  auto whole_list = [](std::vector<Node> items) {
    Node list = Node::Mapping();
    list.Add("apiVersion", Node::String("v1"));
    list.Add("kind", Node::String("List"));
    Node seq = Node::Sequence();
    seq.items() = std::move(items);
    list.Add("items", std::move(seq));
    std::string text;
    EmitJson(list, text);
    return text + "\n";
  };
  for (int count : {0, 1, 40}) {
    const std::string whole = whole_list(SharedDocuments(false, count));
    std::vector<Node> docs = SharedDocuments(true, count);
    for (size_t piece : {size_t{1}, size_t{300}, kEmitPiece}) {
      std::vector<std::string> pieces;
      EmitJsonList(
          docs, [&](std::string_view p) { pieces.emplace_back(p); }, piece);
      std::string joined;
      for (const std::string& p : pieces) joined += p;
      EXPECT_EQ(joined, whole) << count << " items, pieces of " << piece;
      if (piece == 1) {
        EXPECT_EQ(pieces.size(), static_cast<size_t>(count) + 1) << count;
      }
    }
  }
}

}  // namespace
}  // namespace meshfed
