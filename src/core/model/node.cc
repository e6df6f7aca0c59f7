#include "core/model/node.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>

namespace meshfed {
namespace {

bool IsOneOf(std::string_view s, std::initializer_list<std::string_view> options) {
  return std::find(options.begin(), options.end(), s) != options.end();
}

bool AllDigits(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), pred);
}

bool IsDec(char c) { return c >= '0' && c <= '9'; }
bool IsDecOrUnderscore(char c) { return IsDec(c) || c == '_'; }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool IsOct(char c) { return (c >= '0' && c <= '7') || c == '_'; }
bool IsBin(char c) { return c == '0' || c == '1' || c == '_'; }

bool LooksLikeInt(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    return AllDigits(s.substr(2), IsHex);
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
    return AllDigits(s.substr(2), IsOct);
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
    return AllDigits(s.substr(2), IsBin);
  if (s.size() > 1 && s[0] == '0') return AllDigits(s.substr(1), IsOct);
  return !s.empty() && IsDec(s[0]) && AllDigits(s, IsDecOrUnderscore);
}

bool LooksLikeFloat(std::string_view s) {
  if (IsOneOf(s, {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
                  ".nan", ".NaN", ".NAN"})) {
    return true;
  }
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  // [0-9][0-9_]*)?\.[0-9.]*([eE][-+][0-9]+)? plus the JSON form 1e5.
  size_t i = 0;
  bool digits = false;
  while (i < s.size() && IsDecOrUnderscore(s[i])) digits |= IsDec(s[i++]);
  bool dot = false;
  if (i < s.size() && s[i] == '.') {
    dot = true;
    ++i;
    while (i < s.size() && IsDecOrUnderscore(s[i])) digits |= IsDec(s[i++]);
  }
  if (!digits) return false;
  bool exponent = false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    exponent = true;
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t start = i;
    while (i < s.size() && IsDec(s[i])) ++i;
    if (i == start) return false;
  }
  return i == s.size() && (dot || exponent);
}

// `text` is `word` (lower case), or it Capitalized, or it in UPPER CASE: the spellings YAML 1.1's
// null and boolean words have. Compared byte by byte: they are a few letters long.
bool IsWord(std::string_view text, std::string_view word) {
  if (text.size() != word.size()) return false;
  auto upper = [](char c) { return static_cast<char>(c - 'a' + 'A'); };
  bool lower = true, capitalized = true, upper_case = true;
  for (size_t i = 0; i < word.size(); ++i) {
    lower = lower && text[i] == word[i];
    capitalized = capitalized && text[i] == (i == 0 ? upper(word[i]) : word[i]);
    upper_case = upper_case && text[i] == upper(word[i]);
  }
  return lower || capitalized || upper_case;
}

