#include "core/model/node.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

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
  // The longest words, and longer words that start like them.
  EXPECT_EQ(ResolvePlainScalar("FALSE"), ScalarType::Bool);
  EXPECT_EQ(ResolvePlainScalar("False"), ScalarType::Bool);
  EXPECT_EQ(ResolvePlainScalar("falsey"), ScalarType::String);
  EXPECT_EQ(ResolvePlainScalar("nullable"), ScalarType::String);
  EXPECT_EQ(ResolvePlainScalar("Nulls"), ScalarType::String);
  EXPECT_EQ(ResolvePlainScalar("networking.istio.io/v1"), ScalarType::String);
}

// YAML 1.1's null and boolean words resolve in their lower case, Capitalized and UPPER CASE
// spellings, and in no other mix of cases (as in kubectl's resolver).
TEST(ResolvePlainScalar, WordsOnlyInTheirThreeSpellings) {
  const std::vector<std::pair<std::string, ScalarType>> words = {
      {"null", ScalarType::Null}, {"true", ScalarType::Bool}, {"false", ScalarType::Bool},
      {"y", ScalarType::Bool},    {"n", ScalarType::Bool},    {"yes", ScalarType::Bool},
      {"no", ScalarType::Bool},   {"on", ScalarType::Bool},   {"off", ScalarType::Bool}};
  for (const auto& [word, type] : words) {
    for (unsigned mask = 0; mask < (1u << word.size()); ++mask) {
      std::string text = word;
      for (size_t i = 0; i < text.size(); ++i) {
        if (mask & (1u << i)) text[i] = static_cast<char>(text[i] - 'a' + 'A');
      }
      std::string capitalized = word;
      capitalized[0] = static_cast<char>(capitalized[0] - 'a' + 'A');
      bool spelled = mask == 0 || mask == (1u << word.size()) - 1 || text == capitalized;
      EXPECT_EQ(ResolvePlainScalar(text), spelled ? type : ScalarType::String) << text;
    }
  }
  for (const char* other : {"~", "nul", "tru", "yess", "of", "o", "t", "f", "nulll", "ye"}) {
    EXPECT_EQ(ResolvePlainScalar(other),
              std::string_view(other) == "~" ? ScalarType::Null : ScalarType::String)
        << other;
  }
}

// Keys (16 bytes) and scalar texts (24) of every length and storage read, compare, copy and move
// as the text they hold, on either side of the in-place limit.
template <typename T>
class CompactTextTest : public ::testing::Test {};
using CompactTexts = ::testing::Types<Key, ScalarString>;
TYPED_TEST_SUITE(CompactTextTest, CompactTexts);

TYPED_TEST(CompactTextTest, HoldsItsTextWhateverItsLengthOrStorage) {
  using Text = TypeParam;
  static constexpr std::string_view kLong = "multicluster.istio.io/owner-namespace";
  const std::string in_place(Text::kInPlace, 'k'), one_more(Text::kInPlace + 1, 'k');
  for (std::string_view text : {std::string_view(), std::string_view("name"),
                                std::string_view(in_place), std::string_view(one_more), kLong}) {
    Text copied(text);
    Text referring = Text::Static(text);
    EXPECT_EQ(copied.view(), text);
    EXPECT_EQ(referring.view(), text);
    EXPECT_EQ(copied, referring);
    EXPECT_EQ(copied.size(), text.size());
    EXPECT_EQ(copied.empty(), text.empty());
    EXPECT_EQ(copied.OnHeap(), text.size() > Text::kInPlace);  // only long copies allocate
    EXPECT_FALSE(referring.OnHeap());
    Text a = copied, b = referring;  // copies own their text: the originals may go first
    Text c(std::move(copied)), d(std::move(referring));
    copied = Text(std::string(text) + "!");
    EXPECT_EQ(a.view(), text);
    EXPECT_EQ(b.view(), text);
    EXPECT_EQ(c.view(), text);
    EXPECT_EQ(d.view(), text);
    EXPECT_EQ(copied.view(), std::string(text) + "!");
    const Text& same = a;
    a = same;  // self-assignment keeps the text
    EXPECT_EQ(a.view(), text);
    a = copied;
    EXPECT_EQ(a.view(), copied.view());
  }
  // A static text refers to the constant's own text.
  EXPECT_EQ(Text::Static(kLong).data(), kLong.data());
  // Ordering is the text's, whatever the storage.
  EXPECT_LT(Text("apiVersion"), Text::Static(kLong));
  EXPECT_LT(Text(one_more), Text("l"));
  EXPECT_EQ(std::string("spec.") + Text(kLong), "spec." + std::string(kLong));
}

