#include "core/model/object.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "core/model/text.h"

namespace meshfed {

std::string_view Object::Label(std::string_view key) const {
  const Node* meta = metadata();
  return ScalarAt(meta ? meta->Find("labels") : nullptr, key);
}

std::map<std::string, std::string> Object::Labels() const {
  std::map<std::string, std::string> out;
  const Node* meta = metadata();
  const Node* labels = meta ? meta->Find("labels") : nullptr;
  if (labels && labels->IsMapping()) {
    for (const MapEntry& e : labels->entries()) {
      if (e.value.IsScalar()) out[e.key.str()] = e.value.text();
    }
  }
  return out;
}

Position Object::PositionOfField(std::string_view field) const {
  const Node* node = &root;
  Position pos = root.position().line ? root.position() : position;
  while (!field.empty()) {
    size_t end = field.find_first_of(".[");
    std::string_view key = field.substr(0, end);
    field = end == std::string_view::npos ? std::string_view() : field.substr(end);
    if (!key.empty()) {
      const MapEntry* found = nullptr;
      if (node->IsMapping()) {
        for (const MapEntry& e : node->entries()) {
          if (e.key == key) found = &e;
        }
      }
      if (!found) return pos;
      pos = found->value.position().line ? found->value.position() : found->key_position;
      node = &found->value;
    }
    if (!field.empty() && field.front() == '.') field.remove_prefix(1);
    while (!field.empty() && field.front() == '[') {
      size_t close = field.find(']');
      if (close == std::string_view::npos) return pos;
      size_t index = 0;
      for (char c : field.substr(1, close - 1)) index = index * 10 + static_cast<size_t>(c - '0');
      field.remove_prefix(close + 1);
      if (!field.empty() && field.front() == '.') field.remove_prefix(1);
      if (!node->IsSequence() || index >= node->items().size()) return pos;
      node = &node->items()[index];
      if (node->position().line) pos = node->position();
    }
  }
  return pos;
}

Position Object::PositionOf(std::initializer_list<std::string_view> path) const {
  const Node* node = &root;
  Position pos = root.position().line ? root.position() : position;
  for (std::string_view part : path) {
    if (!node->IsMapping()) break;
    const MapEntry* found = nullptr;
    for (const MapEntry& e : node->entries()) {
      if (e.key == part) found = &e;
    }
    if (!found) break;
    pos = found->value.position().line ? found->value.position() : found->key_position;
    node = &found->value;
  }
  return pos;
}

ObjectRef Object::Ref(std::string cluster) const {
  return ObjectRef{std::move(cluster), kind, namespace_, name};
}

std::string Object::Describe() const {
  return namespace_.empty() ? ConcatText(kind, " ", name)
                            : ConcatText(kind, " ", namespace_, "/", name);
}

std::string Object::Key() const {
  // Appended, not formatted: building and translating the large fleet asks for every object's.
  std::string key;
  key.reserve(group.size() + kind.size() + namespace_.size() + name.size() + 3);
  key.append(group)
      .append("/")
      .append(kind)
      .append("/")
      .append(namespace_)
      .append("/")
      .append(name);
  return key;
}

void AppendObjectKey(const Node& object, std::string& out) {
  std::string_view api_version = ScalarAt(&object, "apiVersion");
  size_t slash = api_version.find('/');
  const Node* meta = object.Find("metadata");
  std::string_view group =
      slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
  std::string_view kind = ScalarAt(&object, "kind");
  std::string_view ns = ScalarAt(meta, "namespace");
  std::string_view name = ScalarAt(meta, "name");
  // Grown once: the translator makes a key per generated object, most too long to fit inline.
  out.reserve(out.size() + group.size() + kind.size() + ns.size() + name.size() + 3);
  out.append(group).append(1, '/').append(kind).append(1, '/').append(ns).append(1, '/').append(
      name);
}

bool CreatedBefore(const Object& a, const Object& b) {
  // RFC 3339 timestamps in UTC ("2024-01-02T03:04:05Z") order correctly as strings. An object
  // with a timestamp counts as older than one without (it already exists in a cluster).
  bool a_has = !a.creation_timestamp.empty();
  bool b_has = !b.creation_timestamp.empty();
  if (a_has != b_has) return a_has;
  if (a_has && a.creation_timestamp != b.creation_timestamp) {
    return a.creation_timestamp < b.creation_timestamp;
  }
  if (!a_has && a.order != b.order) return a.order < b.order;
  return std::tie(a.name, a.namespace_) < std::tie(b.name, b.namespace_);
}

bool IsClusterScoped(std::string_view group, std::string_view kind) {
  if (group.empty()) {
    return kind == "Namespace" || kind == "Node" || kind == "PersistentVolume";
  }
  if (group == "multicluster.istio.io") return kind == "MeshCluster";
  if (group == "rbac.authorization.k8s.io")
    return kind == "ClusterRole" || kind == "ClusterRoleBinding";
  if (group == "apiextensions.k8s.io") return kind == "CustomResourceDefinition";
  if (group == "storage.k8s.io") return kind == "StorageClass";
  if (group == "admissionregistration.k8s.io") return true;
  return false;
}

namespace {

void Report(Diagnostics& diagnostics, const std::string& file, Position pos, std::string field,
            std::string message, const char* code = code::kNotAnObject) {
  diagnostics.push_back(
      Diagnostic{Severity::Error, code, file, pos, {}, std::move(field), std::move(message)});
}

const Node* RequireString(const Node& map, std::string_view key, std::string_view where,
                          const std::string& file, Diagnostics& diagnostics) {
  const Node* value = map.Find(key);
  if (value == nullptr || value->IsNull()) {
    Report(diagnostics, file, map.position(), std::string(where),
           fmt::format("a Kubernetes object needs `{}`", where), code::kMissingField);
    return nullptr;
  }
  if (!value->IsString()) {
    Report(diagnostics, file, value->position(), std::string(where),
           fmt::format("`{}` must be a non-empty string, not {}", where, value->TypeName()),
           code::kWrongType);
    return nullptr;
  }
  if (value->text().empty()) {
    Report(diagnostics, file, value->position(), std::string(where),
           fmt::format("`{}` must not be empty", where), code::kMissingField);
    return nullptr;
  }
  return value;
}

// Room for `more` objects, which are large to move as the list grows: at least doubling, so that a
// cluster read from many files does not move its objects once per file.
void ReserveMore(std::vector<Object>& out, size_t more) {
  if (out.size() + more > out.capacity()) out.reserve(std::max(out.size() + more, 2 * out.size()));
}

void AppendOne(Node root, const std::string& file, uint64_t& next_order, std::vector<Object>& out,
               Diagnostics& diagnostics, int list_depth) {
  if (root.IsNull()) return;  // an empty document, e.g. after a trailing "---"
  if (!root.IsMapping()) {
    Report(diagnostics, file, root.position(), "",
           fmt::format("a document must be a Kubernetes object (a mapping), not a {}",
                       root.TypeName()));
    return;
  }
  const Node* api_version = RequireString(root, "apiVersion", "apiVersion", file, diagnostics);
  const Node* kind = RequireString(root, "kind", "kind", file, diagnostics);
  if (!api_version || !kind) return;

  if (kind->text() == "List" && list_depth == 0) {
    Node* items = root.Find("items");
    if (items && items->IsSequence()) {
      // Moved out of the List, not copied: a fleet written as JSON is Lists of every object.
      ReserveMore(out, items->items().size());
      for (Node& item : items->items()) {
        AppendOne(std::move(item), file, next_order, out, diagnostics, list_depth + 1);
      }
      return;
    }
    Report(diagnostics, file, root.position(), "items", "a List needs `items`, a list of objects",
           code::kMissingField);
    return;
  }

  // Read through a const reference: a non-const lookup would give a shared root (an informer's
  // object) its own copy of the whole tree.
  const Node* metadata = std::as_const(root).Find("metadata");
  if (metadata == nullptr || !metadata->IsMapping()) {
    Report(diagnostics, file, metadata ? metadata->position() : root.position(), "metadata",
           metadata ? fmt::format("`metadata` must be a mapping, not {}", metadata->TypeName())
                    : std::string("a Kubernetes object needs `metadata` with a `name`"),
           metadata ? code::kWrongType : code::kMissingField);
    return;
  }
  const Node* name = RequireString(*metadata, "name", "metadata.name", file, diagnostics);
  if (!name) return;

  Object obj;
  obj.api_version = api_version->text();
  auto slash = obj.api_version.find('/');
  obj.group = slash == std::string::npos ? "" : obj.api_version.substr(0, slash);
  obj.kind = kind->text();
  obj.name = name->text();
  obj.file = file;
  obj.position = root.position();
  obj.order = next_order++;
  if (const Node* ns = metadata->Find("namespace"); ns && !ns->IsNull()) {
    if (!ns->IsString()) {
      Report(diagnostics, file, ns->position(), "metadata.namespace",
             fmt::format("`metadata.namespace` must be a string, not {}", ns->TypeName()),
             code::kWrongType);
      return;
    }
    obj.namespace_ = ns->text();
  }
  if (obj.namespace_.empty() && !IsClusterScoped(obj.group, obj.kind)) obj.namespace_ = "default";
  if (const Node* ts = metadata->Find("creationTimestamp"); ts && ts->IsScalar() && !ts->IsNull()) {
    obj.creation_timestamp = ts->text();
  }
  obj.root = std::move(root);
  out.push_back(std::move(obj));
}

}  // namespace

void AppendObjects(std::vector<Node> documents, const std::string& file, uint64_t& next_order,
                   std::vector<Object>& out, Diagnostics& diagnostics) {
  ReserveMore(out, documents.size());
  for (Node& doc : documents) AppendOne(std::move(doc), file, next_order, out, diagnostics, 0);
}

}  // namespace meshfed
