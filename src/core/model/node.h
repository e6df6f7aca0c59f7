// A YAML/JSON value tree that remembers where every value came from.
//
// The codecs build it; typed views read it; the translator builds new trees for the objects it
// generates. Scalars keep their source text and whether they were quoted, so a typed view can
// tell the string "9080" from the number 9080 exactly as a Kubernetes API server would.
#pragma once

#include <atomic>
#include <compare>
#include <cstdint>
#include <cstring>
#include <iosfwd>
#include <new>
#include <stdexcept>
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

// Text kept in N bytes instead of a std::string's 32: mapping keys (16) and scalars (24) are the
// most numerous things meshfed keeps (a large fleet has millions of each). Up to N - 1 bytes are
// kept in place, longer text on the heap at its exact size; Static refers to text that lives as
// long as the program (literals and constants) without copying it, so the long label and
// annotation keys of every generated object cost neither an allocation nor a copy.
template <size_t N>
class CompactText {
  static_assert(N >= 16 && N <= 128, "room for a pointer, a size and the tag");

 public:
  CompactText() noexcept { bytes_[kTag] = 0; }
  explicit CompactText(std::string_view text) { Assign(text, Storage::Heap); }
  // `text` must outlive every CompactText made from it (string literals, constants).
  static CompactText Static(std::string_view text) {
    CompactText k;
    k.Assign(text, Storage::Static);
    return k;
  }
  CompactText(const CompactText& other) { CopyFrom(other); }
  CompactText(CompactText&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    other.bytes_[kTag] = 0;
  }
  CompactText& operator=(const CompactText& other) {
    if (this != &other) {
      Release();
      CopyFrom(other);
    }
    return *this;
  }
  CompactText& operator=(CompactText&& other) noexcept {
    if (this != &other) {
      Release();
      std::memcpy(bytes_, other.bytes_, sizeof bytes_);
      other.bytes_[kTag] = 0;
    }
    return *this;
  }
  ~CompactText() { Release(); }

  std::string_view view() const noexcept {
    uint8_t tag = Tag();
    if (tag <= kInline) return {bytes_, tag};
    return {Pointer(), Size()};
  }
  operator std::string_view() const noexcept { return view(); }  // NOLINT(google-explicit-*)
  std::string str() const { return std::string(view()); }
  const char* data() const noexcept { return view().data(); }
  size_t size() const noexcept { return view().size(); }
  bool empty() const noexcept { return size() == 0; }
  bool OnHeap() const noexcept { return Tag() == kHeapTag; }
  static constexpr size_t kInPlace = N - 1;

  friend bool operator==(const CompactText& a, const CompactText& b) noexcept {
    return Same(a.view(), b.view());
  }
  friend bool operator==(const CompactText& a, std::string_view b) noexcept {
    return Same(a.view(), b);
  }
  friend std::strong_ordering operator<=>(const CompactText& a, const CompactText& b) noexcept {
    return a.view() <=> b.view();
  }
  friend std::strong_ordering operator<=>(const CompactText& a, std::string_view b) noexcept {
    return a.view() <=> b;
  }
  friend std::string operator+(std::string a, const CompactText& b) { return a.append(b.view()); }
  friend std::ostream& operator<<(std::ostream& out, const CompactText& k) {
    return out << k.view();
  }

 private:
  // Equality as Node::Find asks it, many times per lookup: keys of one length are common
  // (`kind` and `name`), and they mostly differ in their first byte, which is compared before
  // memcmp is called.
  static bool Same(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           (a.empty() || (a[0] == b[0] && std::memcmp(a.data(), b.data(), a.size()) == 0));
  }

  // bytes_[0..N-2]: the text in place (length = the tag), or a pointer (0..7) and a 32-bit size
  // (8..11); bytes_[N-1]: the tag.
  static constexpr size_t kTag = N - 1;
  static constexpr uint8_t kInline = N - 1;
  static constexpr uint8_t kHeapTag = 0x80;
  static constexpr uint8_t kStaticTag = 0x81;
  enum class Storage { Heap, Static };

