#include "codec/block_yaml_reader.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <iterator>
#include <vector>

#include "codec/key_set.h"
#include "codec/yaml_chars.h"

// What this reader must agree with is libyaml 0.2.5's scanner and parser (scanner.c, parser.c):
//   - a block mapping starts at its first key, a block sequence at its first `-`
//     (yaml_parser_parse_node: the event's start mark is the token's);
//   - a value left empty after `key:` or `-` is a null at the end of that indicator
//     (yaml_parser_process_empty_scalar with the VALUE / BLOCK-ENTRY token's end mark);
//   - a sequence at the indentation of its mapping's keys belongs to the key before it
//     (indentless sequence, yaml_parser_parse_indentless_sequence_entry);
//   - a plain scalar ends at `: `, at ` #` and at the end of its line; on the next line it would
//     go on if that line is indented more than its block (yaml_parser_scan_plain_scalar), so any
//     line indented more than it is, after a scalar, is declined here.
// Whatever else YAML allows is left to libyaml: this reader declines it.

namespace meshfed {
namespace {

class BlockReader {
 public:
  BlockReader(std::string_view content, const ReadLimits& limits)
      : end_(content.data() + content.size()), next_(content.data()), limits_(limits) {}

  std::optional<ReadResult> Read() {
    ReadResult result;
    if (!Advance() || eof_) return std::nullopt;
    while (!eof_) {
      // `---` opens a document; one that holds nothing (a null) is libyaml's to read.
      if (separator_ && (!Advance() || eof_ || separator_)) return std::nullopt;
      if (result.documents.size() >= limits_.max_documents) return std::nullopt;
      Node root;
      if (!Block(static_cast<size_t>(indent_), 0, root)) return std::nullopt;
      if (!eof_ && !separator_) return std::nullopt;  // a line outside the root block
      result.documents.push_back(std::move(root));
    }
    return result;
  }

 private:
  struct Scalar {
    const char* start = nullptr;
    const char* end = nullptr;  // after the closing quote, or after a plain scalar's last character
    std::string_view text;      // into the input, or into `unescaped` (not to be copied or moved)
    std::string unescaped;      // only for quoted text with a '' or an escape in it
    bool quoted = false;
  };

  // Moves to the next line that is not blank or a comment: its indentation, or -1 at the end of
  // the stream and at a `---` line. False on a line starting `...` or `---` that is not a plain
  // `---` (a document end marker, or `---` followed by a node).
  bool Advance() {
    while (next_ < end_) {
      line_ = next_;
      ++line_number_;
      const void* nl = std::memchr(line_, '\n', static_cast<size_t>(end_ - line_));
      eol_ = nl ? static_cast<const char*>(nl) : end_;
      next_ = nl ? eol_ + 1 : end_;
      const char* p = SkipSpaces(line_);
      if (p == eol_ || *p == '#') continue;
      if (p == line_ && eol_ - line_ >= 3 &&
          (std::memcmp(p, "---", 3) == 0 || std::memcmp(p, "...", 3) == 0)) {
        if (*p == '.' || SkipSpaces(p + 3) != eol_) return false;
        separator_ = true;
        indent_ = -1;
        return true;
      }
      separator_ = false;
      indent_ = static_cast<int>(p - line_);
      return true;
    }
    eof_ = true;
    separator_ = false;
    indent_ = -1;
    line_ = eol_ = end_;
    return true;
  }

  const char* SkipSpaces(const char* p) const {
    while (p < eol_ && *p == ' ') ++p;
    return p;
  }
  // `-` followed by a space or the end of the line: a block sequence entry.
  bool IsDash(const char* p) const {
    return p < eol_ && *p == '-' && (p + 1 == eol_ || p[1] == ' ');
  }
  // Nothing but spaces and perhaps a comment (which needs a space before it) from `p` on.
  bool AtLineEnd(const char* p) const {
    const char* r = SkipSpaces(p);
    return r == eol_ || (*r == '#' && r > p);
  }
  Position At(const char* p) const {
    return Position{static_cast<uint32_t>(line_number_), static_cast<uint32_t>(p - line_ + 1)};
  }
  bool Count() { return ++nodes_ <= limits_.max_nodes; }

