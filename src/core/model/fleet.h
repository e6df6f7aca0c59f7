// The fleet snapshot: every member cluster's registry entry and objects, with typed indexes.
// Built at once (BuildFleet), then read by the translator and the simulator; UpsertObject and
// RemoveObject change one object in place (the incremental translator), leaving the snapshot as
// BuildFleet would have built it. Objects and typed views live in lists, so a pointer to one
// stays valid while others are added or removed.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <list>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/model/diagnostic.h"
#include "core/model/kinds.h"
#include "core/model/object.h"

namespace meshfed {

struct Cluster {
  Cluster() = default;
  Cluster(const Cluster&) = delete;  // typed views point into `objects`
  Cluster& operator=(const Cluster&) = delete;
  Cluster(Cluster&&) = default;
  Cluster& operator=(Cluster&&) = default;
  ~Cluster() = default;

  std::string name;
  MeshCluster mesh;
  std::list<Object> objects;  // one per identity, in load order (Object::order)

  std::list<ServiceExpositionPolicy> expositions;  // in creation order
  std::list<RemoteServiceBinding> bindings;        // in creation order
  std::list<Service> services;                     // the others in load order
  std::list<Deployment> deployments;
  std::list<VirtualService> virtual_services;    // in creation order
  std::list<DestinationRule> destination_rules;  // in creation order
  std::list<ServiceEntry> service_entries;
  std::list<Gateway> gateways;
  std::list<AuthorizationPolicy> authorization_policies;
  std::vector<std::string> namespaces;  // Namespace objects, sorted

  // Indexes, built with the typed views (lookups are hash lookups, not scans). Lists in them keep
  // the order of the views they point to; keys whose list became empty are erased.
  // Object::Key(); open addressing (the translator looks up every object it generates).
  absl::flat_hash_map<std::string, Object*> object_index;
  std::unordered_map<std::string, const Service*> service_by_host;  // FQDN
  // Resolved, lower-cased host -> the VirtualServices / DestinationRules naming it exactly, in
  // creation order.
  std::unordered_map<std::string, std::vector<const VirtualService*>> virtual_services_by_host;
  std::unordered_map<std::string, std::vector<const DestinationRule*>> destination_rules_by_host;
  std::unordered_map<std::string, std::vector<const ServiceEntry*>> service_entries_by_host;
  std::vector<const VirtualService*> wildcard_virtual_services;  // with a wildcard host
  std::vector<const DestinationRule*> wildcard_destination_rules;
  std::vector<const ServiceEntry*> wildcard_service_entries;
  // Resolved gateway reference (ns/name, or mesh) -> VirtualServices naming it, creation order.
  std::unordered_map<std::string, std::vector<const VirtualService*>> virtual_services_by_gateway;
  std::unordered_map<std::string, std::vector<const Deployment*>> deployments_by_namespace;
  std::unordered_map<std::string, const Deployment*> deployment_by_name;  // namespace/name
  // Namespaces of any object, and Namespace objects: how many objects name each.
  std::unordered_map<std::string, size_t> known_namespaces;
  // ALLOW AuthorizationPolicies that can only match hosts their rules name (exact, or `host:*`),
  // by AuthorizationHostKey of each; and those that may match other hosts too (a rule without
  // hosts, or another pattern). Both in view order.
  std::unordered_map<std::string, std::vector<const AuthorizationPolicy*>> allow_policies_by_host;
  std::vector<const AuthorizationPolicy*> allow_policies_any_host;

  const Service* FindService(std::string_view namespace_, std::string_view service_name) const;
  const Service* ServiceForHost(const std::string& fqdn) const;
  const std::vector<const VirtualService*>& VirtualServicesForHost(const std::string& host) const;
  const std::vector<const DestinationRule*>& DestinationRulesForHost(const std::string& host) const;
  const Object* FindObject(std::string_view group, std::string_view kind,
                           std::string_view namespace_, std::string_view object_name) const;
  const Object* FindObject(std::string_view key) const;  // by Object::Key()
  bool KnowsNamespace(const std::string& namespace_) const {
    return known_namespaces.count(namespace_) > 0;
  }
};

struct Fleet {
  std::vector<Object> mesh_cluster_objects;
  std::vector<Cluster> clusters;  // sorted by name
  const Cluster* Find(std::string_view name) const;
};

// What a store hands over: objects as read, grouped by cluster directory.
struct FleetSource {
  std::string fleet_file;  // where the MeshClusters came from, for messages
  std::vector<Object> mesh_clusters;
  std::map<std::string, std::vector<Object>> cluster_objects;  // by directory (cluster) name
  std::map<std::string, std::string> cluster_directories;      // cluster name -> path, for messages
};

// Builds the snapshot: later documents replace earlier ones with the same identity (a warning),
// checks the registry, and reads every typed view. Problems go to `diagnostics`. Objects meshfed
// generated are not user configuration and get no typed view, unless `index_generated` (the
// simulator's view of clusters after meshfed applied its objects).
Fleet BuildFleet(FleetSource source, Diagnostics& diagnostics, bool index_generated = false);

// One object of a cluster added, or replaced by a new version with the same identity (which keeps
// the old one's place in load order), as if BuildFleet had read it there; what reading it found
// goes to `diagnostics`. Not for MeshClusters (they are the fleet's registry: build it again).
// Returns the object in place.
const Object& UpsertObject(Cluster& cluster, Object object, Diagnostics& diagnostics,
                           bool index_generated = false);
// Removes the object with this identity (Object::Key()); false if there is none.
bool RemoveObject(Cluster& cluster, const std::string& key);

// The keys under which `o`'s typed view is in the host indexes (service_by_host,
// virtual_services_by_host, destination_rules_by_host); none when it has no such view.
std::vector<std::string> IndexedHosts(const Cluster& cluster, const Object& o);

}  // namespace meshfed