  uint8_t Tag() const noexcept { return static_cast<uint8_t>(bytes_[kTag]); }
  const char* Pointer() const noexcept {
    const char* p;
    std::memcpy(&p, bytes_, sizeof p);
    return p;
  }
  uint32_t Size() const noexcept {
    uint32_t n;
    std::memcpy(&n, bytes_ + 8, sizeof n);
    return n;
  }
  void SetExternal(const char* p, size_t n, uint8_t tag) noexcept {
    auto size = static_cast<uint32_t>(n);
    std::memcpy(bytes_, &p, sizeof p);
    std::memcpy(bytes_ + 8, &size, sizeof size);
    bytes_[kTag] = static_cast<char>(tag);
  }
  void Assign(std::string_view text, Storage storage) {
    if (text.size() <= kInline) {
      if (!text.empty()) std::memcpy(bytes_, text.data(), text.size());  // data() may be null
      bytes_[kTag] = static_cast<char>(text.size());
      return;
    }
    if (storage == Storage::Static) {
      SetExternal(text.data(), text.size(), kStaticTag);
      return;
    }
    if (text.size() > UINT32_MAX) throw std::length_error("text too long");
    char* copy = new char[text.size()];
    std::memcpy(copy, text.data(), text.size());
    SetExternal(copy, text.size(), kHeapTag);
  }
  void CopyFrom(const CompactText& other) {
    if (other.Tag() == kHeapTag) {
      Assign(other.view(), Storage::Heap);
    } else {
      std::memcpy(bytes_, other.bytes_, sizeof bytes_);
    }
  }
  void Release() noexcept {
    if (Tag() == kHeapTag) delete[] Pointer();
  }

  alignas(8) char bytes_[N];
};

// A mapping's key: 16 bytes, up to 15 in place.
using Key = CompactText<16>;
// A scalar's text: 24 bytes, up to 23 in place (most names, ports, versions and API groups).
using ScalarString = CompactText<24>;

// `text` as a Key: in place when it is short; Key::Static when it is one of the long keys that
// Kubernetes and Istio objects, and the objects meshfed generates, carry again and again
// (creationTimestamp, the recommended labels, meshfed's own labels and annotations: every
// generated object carries seven or more, and a controller caches, and an API server stores,
// every one of them); otherwise a copy on the heap. The readers and Node::Add and Set make
// their keys with it. The table is in known_keys.cc.
// Short keys, the most made, take the inline path; only longer ones are looked up.
Key KnownKeyOrCopy(std::string_view text);  // for text longer than Key::kInPlace
inline Key KeyOf(std::string_view text) {
  return text.size() <= Key::kInPlace ? Key(text) : KnownKeyOrCopy(text);
}

struct MapEntry;

class Node {
 public:
  enum class Kind : uint8_t { Null, Scalar, Sequence, Mapping };
  enum class Style : uint8_t { Plain, Quoted };

  Node() noexcept { new (&text_) ScalarString(); }
  Node(const Node& other);
  Node(Node&& other) noexcept { Construct(std::move(other)); }
  Node& operator=(const Node& other);
  Node& operator=(Node&& other) noexcept;
  ~Node() { Destroy(); }

  static Node Null(Position pos = {});
  // String is always a string (quoted if needed when written); Plain resolves like unquoted YAML.
  static Node String(std::string_view value, Position pos = {});
  static Node Plain(std::string_view text, Position pos = {});
  static Node Int(int64_t value, Position pos = {});
  static Node Bool(bool value, Position pos = {});
  static Node Sequence(Position pos = {});
  static Node Mapping(Position pos = {});
  // Empty, with room for `room` items or entries: a tree built one Append or Add at a time is
  // then allocated once, at its final size (the translator keeps what it generates compact).
  static Node SequenceWithRoom(size_t room);
  static Node MappingWithRoom(size_t room);
  // `value` (a mapping or a list) made shareable: its copies refer to one value instead of each
  // holding its own, until one of them is changed, which then gets its own copy first (copy on
  // write). For what many generated objects hold alike (metadata, labels); scalars and nulls are
  // returned as they are. Copies may be read, copied and destroyed on different threads.
  static Node Share(Node value);

  Kind kind() const { return h_.kind; }
  Position position() const {
    return {static_cast<uint32_t>(h_.line), static_cast<uint32_t>(h_.column)};
  }
  bool IsNull() const { return h_.kind == Kind::Null; }
  bool IsScalar() const { return h_.kind == Kind::Scalar; }
  bool IsSequence() const { return h_.kind == Kind::Sequence; }
  bool IsMapping() const { return h_.kind == Kind::Mapping; }
  // Whether this node refers to a value shared with its copies (Share); `shared_value` then
  // identifies it (the same for every copy), and is null otherwise.
  bool IsShared() const { return h_.shared; }
  const void* shared_value() const { return h_.shared ? shared_value_ : nullptr; }

  // Scalars (empty for the other kinds).
  std::string_view text() const { return HasText() ? text_.view() : std::string_view(); }
  Style style() const { return h_.style; }
  ScalarType scalar_type() const;  // Null for null nodes; String for quoted scalars
  bool IsString() const { return IsScalar() && scalar_type() == ScalarType::String; }

