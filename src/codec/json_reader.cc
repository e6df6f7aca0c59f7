#include "codec/json_reader.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "codec/key_set.h"

namespace meshfed {
namespace {

// `drop`: leave out metadata.managedFields wherever an object has it (JsonOptions).
Node Convert(simdjson::dom::element e, bool drop, bool in_metadata = false) {
  using Type = simdjson::dom::element_type;
  switch (e.type()) {
    case Type::ARRAY: {
      Node list = Node::Sequence();
      simdjson::dom::array items = e.get_array().value_unsafe();
      list.items().reserve(items.size());
      for (simdjson::dom::element item : items) list.Append(Convert(item, drop));
      return list;
    }
    case Type::OBJECT: {
      Node map = Node::Mapping();
      simdjson::dom::object fields = e.get_object().value_unsafe();
      map.entries().reserve(fields.size());
      for (simdjson::dom::key_value_pair field : fields) {
        if (in_metadata && field.key == "managedFields") continue;
        map.Add(field.key, Convert(field.value, drop, drop && field.key == "metadata"));
      }
      return map;
    }
    case Type::INT64:
      return Node::Plain(std::to_string(e.get_int64().value_unsafe()));
    case Type::UINT64:
      return Node::Plain(std::to_string(e.get_uint64().value_unsafe()));
    case Type::DOUBLE: {
      // The shortest text that reads back as the same double, still a float to a YAML reader.
      std::string text = fmt::format("{}", e.get_double().value_unsafe());
      if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
      return Node::Plain(std::move(text));
    }
    case Type::STRING:
      return Node::String(e.get_string().value_unsafe());
    case Type::BOOL:
      return Node::Bool(e.get_bool().value_unsafe());
    case Type::NULL_VALUE:
      return Node::Null();
  }
  return Node::Null();
}

// simdjson's parsers, kept with their buffers between answers and shared by every thread. A
// parser holds about fifteen bytes per byte of the largest document it has read (simdjson 3.0:
// 8 of tape, 4 of structural indexes, 5/3 of strings, its copy of the text): megabytes for a
// page of a list or an RSB's status. One per thread made each of the controller's hundreds of
// threads (an informer per cluster and type, the writers) grow its own, and the heap with it; a
// parser is taken for one parse and given back. At most max(8, twice the cores) exist: a thread
// that finds them all taken waits for one. At a cold start every informer lists at once, and making
// a parser for each of them had the heap grow by tens of megabytes per page of a list, each time
// populated while every other thread that needed memory waited (docs/performance-history.md,
// "Seventeenth session"). Parsing is work for the CPU alone: more parsers than threads the machine
// runs at once would not parse sooner.
class ParserPool {
 public:
  ParserPool() : most_(std::max<size_t>(8, 2 * std::thread::hardware_concurrency())) {}

  std::unique_ptr<simdjson::dom::parser> Take() {
    std::unique_lock<std::mutex> lock(mutex_);
    given_back_.wait(lock, [this] { return !idle_.empty() || made_ < most_; });
    if (!idle_.empty()) {
      std::unique_ptr<simdjson::dom::parser> p = std::move(idle_.back());
      idle_.pop_back();
      return p;
    }
    ++made_;
    lock.unlock();
    try {
      return std::make_unique<simdjson::dom::parser>();
    } catch (...) {  // none was made: its place goes back to the others
      lock.lock();
      --made_;
      given_back_.notify_one();
      throw;
    }
  }

  size_t made() {
    std::lock_guard<std::mutex> lock(mutex_);
    return made_;
  }
  size_t most() const { return most_; }

  void Give(std::unique_ptr<simdjson::dom::parser> p) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      idle_.push_back(std::move(p));
    }
    given_back_.notify_one();
  }

 private:
  const size_t most_;
  std::mutex mutex_;
  std::condition_variable given_back_;
  size_t made_ = 0;
  std::vector<std::unique_ptr<simdjson::dom::parser>> idle_;
};

ParserPool& Parsers() {
  static ParserPool* pool = new ParserPool;  // used until the process ends, by any thread
  return *pool;
}

}  // namespace

size_t JsonParsersMade() { return Parsers().made(); }
size_t JsonParsersAtMost() { return Parsers().most(); }