// A scalar keeps its text whatever its length (up to 23 bytes in the node itself), through
// copies, moves and the trees they are in; a node is 40 bytes and a mapping entry 64, as the
// memory figures in docs/performance.md assume.
TEST(Node, ScalarsOfEveryLengthKeepTheirTextThroughCopiesAndMoves) {
  EXPECT_EQ(sizeof(Node), 32u);
  EXPECT_EQ(sizeof(MapEntry), 56u);
  Node list = Node::Sequence();
  std::vector<std::string> texts;
  for (size_t n = 0; n <= 40; ++n) {
    std::string text;
    for (size_t i = 0; i < n; ++i) text.push_back(static_cast<char>('a' + (n + i) % 26));
    texts.push_back(text);
    Node s = Node::String(text);
    Node p = Node::Plain(text);
    EXPECT_EQ(s.text(), text);
    EXPECT_EQ(p.text(), text);
    Node moved(std::move(s));
    EXPECT_EQ(moved.text(), text);
    list.Append(moved);
    list.Append(std::move(p));
  }
  Node copy = list;
  list = Node::Null();  // the copy owns its texts
  ASSERT_EQ(copy.items().size(), 2 * texts.size());
  for (size_t n = 0; n < texts.size(); ++n) {
    EXPECT_EQ(copy.items()[2 * n].text(), texts[n]);
    EXPECT_TRUE(copy.items()[2 * n].IsString());
    EXPECT_EQ(copy.items()[2 * n + 1].text(), texts[n]);
  }
  EXPECT_EQ(Node::Int(-9223372036854775807 - 1).text(), "-9223372036854775808");
  EXPECT_EQ(Node::Int(0).text(), "0");
  EXPECT_EQ(Node::Int(0).scalar_type(), ScalarType::Int);
}

// A node keeps its position in the same word as its kind and style: every kind keeps all three
// through copies, moves and sharing, and a line or column past 2^30 - 1 is kept as that.
TEST(Node, PositionsKindsAndStylesTravelTogether) {
  Position far{4'000'000'000u, (1u << 30) - 1};
  std::vector<Node> nodes;
  nodes.push_back(Node::Null({1, 2}));
  nodes.push_back(Node::String("9080", {3, 4}));
  nodes.push_back(Node::Plain("9080", {(1u << 30) - 2, 6}));
  nodes.push_back(Node::Sequence({7, 8}));
  nodes.push_back(Node::Mapping(far));
  nodes[3].Append(Node::Plain("x", {9, 10}));
  nodes[4].Add("k", Node::String("v", {11, 12}));
  const Position want[] = {
      {1, 2}, {3, 4}, {(1u << 30) - 2, 6}, {7, 8}, {(1u << 30) - 1, (1u << 30) - 1}};
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    Node copy = n;
    Node moved = Node(copy);
    Node shared = Node::Share(Node(n));
    Node copy_of_shared = shared;
    for (const Node* m :
         std::initializer_list<const Node*>{&n, &copy, &moved, &shared, &copy_of_shared}) {
      EXPECT_EQ(m->position().line, want[i].line) << i;
      EXPECT_EQ(m->position().column, want[i].column) << i;
      EXPECT_EQ(m->kind(), n.kind()) << i;
      EXPECT_EQ(m->style(), n.style()) << i;
      EXPECT_EQ(m->scalar_type(), n.scalar_type()) << i;
    }
  }
  EXPECT_EQ(nodes[1].scalar_type(), ScalarType::String);
  EXPECT_EQ(nodes[2].scalar_type(), ScalarType::Int);
  EXPECT_EQ(nodes[3].items()[0].position().column, 10u);
  EXPECT_EQ(nodes[4].Find("k")->position().line, 11u);
  Node becomes = Node::String("s", {5, 5});
  becomes.Append(Node::Null());  // a scalar stays a scalar: the item is dropped
  EXPECT_TRUE(becomes.IsScalar());
  Node null_to_list = Node::Null({13, 14});
  null_to_list.Append(Node::Null());
  EXPECT_TRUE(null_to_list.IsSequence());
  EXPECT_EQ(null_to_list.style(), Node::Style::Plain);
  EXPECT_FALSE(null_to_list.IsShared());
}

