// The uniform envelope every Kubernetes object arrives in (istiod's config.Config): identity,
// provenance and the whole document as a positioned tree. Typed views (kinds.h) read from it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/diagnostic.h"
#include "core/model/node.h"

namespace meshfed {

inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedByValue = "meshfed";

struct Object {
  std::string api_version;
  std::string group;  // "" for the core group
  std::string kind;
  std::string name;
  std::string namespace_;  // "" for cluster-scoped kinds
  std::string creation_timestamp;
  std::string file;
  Position position;   // where the document starts
  uint64_t order = 0;  // load order; stands in for creation order when there is no timestamp
  Node root;

  const Node* spec() const { return root.Find("spec"); }
  const Node* metadata() const { return root.Find("metadata"); }
  std::string_view Label(std::string_view key) const;  // "" when there is none
  std::map<std::string, std::string> Labels() const;
  bool ManagedByMeshfed() const { return Label(kManagedByLabel) == kManagedByValue; }
  // The position of a field path such as {"spec", "exposed"}, or of the deepest part present.
  Position PositionOf(std::initializer_list<std::string_view> path) const;
  // The same for a field path as diagnostics name it: "spec.exposed[1].clusters".
  Position PositionOfField(std::string_view field) const;
  ObjectRef Ref(std::string cluster) const;
  // "Kind namespace/name" ("Kind name" when cluster-scoped), for messages and traces.
  std::string Describe() const;
  // Identity for "a later document replaces an earlier one": group, kind, namespace, name.
  std::string Key() const;
};

// Object::Key() of an object's tree (the group of its apiVersion, its kind, metadata.namespace
// and metadata.name), appended to `out`: a caller keying many objects reuses one string.
void AppendObjectKey(const Node& object, std::string& out);

// Istio's creation order: creationTimestamp, then name, then namespace (configCompareByCreationTime
// in pilot/pkg/model). Without timestamps (a fleet directory), load order stands in for time.
bool CreatedBefore(const Object& a, const Object& b);

bool IsClusterScoped(std::string_view group, std::string_view kind);

// Turns parsed documents into objects: checks the envelope (apiVersion, kind, metadata.name),
// puts namespaced objects without a namespace in "default", and expands `kind: List`.
void AppendObjects(std::vector<Node> documents, const std::string& file, uint64_t& next_order,
                   std::vector<Object>& out, Diagnostics& diagnostics);

}  // namespace meshfed