  // Sequences. The items of any other kind are an empty list (what is put in it is dropped);
  // Append to a null node makes it a sequence. The non-const accessors here and below give a
  // shared node its own copy of the value first: read a shared node through a const reference.
  const std::vector<Node>& items() const { return IsSequence() ? Value().items_ : NoItems(); }
  std::vector<Node>& items();
  Node& Append(Node item);

  // Mappings keep insertion order (emitters write keys in this order). The entries of any other
  // kind are an empty list (what is put in it is dropped); Add or Set on a null node makes it a
  // mapping.
  const std::vector<MapEntry>& entries() const {
    return IsMapping() ? Value().entries_ : NoEntries();
  }
  std::vector<MapEntry>& entries();
  const Node* Find(std::string_view key) const;
  Node* Find(std::string_view key);
  // Sets key to value, replacing an existing entry in place or appending a new one.
  Node& Set(std::string_view key, Node value);
  // Appends key: value; the caller knows the key is not there yet (building new objects).
  Node& Add(std::string_view key, Node value) { return AddEntry(KeyOf(key), std::move(value)); }
  // Key::Static keys are neither copied nor allocated.
  Node& Add(Key key, Node value) { return AddEntry(std::move(key), std::move(value)); }
  bool Erase(std::string_view key);

  // A short name for error messages: "string", "integer", "mapping", ...
  std::string_view TypeName() const;

  friend bool operator==(const Node& a, const Node& b);  // value equality, positions ignored

 private:
  struct SharedValue;
  // What Add does: the key and the value are moved once, into the new entry (translate makes
  // close to a million entries, where each extra move of a by-value argument showed).
  Node& AddEntry(Key&& key, Node&& value);
  // One of text_ (null and scalar nodes), items_ or entries_ is alive, as h_.kind says, or, when
  // h_.shared, shared_value_ (a list or mapping shared with other nodes): with the 24-byte text
  // and the 8-byte header, a node is 32 bytes instead of 96, and the fleet is millions of them.
  bool HasText() const { return h_.kind == Kind::Null || h_.kind == Kind::Scalar; }
  // The node that holds the value: this one, or the shared value.
  const Node& Value() const;
  void Unshare();  // gives this node its own value
  // Out of the common paths of moving and destroying: most nodes are not shared.
  [[gnu::noinline]] void TakeShared(Node& other) noexcept;
  [[gnu::noinline]] void Release() noexcept;
  void Construct(Node&& other) noexcept;
  void Construct(const Node& other);
  void Destroy() noexcept;
  void Become(Kind kind);  // destroys the value and starts an empty one of `kind`
  static const std::vector<Node>& NoItems();
  static const std::vector<MapEntry>& NoEntries();

  // The kind, style, whether shared, and the position, in one 8-byte word: a node is 32 bytes
  // and a mapping entry 56 (40 and 64 with a field each). Lines and columns past kMaxPlace (no
  // file meshfed reads has them: ReadLimits) are kept as kMaxPlace.
  struct Header {
    Kind kind : 2 = Kind::Null;
    Style style : 1 = Style::Plain;
    bool shared : 1 = false;
    uint64_t line : 30 = 0;
    uint64_t column : 30 = 0;
  };
  static constexpr uint32_t kMaxPlace = (1u << 30) - 1;
  void SetPosition(Position pos) {
    h_.line = pos.line < kMaxPlace ? pos.line : kMaxPlace;
    h_.column = pos.column < kMaxPlace ? pos.column : kMaxPlace;
  }

  Header h_;
  union {
    ScalarString text_;
    std::vector<Node> items_;
    std::vector<MapEntry> entries_;
    SharedValue* shared_value_;
  };
};

struct MapEntry {
  MapEntry() = default;
  // For emplace_back: clang before 16 has no parenthesized aggregate initialization.
  MapEntry(Key&& k, Position p, Node&& v)
      : key(std::move(k)), key_position(p), value(std::move(v)) {}

  Key key;
  Position key_position;
  Node value;
};

struct Node::SharedValue {
  explicit SharedValue(Node v) : value(std::move(v)) {}
  std::atomic<uint32_t> references{1};
  Node value;  // never itself shared
};

// The sizes the comments above give; the trees' memory is mostly these.
static_assert(sizeof(Node) == 32);
static_assert(sizeof(MapEntry) == 56);

inline const Node& Node::Value() const { return h_.shared ? shared_value_->value : *this; }

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
