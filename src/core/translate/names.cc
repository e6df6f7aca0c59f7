#include "core/translate/names.h"

#include <cstdint>

#include "core/model/text.h"

namespace meshfed {

std::string ShortHash(const std::vector<std::string_view>& parts) {
  uint32_t h = 2166136261u;
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) {
      h ^= static_cast<uint8_t>('/');
      h *= 16777619u;
    }
    first = false;
    for (char c : p) {
      h ^= static_cast<uint8_t>(c);
      h *= 16777619u;
    }
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(8, '0');
  for (size_t i = out.size(); i-- > 0; h >>= 4) out[i] = kHex[h & 0xf];
  return out;
}

std::string GeneratedName(const std::vector<std::string_view>& parts) {
  std::string hash = ShortHash(parts);
  std::string base = "meshfed";
  for (std::string_view p : parts) {
    base += '-';
    base += p;
  }
  const size_t room = 63 - 1 - hash.size();
  if (base.size() > room) base.resize(room);
  while (!base.empty() && (base.back() == '-' || base.back() == '.')) base.pop_back();
  return base + "-" + hash;
}

std::string LabelValue(std::string_view value) {
  if (value.size() <= 63) return std::string(value);
  std::string hash = ShortHash({value});
  std::string cut(value.substr(0, 63 - 1 - hash.size()));
  while (!cut.empty() && !std::isalnum(static_cast<unsigned char>(cut.back()))) cut.pop_back();
  return cut + "-" + hash;
}

std::string InternalHost(std::string_view local_name, std::string_view namespace_) {
  return ConcatText(local_name, ".", namespace_, ".", kInternalDomain);
}

Node OwnerLabels(const Object& owner) {
  Node labels = Node::MappingWithRoom(4);
  // The label and annotation keys are constants: the tree refers to them.
  labels.Add(Key::Static(kManagedByLabel), Node::String(kManagedByValue));
  labels.Add(Key::Static(kOwnerKindLabel), Node::String(owner.kind));
  labels.Add(Key::Static(kOwnerNameLabel), Node::String(LabelValue(owner.name)));
  labels.Add(Key::Static(kOwnerNamespaceLabel), Node::String(owner.namespace_));
  return Node::Share(std::move(labels));
}

Node GeneratedMetadata(const std::string& name, const std::string& namespace_, const Object& owner,
                       const Node& labels, std::span<const Annotation> annotations) {
  Node meta = Node::MappingWithRoom(namespace_.empty() ? 3 : 4);
  meta.Add("name", Node::String(name));
  if (!namespace_.empty()) meta.Add("namespace", Node::String(namespace_));
  meta.Add("labels", labels);
  Node notes = Node::MappingWithRoom(1 + annotations.size());
  notes.Add(Key::Static(kOwnerAnnotation),
            Node::String(ConcatText(owner.kind, "/", owner.namespace_, "/", owner.name)));
  for (const auto& [k, v] : annotations) notes.Add(Key::Static(k), Node::String(v));
  meta.Add("annotations", Node::Share(std::move(notes)));
  return meta;
}

Node NewObject(std::string_view api_version, std::string_view kind, Node metadata) {
  Node o = Node::MappingWithRoom(4);  // and spec, status or data
  o.Add("apiVersion", Node::String(api_version));
  o.Add("kind", Node::String(kind));
  o.Add("metadata", std::move(metadata));
  return o;
}

}  // namespace meshfed
