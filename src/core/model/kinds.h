// Typed views of the kinds meshfed reads. Each view points into its Object (which owns the tree)
// and is built by a Read* function that reports every problem as a diagnostic with the field path
// and position. networking.istio.io v1alpha3, v1beta1 and v1 share one schema and read alike.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/model/diagnostic.h"
#include "core/model/object.h"

namespace meshfed {

inline constexpr std::string_view kMulticlusterGroup = "multicluster.istio.io";
inline constexpr std::string_view kNetworkingGroup = "networking.istio.io";
inline constexpr std::string_view kSecurityGroup = "security.istio.io";

using Labels = std::map<std::string, std::string>;

// ---- meshfed's own API (multicluster.istio.io/v1alpha1) ----

struct ExposedEntry {
  std::string name;
  std::string alias;
  std::string subset;
  std::optional<int> port;
  std::vector<std::string> clusters;  // "*" = every member cluster
  std::string field;                  // spec.exposed[i], for messages
  size_t index = 0;                   // i: its place in spec.exposed (skipped items count)
  Position position;
  const std::string& exposed_name() const { return alias.empty() ? name : alias; }
};

struct ServiceExpositionPolicy {
  const Object* object = nullptr;
  std::vector<ExposedEntry> exposed;
};

struct BoundService {
  std::string name;   // the exposed name on the donor
  std::string alias;  // local name; default = name
  std::optional<int> port;
  std::string field;  // spec.remote[i].services[k], for messages
  // (i, k): its place in spec.remote and in that entry's services (skipped items count).
  std::pair<size_t, size_t> index;
  Position position;
  const std::string& local_name() const { return alias.empty() ? name : alias; }
};

struct RemoteEntry {
  std::string cluster;
  std::string namespace_;  // donor namespace; default = the binding's namespace
  std::vector<BoundService> services;
  std::string field;
  Position position;
};

struct RemoteServiceBinding {
  const Object* object = nullptr;
  std::vector<RemoteEntry> remote;
};

struct FederationGateway {
  std::vector<std::string> addresses;
  int port = 15443;
  std::string namespace_ = "istio-system";
  Labels selector = {{"istio", "eastwestgateway"}};
};

struct MeshCluster {
  const Object* object = nullptr;
  std::string name;
  std::string trust_domain;
  std::string network;
  FederationGateway federation_gateway;
  std::string kube_context;
};

// ---- Kubernetes ----

struct ServicePort {
  std::string name;
  int port = 0;
  std::string target_port;  // number or name, as written
  std::string protocol = "TCP";
  std::string app_protocol;
  // Istio's protocol selection: appProtocol, else the name, by its prefix before '-' (http,
  // http2, grpc, grpc-web: HTTP; tcp, tls, https, mongo, redis, mysql, udp: not); other names
  // and unnamed ports are sniffed, except on the well-known ports 25, 53, 3306 and 27017 (TCP).
  bool CarriesHttp() const;
};

struct Service {
  const Object* object = nullptr;
  std::vector<ServicePort> ports;
  // The networking.istio.io/exportTo annotation (comma-separated); empty = exported to all.
  std::vector<std::string> export_to;
  Labels selector;
  std::string type = "ClusterIP";
};

struct Deployment {
  const Object* object = nullptr;
  Labels pod_labels;
  std::string service_account = "default";
  int replicas = 1;
};

// ---- Istio ----

// Whether Istio takes `protocol` (a Gateway server's or ServiceEntry port's, in any case) for
// HTTP: HTTP, HTTP2, GRPC, GRPC-WEB or HTTP_PROXY (pkg/config/protocol: Parse, then IsHTTP).
bool IsHttpProtocol(std::string_view protocol);

struct VirtualService {
  const Object* object = nullptr;
  std::vector<std::string> hosts;     // as written
  std::vector<std::string> gateways;  // as written; empty = mesh
  std::vector<std::string> export_to;
  const Node* http = nullptr;  // the http route list, read by the translator and simulator
  bool BindsMesh() const;
};

struct Subset {
  std::string name;
  Labels labels;
};

struct DestinationRule {
  const Object* object = nullptr;
  std::string host;
  std::vector<Subset> subsets;
  std::vector<std::string> export_to;
  bool has_workload_selector = false;
};

struct ServiceEntry {
  const Object* object = nullptr;
  std::vector<std::string> hosts;
  std::vector<std::string> export_to;
};

struct Gateway {
  const Object* object = nullptr;
  Labels selector;
};

struct AuthorizationPolicy {
  const Object* object = nullptr;
  std::string action = "ALLOW";
  bool has_selector = false;
  Labels selector;  // spec.selector.matchLabels
  // For a quick "cannot match this host": lower-cased exact hosts and prefixes (of hosts ending
  // in '*') named by the rules; `any_host` when some rule names no hosts or a suffix pattern.
  std::vector<std::string> exact_hosts;
  std::vector<std::string> host_prefixes;
  bool any_host = false;
  bool MayMatchHost(std::string_view lower_host) const;
};

// What an authorization host is indexed by: its text up to the first ':' (so `h` and `h:*` share
// a key with every `h:<port>` they match).
inline std::string_view AuthorizationHostKey(std::string_view lower_host) {
  return lower_host.substr(0, lower_host.find(':'));
}

// Readers. `cluster` only labels diagnostics. A reader that finds errors still returns what it
// could read; callers check the diagnostics.
ServiceExpositionPolicy ReadServiceExpositionPolicy(const Object& o, const std::string& cluster,
                                                    Diagnostics& d);
RemoteServiceBinding ReadRemoteServiceBinding(const Object& o, const std::string& cluster,
                                              Diagnostics& d);
MeshCluster ReadMeshCluster(const Object& o, Diagnostics& d);
Service ReadService(const Object& o, const std::string& cluster, Diagnostics& d);
Deployment ReadDeployment(const Object& o, const std::string& cluster, Diagnostics& d);
VirtualService ReadVirtualService(const Object& o, const std::string& cluster, Diagnostics& d);
DestinationRule ReadDestinationRule(const Object& o, const std::string& cluster, Diagnostics& d);
ServiceEntry ReadServiceEntry(const Object& o, const std::string& cluster, Diagnostics& d);
Gateway ReadGateway(const Object& o, const std::string& cluster, Diagnostics& d);
AuthorizationPolicy ReadAuthorizationPolicy(const Object& o, const std::string& cluster,
                                            Diagnostics& d);

// exportTo visibility (Istio §3.2): empty = "*" (the mesh default), "." = own namespace.
bool ExportedTo(const std::vector<std::string>& export_to, std::string_view own_namespace,
                std::string_view viewer_namespace);

}  // namespace meshfed
