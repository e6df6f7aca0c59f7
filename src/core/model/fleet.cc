#include "core/model/fleet.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <unordered_map>

#include "core/model/hosts.h"
#include "core/model/text.h"

namespace meshfed {

const Service* Cluster::FindService(std::string_view namespace_,
                                    std::string_view service_name) const {
  return ServiceForHost(ServiceFqdn(service_name, namespace_));
}

const Service* Cluster::ServiceForHost(const std::string& fqdn) const {
  auto it = service_by_host.find(fqdn);
  return it == service_by_host.end() ? nullptr : it->second;
}

const std::vector<const VirtualService*>& Cluster::VirtualServicesForHost(
    const std::string& host) const {
  static const std::vector<const VirtualService*> kNone;
  auto it = virtual_services_by_host.find(host);
  return it == virtual_services_by_host.end() ? kNone : it->second;
}

const std::vector<const DestinationRule*>& Cluster::DestinationRulesForHost(
    const std::string& host) const {
  static const std::vector<const DestinationRule*> kNone;
  auto it = destination_rules_by_host.find(host);
  return it == destination_rules_by_host.end() ? kNone : it->second;
}

const Object* Cluster::FindObject(std::string_view group, std::string_view kind,
                                  std::string_view namespace_, std::string_view object_name) const {
  return FindObject(fmt::format("{}/{}/{}/{}", group, kind, namespace_, object_name));
}

const Object* Cluster::FindObject(std::string_view key) const {
  // Without a copy of the key (Debian's Abseil has its own string_view).
  auto it = object_index.find(absl::string_view(key.data(), key.size()));
  return it == object_index.end() ? nullptr : it->second;
}

const Cluster* Fleet::Find(std::string_view name) const {
  // Cluster names tend to share a prefix ("cluster-07"): the last byte tells most apart
  // before the texts are compared.
  for (const Cluster& c : clusters) {
    if (c.name.size() == name.size() && (name.empty() || c.name.back() == name.back()) &&
        c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

namespace {

// Later documents with the same identity replace earlier ones, as `kubectl apply` would; the
// replacement keeps the original's place in creation order (apply keeps creationTimestamp).
std::vector<Object> Deduplicate(std::vector<Object> objects, const std::string& cluster,
                                Diagnostics& diagnostics) {
  std::vector<Object> out;
  out.reserve(objects.size());
  std::unordered_map<std::string, size_t> index;
  index.reserve(objects.size());
  for (Object& o : objects) {
    auto [it, inserted] = index.emplace(o.Key(), out.size());
    if (inserted) {
      out.push_back(std::move(o));
      continue;
    }
    Object& earlier = out[it->second];
    diagnostics.push_back(Diagnostic{
        Severity::Warning, code::kObjectReplaced, o.file, o.position, o.Ref(cluster), "",
        fmt::format("replaces the {} with the same name read earlier from {}:{}:{} (a later "
                    "document wins, as with kubectl apply)",
                    o.kind, earlier.file, earlier.position.line, earlier.position.column)});
    o.order = earlier.order;
    if (o.creation_timestamp.empty()) o.creation_timestamp = earlier.creation_timestamp;
    earlier = std::move(o);
  }
  return out;
}

// The order of each kind's views (and of the index lists pointing to them): Istio's creation
// order for the kinds whose order decides something (SEP, RSB, VirtualService, DestinationRule),
// load order for the others.
bool LoadedBefore(const Object& a, const Object& b) { return a.order < b.order; }
template <typename T>
bool ViewBefore(const T& a, const T& b) {
  return LoadedBefore(*a.object, *b.object);
}
template <>
bool ViewBefore(const ServiceExpositionPolicy& a, const ServiceExpositionPolicy& b) {
  return CreatedBefore(*a.object, *b.object);
}
template <>
bool ViewBefore(const RemoteServiceBinding& a, const RemoteServiceBinding& b) {
  return CreatedBefore(*a.object, *b.object);
}
template <>
bool ViewBefore(const VirtualService& a, const VirtualService& b) {
  return CreatedBefore(*a.object, *b.object);
}
template <>
bool ViewBefore(const DestinationRule& a, const DestinationRule& b) {
  return CreatedBefore(*a.object, *b.object);
}

// Inserts `v` after every element not after it. Building in order, that is a push_back.
template <typename T, typename Less>
void InsertOrdered(std::vector<T>& list, T v, Less less) {
  if (list.empty() || !less(v, list.back())) {
    list.push_back(std::move(v));
    return;
  }
  list.insert(std::upper_bound(list.begin(), list.end(), v, less), std::move(v));
}

template <typename V>
void InsertView(std::vector<const V*>& list, const V* v) {
  InsertOrdered(list, v, [](const V* a, const V* b) { return ViewBefore(*a, *b); });
}

template <typename K, typename V>
void EraseView(std::unordered_map<K, std::vector<const V*>>& index, const K& key, const V* v) {
  auto it = index.find(key);
  if (it == index.end()) return;
  std::erase(it->second, v);
  if (it->second.empty()) index.erase(it);
}

template <typename V>
V& InsertInList(std::list<V>& list, V view) {
  auto it = list.end();
  while (it != list.begin() && ViewBefore(view, *std::prev(it))) --it;
  return *list.insert(it, std::move(view));
}

template <typename V>
typename std::list<V>::iterator FindInList(std::list<V>& list, const Object* o) {
  return std::find_if(list.begin(), list.end(), [o](const V& v) { return v.object == o; });
}

std::string VirtualServiceHost(const VirtualService& vs, const std::string& h) {
  return ToLower(ResolveShortName(h, vs.object->namespace_));
}
std::string DestinationRuleHost(const DestinationRule& dr) {
  return ToLower(ResolveShortName(dr.host, dr.object->namespace_));
}
bool HasWildcardHost(const VirtualService& vs) {
  return std::any_of(vs.hosts.begin(), vs.hosts.end(),
                     [](const std::string& h) { return !h.empty() && h[0] == '*'; });
}
std::vector<std::string> GatewayRefs(const VirtualService& vs) {
  std::vector<std::string> refs;
  for (const std::string& g : vs.gateways) {
    refs.push_back(ResolveGatewayReference(g, vs.object->namespace_));
  }
  if (refs.empty()) refs.push_back("mesh");
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  return refs;
}
std::vector<std::string> VirtualServiceHosts(const VirtualService& vs) {
  std::vector<std::string> hosts;
  for (const std::string& h : vs.hosts) {
    std::string host = VirtualServiceHost(vs, h);
    if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
  }
  return hosts;
}

// ---- the indexes of each kind: Index (in view order) and Unindex ----

void Index(Cluster& c, const Service& svc) {
  c.service_by_host.emplace(ServiceFqdn(svc.object->name, svc.object->namespace_), &svc);
}
void Unindex(Cluster& c, const Service& svc) {
  auto it = c.service_by_host.find(ServiceFqdn(svc.object->name, svc.object->namespace_));
  if (it != c.service_by_host.end() && it->second == &svc) c.service_by_host.erase(it);
}

void Index(Cluster& c, const VirtualService& vs) {
  for (const std::string& host : VirtualServiceHosts(vs)) {
    InsertView(c.virtual_services_by_host[host], &vs);
  }
  if (HasWildcardHost(vs)) InsertView(c.wildcard_virtual_services, &vs);
  for (const std::string& r : GatewayRefs(vs)) InsertView(c.virtual_services_by_gateway[r], &vs);
}
void Unindex(Cluster& c, const VirtualService& vs) {
  for (const std::string& host : VirtualServiceHosts(vs)) {
    EraseView(c.virtual_services_by_host, host, &vs);
  }
  std::erase(c.wildcard_virtual_services, &vs);
  for (const std::string& r : GatewayRefs(vs)) EraseView(c.virtual_services_by_gateway, r, &vs);
}

void Index(Cluster& c, const DestinationRule& dr) {
  std::string host = DestinationRuleHost(dr);
  if (!host.empty() && host[0] == '*') InsertView(c.wildcard_destination_rules, &dr);
  InsertView(c.destination_rules_by_host[host], &dr);
}
void Unindex(Cluster& c, const DestinationRule& dr) {
  std::erase(c.wildcard_destination_rules, &dr);
  EraseView(c.destination_rules_by_host, DestinationRuleHost(dr), &dr);
}

void Index(Cluster& c, const ServiceEntry& se) {
  for (const std::string& h : se.hosts) {
    std::string host = ToLower(h);
    if (!host.empty() && host[0] == '*') {
      InsertView(c.wildcard_service_entries, &se);
    } else {
      InsertView(c.service_entries_by_host[host], &se);
    }
  }
}
void Unindex(Cluster& c, const ServiceEntry& se) {
  std::erase(c.wildcard_service_entries, &se);
  for (const std::string& h : se.hosts) EraseView(c.service_entries_by_host, ToLower(h), &se);
}

void Index(Cluster& c, const Deployment& dep) {
  InsertView(c.deployments_by_namespace[dep.object->namespace_], &dep);
  c.deployment_by_name.emplace(dep.object->namespace_ + "/" + dep.object->name, &dep);
}
void Unindex(Cluster& c, const Deployment& dep) {
  EraseView(c.deployments_by_namespace, dep.object->namespace_, &dep);
  auto it = c.deployment_by_name.find(dep.object->namespace_ + "/" + dep.object->name);
  if (it != c.deployment_by_name.end() && it->second == &dep) c.deployment_by_name.erase(it);
}

// Kinds without indexes of their own.
void Index(Cluster&, const Gateway&) {}
void Unindex(Cluster&, const Gateway&) {}
void Index(Cluster&, const ServiceExpositionPolicy&) {}
void Unindex(Cluster&, const ServiceExpositionPolicy&) {}
void Index(Cluster&, const RemoteServiceBinding&) {}
void Unindex(Cluster&, const RemoteServiceBinding&) {}

// The keys of allow_policies_by_host for `ap`; none when it may match hosts it does not name.
std::vector<std::string> AllowPolicyKeys(const AuthorizationPolicy& ap) {
  std::vector<std::string> keys;
  if (ap.any_host) return keys;
  for (const std::string& p : ap.host_prefixes) {
    if (p.find(':') == std::string::npos) return keys;
    keys.emplace_back(AuthorizationHostKey(p));
  }
  for (const std::string& h : ap.exact_hosts) keys.emplace_back(AuthorizationHostKey(h));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}
void Index(Cluster& c, const AuthorizationPolicy& ap) {
  if (ap.action != "ALLOW") return;
  std::vector<std::string> keys = AllowPolicyKeys(ap);
  if (keys.empty()) InsertView(c.allow_policies_any_host, &ap);
  for (const std::string& key : keys) InsertView(c.allow_policies_by_host[key], &ap);
}
void Unindex(Cluster& c, const AuthorizationPolicy& ap) {
  std::erase(c.allow_policies_any_host, &ap);
  for (const std::string& key : AllowPolicyKeys(ap)) EraseView(c.allow_policies_by_host, key, &ap);
}

void AddNamespace(Cluster& c, const std::string& ns) {
  if (!ns.empty()) ++c.known_namespaces[ns];
}
void DropNamespace(Cluster& c, const std::string& ns) {
  auto it = c.known_namespaces.find(ns);
  if (it != c.known_namespaces.end() && --it->second == 0) c.known_namespaces.erase(it);
}

// Calls f(list, read) with the typed-view list of `o`'s kind and its reader; false when meshfed
// has no typed view of the kind.
template <typename F>
bool WithViewList(Cluster& c, const Object& o, F&& f) {
  const std::string& g = o.group;
  const std::string& k = o.kind;
  if (g == kMulticlusterGroup) {
    if (k == "ServiceExpositionPolicy") return f(c.expositions, ReadServiceExpositionPolicy), true;
    if (k == "RemoteServiceBinding") return f(c.bindings, ReadRemoteServiceBinding), true;
  } else if (g.empty() && k == "Service") {
    return f(c.services, ReadService), true;
  } else if (g == "apps" && k == "Deployment") {
    return f(c.deployments, ReadDeployment), true;
  } else if (g == kNetworkingGroup) {
    if (k == "VirtualService") return f(c.virtual_services, ReadVirtualService), true;
    if (k == "DestinationRule") return f(c.destination_rules, ReadDestinationRule), true;
    if (k == "ServiceEntry") return f(c.service_entries, ReadServiceEntry), true;
    if (k == "Gateway") return f(c.gateways, ReadGateway), true;
  } else if (g == kSecurityGroup && k == "AuthorizationPolicy") {
    return f(c.authorization_policies, ReadAuthorizationPolicy), true;
  }
  return false;
}

bool IsNamespaceObject(const Object& o) { return o.group.empty() && o.kind == "Namespace"; }

// What reading `o` as a user object adds to the cluster besides its typed view.
void ReadUnviewed(Cluster& c, const Object& o, Diagnostics& d) {
  if (o.group == kMulticlusterGroup && o.kind == "MeshCluster") {
    d.push_back(Diagnostic{Severity::Error, code::kFleetLayout, o.file, o.position, o.Ref(c.name),
                           "",
                           "MeshCluster objects belong in the fleet's fleet.yaml, not in a "
                           "cluster's directory"});
  }
}

bool Indexed(const Object& o, bool index_generated) {
  // Objects meshfed generated (read back from a live cluster or a saved render) are outputs,
  // never inputs: a generated VirtualService must not count as the user's routing.
  return index_generated || !o.ManagedByMeshfed();
}

// Removes the index entries of `o`'s typed view (if it has one), and the view itself unless
// `keep_node`: a replacement then reuses the list node (AddViews), so that the view keeps its
// address while its place in the order is unchanged.
void DropViews(Cluster& c, const Object& o, bool keep_node) {
  WithViewList(c, o, [&](auto& list, auto) {
    auto it = FindInList(list, &o);
    if (it == list.end()) return;
    Unindex(c, *it);
    if (!keep_node) list.erase(it);
  });
  if (IsNamespaceObject(o)) {
    auto it = std::find(c.namespaces.begin(), c.namespaces.end(), o.name);
    if (it != c.namespaces.end()) {
      c.namespaces.erase(it);
      DropNamespace(c, o.name);
    }
  }
  DropNamespace(c, o.namespace_);
}

// Reads the typed view of `o` and indexes it in place (the incremental path). A view node that
// DropViews kept for `o` is reused when the new view belongs at its place, and removed otherwise.
void AddViews(Cluster& c, const Object& o, Diagnostics& d, bool index_generated) {
  AddNamespace(c, o.namespace_);
  bool indexed = Indexed(o, index_generated);
  if (indexed) {
    ReadUnviewed(c, o, d);
    if (IsNamespaceObject(o)) {
      c.namespaces.insert(std::upper_bound(c.namespaces.begin(), c.namespaces.end(), o.name),
                          o.name);
      AddNamespace(c, o.name);
    }
  }
  WithViewList(c, o, [&](auto& list, auto read) {
    auto kept = FindInList(list, &o);
    if (!indexed) {
      if (kept != list.end()) list.erase(kept);
      return;
    }
    auto view = read(o, c.name, d);
    if (kept != list.end()) {
      bool fits = (kept == list.begin() || !ViewBefore(view, *std::prev(kept))) &&
                  (std::next(kept) == list.end() || ViewBefore(view, *std::next(kept)));
      if (fits) {
        *kept = std::move(view);
        Index(c, *kept);
        return;
      }
      list.erase(kept);
    }
    Index(c, InsertInList(list, std::move(view)));
  });
}

void IndexCluster(Cluster& c, Diagnostics& d, bool index_generated) {
  // Views first, in load order; the creation-ordered kinds sorted once (std::list::sort is
  // stable); then every index in view order, where each insertion is a push_back.
  c.object_index.reserve(c.object_index.size() + c.objects.size());
  for (Object& o : c.objects) {
    c.object_index.emplace(o.Key(), &o);
    AddNamespace(c, o.namespace_);
    if (!Indexed(o, index_generated)) continue;
    ReadUnviewed(c, o, d);
    if (IsNamespaceObject(o)) {
      c.namespaces.push_back(o.name);
      AddNamespace(c, o.name);
    }
    WithViewList(c, o, [&](auto& list, auto read) { list.push_back(read(o, c.name, d)); });
  }
  std::sort(c.namespaces.begin(), c.namespaces.end());
  auto sort_and_index = [&c](auto& list) {
    using V = typename std::decay_t<decltype(list)>::value_type;
    list.sort([](const V& a, const V& b) { return ViewBefore(a, b); });
    for (const V& v : list) Index(c, v);
  };
  sort_and_index(c.expositions);
  sort_and_index(c.bindings);
  sort_and_index(c.services);
  sort_and_index(c.deployments);
  sort_and_index(c.virtual_services);
  sort_and_index(c.destination_rules);
  sort_and_index(c.service_entries);
  sort_and_index(c.gateways);
  sort_and_index(c.authorization_policies);
}

}  // namespace

Fleet BuildFleet(FleetSource source, Diagnostics& d, bool index_generated) {
  Fleet fleet;
  // The registry.
  for (Object& o : source.mesh_clusters) {
    if (o.group != kMulticlusterGroup || o.kind != "MeshCluster") {
      d.push_back(Diagnostic{Severity::Error, code::kFleetLayout, o.file, o.position, o.Ref(""), "",
                             fmt::format("fleet.yaml holds only MeshCluster objects; put this {} "
                                         "in the directory of the cluster it belongs to",
                                         o.kind)});
      continue;
    }
    fleet.mesh_cluster_objects.push_back(std::move(o));
  }
  fleet.mesh_cluster_objects = Deduplicate(std::move(fleet.mesh_cluster_objects), "", d);
  std::sort(fleet.mesh_cluster_objects.begin(), fleet.mesh_cluster_objects.end(),
            [](const Object& a, const Object& b) { return a.name < b.name; });

  fleet.clusters.reserve(fleet.mesh_cluster_objects.size());
  for (const Object& o : fleet.mesh_cluster_objects) {
    Cluster c;
    c.name = o.name;
    c.mesh = ReadMeshCluster(o, d);
    auto it = source.cluster_objects.find(o.name);
    if (it != source.cluster_objects.end()) {
      for (Object& object : Deduplicate(std::move(it->second), o.name, d)) {
        c.objects.push_back(std::move(object));
      }
      source.cluster_objects.erase(it);
    }
    fleet.clusters.push_back(std::move(c));
  }
  for (auto& [name, objects] : source.cluster_objects) {
    auto dir = source.cluster_directories.find(name);
    d.push_back(Diagnostic{
        Severity::Error,
        code::kFleetLayout,
        dir != source.cluster_directories.end() ? dir->second : name,
        {},
        {},
        "",
        fmt::format("directory `{}` has no MeshCluster named `{}` in {}; add one, or rename the "
                    "directory to a member cluster's name",
                    name, name, source.fleet_file.empty() ? "fleet.yaml" : source.fleet_file)});
  }
  for (Cluster& c : fleet.clusters) IndexCluster(c, d, index_generated);

  // Data-plane authorization tells clusters apart by trust domain (PRODUCT.md 1.3).
  std::map<std::string, std::string> owner_of_domain;
  for (const Cluster& c : fleet.clusters) {
    if (c.mesh.trust_domain.empty()) continue;
    auto [it, inserted] = owner_of_domain.emplace(c.mesh.trust_domain, c.name);
    if (!inserted) {
      const Object& o = *c.mesh.object;
      d.push_back(Diagnostic{
          Severity::Error, code::kSharedTrustDomain, o.file, o.PositionOf({"spec", "trustDomain"}),
          o.Ref(""), "spec.trustDomain",
          fmt::format("trust domain `{}` is also cluster {}'s; exposure to named clusters is "
                      "enforced by trust domain, so every cluster needs its own",
                      c.mesh.trust_domain, it->second)});
    }
  }
  return fleet;
}

const Object& UpsertObject(Cluster& c, Object object, Diagnostics& d, bool index_generated) {
  std::string key = object.Key();
  Object* in_place = nullptr;
  if (auto it = c.object_index.find(key); it != c.object_index.end()) {
    in_place = it->second;
    DropViews(c, *in_place, /*keep_node=*/true);
    object.order = in_place->order;  // as a later document with the same identity (Deduplicate)
    if (object.creation_timestamp.empty()) object.creation_timestamp = in_place->creation_timestamp;
    *in_place = std::move(object);
  } else {
    auto pos = c.objects.end();
    while (pos != c.objects.begin() && LoadedBefore(object, *std::prev(pos))) --pos;
    in_place = &*c.objects.insert(pos, std::move(object));
    c.object_index.emplace(std::move(key), in_place);
  }
  AddViews(c, *in_place, d, index_generated);
  return *in_place;
}

bool RemoveObject(Cluster& c, const std::string& key) {
  auto it = c.object_index.find(key);
  if (it == c.object_index.end()) return false;
  Object* o = it->second;
  DropViews(c, *o, /*keep_node=*/false);
  c.object_index.erase(it);
  c.objects.remove_if([o](const Object& x) { return &x == o; });
  return true;
}

std::vector<std::string> IndexedHosts(const Cluster& c, const Object& o) {
  auto find = [&o](const auto& list) {
    return std::find_if(list.begin(), list.end(), [&o](const auto& v) { return v.object == &o; });
  };
  if (o.group.empty() && o.kind == "Service") {
    if (auto it = find(c.services); it != c.services.end()) {
      return {ServiceFqdn(it->object->name, it->object->namespace_)};
    }
  } else if (o.group == kNetworkingGroup && o.kind == "VirtualService") {
    if (auto it = find(c.virtual_services); it != c.virtual_services.end()) {
      return VirtualServiceHosts(*it);
    }
  } else if (o.group == kNetworkingGroup && o.kind == "DestinationRule") {
    if (auto it = find(c.destination_rules); it != c.destination_rules.end()) {
      return {DestinationRuleHost(*it)};
    }
  }
  return {};
}

}  // namespace meshfed
