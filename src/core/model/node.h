// A YAML/JSON value tree that remembers where every value came from.
//
// The codecs build it; typed views read it; the translator builds new trees for the objects it
// generates. Scalars keep their source text and whether they were quoted, so a typed view can
// tell the string "9080" from the number 9080 exactly as a Kubernetes API server would.
#pragma once

#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace meshfed {

// 1-based line and column; 0 means "not from a file" (a generated value).
struct Position {
  uint32_t line = 0;
  uint32_t column = 0;
};

// How a plain (unquoted) scalar resolves, following YAML 1.1 as read by sigs.k8s.io/yaml
// (go-yaml v2), which is what kubectl uses: so `yes` is a boolean and `0777` is octal.
enum class ScalarType : uint8_t { Null, Bool, Int, Float, String };
ScalarType ResolvePlainScalar(std::string_view text);

struct MapEntry;

class Node {
 public:
  enum class Kind : uint8_t { Null, Scalar, Sequence, Mapping };
  enum class Style : uint8_t { Plain, Quoted };

  Node() noexcept { new (&text_) std::string(); }
  Node(const Node& other);
  Node(Node&& other) noexcept { Construct(std::move(other)); }
  Node& operator=(const Node& other);
  Node& operator=(Node&& other) noexcept;
  ~Node() { Destroy(); }

  static Node Null(Position pos = {});
  static Node String(std::string value, Position pos = {});  // always a string, quoted if needed
  static Node Plain(std::string text, Position pos = {});    // resolves like unquoted YAML
  static Node Int(int64_t value, Position pos = {});
  static Node Bool(bool value, Position pos = {});
  static Node Sequence(Position pos = {});
  static Node Mapping(Position pos = {});

  Kind kind() const { return kind_; }
  Position position() const { return position_; }
  bool IsNull() const { return kind_ == Kind::Null; }
  bool IsScalar() const { return kind_ == Kind::Scalar; }
  bool IsSequence() const { return kind_ == Kind::Sequence; }
  bool IsMapping() const { return kind_ == Kind::Mapping; }

  // Scalars (empty for the other kinds).
  const std::string& text() const { return HasText() ? text_ : EmptyText(); }
  Style style() const { return style_; }
  ScalarType scalar_type() const;  // Null for null nodes; String for quoted scalars
  bool IsString() const { return IsScalar() && scalar_type() == ScalarType::String; }

  // Sequences. The items of any other kind are an empty list (what is put in it is dropped);
  // Append to a null node makes it a sequence.
  const std::vector<Node>& items() const { return IsSequence() ? items_ : NoItems(); }
  std::vector<Node>& items();
  Node& Append(Node item);

  // Mappings keep insertion order (emitters write keys in this order). The entries of any other
  // kind are an empty list (what is put in it is dropped); Add or Set on a null node makes it a
  // mapping.
  const std::vector<MapEntry>& entries() const { return IsMapping() ? entries_ : NoEntries(); }
  std::vector<MapEntry>& entries();
  const Node* Find(std::string_view key) const;
  Node* Find(std::string_view key);
  // Sets key to value, replacing an existing entry in place or appending a new one.
  Node& Set(std::string_view key, Node value);
  // Appends key: value; the caller knows the key is not there yet (building new objects).
  Node& Add(std::string_view key, Node value);
  bool Erase(std::string_view key);

  // A short name for error messages: "string", "integer", "mapping", ...
  std::string_view TypeName() const;

  friend bool operator==(const Node& a, const Node& b);  // value equality, positions ignored

 private:
  // One of text_ (null and scalar nodes), items_ or entries_ is alive, as kind_ says: a node is
  // 48 bytes instead of 96, and the fleet is millions of them.
  bool HasText() const { return kind_ == Kind::Null || kind_ == Kind::Scalar; }
  void Construct(Node&& other) noexcept;
  void Construct(const Node& other);
  void Destroy() noexcept;
  void Become(Kind kind);  // destroys the value and starts an empty one of `kind`
  static const std::string& EmptyText();
  static const std::vector<Node>& NoItems();
  static const std::vector<MapEntry>& NoEntries();

  Kind kind_ = Kind::Null;
  Style style_ = Style::Plain;
  Position position_;
  union {
    std::string text_;
    std::vector<Node> items_;
    std::vector<MapEntry> entries_;
  };
};

struct MapEntry {
  MapEntry() = default;
  // For emplace_back: clang before 16 has no parenthesized aggregate initialization.
  MapEntry(std::string k, Position p, Node v)
      : key(std::move(k)), key_position(p), value(std::move(v)) {}

  std::string key;
  Position key_position;
  Node value;
};

// Value equality where the order of mapping keys does not matter (as in JSON objects; API servers
// may return keys in another order than they were written).
bool SameValue(const Node& a, const Node& b);

// Drops the spare room list growth left in `n` and everything under it: for trees kept a long time
// (a fleet's objects, what the translator generates), built one Add or Append at a time.
void Compact(Node& n);

// A canonical one-line text of a value (mapping keys sorted, strings quoted), for hashing and
// comparing.
std::string CanonicalText(const Node& n);
// FNV-1a (64-bit) of CanonicalText(n), without building the text.
uint64_t CanonicalHash(const Node& n);

}  // namespace meshfed