  // A scalar on the current line at `p`: plain, single- or double-quoted. False for anything else
  // (indicators, a quoted scalar that goes on to the next line, escapes beyond the common ones).
  bool Scan(const char* p, Scalar& s) const {
    s.start = p;
    if (*p == '\'') {
      s.quoted = true;
      for (const char* q = p + 1;;) {
        const void* quote = std::memchr(q, '\'', static_cast<size_t>(eol_ - q));
        if (!quote) return false;
        const char* at = static_cast<const char*>(quote);
        if (at + 1 < eol_ && at[1] == '\'') {  // '' is a quote
          s.unescaped.append(q, at);
          s.unescaped.push_back('\'');
          q = at + 2;
          continue;
        }
        s.end = at + 1;
        s.text = Finish(s, p + 1, q, at);
        return true;
      }
    }
    if (*p == '"') {
      s.quoted = true;
      for (const char* q = p + 1; q < eol_;) {
        const char* stop = q;
        while (stop < eol_ && *stop != '"' && *stop != '\\') ++stop;
        if (stop == eol_) return false;
        if (*stop == '"') {
          s.end = stop + 1;
          s.text = Finish(s, p + 1, q, stop);
          return true;
        }
        s.unescaped.append(q, stop);
        if (stop + 1 == eol_) return false;
        char c = 0;
        switch (stop[1]) {  // libyaml 0.2.5's escapes that stay within ASCII (not \')
          case '0':
            c = '\0';
            break;
          case 'a':
            c = '\a';
            break;
          case 'b':
            c = '\b';
            break;
          case 't':
            c = '\t';
            break;
          case 'n':
            c = '\n';
            break;
          case 'v':
            c = '\v';
            break;
          case 'f':
            c = '\f';
            break;
          case 'r':
            c = '\r';
            break;
          case 'e':
            c = '\x1b';
            break;
          case ' ':
            c = ' ';
            break;
          case '"':
            c = '"';
            break;
          case '/':
            c = '/';
            break;
          case '\\':
            c = '\\';
            break;
          default:
            return false;
        }
        s.unescaped.push_back(c);
        q = stop + 2;
      }
      return false;
    }
    // A plain scalar cannot start with an indicator (`-` only when a space or the line's end
    // follows it: then it is a sequence entry).
    if (*p == '-' ? p + 1 == eol_ || p[1] == ' ' : IsIndicatorStart(*p)) return false;
    const char* last = p;
    for (const char* q = p; q < eol_; ++q) {
      if (*q == ':' && (q + 1 == eol_ || q[1] == ' ')) break;
      if (*q == ' ') {
        if (q + 1 < eol_ && q[1] == '#') break;
        continue;
      }
      last = q + 1;
    }
    s.end = last;
    s.text = std::string_view(p, static_cast<size_t>(last - p));
    return true;
  }

  // A quoted scalar's text, whose last piece is [from, to): the input itself when nothing was
  // unescaped before it (the piece starts at `first`, right after the opening quote).
  static std::string_view Finish(Scalar& s, const char* first, const char* from, const char* to) {
    if (from == first) return std::string_view(from, static_cast<size_t>(to - from));
    s.unescaped.append(from, to);
    return s.unescaped;
  }

  // A value scalar as the YAML reader keeps it.
  bool MakeScalar(Scalar& s, Node& out) {
    if (s.text.size() > limits_.max_scalar_bytes || !Count()) return false;
    Position pos = At(s.start);
    if (s.quoted) {
      out = Node::String(s.text, pos);
    } else if (ResolvePlainScalar(s.text) == ScalarType::Null) {
      out = Node::Null(pos);
    } else {
      out = Node::Plain(s.text, pos);
    }
    return true;
  }

  // A value that sits on the current line at `p` and ends it: a scalar, `{}` or `[]`.
  bool Inline(const char* p, size_t depth, Node& out) {
    if (*p == '{' || *p == '[') {
      if (p + 1 == eol_ || p[1] != (*p == '{' ? '}' : ']') || depth >= limits_.max_depth ||
          !Count()) {
        return false;
      }
      out = *p == '{' ? Node::Mapping(At(p)) : Node::Sequence(At(p));
      return AtLineEnd(p + 2);
    }
    Scalar s;
    return Scan(p, s) && AtLineEnd(s.end) && MakeScalar(s, out);
  }

  // The block node whose first line is the current one, at column `col`.
  bool Block(size_t col, size_t depth, Node& out) {
    return IsDash(line_ + col) ? Sequence(col, depth, false, out) : Mapping(col, depth, out);
  }

  // The value after an indicator (`key:` or `-`) ending at `p`, in a block at column `col`.
  bool Value(const char* p, size_t col, size_t depth, bool of_key, Node& out) {
    const char* content = SkipSpaces(p);
    if (content != eol_ && !(*content == '#' && content > p)) {
      // On this line: the next line must not be indented more (a scalar would go on there).
      return Inline(content, depth, out) && Advance() && indent_ <= static_cast<int>(col);
    }
    Position empty = At(p);
    if (!Advance()) return false;
    if (indent_ > static_cast<int>(col)) return Block(static_cast<size_t>(indent_), depth, out);
    if (of_key && indent_ == static_cast<int>(col) && IsDash(line_ + col)) {
      return Sequence(col, depth, true, out);
    }
    if (!Count()) return false;
    out = Node::Null(empty);
    return true;
  }

