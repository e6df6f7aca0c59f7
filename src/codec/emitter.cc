#include "codec/emitter.h"

#include <absl/container/flat_hash_map.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <utility>

#include "codec/yaml_chars.h"

namespace meshfed {
namespace {

// Code points a YAML reader rejects (C1 controls, U+FFFE/U+FFFF) or treats as line breaks or
// strips (NEL, LINE/PARAGRAPH SEPARATOR, BOM): they must be written as \u escapes, or a string
// does not read back as written. Returns the length of the UTF-8 sequence at `i`, or 0.
size_t SpecialCodepointAt(std::string_view text, size_t i, uint32_t& cp) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  if (byte(i) == 0xC2 && i + 1 < text.size() && byte(i + 1) >= 0x80 && byte(i + 1) <= 0x9F) {
    cp = byte(i + 1);
    return 2;
  }
  if (i + 2 < text.size() && (byte(i) == 0xE2 || byte(i) == 0xEF)) {
    cp = ((byte(i) & 0x0Fu) << 12) | ((byte(i + 1) & 0x3Fu) << 6) | (byte(i + 2) & 0x3Fu);
    if (cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF) return 3;
  }
  return 0;
}

// The bytes AppendEscaped must look at: what it escapes (controls, DEL, '"', '\\') and the first
// bytes of the sequences SpecialCodepointAt looks for (0xC2, 0xE2, 0xEF). Every other byte is
// copied as it is, in runs: most strings written (names, hosts, label values) have none of these.
constexpr std::array<bool, 256> kLookAt = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  for (int c : {0x7f, int{'"'}, int{'\\'}, 0xC2, 0xE2, 0xEF}) t[c] = true;
  return t;
}();

void AppendEscaped(std::string_view text, std::string& out, bool json) {
  out += '"';
  size_t copied = 0;  // text[copied, i) is still to be appended as it is
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (!kLookAt[c]) continue;
    uint32_t cp = 0;
    size_t len = c >= 0x80 ? SpecialCodepointAt(text, i, cp) : 0;
    if (c >= 0x80 && len == 0) continue;  // an ordinary UTF-8 sequence
    out.append(text.data() + copied, i - copied);
    if (len > 0) {
      out += fmt::format("\\u{:04x}", cp);
      i += len - 1;
    } else {
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\r':
          out += "\\r";
          break;
        default:  // the other controls and DEL
          out += json ? fmt::format("\\u{:04x}", c) : fmt::format("\\x{:02x}", c);
      }
    }
    copied = i + 1;
  }
  out.append(text.data() + copied, text.size() - copied);
  out += '"';
}

void AppendScalar(const Node& n, std::string& out) {
  if (n.IsNull()) {
    out += "null";
  } else if (n.scalar_type() == ScalarType::String && NeedsQuotes(n.text())) {
    AppendEscaped(n.text(), out, false);
  } else {
    out += n.text();
  }
}

bool IsEmptyCollection(const Node& n) {
  return (n.IsMapping() && n.entries().empty()) || (n.IsSequence() && n.items().empty());
}

// Keys this long (as written) are written as explicit keys; below YAML's limit of 1,024.
constexpr size_t kLongestImplicitKey = 1000;

void AppendKey(std::string_view key, std::string& out) {
  if (NeedsQuotes(key)) {
    AppendEscaped(key, out, false);
  } else {
    out += key;
  }
}

// The text of values that objects share (Node::Share: the labels, owner annotations and ports
// the translator gives many generated objects alike), written once per place (indentation) and
// copied where the same value appears again in the same output. Shared values are immutable while
// shared, so their text at one place is the same every time.
class SharedText {
 public:
  // Appends `value`'s text at `place` to `out`: written by `write` the first time, copied after.
  template <typename Write>
  void Append(std::string& out, const Node& value, size_t place, Write&& write) {
    if (!value.IsShared()) return write();
    std::pair<const void*, size_t> key(value.shared_value(), place);
    if (auto it = written_.find(key); it != written_.end()) {
      auto [offset, size] = it->second;
      assert(offset + size <= out.size());  // not text already handed over (HandOver)
      out.reserve(out.size() + size);       // so that the text copied stays where it is
      out.append(out.data() + offset, size);
      return;
    }
    size_t start = out.size();
    write();  // may record the values inside it: added after, not before
    written_.emplace(key, std::make_pair(start, out.size() - start));
  }

  // Hands `out` to `sink` and clears it (keeping its capacity): nothing written before can be
  // copied after.
  void HandOver(std::string& out, absl::FunctionRef<void(std::string_view)> sink) {
    sink(out);
    out.clear();
    written_.clear();
  }

 private:
  // (shared value, place) -> where its text was first written in the output (offset, size). Text
  // is only ever appended after it, except the "? " of a long YAML key, which is inserted before
  // that key and so after every text recorded here.
  absl::flat_hash_map<std::pair<const void*, size_t>, std::pair<size_t, size_t>> written_;
};

// Writes YAML block style into `out`; what documents share is written once (SharedText).
class BlockWriter {
 public:
  explicit BlockWriter(std::string& out) : out_(out) {}

