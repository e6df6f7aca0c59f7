#include "core/generate/fleet_generator.h"

#include <fmt/format.h>

#include <algorithm>

namespace meshfed {
namespace {

// splitmix64: a tiny generator whose output is the same everywhere (std distributions are not).
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int Below(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
  double Unit() { return static_cast<double>(Next() >> 11) / 9007199254740992.0; }

 private:
  uint64_t state_;
};

std::string ClusterName(int i) { return fmt::format("cluster-{:02d}", i); }
std::string ServiceName(int i) { return fmt::format("svc-{:04d}", i); }

Node Map(std::initializer_list<std::pair<const char*, Node>> entries) {
  Node m = Node::Mapping();
  for (const auto& [k, v] : entries) m.Add(k, v);
  return m;
}
Node List(std::initializer_list<Node> items) {
  Node l = Node::Sequence();
  for (const Node& n : items) l.Append(n);
  return l;
}
Node S(const std::string& s) { return Node::String(s); }

Node Object(const char* api_version, const char* kind, const std::string& name,
            const std::string& ns = "default") {
  Node meta = Map({{"name", S(name)}});
  if (!ns.empty()) meta.Add("namespace", S(ns));
  return Map({{"apiVersion", S(api_version)}, {"kind", S(kind)}, {"metadata", meta}});
}

}  // namespace

GeneratedFleet GenerateFleet(const FleetShape& shape) {
  GeneratedFleet out;
  Random rng(shape.seed);
  std::vector<Node>& registry = out["fleet.yaml"];
  for (int c = 0; c < shape.clusters; ++c) {
    Node mc = Object("multicluster.istio.io/v1alpha1", "MeshCluster", ClusterName(c), "");
    mc.Add("spec",
           Map({{"trustDomain", S(ClusterName(c) + ".local")},
                {"network", S(fmt::format("network-{:02d}", c))},
                {"federationGateway",
                 Map({{"addresses", List({S(fmt::format("198.51.{}.{}", c / 200, 1 + c % 200))})},
                      {"port", Node::Int(15443)}})}}));
    registry.push_back(std::move(mc));
  }
  // Bindings per acceptor cluster, filled while generating donors.
  std::vector<std::map<int, std::vector<std::string>>> bindings(
      static_cast<size_t>(shape.clusters));
  for (int c = 0; c < shape.clusters; ++c) {
    std::vector<Node>& docs = out[fmt::format("{}/services.yaml", ClusterName(c))];
    Node exposed = Node::Sequence();
    for (int s = 0; s < shape.services; ++s) {
      const std::string name = ServiceName(s);
      Node svc = Object("v1", "Service", name);
      svc.Add("spec",
              Map({{"selector", Map({{"app", S(name)}})},
                   {"ports", List({Map({{"name", S("http")}, {"port", Node::Int(9080)}})})}}));
      docs.push_back(std::move(svc));
      Node subsets = Node::Sequence();
      for (int v = 1; v <= shape.versions; ++v) {
        std::string version = fmt::format("v{}", v);
        Node dep = Object("apps/v1", "Deployment", fmt::format("{}-{}", name, version));
        Node labels = Map({{"app", S(name)}, {"version", S(version)}});
        dep.Add("spec",
                Map({{"replicas", Node::Int(1)},
                     {"selector", Map({{"matchLabels", labels}})},
                     {"template", Map({{"metadata", Map({{"labels", labels}})},
                                       {"spec", Map({{"serviceAccountName", S(name)}})}})}}));
        docs.push_back(std::move(dep));
        subsets.Append(Map({{"name", S(version)}, {"labels", Map({{"version", S(version)}})}}));
      }
      Node dr = Object("networking.istio.io/v1", "DestinationRule", name);
      dr.Add("spec", Map({{"host", S(name)}, {"subsets", subsets}}));
      docs.push_back(std::move(dr));
      int canary = 5 + rng.Below(30);
      Node vs = Object("networking.istio.io/v1", "VirtualService", name);
      vs.Add(
          "spec",
          Map({{"hosts", List({S(name)})},
               {"http",
                List(
                    {Map({{"match",
                           List({Map(
                               {{"headers", Map({{"end-user", Map({{"exact", S("jason")}})}})}})})},
                          {"route", List({Map({{"destination", Map({{"host", S(name)},
                                                                    {"subset", S("v2")}})}})})}}),
                     Map({{"route",
                           List(
                               {Map({{"destination", Map({{"host", S(name)}, {"subset", S("v1")}})},
                                     {"weight", Node::Int(100 - canary)}}),
                                Map({{"destination", Map({{"host", S(name)}, {"subset", S("v3")}})},
                                     {"weight", Node::Int(canary)}})})}})})}}));
      docs.push_back(std::move(vs));

      if (rng.Unit() >= shape.exposed_fraction || shape.clusters < 2) continue;
      // Expose to K other clusters, who bind it.
      Node clusters = Node::Sequence();
      std::vector<int> chosen;
      int k = std::min(shape.bind_clusters, shape.clusters - 1);
      while (static_cast<int>(chosen.size()) < k) {
        int other = rng.Below(shape.clusters);
        if (other == c || std::find(chosen.begin(), chosen.end(), other) != chosen.end()) continue;
        chosen.push_back(other);
      }
      std::sort(chosen.begin(), chosen.end());
      for (int other : chosen) clusters.Append(S(ClusterName(other)));
      size_t first_entry = exposed.items().size();
      exposed.Append(Map({{"name", S(name)}, {"clusters", clusters}}));
      bool alias = rng.Unit() < shape.alias_fraction;
      if (alias) {
        std::string alias_name = name + "-stable";
        Node avs = Object("networking.istio.io/v1", "VirtualService", alias_name);
        avs.Add(
            "spec",
            Map({{"hosts", List({S(alias_name)})},
                 {"http", List({Map({{"route", List({Map({{"destination",
                                                           Map({{"host", S(name)},
                                                                {"subset", S("v1")}})}})})}})})}}));
        docs.push_back(std::move(avs));
        exposed.Append(Map({{"name", S(alias_name)}, {"clusters", clusters}}));
      }
      if (shape.policy_per_service) {
        Node own = Node::Sequence();
        for (size_t i = first_entry; i < exposed.items().size(); ++i)
          own.Append(exposed.items()[i]);
        Node sep = Object("multicluster.istio.io/v1alpha1", "ServiceExpositionPolicy", name);
        sep.Add("spec", Map({{"exposed", own}}));
        out[fmt::format("{}/exposition.yaml", ClusterName(c))].push_back(std::move(sep));
      }
      for (int other : chosen) {
        // Acceptors bind the alias under the service's own name when there is one (rollback).
        bindings[static_cast<size_t>(other)][c].push_back(alias ? name + "-stable:" + name : name);
      }
    }
    if (!exposed.items().empty() && !shape.policy_per_service) {
      Node sep = Object("multicluster.istio.io/v1alpha1", "ServiceExpositionPolicy", "exposed");
      sep.Add("spec", Map({{"exposed", exposed}}));
      out[fmt::format("{}/exposition.yaml", ClusterName(c))].push_back(std::move(sep));
    }
  }
  for (int a = 0; a < shape.clusters; ++a) {
    if (bindings[static_cast<size_t>(a)].empty()) continue;
    Node remote = Node::Sequence();
    std::vector<Node>& docs = out[fmt::format("{}/binding.yaml", ClusterName(a))];
    for (const auto& [donor, names] : bindings[static_cast<size_t>(a)]) {
      Node services = Node::Sequence();
      for (const std::string& n : names) {
        size_t colon = n.find(':');
        std::string local = ClusterName(donor) + "-" + n.substr(colon + 1);
        Node service = colon == std::string::npos
                           ? Map({{"name", S(n)}, {"alias", S(local)}})
                           : Map({{"name", S(n.substr(0, colon))}, {"alias", S(local)}});
        if (shape.policy_per_service) {
          Node rsb = Object("multicluster.istio.io/v1alpha1", "RemoteServiceBinding", local);
          rsb.Add("spec", Map({{"remote", List({Map({{"cluster", S(ClusterName(donor))},
                                                     {"services", List({service})}})})}}));
          docs.push_back(std::move(rsb));
        } else {
          services.Append(std::move(service));
        }
      }
      if (!shape.policy_per_service) {
        remote.Append(Map({{"cluster", S(ClusterName(donor))}, {"services", services}}));
      }
    }
    if (!shape.policy_per_service) {
      Node rsb = Object("multicluster.istio.io/v1alpha1", "RemoteServiceBinding", "bound");
      rsb.Add("spec", Map({{"remote", remote}}));
      docs.push_back(std::move(rsb));
    }
  }
  return out;
}

}  // namespace meshfed
