#include "codec/yaml_reader.h"

#include <fmt/format.h>
#include <yaml.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "codec/block_yaml_reader.h"
#include "codec/json_reader.h"
#include "codec/key_set.h"

namespace meshfed {
namespace {

// Line and column (0-based, counting characters) of a byte offset.
yaml_mark_t MarkAt(std::string_view content, size_t offset) {
  yaml_mark_t mark{};
  offset = std::min(offset, content.size());
  for (size_t i = 0; i < offset; ++i) {
    unsigned char c = static_cast<unsigned char>(content[i]);
    if (c == '\n') {
      ++mark.line;
      mark.column = 0;
    } else if ((c & 0xc0) != 0x80) {
      ++mark.column;
    }
  }
  mark.index = offset;
  return mark;
}

// Whether line `line` (0-based) is indented with a tab.
bool LeadingTab(std::string_view content, size_t line) {
  size_t start = 0;
  for (size_t l = 0; l < line; ++l) {
    start = content.find('\n', start);
    if (start == std::string_view::npos) return false;
    ++start;
  }
  for (size_t i = start; i < content.size() && (content[i] == ' ' || content[i] == '\t'); ++i) {
    if (content[i] == '\t') return true;
  }
  return false;
}

Position ToPosition(const yaml_mark_t& mark) {
  return Position{static_cast<uint32_t>(mark.line + 1), static_cast<uint32_t>(mark.column + 1)};
}

std::string_view LineAt(std::string_view content, size_t line_number) {  // 1-based
  size_t start = 0;
  for (size_t line = 1; line < line_number; ++line) {
    size_t nl = content.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  size_t end = content.find('\n', start);
  return content.substr(start,
                        end == std::string_view::npos ? content.size() - start : end - start);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Prose often elides fields with "..." (as the design note does under `metadata:`). That is not
// YAML, and libyaml's complaint about it is cryptic and a line late, so point at the elision.
struct Elision {
  Position position;
  std::string text;
};

std::optional<Elision> FindElision(std::string_view content, size_t error_line) {
  for (size_t line = error_line; line >= 1 && line + 2 > error_line; --line) {
    std::string_view raw = LineAt(content, line);
    std::string_view text = Trim(raw);
    if (text == "..." || text == "\xE2\x80\xA6") {
      auto column = static_cast<uint32_t>(raw.find(text) + 1);
      return Elision{Position{static_cast<uint32_t>(line), column}, std::string(text)};
    }
  }
  return std::nullopt;
}

class Builder {
 public:
  // `merge_keys`: `<<` merges mappings (YAML 1.1, as go-yaml reads it); JSON has no such thing,
  // and kubectl reads a .json file as JSON, where `<<` is a key like any other.
  Builder(std::string_view content, const std::string& file, const ReadLimits& limits,
          bool merge_keys, ReadResult& result)
      : content_(content), file_(file), limits_(limits), merge_keys_(merge_keys), result_(result) {}

  void Run();

 private:
  struct Frame {
    Node node;
    std::string pending_key;  // mappings: the key waiting for its value
    Position pending_key_position;
    bool have_key = false;
    std::unordered_set<std::string> merged_keys;  // came from `<<`: an explicit key overrides them
    KeySet keys;                                  // to find duplicates
    bool replace_merged = false;
    std::string anchor;
  };

  bool Fail(Position pos, const char* code, std::string message) {
    result_.diagnostics.push_back(
        Diagnostic{Severity::Error, code, file_, pos, {}, {}, std::move(message)});
    return false;
  }
  void Warn(Position pos, const char* code, std::string message) {
    result_.diagnostics.push_back(
        Diagnostic{Severity::Warning, code, file_, pos, {}, {}, std::move(message)});
  }
  bool CountNodes(size_t n, Position pos) {
    nodes_ += n;
    if (nodes_ > limits_.max_nodes) {
      return Fail(pos, code::kInputLimit,
                  fmt::format("document expands to more than {} values (aliases included); "
                              "refusing to read further",
                              limits_.max_nodes));
    }
    return true;
  }
  static size_t CountTree(const Node& n) {
    size_t total = 1;
    for (const Node& item : n.items()) total += CountTree(item);
    for (const MapEntry& e : n.entries()) total += CountTree(e.value);
    return total;
  }
  bool Deliver(Node value, Position pos);
  bool HandleEvent(const yaml_event_t& event);

  std::string_view content_;
  const std::string& file_;
  const ReadLimits& limits_;
  bool merge_keys_;
  ReadResult& result_;
  std::vector<Frame> stack_;
  std::unordered_map<std::string, Node> anchors_;
  std::vector<Node> document_roots_;
  size_t nodes_ = 0;
};

bool Builder::Deliver(Node value, Position pos) {
  if (stack_.empty()) {
    document_roots_.push_back(std::move(value));
    return true;
  }
  Frame& top = stack_.back();
  if (top.node.IsSequence()) {
    top.node.Append(std::move(value));
    return true;
  }
  if (!top.have_key) {
    if (!value.IsScalar() && !value.IsNull()) {
      return Fail(pos, code::kYamlSyntax,
                  fmt::format("a mapping key must be a plain value, not a {}", value.TypeName()));
    }
    std::string key(value.text());
    top.replace_merged = !top.merged_keys.empty() && top.merged_keys.erase(key) > 0;
    if (!top.replace_merged && !top.keys.Insert(top.node, key)) {
      return Fail(pos, code::kDuplicateKey,
                  fmt::format("duplicate key `{}` in one mapping (Kubernetes rejects this)", key));
    }
    top.pending_key = std::move(key);
    top.pending_key_position = pos;
    top.have_key = true;
    return true;
  }
  if (merge_keys_ && top.pending_key == "<<") {
    // YAML merge key: copy entries of the merged mapping(s) that are not set explicitly.
    auto merge_one = [&](const Node& m) {
      if (!m.IsMapping()) return false;
      for (const MapEntry& e : m.entries()) {
        if (top.node.Find(e.key) == nullptr) {
          top.merged_keys.insert(e.key.str());
          top.node.entries().push_back(e);
        }
      }
      return true;
    };
    bool ok = merge_one(value);
    if (!ok && value.IsSequence()) {
      ok = std::all_of(value.items().begin(), value.items().end(), merge_one);
    }
    top.keys.Reset();
    if (!ok)
      return Fail(pos, code::kYamlSyntax, "a merge key `<<` needs a mapping or a list of mappings");
    top.have_key = false;
    return true;
  }
  if (top.replace_merged) {
    top.node.Set(top.pending_key, std::move(value));
  } else {
    top.node.entries().push_back(
        MapEntry{KeyOf(top.pending_key), top.pending_key_position, std::move(value)});
  }
  top.have_key = false;
  return true;
}

bool Builder::HandleEvent(const yaml_event_t& event) {
  Position pos = ToPosition(event.start_mark);
  switch (event.type) {
    case YAML_STREAM_START_EVENT:
    case YAML_STREAM_END_EVENT:
    case YAML_NO_EVENT:
      return true;
    case YAML_DOCUMENT_START_EVENT:
      anchors_.clear();
      if (result_.documents.size() + document_roots_.size() >= limits_.max_documents) {
        return Fail(pos, code::kInputLimit,
                    fmt::format("more than {} documents in one file", limits_.max_documents));
      }
      return true;
    case YAML_DOCUMENT_END_EVENT:
      if (document_roots_.empty()) document_roots_.push_back(Node::Null(pos));
      for (Node& n : document_roots_) result_.documents.push_back(std::move(n));
      document_roots_.clear();
      return true;
    case YAML_ALIAS_EVENT: {
      std::string name(reinterpret_cast<const char*>(event.data.alias.anchor));
      auto it = anchors_.find(name);
      if (it == anchors_.end()) {
        return Fail(pos, code::kYamlSyntax,
                    fmt::format("alias `*{}` names no anchor before it", name));
      }
      if (!CountNodes(CountTree(it->second), pos)) return false;
      return Deliver(it->second, pos);
    }
    case YAML_SCALAR_EVENT: {
      const auto& s = event.data.scalar;
      if (s.length > limits_.max_scalar_bytes) {
        return Fail(pos, code::kInputLimit,
                    fmt::format("a value of {} bytes is longer than the limit of {} bytes",
                                s.length, limits_.max_scalar_bytes));
      }
      if (!CountNodes(1, pos)) return false;
      std::string_view text(reinterpret_cast<const char*>(s.value), s.length);
      const char* tag = reinterpret_cast<const char*>(s.tag);
      Node value;
      bool quoted = s.style != YAML_PLAIN_SCALAR_STYLE && s.style != YAML_ANY_SCALAR_STYLE;
      // Tags as go-yaml v2 (sigs.k8s.io/yaml, kubectl) reads them: !!str is a string; !!int,
      // !!float, !!bool and !!null resolve the text (quoted or not) and must agree with it; any
      // other tag leaves the text a string.
      std::optional<ScalarType> tagged;
      std::string_view tag_name = tag ? std::string_view(tag) : std::string_view();
      if (tag_name == YAML_INT_TAG) tagged = ScalarType::Int;
      if (tag_name == YAML_FLOAT_TAG) tagged = ScalarType::Float;
      if (tag_name == YAML_BOOL_TAG) tagged = ScalarType::Bool;
      if (tag_name == YAML_NULL_TAG) tagged = ScalarType::Null;
      if (tagged) {
        ScalarType resolved = text.empty() ? ScalarType::Null : ResolvePlainScalar(text);
        bool agrees =
            resolved == *tagged || (*tagged == ScalarType::Float && resolved == ScalarType::Int);
        if (!agrees) {
          return Fail(pos, code::kWrongType,
                      fmt::format("cannot read `{}` as {} (the tag and the value disagree)", text,
                                  tag_name.substr(tag_name.rfind(':') + 1)));
        }
        value = resolved == ScalarType::Null ? Node::Null(pos) : Node::Plain(text, pos);
      } else if (quoted || tag) {
        if (tag && tag_name != YAML_STR_TAG && tag_name != "!") {
          Warn(pos, code::kInvalidValue,
               fmt::format("tag `{}` means nothing to Kubernetes: the value is read as the "
                           "string \"{}\"",
                           tag_name.rfind("tag:yaml.org,2002:", 0) == 0
                               ? "!!" + std::string(tag_name.substr(18))
                               : std::string(tag_name),
                           text));
        }
        value = Node::String(text, pos);
      } else {
        bool null = text.empty() || ResolvePlainScalar(text) == ScalarType::Null;
        value = null ? Node::Null(pos) : Node::Plain(text, pos);
      }
      if (s.anchor) anchors_[reinterpret_cast<const char*>(s.anchor)] = value;
      return Deliver(std::move(value), pos);
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
      if (stack_.size() >= limits_.max_depth) {
        return Fail(pos, code::kInputLimit,
                    fmt::format("values nested more than {} levels deep", limits_.max_depth));
      }
      if (!CountNodes(1, pos)) return false;
      Frame frame;
      bool seq = event.type == YAML_SEQUENCE_START_EVENT;
      frame.node = seq ? Node::Sequence(pos) : Node::Mapping(pos);
      const yaml_char_t* anchor =
          seq ? event.data.sequence_start.anchor : event.data.mapping_start.anchor;
      if (anchor) frame.anchor = reinterpret_cast<const char*>(anchor);
      stack_.push_back(std::move(frame));
      return true;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: {
      Frame frame = std::move(stack_.back());
      stack_.pop_back();
      // The fleet is kept in memory whole: no list keeps the spare room its growth left.
      if (frame.node.IsSequence()) frame.node.items().shrink_to_fit();
      if (frame.node.IsMapping()) frame.node.entries().shrink_to_fit();
      if (!frame.anchor.empty()) anchors_[frame.anchor] = frame.node;
      Position start = frame.node.position();
      return Deliver(std::move(frame.node), start);
    }
  }
  return true;
}

void Builder::Run() {
  if (content_.size() > limits_.max_bytes) {
    Fail(Position{1, 1}, code::kInputLimit,
         fmt::format("file is {} bytes, over the limit of {} bytes", content_.size(),
                     limits_.max_bytes));
    return;
  }
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    Fail(Position{1, 1}, code::kYamlSyntax, "could not start the YAML parser (out of memory)");
    return;
  }
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> guard(&parser, yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(content_.data()),
                               content_.size());
  while (true) {
    yaml_event_t event;
    if (!yaml_parser_parse(&parser, &event)) {
      yaml_mark_t mark = parser.problem_mark;
      std::string message = parser.problem ? parser.problem : "malformed YAML";
      bool tab = false;
      if (parser.error == YAML_READER_ERROR) {
        // Encoding errors carry a byte offset, not a mark.
        mark = MarkAt(content_, parser.problem_offset);
        unsigned char byte = parser.problem_offset < content_.size()
                                 ? static_cast<unsigned char>(content_[parser.problem_offset])
                                 : 0;
        message = fmt::format("{} at byte 0x{:02x}: the file must be UTF-8", message, byte);
      } else {
        tab = LeadingTab(content_, mark.line);
      }
      if (parser.context) {
        Position ctx = ToPosition(parser.context_mark);
        message = fmt::format("{} ({} at line {} column {})", message, parser.context, ctx.line,
                              ctx.column);
      }
      if (tab) message += "; hint: YAML does not allow tabs for indentation: use spaces";
      if (auto elision = FindElision(content_, mark.line + 1)) {
        Fail(elision->position, code::kYamlSyntax,
             fmt::format("`{}` is not YAML (the parser says: {}); hint: it looks like text left "
                         "out in prose, so write the fields out or delete the line",
                         elision->text, message));
        return;
      }
      Fail(ToPosition(mark), code::kYamlSyntax, std::move(message));
      return;
    }
    std::unique_ptr<yaml_event_t, void (*)(yaml_event_t*)> event_guard(&event, yaml_event_delete);
    bool done = event.type == YAML_STREAM_END_EVENT;
    if (!HandleEvent(event)) return;
    if (done) return;
  }
}

}  // namespace

namespace {

bool IsJsonFile(const std::string& file) {
  return file.size() > 5 && file.compare(file.size() - 5, 5, ".json") == 0;
}

// YAML reads JSON, and forgives what JSON does not allow: comments and trailing commas. kubectl
// reads a .json file with a JSON decoder, which rejects them, so meshfed does too.
std::optional<Diagnostic> JsonStrictness(std::string_view content, const std::string& file) {
  bool in_string = false;
  for (size_t i = 0; i < content.size(); ++i) {
    char c = content[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    std::string problem;
    if (c == '"') {
      in_string = true;
    } else if ((c == '/' && i + 1 < content.size() &&
                (content[i + 1] == '/' || content[i + 1] == '*')) ||
               c == '#') {
      problem =
          "JSON has no comments: kubectl's JSON decoder rejects this file; remove the "
          "comment (or write the file as YAML, where `#` starts one)";
    } else if (c == ',') {
      size_t j = content.find_first_not_of(" \t\r\n", i + 1);
      if (j != std::string_view::npos && (content[j] == ']' || content[j] == '}')) {
        problem =
            "trailing comma: JSON allows none before `]` or `}`, and kubectl's JSON decoder "
            "rejects this file";
      }
    }
    if (!problem.empty()) {
      yaml_mark_t mark = MarkAt(content, i);
      return Diagnostic{Severity::Error,   code::kYamlSyntax, file, ToPosition(mark), {}, {},
                        std::move(problem)};
    }
  }
  return std::nullopt;
}

}  // namespace

ReadResult ReadYamlStream(std::string_view content, const std::string& file,
                          const ReadLimits& limits) {
  // Valid JSON takes a faster road to the same tree (ReadJsonDocument); anything it is not sure
  // of comes here.
  if (std::optional<ReadResult> json = ReadJsonDocument(content, limits)) return std::move(*json);
  // So does plain block YAML (ReadBlockYaml), but not in a .json file, where the JSON strictness
  // check comes first.
  if (!IsJsonFile(file)) {
    if (std::optional<ReadResult> block = ReadBlockYaml(content, limits)) return std::move(*block);
  }
  return ReadYamlEvents(content, file, limits);
}

size_t CountYamlEvents(std::string_view content) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) return 0;
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(content.data()),
                               content.size());
  size_t events = 0;
  for (bool done = false; !done;) {
    yaml_event_t event;
    if (!yaml_parser_parse(&parser, &event)) break;
    done = event.type == YAML_STREAM_END_EVENT;
    ++events;
    yaml_event_delete(&event);
  }
  yaml_parser_delete(&parser);
  return events;
}

ReadResult ReadYamlEvents(std::string_view content, const std::string& file,
                          const ReadLimits& limits) {
  ReadResult result;
  bool json = IsJsonFile(file);
  if (json && content.size() <= limits.max_bytes) {
    if (auto problem = JsonStrictness(content, file)) {
      result.diagnostics.push_back(std::move(*problem));
      return result;
    }
  }
  Builder(content, file, limits, /*merge_keys=*/!json, result).Run();
  return result;
}

}  // namespace meshfed