bool ReadJson(std::string_view text, Node& out, std::string& error, JsonOptions options) {
  // Given back however this returns: a parser kept would leave the others waiting for it.
  struct Borrowed {
    std::unique_ptr<simdjson::dom::parser> parser = Parsers().Take();
    ~Borrowed() { Parsers().Give(std::move(parser)); }
  } borrowed;
  simdjson::dom::element root;
  if (simdjson::error_code e = borrowed.parser->parse(text.data(), text.size()).get(root); e) {
    error = simdjson::error_message(e);
    return false;
  }
  out = Convert(root, options.drop_managed_fields);
  return true;
}

namespace {

// A JSON number as RFC 8259 writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view t) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
    return i > start;
  };
  if (i < t.size() && t[i] == '-') ++i;
  if (i < t.size() && t[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == t.size();
}

// Builds the positioned tree from simdjson's on-demand walk. Every method returns false to give
// the file back to the YAML reader.
class PositionedReader {
 public:
  PositionedReader(std::string_view content, const char* base, const ReadLimits& limits)
      : content_(content),
        base_(base),
        limits_(limits),
        items_(limits.max_depth),
        entries_(limits.max_depth) {}

  bool Read(simdjson::ondemand::value value, size_t depth, Node& out) {
    std::string_view token = value.raw_json_token();
    if (token.empty() || ++nodes_ > limits_.max_nodes) return false;
    Position pos = At(token.data());
    simdjson::ondemand::json_type type;
    if (value.type().get(type)) return false;
    using Type = simdjson::ondemand::json_type;
    switch (type) {
      case Type::array: {
        // The YAML reader refuses a collection at depth max_depth (the root is at 0).
        if (depth >= limits_.max_depth) return false;
        simdjson::ondemand::array items;
        if (value.get_array().get(items)) return false;
        // Gathered in this depth's scratch list, then moved into one of the exact size: the YAML
        // reader keeps lists that way, and nothing grows or shrinks twice.
        std::vector<Node>& scratch = ScratchItems(depth);
        for (auto item : items) {
          simdjson::ondemand::value v;
          if (item.get(v)) return false;
          scratch.emplace_back();
          if (!Read(v, depth + 1, scratch.back())) return false;
        }
        out = Node::Sequence(pos);
        out.items().reserve(scratch.size());
        for (Node& item : scratch) out.items().push_back(std::move(item));
        return true;
      }
      case Type::object: {
        if (depth >= limits_.max_depth) return false;
        simdjson::ondemand::object fields;
        if (value.get_object().get(fields)) return false;
        std::vector<MapEntry>& scratch = ScratchEntries(depth);
        KeySet keys;
        for (auto field : fields) {
          simdjson::ondemand::field f;
          if (std::move(field).get(f)) return false;
          const char* key_at = f.key().raw() - 1;  // the opening quote
          std::string_view key;
          if (f.unescaped_key().get(key)) return false;
          // libyaml's simple keys end within 1,024 characters of their start; `<<` is the merge
          // key to the YAML reader, even quoted.
          if (++nodes_ > limits_.max_nodes || key.size() > limits_.max_scalar_bytes ||
              key == "<<" || !keys.Insert(scratch, key)) {
            return false;
          }
          simdjson::ondemand::value v = f.value();
          std::string_view value_token = v.raw_json_token();
          if (value_token.empty() || value_token.data() - key_at > 1000 ||
              !ColonOnKeyLine(value_token.data())) {
            return false;
          }
          Position key_pos = At(key_at);
          scratch.emplace_back(KeyOf(key), key_pos, Node());
          if (!Read(v, depth + 1, scratch.back().value)) return false;
        }
        out = Node::Mapping(pos);
        out.entries().reserve(scratch.size());
        for (MapEntry& e : scratch) out.entries().push_back(std::move(e));
        return true;
      }
      case Type::string: {
        std::string_view text;
        if (value.get_string().get(text) || text.size() > limits_.max_scalar_bytes) return false;
        out = Node::String(text, pos);
        return true;
      }
      case Type::number:
      case Type::boolean:
      case Type::null: {
        // A plain scalar to the YAML reader, resolved the same way.
        size_t end = token.find_first_of(" \n,]}");
        std::string_view text = token.substr(0, end);
        if (text == "null") {
          out = Node::Null(pos);
        } else if (text == "true" || text == "false" || IsJsonNumber(text)) {
          out = Node::Plain(text, pos);
        } else {
          return false;
        }
        return true;
      }
    }
    return false;
  }

 private:
  // The list being gathered at `depth` (< max_depth), emptied for a new collection. Those nested
  // in it use deeper ones, and the lists by depth are all there from the start, so a reference
  // to one stays valid while they are read.
  std::vector<Node>& ScratchItems(size_t depth) {
    items_[depth].clear();
    return items_[depth];
  }
  std::vector<MapEntry>& ScratchEntries(size_t depth) {
    entries_[depth].clear();
    return entries_[depth];
  }

  // Line and column of a byte of the input. The walk asks in document order, so the line count
  // only moves forward. The input is ASCII without carriage returns: a column is a byte.
  Position At(const char* p) {
    size_t offset = static_cast<size_t>(p - base_);
    if (offset < scanned_) {  // not in document order: count again
      scanned_ = 0;
      line_ = 1;
      line_start_ = 0;
    }
    // Line breaks found with memchr (vectorised), not byte by byte.
    const size_t until = std::min(offset, content_.size());
    for (size_t i = scanned_; i < until;) {
      const void* newline = std::memchr(content_.data() + i, '\n', until - i);
      if (newline == nullptr) break;
      i = static_cast<size_t>(static_cast<const char*>(newline) - content_.data()) + 1;
      ++line_;
      line_start_ = i;
    }
    scanned_ = offset;
    return Position{static_cast<uint32_t>(line_), static_cast<uint32_t>(offset - line_start_ + 1)};
  }

  // A YAML implicit key ends on its own line: the `:` after it must be on the line the key ends
  // on (JSON allows a line break before it). `value` is where the value starts; only whitespace
  // and the `:` are between it and the key's closing quote.
  bool ColonOnKeyLine(const char* value) const {
    const char* p = value;
    while (p > base_ && p[-1] != ':') --p;
    if (p == base_) return false;
    for (const char* q = p - 1; q > base_ && q[-1] != '"'; --q) {
      if (q[-1] == '\n') return false;
    }
    return true;
  }

  std::string_view content_;
  const char* base_;
  const ReadLimits& limits_;
  size_t nodes_ = 0;
  size_t scanned_ = 0;
  size_t line_ = 1;
  size_t line_start_ = 0;
  std::vector<std::vector<Node>> items_;        // scratch lists by depth
  std::vector<std::vector<MapEntry>> entries_;  // scratch mappings by depth
};

}  // namespace