  // A block mapping whose first key is on the current line at column `col`.
  bool Mapping(size_t col, size_t depth, Node& out) {
    if (depth >= limits_.max_depth || !Count()) return false;
    out = Node::Mapping(At(line_ + col));
    // Entries gather in this depth's scratch list and move into one of the exact size: no growth
    // and no shrinking of the mapping's own list.
    std::vector<MapEntry>& entries = Scratch(entries_, depth);
    KeySet keys;
    for (const char* p = line_ + col;;) {
      Scalar key;
      if (!Scan(p, key)) return false;
      const char* colon = SkipSpaces(key.end);
      // libyaml's simple keys end within 1,024 characters; `<<` is the YAML reader's merge key;
      // a plain key that reads as null would be the key "" there.
      if (colon == eol_ || *colon != ':' || (colon + 1 != eol_ && colon[1] != ' ') ||
          colon - key.start > 1000 || key.text.size() > limits_.max_scalar_bytes ||
          key.text == "<<" || (!key.quoted && ResolvePlainScalar(key.text) == ScalarType::Null) ||
          !keys.Insert(entries, key.text) || !Count()) {
        return false;
      }
      Position key_position = At(key.start);
      Node value;
      if (!Value(colon + 1, col, depth + 1, true, value)) return false;
      entries.emplace_back(KeyOf(key.text), key_position, std::move(value));
      if (indent_ < static_cast<int>(col)) break;
      p = line_ + col;
      if (indent_ > static_cast<int>(col) || IsDash(p)) return false;
    }
    out.entries().reserve(entries.size());  // as the YAML reader keeps lists: no spare room
    std::move(entries.begin(), entries.end(), std::back_inserter(out.entries()));
    return true;
  }

  // A block sequence whose first `-` is on the current line at column `col`; an indentless one
  // (at its key's column) ends at the next key.
  bool Sequence(size_t col, size_t depth, bool indentless, Node& out) {
    if (depth >= limits_.max_depth || !Count()) return false;
    out = Node::Sequence(At(line_ + col));
    std::vector<Node>& items = Scratch(items_, depth);
    while (true) {
      const char* dash = line_ + col;
      const char* p = SkipSpaces(dash + 1);
      Node item;
      if (p == eol_ || *p == '#' || *p == '{' || *p == '[') {
        if (!Value(dash + 1, col, depth + 1, false, item)) return false;
      } else if (IsDash(p)) {
        return false;  // `- - x`
      } else {
        Scalar s;
        if (!Scan(p, s)) return false;
        const char* after = SkipSpaces(s.end);
        if (after != eol_ && *after == ':') {  // `- key: value`: a mapping at the key's column
          if (!Mapping(static_cast<size_t>(p - line_), depth + 1, item)) return false;
        } else if (!AtLineEnd(s.end) || !MakeScalar(s, item) || !Advance() ||
                   indent_ > static_cast<int>(col)) {
          return false;
        }
      }
      items.push_back(std::move(item));
      if (indent_ < static_cast<int>(col)) break;
      if (indent_ > static_cast<int>(col)) return false;
      if (!IsDash(line_ + col)) {
        if (indentless) break;
        return false;
      }
    }
    out.items().reserve(items.size());
    std::move(items.begin(), items.end(), std::back_inserter(out.items()));
    return true;
  }

  // An empty list for depth `depth`, kept between blocks for its room.
  template <typename T>
  static std::vector<T>& Scratch(std::deque<std::vector<T>>& lists, size_t depth) {
    if (lists.size() <= depth) lists.resize(depth + 1);
    lists[depth].clear();
    return lists[depth];
  }

  // Deques: a deeper block adds lists without moving the ones shallower blocks are filling.
  std::deque<std::vector<MapEntry>> entries_;
  std::deque<std::vector<Node>> items_;
  const char* end_;
  const char* next_;  // the line after the current one
  const char* line_ = nullptr;
  const char* eol_ = nullptr;
  size_t line_number_ = 0;
  int indent_ = -1;
  bool separator_ = false;
  bool eof_ = false;
  size_t nodes_ = 0;
  const ReadLimits& limits_;
};

}  // namespace

std::optional<ReadResult> ReadBlockYaml(std::string_view content, const ReadLimits& limits) {
  if (content.size() > limits.max_bytes || limits.max_documents == 0) return std::nullopt;
  // Printable ASCII and line feeds: libyaml counts columns in characters, reads tabs and
  // carriage returns by rules of their own and checks the encoding.
  if (!std::all_of(content.begin(), content.end(),
                   [](char c) { return (c >= 0x20 && c < 0x7f) || c == '\n'; })) {
    return std::nullopt;
  }
  return BlockReader(content, limits).Read();
}

}  // namespace meshfed
