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
  auto it = object_index.find(fmt::format("{}/{}/{}/{}", group, kind, namespace_, object_name));
  return it == object_index.end() ? nullptr : &objects[it->second];
}

const Cluster* Fleet::Find(std::string_view name) const {
  for (const Cluster& c : clusters) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

namespace {

// Later documents with the same identity replace earlier ones, as `kubectl apply` would; the
// replacement keeps the original's place in creation order (apply keeps creationTimestamp).
std::vector<Object> Deduplicate(std::vector<Object> objects, const std::string& cluster,
                                Diagnostics& diagnostics) {
  std::vector<Object> out;
  std::unordered_map<std::string, size_t> index;
  for (Object& o : objects) {
    std::string key = o.Key();
    auto [it, inserted] = index.emplace(key, out.size());
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

template <typename T>
void SortByCreation(std::vector<T>& views) {
  std::stable_sort(views.begin(), views.end(),
                   [](const T& a, const T& b) { return CreatedBefore(*a.object, *b.object); });
}

void IndexCluster(Cluster& c, Diagnostics& d, bool index_generated) {
  for (const Object& o : c.objects) {
    // Objects meshfed generated (read back from a live cluster or a saved render) are outputs,
    // never inputs: a generated VirtualService must not count as the user's routing.
    if (o.ManagedByMeshfed() && !index_generated) continue;
    const std::string& g = o.group;
    const std::string& k = o.kind;
    if (g == kMulticlusterGroup) {
      if (k == "ServiceExpositionPolicy") {
        c.expositions.push_back(ReadServiceExpositionPolicy(o, c.name, d));
      } else if (k == "RemoteServiceBinding") {
        c.bindings.push_back(ReadRemoteServiceBinding(o, c.name, d));
      } else if (k == "MeshCluster") {
        d.push_back(Diagnostic{Severity::Error, code::kFleetLayout, o.file, o.position,
                               o.Ref(c.name), "",
                               "MeshCluster objects belong in the fleet's fleet.yaml, not in a "
                               "cluster's directory"});
      }
    } else if (g.empty() && k == "Service") {
      c.services.push_back(ReadService(o, c.name, d));
    } else if (g.empty() && k == "Namespace") {
      c.namespaces.push_back(o.name);
    } else if (g == "apps" && k == "Deployment") {
      c.deployments.push_back(ReadDeployment(o, c.name, d));
    } else if (g == kNetworkingGroup) {
      if (k == "VirtualService") c.virtual_services.push_back(ReadVirtualService(o, c.name, d));
      if (k == "DestinationRule") c.destination_rules.push_back(ReadDestinationRule(o, c.name, d));
      if (k == "ServiceEntry") c.service_entries.push_back(ReadServiceEntry(o, c.name, d));
      if (k == "Gateway") c.gateways.push_back(ReadGateway(o, c.name, d));
    } else if (g == kSecurityGroup && k == "AuthorizationPolicy") {
      c.authorization_policies.push_back(ReadAuthorizationPolicy(o, c.name, d));
    }
  }
  std::sort(c.namespaces.begin(), c.namespaces.end());
  for (size_t i = 0; i < c.objects.size(); ++i) c.object_index.emplace(c.objects[i].Key(), i);
  for (const Service& svc : c.services) {
    c.service_by_host.emplace(ServiceFqdn(svc.object->name, svc.object->namespace_), &svc);
  }
  SortByCreation(c.expositions);
  SortByCreation(c.bindings);
  SortByCreation(c.virtual_services);
  SortByCreation(c.destination_rules);
  for (const VirtualService& vs : c.virtual_services) {
    for (const std::string& h : vs.hosts) {
      auto& list = c.virtual_services_by_host[ToLower(ResolveShortName(h, vs.object->namespace_))];
      if (list.empty() || list.back() != &vs) list.push_back(&vs);
    }
  }
  for (const DestinationRule& dr : c.destination_rules) {
    std::string host = ToLower(ResolveShortName(dr.host, dr.object->namespace_));
    if (!host.empty() && host[0] == '*') c.wildcard_destination_rules.push_back(&dr);
    c.destination_rules_by_host[host].push_back(&dr);
  }
  for (const VirtualService& vs : c.virtual_services) {
    bool wildcard = std::any_of(vs.hosts.begin(), vs.hosts.end(),
                                [](const std::string& h) { return !h.empty() && h[0] == '*'; });
    if (wildcard) c.wildcard_virtual_services.push_back(&vs);
    std::vector<std::string> refs;
    for (const std::string& g : vs.gateways) {
      refs.push_back(ResolveGatewayReference(g, vs.object->namespace_));
    }
    if (refs.empty()) refs.push_back("mesh");
    std::sort(refs.begin(), refs.end());
    refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
    for (const std::string& r : refs) c.virtual_services_by_gateway[r].push_back(&vs);
  }
  for (const ServiceEntry& se : c.service_entries) {
    for (const std::string& h : se.hosts) {
      std::string host = ToLower(h);
      if (!host.empty() && host[0] == '*') {
        c.wildcard_service_entries.push_back(&se);
      } else {
        c.service_entries_by_host[host].push_back(&se);
      }
    }
  }
  for (const Deployment& dep : c.deployments) {
    c.deployments_by_namespace[dep.object->namespace_].push_back(&dep);
    c.deployment_by_name.emplace(dep.object->namespace_ + "/" + dep.object->name, &dep);
  }
  for (const Object& o : c.objects) {
    if (!o.namespace_.empty()) c.known_namespaces.insert(o.namespace_);
  }
  for (const std::string& n : c.namespaces) c.known_namespaces.insert(n);
  for (const Gateway& g : c.gateways) {
    const Node* spec = g.object->spec();
    const Node* servers = spec && spec->IsMapping() ? spec->Find("servers") : nullptr;
    if (!servers || !servers->IsSequence()) continue;
    for (const Node& server : servers->items()) {
      const Node* port = server.IsMapping() ? server.Find("port") : nullptr;
      const Node* number = port && port->IsMapping() ? port->Find("number") : nullptr;
      const Node* hosts = server.IsMapping() ? server.Find("hosts") : nullptr;
      if (!number || number->scalar_type() != ScalarType::Int || !hosts || !hosts->IsSequence())
        continue;
      int port_number = ParseIntOr(number->text(), 0);
      for (const Node& h : hosts->items()) {
        if (!h.IsScalar()) continue;
        size_t slash = h.text().find('/');
        std::string dns =
            ToLower(slash == std::string::npos ? h.text() : h.text().substr(slash + 1));
        Cluster::GatewayServer entry{&g, &server, port_number, dns};
        if (!dns.empty() && dns[0] == '*') {
          c.wildcard_gateway_servers.push_back(entry);
        } else {
          c.gateway_servers_by_host[dns].push_back(entry);
        }
      }
    }
  }
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
      c.objects = Deduplicate(std::move(it->second), o.name, d);
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

}  // namespace meshfed