  // One document (no leading "---").
  void Document(const Node& document) {
    if (!document.IsMapping() && !document.IsSequence()) {
      AppendScalar(document, out_);
      out_ += '\n';
    } else if (IsEmptyCollection(document)) {
      out_ += document.IsMapping() ? "{}\n" : "[]\n";
    } else {
      Block(document, 0);
    }
  }

  // Writes `n` as a block at `indent`. With `first_line_started`, the first line's indentation
  // is already written (the "- " of a sequence item whose first entry shares its line).
  void Block(const Node& n, size_t indent, bool first_line_started = false);

  // Writes `value` after "key:" or "- " on the current line.
  void ValueAfter(const Node& value, size_t indent) {
    shared_.Append(out_, value, indent, [&] { ValueAfterOnce(value, indent); });
  }

  // Hands over what is written so far and starts an empty output (of the same capacity).
  void HandOver(absl::FunctionRef<void(std::string_view)> sink) { shared_.HandOver(out_, sink); }

 private:
  void ValueAfterOnce(const Node& value, size_t indent) {
    if (value.IsMapping() && !value.entries().empty()) {
      out_ += '\n';
      Block(value, indent + 2);
    } else if (value.IsSequence() && !value.items().empty()) {
      out_ += '\n';
      Block(value, indent);  // kubectl style: "- " at the key's indentation
    } else if (IsEmptyCollection(value)) {
      out_ += value.IsMapping() ? " {}\n" : " []\n";
    } else {
      out_ += ' ';
      AppendScalar(value, out_);
      out_ += '\n';
    }
  }

  std::string& out_;
  SharedText shared_;
};

void BlockWriter::Block(const Node& n, size_t indent, bool first_line_started) {
  std::string& out = out_;
  bool pad = !first_line_started;
  if (n.IsMapping()) {
    for (const MapEntry& e : n.entries()) {
      if (pad) out.append(indent, ' ');
      pad = true;
      size_t key_start = out.size();
      AppendKey(e.key, out);
      // An implicit key ends within 1,024 characters (YAML 1.2 §7.4.2, which libyaml enforces):
      // a longer one is written as an explicit key, `? key` with `:` on the next line.
      if (out.size() - key_start >= kLongestImplicitKey) {
        out.insert(key_start, "? ");
        out += '\n';
        out.append(indent, ' ');
      }
      out += ':';
      ValueAfter(e.value, indent);
    }
  } else if (n.IsSequence()) {
    for (const Node& item : n.items()) {
      if (pad) out.append(indent, ' ');
      pad = true;
      out += '-';
      if (item.IsMapping() && !item.entries().empty()) {
        // First entry on the dash line, the rest aligned under it.
        out += ' ';
        Block(item, indent + 2, true);
      } else if (item.IsSequence() && !item.items().empty()) {
        out += '\n';
        Block(item, indent + 2);
      } else {
        ValueAfter(item, indent);
      }
    }
  } else {
    if (pad) out.append(indent, ' ');
    AppendScalar(n, out);
    out += '\n';
  }
}

// Writes JSON, compact (indent < 0) or indented; what objects share is written once (SharedText).
class JsonWriter {
 public:
  JsonWriter(std::string& out, int indent) : out_(out), indent_(indent) {}

  void Value(const Node& n, int depth) {
    // Compact text is the same at every depth.
    size_t place = indent_ < 0 ? 0 : static_cast<size_t>(depth);
    shared_.Append(out_, n, place, [&] { ValueOnce(n, depth); });
  }

  // Hands over what is written so far and starts an empty output (of the same capacity).
  void HandOver(absl::FunctionRef<void(std::string_view)> sink) { shared_.HandOver(out_, sink); }

 private:
  void Newline(int depth) {
    if (indent_ < 0) return;
    out_ += '\n';
    out_.append(static_cast<size_t>(indent_) * static_cast<size_t>(depth), ' ');
  }

  void ValueOnce(const Node& n, int depth) {
    std::string& out = out_;
    const int indent = indent_;
    switch (n.kind()) {
      case Node::Kind::Null:
        out += "null";
        return;
      case Node::Kind::Scalar:
        switch (n.scalar_type()) {
          case ScalarType::Null:
            out += "null";
            return;
          case ScalarType::Bool: {
            char c = n.text().empty() ? 'f' : n.text()[0];
            out += (c == 't' || c == 'T' || c == 'y' || c == 'Y' || n.text() == "on" ||
                    n.text() == "On" || n.text() == "ON")
                       ? "true"
                       : "false";
            return;
          }
          case ScalarType::Int:
          case ScalarType::Float:
            // Plain decimal integers and JSON-shaped floats pass through; other YAML spellings
            // (0x1F, 0o17, .inf) are written as strings rather than as invalid JSON.
            if (n.text().find_first_not_of("0123456789-+.eE") == std::string::npos &&
                (n.text().size() < 2 || n.text()[0] != '0' || n.text()[1] == '.')) {
              out += n.text();
            } else {
              AppendEscaped(n.text(), out, true);
            }
            return;
          case ScalarType::String:
            AppendEscaped(n.text(), out, true);
            return;
        }
        return;
      case Node::Kind::Sequence: {
        if (n.items().empty()) {
          out += "[]";
          return;
        }
        out += '[';
        bool first = true;
        for (const Node& item : n.items()) {
          if (!first) out += ',';
          first = false;
          Newline(depth + 1);
          Value(item, depth + 1);
        }
        Newline(depth);
        out += ']';
        return;
      }
      case Node::Kind::Mapping: {
        if (n.entries().empty()) {
          out += "{}";
          return;
        }
        out += '{';
        bool first = true;
        for (const MapEntry& e : n.entries()) {
          if (!first) out += ',';
          first = false;
          Newline(depth + 1);
          AppendEscaped(e.key, out, true);
          out += indent < 0 ? ":" : ": ";
          Value(e.value, depth + 1);
        }
        Newline(depth);
        out += '}';
        return;
      }
    }
  }

