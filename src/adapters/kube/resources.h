// The Kubernetes resources meshfed reads and writes, and their REST paths (API conventions:
// /api/v1 for the core group, /apis/<group>/<version> otherwise; namespaced resources under
// /namespaces/<ns>/).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/model/node.h"

namespace meshfed::kube {

struct ResourceType {
  std::string group;  // "" = core
  std::string version;
  std::string kind;
  std::string plural;
  bool namespaced = true;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // The collection path: in `namespace_`, or across all namespaces when it is empty.
  std::string CollectionPath(std::string_view namespace_) const;
  std::string ObjectPath(std::string_view namespace_, std::string_view name) const;
};

// Every kind meshfed watches in a member cluster (what the translator reads), in a fixed order.
const std::vector<ResourceType>& WatchedResources();

// The kinds meshfed generates: what a plan compares, and the only ones it may delete.
bool GeneratedKind(const ResourceType& type);

// A SEP or RSB being deleted (deletionTimestamp set; its finalizer holds it): it generates
// nothing any more, so the translator must not see it.
bool OwnerBeingDeleted(const ResourceType& type, const Node& object);

// Looks a kind up by group and kind ("networking.istio.io", "VirtualService"), or nullptr.
const ResourceType* FindResource(std::string_view group, std::string_view kind);

// Leases (leader election) and Namespaces are not translator inputs but are used directly.
const ResourceType& LeaseResource();
const ResourceType& MeshClusterResource();

}  // namespace meshfed::kube