// A shared value reads as its own in every copy; a copy that changes gets its own value first,
// and the others do not see the change.
TEST(Node, SharedValuesReadAsTheirOwnAndCopyOnWrite) {
  Node labels = Node::Mapping();
  labels.Add("app", Node::String("reviews"));
  labels.Add("owner", Node::String(std::string(40, 'o')));  // text on the heap
  Node plain = labels;
  Node shared = Node::Share(std::move(labels));
  EXPECT_TRUE(shared.IsShared());
  EXPECT_TRUE(shared.IsMapping());
  EXPECT_EQ(shared, plain);
  EXPECT_EQ(CanonicalText(shared), CanonicalText(plain));
  EXPECT_EQ(CanonicalHash(shared), CanonicalHash(plain));
  EXPECT_TRUE(SameValue(shared, plain));

  Node a = shared, b = shared, c = shared;
  EXPECT_EQ(a.shared_value(), shared.shared_value());
  EXPECT_EQ(a.Find("owner")->text(), std::string(40, 'o'));
  a.Set("app", Node::String("ratings"));
  b.Add("extra", Node::Int(1));
  EXPECT_TRUE(c.Erase("app"));
  EXPECT_FALSE(a.IsShared());
  EXPECT_EQ(a.Find("app")->text(), "ratings");
  EXPECT_EQ(b.entries().size(), 3u);
  EXPECT_EQ(c.Find("app"), nullptr);
  EXPECT_EQ(shared, plain);  // untouched by its copies' changes
  EXPECT_TRUE(shared.IsShared());

  // The original goes first; copies keep the value. The last one takes it over in place.
  Node d = shared;
  shared = Node::Null();
  const Node* owner = std::as_const(d).Find("owner");
  EXPECT_EQ(d.Find("owner"), owner);  // the only reference: no copy was made
  EXPECT_FALSE(d.IsShared());
  EXPECT_EQ(d, plain);

  // Moved: the moved-from node is an empty mapping.
  Node e = Node::Share(plain);
  Node f = std::move(e);
  EXPECT_TRUE(f.IsShared());
  EXPECT_TRUE(e.IsMapping());  // NOLINT(bugprone-use-after-move): what a move leaves
  EXPECT_TRUE(e.entries().empty());
  EXPECT_EQ(f, plain);

  // Lists too; a shared value inside a shared value; scalars are not shared.
  Node list = Node::Sequence();
  list.Append(Node::Share(plain));
  list.Append(Node::Int(7));
  Node outer = Node::Share(list);
  Node g = outer;
  g.items()[0].Set("app", Node::String("details"));
  EXPECT_EQ(g.items()[0].Find("app")->text(), "details");
  // (Read through const: a non-const accessor would give `outer` its own copy.)
  EXPECT_EQ(std::as_const(outer).items()[0].Find("app")->text(), "reviews");
  EXPECT_EQ(outer, list);
  EXPECT_TRUE(outer.IsShared());
  EXPECT_EQ(Node::Share(outer).shared_value(), outer.shared_value());
  EXPECT_FALSE(Node::Share(Node::String("x")).IsShared());
  EXPECT_EQ(Node::Share(Node::String("x")).text(), "x");
}