std::optional<ReadResult> ReadJsonDocument(std::string_view content, const ReadLimits& limits) {
  if (content.size() > limits.max_bytes || limits.max_documents == 0) return std::nullopt;
  // A YAML file is told by its first character, before the whole file is looked at.
  size_t first = content.find_first_not_of(" \n");
  if (first == std::string_view::npos || (content[first] != '{' && content[first] != '[')) {
    return std::nullopt;
  }
  // Printable ASCII and newlines only: libyaml counts columns in characters, treats a carriage
  // return as a line break and reports characters that JSON allows in strings.
  bool plain = std::all_of(content.begin(), content.end(),
                           [](char c) { return (c >= 0x20 && c < 0x7f) || c == '\n'; });
  // libyaml rejects the surrogate pairs JSON writes characters beyond U+FFFF with.
  if (!plain || content.find("\\u") != std::string_view::npos) return std::nullopt;
  simdjson::padded_string padded(content);
  thread_local simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc)) return std::nullopt;
  simdjson::ondemand::value root;
  if (doc.get_value().get(root)) return std::nullopt;
  ReadResult result;
  result.documents.emplace_back();
  PositionedReader reader(content, padded.data(), limits);
  if (!reader.Read(root, 0, result.documents.back())) return std::nullopt;
  // Exactly one value: anything after it is the YAML reader's to read or report.
  const char* after = nullptr;
  if (!doc.current_location().get(after)) return std::nullopt;
  return result;
}

}  // namespace meshfed
