#include "adapters/kube/resources.h"

#include <fmt/format.h>

namespace meshfed::kube {

std::string ResourceType::CollectionPath(std::string_view namespace_) const {
  std::string base =
      group.empty() ? fmt::format("/api/{}", version) : fmt::format("/apis/{}/{}", group, version);
  if (namespaced && !namespace_.empty()) {
    return fmt::format("{}/namespaces/{}/{}", base, namespace_, plural);
  }
  return fmt::format("{}/{}", base, plural);
}

std::string ResourceType::ObjectPath(std::string_view namespace_, std::string_view name) const {
  return fmt::format("{}/{}", CollectionPath(namespaced ? namespace_ : std::string_view()), name);
}

const std::vector<ResourceType>& WatchedResources() {
  static const std::vector<ResourceType> kTypes = {
      {"", "v1", "Namespace", "namespaces", false},
      {"", "v1", "Service", "services", true},
      {"apps", "v1", "Deployment", "deployments", true},
      {"networking.istio.io", "v1", "VirtualService", "virtualservices", true},
      {"networking.istio.io", "v1", "DestinationRule", "destinationrules", true},
      {"networking.istio.io", "v1", "ServiceEntry", "serviceentries", true},
      {"networking.istio.io", "v1", "Gateway", "gateways", true},
      {"security.istio.io", "v1", "AuthorizationPolicy", "authorizationpolicies", true},
      {"multicluster.istio.io", "v1alpha1", "ServiceExpositionPolicy", "serviceexpositionpolicies",
       true},
      {"multicluster.istio.io", "v1alpha1", "RemoteServiceBinding", "remoteservicebindings", true},
  };
  return kTypes;
}

bool GeneratedKind(const ResourceType& t) {
  return (t.group.empty() && t.kind == "Service") ||
         (t.group == "networking.istio.io" &&
          (t.kind == "VirtualService" || t.kind == "DestinationRule" || t.kind == "ServiceEntry" ||
           t.kind == "Gateway")) ||
         (t.group == "security.istio.io" && t.kind == "AuthorizationPolicy");
}

bool OwnerBeingDeleted(const ResourceType& type, const Node& object) {
  if (type.group != "multicluster.istio.io") return false;
  const Node* meta = object.IsMapping() ? object.Find("metadata") : nullptr;
  const Node* deleted = meta && meta->IsMapping() ? meta->Find("deletionTimestamp") : nullptr;
  return deleted && deleted->IsScalar() && !deleted->text().empty();
}

const ResourceType* FindResource(std::string_view group, std::string_view kind) {
  for (const ResourceType& t : WatchedResources()) {
    if (t.group == group && t.kind == kind) return &t;
  }
  if (group == LeaseResource().group && kind == LeaseResource().kind) return &LeaseResource();
  if (group == MeshClusterResource().group && kind == MeshClusterResource().kind) {
    return &MeshClusterResource();
  }
  return nullptr;
}

const ResourceType& LeaseResource() {
  static const ResourceType kLease{"coordination.k8s.io", "v1", "Lease", "leases", true};
  return kLease;
}

const ResourceType& MeshClusterResource() {
  static const ResourceType kMeshCluster{"multicluster.istio.io", "v1alpha1", "MeshCluster",
                                         "meshclusters", false};
  return kMeshCluster;
}

}  // namespace meshfed::kube