// The YAML 1.1 null and boolean words (`~`, null, true, false, y, n, yes, no, on, off, in their
// three spellings), as kubectl's resolver reads them; nothing for any other text.
std::optional<ScalarType> WordType(std::string_view text) {
  switch (text.size()) {
    case 1:
      if (text[0] == '~') return ScalarType::Null;
      if (IsWord(text, "y") || IsWord(text, "n")) return ScalarType::Bool;
      break;
    case 2:
      if (IsWord(text, "no") || IsWord(text, "on")) return ScalarType::Bool;
      break;
    case 3:
      if (IsWord(text, "yes") || IsWord(text, "off")) return ScalarType::Bool;
      break;
    case 4:
      if (IsWord(text, "null")) return ScalarType::Null;
      if (IsWord(text, "true")) return ScalarType::Bool;
      break;
    case 5:
      if (IsWord(text, "false")) return ScalarType::Bool;
      break;
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace

ScalarType ResolvePlainScalar(std::string_view text) {
  if (text.empty()) return ScalarType::Null;
  // Fast path: most scalars are names. Only these first characters can start a null, a
  // boolean or a number.
  switch (text[0]) {
    case '~':
    case 'n':
    case 'N':
    case 't':
    case 'T':
    case 'f':
    case 'F':
    case 'y':
    case 'Y':
    case 'o':
    case 'O':
    case '+':
    case '-':
    case '.':
      break;
    default:
      if (text[0] < '0' || text[0] > '9') return ScalarType::String;
  }
  // The null and boolean words are five letters at most; numbers do not start with a letter.
  if (text.size() > 5 &&
      ((text[0] >= 'a' && text[0] <= 'z') || (text[0] >= 'A' && text[0] <= 'Z'))) {
    return ScalarType::String;
  }
  if (std::optional<ScalarType> word = WordType(text)) return *word;
  if (LooksLikeInt(text)) return ScalarType::Int;
  if (LooksLikeFloat(text)) return ScalarType::Float;
  return ScalarType::String;
}

Node Node::Null(Position pos) {
  Node n;
  n.SetPosition(pos);
  return n;
}

Node Node::String(std::string_view value, Position pos) {
  Node n;
  n.h_.kind = Kind::Scalar;
  n.h_.style = Style::Quoted;
  n.text_ = ScalarString(value);
  n.SetPosition(pos);
  return n;
}

Node Node::Plain(std::string_view text, Position pos) {
  Node n;
  n.h_.kind = Kind::Scalar;
  n.h_.style = Style::Plain;
  n.text_ = ScalarString(text);
  n.SetPosition(pos);
  return n;
}

Node Node::Int(int64_t value, Position pos) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  return Plain(std::string_view(digits, static_cast<size_t>(end - digits)), pos);
}
Node Node::Bool(bool value, Position pos) { return Plain(value ? "true" : "false", pos); }

Node Node::Sequence(Position pos) {
  Node n;
  n.Become(Kind::Sequence);
  n.SetPosition(pos);
  return n;
}

Node Node::Mapping(Position pos) {
  Node n;
  n.Become(Kind::Mapping);
  n.SetPosition(pos);
  return n;
}

Node Node::SequenceWithRoom(size_t room) {
  Node n = Sequence();
  n.items_.reserve(room);
  return n;
}

Node Node::MappingWithRoom(size_t room) {
  Node n = Mapping();
  n.entries_.reserve(room);
  return n;
}

Node Node::Share(Node value) {
  if (value.h_.shared || !(value.IsSequence() || value.IsMapping())) return value;
  Compact(value);
  Node n;
  n.h_ = value.h_;  // the kind and the position; shared below
  n.text_.~ScalarString();
  n.shared_value_ = new SharedValue(std::move(value));
  n.h_.shared = true;
  return n;
}

void Node::Unshare() {
  SharedValue* shared = shared_value_;
  h_.shared = false;
  // The only reference (acquire: another node's last use of the value happens before): take the
  // value over, whose items or entries stay where they are. Otherwise copy it.
  const bool only = shared->references.load(std::memory_order_acquire) == 1;
  Node& value = shared->value;
  if (h_.kind == Kind::Sequence) {
    if (only) {
      new (&items_) std::vector<Node>(std::move(value.items_));
    } else {
      new (&items_) std::vector<Node>(value.items_);
    }
  } else {
    if (only) {
      new (&entries_) std::vector<MapEntry>(std::move(value.entries_));
    } else {
      new (&entries_) std::vector<MapEntry>(value.entries_);
    }
  }
  if (shared->references.fetch_sub(1, std::memory_order_acq_rel) == 1) delete shared;
}

ScalarType Node::scalar_type() const {
  if (h_.kind == Kind::Null) return ScalarType::Null;
  if (h_.kind != Kind::Scalar) return ScalarType::String;
  if (h_.style == Style::Quoted) return ScalarType::String;
  return ResolvePlainScalar(text_);
}

Node::Node(const Node& other) { Construct(other); }

Node& Node::operator=(const Node& other) {
  if (this != &other) *this = Node(other);
  return *this;
}

Node& Node::operator=(Node&& other) noexcept {
  if (this == &other) return *this;
  // `other` may live inside this node's own value (n = std::move(n.items()[0])): take it out
  // before that value goes.
  Node taken(std::move(other));
  Destroy();
  Construct(std::move(taken));
  return *this;
}

void Node::Construct(Node&& other) noexcept {
  h_ = other.h_;  // kind, style, shared, position
  if (h_.shared) [[unlikely]] {
    TakeShared(other);
    return;
  }
  switch (h_.kind) {
    case Kind::Sequence:
      new (&items_) std::vector<Node>(std::move(other.items_));
      break;
    case Kind::Mapping:
      new (&entries_) std::vector<MapEntry>(std::move(other.entries_));
      break;
    default:
      new (&text_) ScalarString(std::move(other.text_));
  }
}

void Node::TakeShared(Node& other) noexcept {
  // `other` keeps an empty value of its kind.
  shared_value_ = other.shared_value_;
  other.h_.shared = false;
  if (h_.kind == Kind::Sequence) {
    new (&other.items_) std::vector<Node>();
  } else {
    new (&other.entries_) std::vector<MapEntry>();
  }
}

void Node::Release() noexcept {
  if (shared_value_->references.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    delete shared_value_;
  }
}

void Node::Construct(const Node& other) {
  h_ = other.h_;  // kind, style, shared, position
  if (h_.shared) [[unlikely]] {
    shared_value_ = other.shared_value_;
    shared_value_->references.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  switch (h_.kind) {
    case Kind::Sequence:
      new (&items_) std::vector<Node>(other.items_);
      break;
    case Kind::Mapping:
      new (&entries_) std::vector<MapEntry>(other.entries_);
      break;
    default:
      new (&text_) ScalarString(other.text_);
  }
}

void Node::Destroy() noexcept {
  if (h_.shared) [[unlikely]] {
    Release();
    return;
  }
  switch (h_.kind) {
    case Kind::Sequence:
      items_.~vector();
      break;
    case Kind::Mapping:
      entries_.~vector();
      break;
    default:
      text_.~ScalarString();
  }
}

void Node::Become(Kind kind) {
  Destroy();
  h_.shared = false;
  h_.kind = kind;
  h_.style = Style::Plain;
  switch (kind) {
    case Kind::Sequence:
      new (&items_) std::vector<Node>();
      break;
    case Kind::Mapping:
      new (&entries_) std::vector<MapEntry>();
      break;
    default:
      new (&text_) ScalarString();
  }
}

const std::vector<Node>& Node::NoItems() {
  static const std::vector<Node> kNone;
  return kNone;
}
const std::vector<MapEntry>& Node::NoEntries() {
  static const std::vector<MapEntry> kNone;
  return kNone;
}

std::vector<Node>& Node::items() {
  if (h_.shared) [[unlikely]]
    Unshare();
  if (IsSequence()) return items_;
  // Another kind has no items (reading them never changes the node): what is added here is
  // dropped.
  static thread_local std::vector<Node> dropped;
  dropped.clear();
  return dropped;
}

std::vector<MapEntry>& Node::entries() {
  if (h_.shared) [[unlikely]]
    Unshare();
  if (IsMapping()) return entries_;
  static thread_local std::vector<MapEntry> dropped;
  dropped.clear();
  return dropped;
}

Node& Node::Append(Node item) {
  if (h_.kind == Kind::Null) Become(Kind::Sequence);
  std::vector<Node>& list = items();
  list.push_back(std::move(item));
  return list.back();
}

const Node* Node::Find(std::string_view key) const {
  if (!IsMapping()) return nullptr;
  for (const MapEntry& e : Value().entries_) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

Node* Node::Find(std::string_view key) {
  if (!IsMapping()) return nullptr;
  if (h_.shared) Unshare();
  for (MapEntry& e : entries_) {
    if (e.key == key) return &e.value;
  }
  return nullptr;
}

Node& Node::Set(std::string_view key, Node value) {
  if (Node* existing = Find(key)) {
    *existing = std::move(value);
    return *existing;
  }
  return Add(key, std::move(value));
}

Node& Node::AddEntry(Key&& key, Node&& value) {
  if (h_.kind == Kind::Null) Become(Kind::Mapping);
  std::vector<MapEntry>& list = entries();
  // Mappings being built mostly get several keys: skip the growth through 1 and 2 entries.
  if (list.capacity() == 0) list.reserve(4);
  // Built in its place, not moved from a temporary.
  return list.emplace_back(std::move(key), Position{}, std::move(value)).value;
}

bool Node::Erase(std::string_view key) {
  if (!IsMapping()) return false;
  if (h_.shared) Unshare();
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const MapEntry& e) { return e.key == key; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

std::string_view Node::TypeName() const {
  switch (h_.kind) {
    case Kind::Null:
      return "null";
    case Kind::Sequence:
      return "list";
    case Kind::Mapping:
      return "mapping";
    case Kind::Scalar:
      break;
  }
  switch (scalar_type()) {
    case ScalarType::Null:
      return "null";
    case ScalarType::Bool:
      return "boolean";
    case ScalarType::Int:
      return "integer";
    case ScalarType::Float:
      return "number";
    case ScalarType::String:
      return "string";
  }
  return "value";
}

bool operator==(const Node& a, const Node& b) {
  if (a.h_.kind != b.h_.kind) return false;
  if (a.h_.shared && b.h_.shared && a.shared_value_ == b.shared_value_) return true;
  switch (a.h_.kind) {
    case Node::Kind::Null:
      return true;
    case Node::Kind::Scalar:
      return a.text_ == b.text_ && a.scalar_type() == b.scalar_type();
    case Node::Kind::Sequence:
      return a.Value().items_ == b.Value().items_;
    case Node::Kind::Mapping: {
      const std::vector<MapEntry>& x = a.Value().entries_;
      const std::vector<MapEntry>& y = b.Value().entries_;
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (x[i].key != y[i].key || !(x[i].value == y[i].value)) return false;
      }
      return true;
    }
  }
  return false;
}

void Compact(Node& n) {
  // Scalars and nulls (most values) hold no list: only lists and mappings are visited.
  auto holds_a_list = [](const Node& v) { return v.IsSequence() || v.IsMapping(); };
  if (n.IsShared()) return;  // compacted when it was shared, and not to be copied now
  if (n.IsSequence()) {
    n.items().shrink_to_fit();
    for (Node& item : n.items()) {
      if (holds_a_list(item)) Compact(item);
    }
  } else if (n.IsMapping()) {
    n.entries().shrink_to_fit();
    for (MapEntry& e : n.entries()) {
      if (holds_a_list(e.value)) Compact(e.value);
    }
  }
}

bool SameValue(const Node& a, const Node& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Node::Kind::Null:
      return true;
    case Node::Kind::Scalar:
      return a.text() == b.text() && a.scalar_type() == b.scalar_type();
    case Node::Kind::Sequence:
      if (a.items().size() != b.items().size()) return false;
      for (size_t i = 0; i < a.items().size(); ++i) {
        if (!SameValue(a.items()[i], b.items()[i])) return false;
      }
      return true;
    case Node::Kind::Mapping:
      if (a.entries().size() != b.entries().size()) return false;
      for (const MapEntry& e : a.entries()) {
        const Node* other = b.Find(e.key);
        if (!other || !SameValue(e.value, *other)) return false;
      }
      return true;
  }
  return false;
}

namespace {
// A string in double quotes, `"` and `\\` escaped.
template <typename Out>
void AppendQuoted(std::string_view text, Out& out) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// Writes the canonical text of `n` to `out`: anything with `+= char` and `+= std::string_view`.
template <typename Out>
void AppendCanonical(const Node& n, Out& out) {
  switch (n.kind()) {
    case Node::Kind::Null:
      out += std::string_view("null");
      return;
    case Node::Kind::Scalar:
      if (n.scalar_type() == ScalarType::String) {
        AppendQuoted(n.text(), out);
      } else {
        out += std::string_view(n.text());
      }
      return;
    case Node::Kind::Sequence:
      out += '[';
      for (size_t i = 0; i < n.items().size(); ++i) {
        if (i) out += ',';
        AppendCanonical(n.items()[i], out);
      }
      out += ']';
      return;
    case Node::Kind::Mapping: {
      std::vector<const MapEntry*> sorted;
      sorted.reserve(n.entries().size());
      for (const MapEntry& e : n.entries()) sorted.push_back(&e);
      std::sort(sorted.begin(), sorted.end(),
                [](const MapEntry* x, const MapEntry* y) { return x->key < y->key; });
      out += '{';
      for (size_t i = 0; i < sorted.size(); ++i) {
        if (i) out += ',';
        AppendQuoted(sorted[i]->key, out);
        out += ':';
        AppendCanonical(sorted[i]->value, out);
      }
      out += '}';
      return;
    }
  }
}

// FNV-1a over the bytes it is given.
struct Fnv1aSink {
  uint64_t hash = 1469598103934665603ull;
  void operator+=(char c) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  void operator+=(std::string_view s) {
    for (char c : s) *this += c;
  }
};
}  // namespace

std::string CanonicalText(const Node& n) {
  std::string out;
  AppendCanonical(n, out);
  return out;
}

uint64_t CanonicalHash(const Node& n) {
  Fnv1aSink sink;
  AppendCanonical(n, sink);
  return sink.hash;
}

}  // namespace meshfed
