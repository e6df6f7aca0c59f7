#include "codec/json_reader.h"

#include <fmt/format.h>
#include <simdjson.h>

namespace meshfed {
namespace {

Node Convert(simdjson::dom::element e) {
  using Type = simdjson::dom::element_type;
  switch (e.type()) {
    case Type::ARRAY: {
      Node list = Node::Sequence();
      simdjson::dom::array items = e.get_array().value_unsafe();
      list.items().reserve(items.size());
      for (simdjson::dom::element item : items) list.Append(Convert(item));
      return list;
    }
    case Type::OBJECT: {
      Node map = Node::Mapping();
      simdjson::dom::object fields = e.get_object().value_unsafe();
      map.entries().reserve(fields.size());
      for (simdjson::dom::key_value_pair field : fields) {
        map.Add(field.key, Convert(field.value));
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
      return Node::String(std::string(e.get_string().value_unsafe()));
    case Type::BOOL:
      return Node::Bool(e.get_bool().value_unsafe());
    case Type::NULL_VALUE:
      return Node::Null();
  }
  return Node::Null();
}

}  // namespace

bool ReadJson(std::string_view text, Node& out, std::string& error) {
  // One parser per thread keeps its buffers between answers.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (simdjson::error_code e = parser.parse(text.data(), text.size()).get(root); e) {
    error = simdjson::error_message(e);
    return false;
  }
  out = Convert(root);
  return true;
}

}  // namespace meshfed
