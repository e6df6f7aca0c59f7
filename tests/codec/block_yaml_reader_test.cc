#include "codec/block_yaml_reader.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "codec/emitter.h"
#include "codec/same_positioned.h"
#include "codec/yaml_reader.h"
#include "core/generate/fleet_generator.h"
#include "file_text.h"

namespace meshfed {
namespace {

// `text` is read by the block reader, into what libyaml's road reads from it.
void ExpectReadAsLibyaml(const std::string& text) {
  std::optional<ReadResult> fast = ReadBlockYaml(text, ReadLimits{});
  ASSERT_TRUE(fast.has_value()) << "declined:\n" << text;
  ReadResult slow = ReadYamlEvents(text, "f.yaml");
  ASSERT_TRUE(slow.diagnostics.empty()) << slow.diagnostics[0].Format() << "\n" << text;
  EXPECT_TRUE(fast->diagnostics.empty());
  ASSERT_EQ(fast->documents.size(), slow.documents.size()) << text;
  for (size_t i = 0; i < slow.documents.size(); ++i) {
    ExpectSamePositioned(fast->documents[i], slow.documents[i],
                         "document " + std::to_string(i) + " of\n" + text + "\n");
  }
  // ReadYamlStream takes this road.
  ReadResult stream = ReadYamlStream(text, "f.yaml");
  ASSERT_EQ(stream.documents.size(), slow.documents.size());
  for (size_t i = 0; i < slow.documents.size(); ++i) {
    ExpectSamePositioned(stream.documents[i], slow.documents[i], "stream");
  }
}

TEST(BlockYaml, ReadsBlockYamlIntoWhatLibyamlReads) {
  const std::string files[] = {
      // Nested mappings, an indentless sequence of compact mappings, a nested sequence.
      R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
  labels:
    app: reviews
spec:
  hosts:
  - reviews
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: reviews
        subset: v2
  - route:
    - destination: {host: x}
)" /* declined: a flow mapping; replaced below */,
      // Sequences indented under their key, and items on the line after their `-`.
      "items:\n  - a\n  - b\n  -\n    c: 1\n  -\n    - nested\n    - list\n",
      // Values left empty: after `key:` and after `-`, at the end, before a dedent, with a
      // comment.
      "a:\nb: # nothing\nc:\n  d:\n  e:\nlist:\n- \n-\n- # empty\n- x\nlast:",
      // Scalars: plain (numbers, booleans, nulls, words with spaces, `#` and `:` inside),
      // single- and double-quoted with their escapes, trailing spaces and comments.
      "int: 9080\nneg: -3\nfloat: 1.5\noctal: 0777\nyes: yes\nbool: true\nnull1: null\n"
      "null2: ~\nwords: a b  c   \nhash: a#b\nurl: http://x:80/y\ncolon: a :b\n"
      "comment: value # a comment\nsq: 'it''s # not a comment'\ndq: \"a \\\"b\\\" \\\\ \\/ "
      "\\n\\t\\r\\0\\a\\b\\e\\f\\v\\ \"\nempty_sq: ''\nempty_dq: \"\"\n"
      "quoted_num: \"9080\"\n'quoted key': 1\n\"dq key\" : 2\nspaced key  : 3\n-dash: 4\n"
      "brackets: a[0]{x},y\nempty_map: {}\nempty_list: []  # comment\n",
      // Comments anywhere, blank lines, and keys of every kind.
      "# head\n\nkey: 1\n    # indented comment\n\n  # another\nother:\n# at column 0\n  - 1\n\n",
      // Several documents, a leading `---`, a root that is a list, a root indented.
      "---\na: 1\n---\n- x\n- y: 1\n  z: 2\n---   \n  indented: root\n  more: keys\n",
      // A document without `---` before another.
      "a: 1\n---\nb: 2\n",
      // Compact mappings in sequences, with their own indentless sequences and nested blocks.
      "- name: a\n  ports:\n  - 80\n  - 443\n  labels:\n    x: y\n- name: b\n-   wide: 1\n    "
      "gap: 2\n",
      // A sequence of empty collections, a list of quoted scalars.
      "- {}\n- []\n- 'a'\n- \"b\"\n- c\n",
      // No trailing newline.
      "a: b",
  };
  for (size_t i = 0; i < std::size(files); ++i) {
    std::string text = files[i];
    if (i == 0) {
      size_t flow = text.find("{host: x}");
      text.replace(flow, 9, "\n        host: x");
    }
    ExpectReadAsLibyaml(text);
  }
}

TEST(BlockYaml, ReadsWhatMeshfedWritesAndGenerates) {
  FleetShape shape;
  shape.clusters = 3;
  shape.services = 12;
  shape.bind_clusters = 2;
  shape.exposed_fraction = 0.5;
  for (const auto& [path, documents] : GenerateFleet(shape)) {
    SCOPED_TRACE(path);
    ExpectReadAsLibyaml(EmitYamlStream(documents));
  }
  // The emitter's quoting: strings that look like other types, keys and values that need quotes.
  Node n = Node::Mapping();
  for (const char* s :
       {"yes",  "9080",      "null",      "",   " lead", "trail ", "a: b",    "#x",   "- x",
        "it's", "tab\there", "new\nline", "{}", "[a]",   "*alias", "&anchor", "!tag", "%p",
        "@at",  "`tick",     "a #b",      "~",  "0x1F",  "1e3",    ".inf"}) {
    n.Add(s, Node::String(s));
  }
  std::string yaml;
  EmitYaml(n, yaml);
  ExpectReadAsLibyaml(yaml);
}

// Every example the project ships: read as libyaml reads it wherever this road takes it, and
// it takes most of them (hand-written YAML mostly stays within block YAML).
TEST(BlockYaml, ReadsTheExamplesAsLibyamlDoes) {
  size_t files = 0, taken = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(MESHFED_SOURCE_DIR "/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    std::string text = testing::FileText(entry.path());
    ++files;
    if (!ReadBlockYaml(text, ReadLimits{})) continue;
    ++taken;
    SCOPED_TRACE(entry.path().string());
    ExpectReadAsLibyaml(text);
  }
  ASSERT_GT(files, 0u);
  EXPECT_GT(taken * 2, files) << taken << " of " << files;
}

// Anything else goes to libyaml, which reads or reports it: the same result through
// ReadYamlStream as through ReadYamlEvents.
TEST(BlockYaml, LeavesToLibyamlWhatItCannotPromise) {
  ReadLimits small;
  small.max_scalar_bytes = 8;
  small.max_nodes = 6;
  small.max_depth = 2;
  small.max_documents = 2;
  struct Case {
    std::string text;
    ReadLimits limits;
  };
  const Case cases[] = {
      {"a:\tb\n", {}},                            // a tab
      {"a: b\r\n", {}},                           // a carriage return
      {"a: caf\xc3\xa9\n", {}},                   // beyond ASCII
      {"a: &x 1\nb: *x\n", {}},                   // an anchor and an alias
      {"a: !!str 1\n", {}},                       // a tag
      {"a: |\n  text\n", {}},                     // a block scalar
      {"a: [1, 2]\n", {}},                        // a flow sequence
      {"a: {b: 1}\n", {}},                        // a flow mapping
      {"a: two\n  lines\n", {}},                  // a multi-line plain scalar
      {"a: 'two\n  lines'\n", {}},                // a multi-line quoted scalar
      {"a: \"\\u00e9\"\n", {}},                   // an escape beyond ASCII
      {"a: \"\\x\"\n", {}},                       // an escape libyaml rejects
      {"a: \"\\'\"\n", {}},                       // an escape libyaml 0.2.5 rejects
      {"? a\n: b\n", {}},                         // an explicit key
      {"%YAML 1.1\n---\na: 1\n", {}},             // a directive
      {"a: 1\n...\n", {}},                        // a document end marker
      {"a: 1\na: 2\n", {}},                       // a duplicate key
      {"<<: {a: 1}\n", {}},                       // the merge key
      {"null: 1\n", {}},                          // a key that reads as null
      {"a: b: c\n", {}},                          // a mapping in a value
      {"a: - b\n", {}},                           // a sequence in a value
      {"- - a\n", {}},                            // a compact nested sequence
      {"a: 1\n- b\n", {}},                        // a sequence after a mapping's value
      {"- a\nb: 1\n", {}},                        // a key after a root sequence
      {"a:\n    b: 1\n  c: 2\n", {}},             // an indentation between two blocks
      {"a:\n  b\n", {}},                          // a scalar under its key
      {"---\n---\na: 1\n", {}},                   // an empty document
      {"a: 1\n---\n", {}},                        // an empty last document
      {"", {}},                                   // nothing
      {"# only a comment\n", {}},                 // no document
      {"plain scalar\n", {}},                     // a root scalar
      {"--- a: 1\n", {}},                         // a node on the `---` line
      {"a: 'x'y\n", {}},                          // text after a quoted scalar
      {"a: \"x\"#c\n", {}},                       // a comment without a space
      {"a:b\n", {}},                              // no space after the colon
      {std::string(1001, 'k') + ": 1\n", {}},     // YAML's implicit-key limit
      {"a: 123456789\n", small},                  // a value over max_scalar_bytes
      {"- 1\n- 2\n- 3\n- 4\n- 5\n- 6\n", small},  // more values than max_nodes
      {"a:\n  b:\n    c: 1\n", small},            // deeper than max_depth
      {"a:\n  b: {}\n", small},                   // an empty mapping deeper than max_depth
      {"a: 1\n---\nb: 1\n---\nc: 1\n", small},    // more documents than max_documents
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(ReadBlockYaml(c.text, c.limits).has_value()) << c.text;
    ExpectSameAsLibyamlRoad(c.text, "f.yaml", c.limits);
  }
  // Limits that are not exceeded do not decline.
  EXPECT_TRUE(ReadBlockYaml("a: 12345678\n", small).has_value());
  // A .json file goes through the JSON strictness check, not this road: YAML's comment is
  // reported there.
  ReadResult json = ReadYamlStream("a: 1 # comment\n", "f.json");
  ASSERT_EQ(json.diagnostics.size(), 1u);
}

}  // namespace
}  // namespace meshfed