// Copies of a shared value may be made and dropped on several threads at once (the controller
// hands generated objects to its writers).
TEST(Node, SharedValuesCopyAndDropOnSeveralThreads) {
  Node value = Node::Mapping();
  value.Add("name", Node::String(std::string(30, 'n')));
  const Node expected = value;
  Node shared = Node::Share(std::move(value));
  std::vector<std::thread> threads;
  std::atomic<int> differing{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&shared, &expected, &differing] {
      for (int i = 0; i < 20000; ++i) {
        Node copy = shared;
        Node moved = std::move(copy);
        if (!(moved == expected)) differing.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(differing.load(), 0);
  EXPECT_EQ(shared, expected);
}

TEST(Node, TreesWithStaticAndCopiedKeysAreEqualAndCopyIndependently) {
  static constexpr std::string_view kLabel = "app.kubernetes.io/managed-by";
  Node a = Node::Mapping();
  a.Add(Key::Static(kLabel), Node::String("meshfed"));
  a.Add(std::string(40, 'x'), Node::Int(1));
  Node b = Node::Mapping();
  b.Add(kLabel, Node::String("meshfed"));  // copied
  b.Add(Key::Static("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), Node::Int(1));
  EXPECT_EQ(a, b);
  EXPECT_EQ(CanonicalText(a), CanonicalText(b));
  Node copy = a;
  a = Node::Null();
  ASSERT_NE(copy.Find(std::string(40, 'x')), nullptr);
  EXPECT_EQ(copy.Find(kLabel)->text(), "meshfed");
  EXPECT_EQ(copy, b);
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

// A node holds one of a text, a list or a mapping; copies, moves and assignments between kinds
// keep values and positions.
Node Sample() {
  Node root = Node::Mapping({1, 1});
  root.Add("name", Node::String("reviews", {1, 7}));
  Node ports = Node::Sequence({2, 1});
  ports.Append(Node::Int(9080, {2, 3}));
  ports.Append(Node::Null());
  root.Add("ports", std::move(ports));
  return root;
}

TEST(Node, CopiesMovesAndAssignsAcrossKinds) {
  Node a = Sample();
  Node copy = a;
  EXPECT_EQ(copy, a);
  EXPECT_EQ(copy.Find("ports")->items()[0].position().column, 3u);
  Node moved = std::move(copy);
  EXPECT_EQ(moved, a);
  Node scalar = Node::Plain("x");
  scalar = a;  // a scalar becomes a mapping
  EXPECT_EQ(scalar, a);
  scalar = Node::String("y");  // and a string again
  EXPECT_TRUE(scalar.IsScalar());
  EXPECT_EQ(scalar.text(), "y");
  EXPECT_TRUE(scalar.items().empty());
  EXPECT_TRUE(scalar.entries().empty());
  Node list = Node::Sequence();
  list = moved;  // copy-assign a mapping over a list
  EXPECT_EQ(list, a);
}

TEST(Node, AssigningAPartOfItselfKeepsThePart) {
  Node root = Sample();
  root = std::move(*root.Find("ports"));
  ASSERT_TRUE(root.IsSequence());
  ASSERT_EQ(root.items().size(), 2u);
  EXPECT_EQ(root.items()[0].text(), "9080");
  root = root.items()[0];  // copy-assign an item of itself
  EXPECT_EQ(root.text(), "9080");
}

TEST(Node, AddingToANullMakesACollectionAndOtherKindsHaveNoChildren) {
  Node n;
  n.Add("a", Node::Int(1));
  EXPECT_TRUE(n.IsMapping());
  EXPECT_EQ(n.Find("a")->text(), "1");
  Node l;
  l.Append(Node::Int(1));
  EXPECT_TRUE(l.IsSequence());
  EXPECT_EQ(l.items().size(), 1u);
  // A scalar keeps its text; what is added to it as a collection goes nowhere.
  Node s = Node::String("keep");
  s.Append(Node::Int(1));
  s.Add("k", Node::Int(1));
  EXPECT_TRUE(s.IsScalar());
  EXPECT_EQ(s.text(), "keep");
  EXPECT_EQ(s.Find("k"), nullptr);
  EXPECT_FALSE(s.Erase("k"));
  // Collections have no text; reading a null's children leaves it null.
  EXPECT_EQ(Sample().text(), "");
  Node null;
  EXPECT_TRUE(null.items().empty());
  EXPECT_TRUE(null.entries().empty());
  EXPECT_TRUE(null.IsNull());
}

TEST(Node, CompactKeepsTheValue) {
  Node root = Node::Mapping();
  for (int i = 0; i < 5; ++i) {
    Node list = Node::Sequence();
    for (int j = 0; j <= i; ++j) list.Append(Node::Int(j));
    root.Add("k" + std::to_string(i), std::move(list));
  }
  Node before = root;
  Compact(root);
  EXPECT_EQ(root, before);
  EXPECT_EQ(root.entries().capacity(), root.entries().size());
  EXPECT_EQ(root.Find("k2")->items().capacity(), 3u);
}

TEST(Node, CanonicalHashIsTheHashOfTheCanonicalText) {
  // FNV-1a of the text, as the applied-hash annotations on live objects were computed: a
  // different hash would make every live object look changed.
  auto fnv = [](const std::string& s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
    return h;
  };
  Node n = Sample();
  n.Add("quoted \"key\"", Node::String("a\\b"));
  n.Add("flag", Node::Bool(true));
  n.Add("none", Node::Null());
  EXPECT_EQ(CanonicalHash(n), fnv(CanonicalText(n)));
  EXPECT_EQ(CanonicalText(n),
            "{\"flag\":true,\"name\":\"reviews\",\"none\":null,\"ports\":[9080,null],"
            "\"quoted \\\"key\\\"\":\"a\\\\b\"}");
}

}  // namespace
}  // namespace meshfed
