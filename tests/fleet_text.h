// Test helper: a fleet from YAML text, without touching the file system.
#pragma once

#include <map>
#include <string>

#include "codec/yaml_reader.h"
#include "core/model/fleet.h"

namespace meshfed::testing {

inline constexpr const char* kThreeClusters = R"(
apiVersion: multicluster.istio.io/v1alpha1
kind: MeshCluster
metadata: {name: cluster-a}
spec:
  trustDomain: cluster-a.local
  federationGateway: {addresses: [192.0.2.10]}
---
apiVersion: multicluster.istio.io/v1alpha1
kind: MeshCluster
metadata: {name: cluster-b}
spec:
  trustDomain: cluster-b.local
  federationGateway: {addresses: [192.0.2.20, gw.cluster-b.example.com], port: 443, namespace: federation, selector: {app: fedgw}}
---
apiVersion: multicluster.istio.io/v1alpha1
kind: MeshCluster
metadata: {name: cluster-c}
spec:
  trustDomain: cluster-c.local
  federationGateway: {addresses: [192.0.2.30]}
)";

inline FleetSource SourceFromText(const std::string& fleet_yaml,
                                  const std::map<std::string, std::string>& clusters,
                                  Diagnostics& diagnostics) {
  FleetSource source;
  uint64_t order = 0;
  ReadResult r = ReadYamlStream(fleet_yaml, "fleet.yaml");
  diagnostics.insert(diagnostics.end(), r.diagnostics.begin(), r.diagnostics.end());
  AppendObjects(std::move(r.documents), "fleet.yaml", order, source.mesh_clusters, diagnostics);
  for (const auto& [name, text] : clusters) {
    std::string file = name + "/objects.yaml";
    ReadResult cr = ReadYamlStream(text, file);
    diagnostics.insert(diagnostics.end(), cr.diagnostics.begin(), cr.diagnostics.end());
    AppendObjects(std::move(cr.documents), file, order, source.cluster_objects[name], diagnostics);
  }
  return source;
}

inline Fleet FleetFromText(const std::string& fleet_yaml,
                           const std::map<std::string, std::string>& clusters,
                           Diagnostics& diagnostics) {
  return BuildFleet(SourceFromText(fleet_yaml, clusters, diagnostics), diagnostics);
}

}  // namespace meshfed::testing