  std::string& out_;
  const int indent_;
  SharedText shared_;
};

}  // namespace

namespace {

// What a byte can be in a name that needs no quotes, looked up in one table (the emitter asks this
// of every key and string it writes).
enum : uint8_t {
  kNameByte = 1,   // a letter, a digit or one of -_./
  kLetter = 2,     // a-z, A-Z
  kWordStart = 4,  // starts one of YAML 1.1's null or boolean words: nNtTfFyYoO
};
constexpr std::array<uint8_t, 256> kByteClass = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kNameByte | kLetter;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kNameByte | kLetter;
  for (int c = '0'; c <= '9'; ++c) t[c] = kNameByte;
  for (char c : std::string_view("-_./")) t[static_cast<unsigned char>(c)] = kNameByte;
  for (char c : std::string_view("nNtTfFyYoO")) t[static_cast<unsigned char>(c)] |= kWordStart;
  return t;
}();

uint8_t ClassOf(char c) { return kByteClass[static_cast<unsigned char>(c)]; }

}  // namespace

// Whether `text` can start with its first letter and still never read as a YAML 1.1 null,
// boolean or number (ResolvePlainScalar): no such word starts with a letter other than
// nNtTfFyYoO, and none of those words is longer than five letters ("false").
bool PlainStart(std::string_view text) {
  uint8_t c = ClassOf(text.front());
  return (c & kLetter) != 0 && (text.size() > 5 || (c & kWordStart) == 0);
}

bool NeedsQuotes(std::string_view text) {
  if (text.empty()) return true;
  // Fast path for names, keys and hosts: a plain start, then letters, digits and -_./ only.
  if (PlainStart(text) && std::all_of(text.begin() + 1, text.end(),
                                      [](char c) { return (ClassOf(c) & kNameByte) != 0; })) {
    return false;
  }
  if (ResolvePlainScalar(text) != ScalarType::String) return true;
  if (IsIndicatorStart(text.front())) return true;
  if (text.back() == ' ' || text.back() == ':' || text.back() == '\t') return true;
  // Document markers at the start of a line, even followed by more text ("... a").
  if (text.substr(0, 3) == "---" || text.substr(0, 3) == "...") return true;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) return true;
    uint32_t cp = 0;
    if (c >= 0xC2 && SpecialCodepointAt(text, i, cp) > 0) return true;
    if (c == ':' && i + 1 < text.size() && (text[i + 1] == ' ' || text[i + 1] == '\t')) return true;
    if (c == '#' && i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t')) return true;
  }
  // A plain scalar may not look like a document marker or an int with underscores etc.
  return false;
}

void EmitYaml(const Node& document, std::string& out) { BlockWriter(out).Document(document); }

std::string EmitYamlStream(const std::vector<Node>& documents) {
  std::string out;
  // One piece: what documents share is written once for the whole stream.
  EmitYamlStream(
      documents, [&out](std::string_view text) { out = text; }, SIZE_MAX);
  return out;
}

void EmitYamlStream(const std::vector<Node>& documents,
                    absl::FunctionRef<void(std::string_view)> sink, size_t piece) {
  std::string out;  // grows to a piece once, then keeps its capacity
  BlockWriter writer(out);
  for (const Node& doc : documents) {
    out += "---\n";
    writer.Document(doc);
    if (out.size() >= piece) writer.HandOver(sink);
  }
  if (!out.empty()) sink(out);
}

void EmitJson(const Node& value, std::string& out, int indent) {
  JsonWriter(out, indent).Value(value, 0);
}

void EmitJsonList(const std::vector<Node>& items, absl::FunctionRef<void(std::string_view)> sink,
                  size_t piece) {
  // What EmitJson writes for {"apiVersion": "v1", "kind": "List", "items": [...]} at indent 2,
  // the items at depth 2.
  std::string out = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": ";
  JsonWriter writer(out, 2);
  if (items.empty()) {
    out += "[]";
  } else {
    out += '[';
    bool first = true;
    for (const Node& item : items) {
      if (!first) out += ',';
      first = false;
      out += "\n    ";
      writer.Value(item, 2);
      if (out.size() >= piece) writer.HandOver(sink);
    }
    out += "\n  ]";
  }
  out += "\n}\n";
  sink(out);
}

}  // namespace meshfed
