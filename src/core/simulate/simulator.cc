#include "core/simulate/simulator.h"

#include <absl/container/node_hash_map.h>
#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "core/model/gateway_servers.h"
#include "core/model/hosts.h"
#include "core/model/text.h"
#include "core/simulate/matcher.h"

namespace meshfed {
namespace {

constexpr std::string_view kRootNamespace = "istio-system";
constexpr int kMaxHops = 8;  // a routing loop between gateways ends here

Labels StringMap(const Node* n) {
  Labels out;
  if (n && n->IsMapping()) {
    for (const MapEntry& e : n->entries()) {
      if (e.value.IsScalar()) out[e.key.str()] = e.value.text();
    }
  }
  return out;
}

// The Host header as route configs match it: lower-cased, without a port (Istio sets Envoy's
// strip_any_host_port; "[v6]:port" keeps its brackets).
std::string HostWithoutPort(std::string_view authority) {
  return ToLower(authority.substr(0, PortSeparator(authority)));
}

// Envoy virtual-host domain matching: exact, then suffix wildcards (longest first), then "*"
// (route_components.proto VirtualHost.domains). A wildcard never matches "". Envoy also has
// prefix wildcards (`foo.*`), which no host Istio accepts can produce. Returns a rank (lower is
// better) or -1.
int DomainRank(std::string_view domain, std::string_view host) {
  if (domain == host) return 0;
  if (domain == "*") return 3'000'000;
  if (domain.size() > 1 && domain.front() == '*') {
    std::string_view suffix = domain.substr(1);
    if (host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix) {
      return 1'000'000 - static_cast<int>(suffix.size());
    }
  }
  return -1;
}

// A boolean as Kubernetes reads YAML 1.1: true, yes, y and on, in any of their cases.
bool IsTrue(const Node* n) {
  if (!n || n->scalar_type() != ScalarType::Bool) return false;
  std::string t = ToLower(n->text());
  return t == "true" || t == "yes" || t == "y" || t == "on";
}

// The more specific of two overlapping hosts (Names.Intersection).
std::string MoreSpecific(std::string_view a, std::string_view b) {
  if (a == "*") return std::string(b);
  if (b == "*") return std::string(a);
  bool wa = !a.empty() && a.front() == '*';
  bool wb = !b.empty() && b.front() == '*';
  if (wa && !wb) return std::string(b);
  if (wb && !wa) return std::string(a);
  return a.size() >= b.size() ? std::string(a) : std::string(b);
}

// Names kube-dns answers for (or fails for): bare names, name.namespace, *.svc, *.cluster.local.
// Anything else goes to upstream DNS, which the simulator does not know.
bool LooksInCluster(const Cluster& cluster, std::string_view host) {
  size_t dot = host.find('.');
  if (dot == std::string_view::npos) return true;
  auto ends_with = [&](std::string_view suffix) {
    return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
  };
  if (ends_with(".svc") || ends_with(fmt::format(FMT_COMPILE(".{}"), kDefaultDomainSuffix)))
    return true;
  std::string_view second = host.substr(dot + 1);
  if (second.find('.') != std::string_view::npos) return false;
  return cluster.KnowsNamespace(std::string(second));
}

struct Proxy {
  const Cluster* cluster = nullptr;
  std::string_view namespace_;
  const Labels* labels = nullptr;  // the pods' labels, in the fleet
  bool gateway = false;
  const std::string* gateway_ref = nullptr;  // ns/name of the Gateway whose server took the request
  std::string_view name;                     // for the trace, in the simulation's text
  std::string_view cluster_name;             // the same
};

struct Branch {
  Request request;
  double probability = 1.0;
  std::vector<Hop> hops;
  int depth = 0;
};

// A ServiceEntry port/endpoint view.
struct EntryEndpoint {
  std::string address;
  int port = 0;
  Labels labels;
};

// A proxy's outbound cluster: the hops every request through it takes, and how such a request
// ends (Simulator::BuildOutbound).
struct OutboundCluster {
  struct Step {
    std::string_view step;  // a literal
    std::string detail;
    const Object* object = nullptr;
  };
  std::vector<Step> hops;
  // Without endpoints to go on to (a Service's pods, or no cluster), how every request ends.
  int status = 0;
  std::string flag;
  std::string message;
  std::optional<Destination> destination;
  // A ServiceEntry's endpoints: each takes an equal share of the requests.
  struct Endpoint {
    std::string detail;              // its hop
    const Cluster* donor = nullptr;  // whose federation gateway it is, if any
    std::string sni;
    int port = 0;
  };
  std::vector<Endpoint> endpoints;
  const Object* entry = nullptr;  // the ServiceEntry
  bool mtls = false;
  Destination outside;  // an endpoint outside the fleet
};

// What a proxy knows about a host: a Kubernetes Service or a ServiceEntry it can see.
struct ServiceView {
  const Service* service = nullptr;
  const ServiceEntry* entry = nullptr;
  std::string hostname;
  const Object& object() const { return service ? *service->object : *entry->object; }
  std::vector<int> Ports() const {
    std::vector<int> out;
    if (service) {
      for (const ServicePort& p : service->ports) out.push_back(p.port);
    } else if (const Node* ports = entry->object->spec()->Find("ports");
               ports && ports->IsSequence()) {
      for (const Node& p : ports->items()) {
        std::string_view n = ScalarText(p.Find("number"));
        if (int port = ParseIntOr(n, 0); port > 0) out.push_back(port);
      }
    }
    return out;
  }
};

// The DestinationRule(s) a proxy uses for a host (§4): the proxy's namespace, then the service's,
// then the root namespace; the first namespace with a match wins and its DRs merge (subsets
// unioned, the oldest top-level traffic policy wins).
struct DestinationRuleView {
  std::vector<const DestinationRule*> rules;  // oldest first
  const Node* SubsetNode(std::string_view name) const {
    for (const DestinationRule* dr : rules) {
      const Node* subsets = dr->object->spec()->Find("subsets");
      if (!subsets || !subsets->IsSequence()) continue;
      for (const Node& s : subsets->items()) {
        if (ScalarText(s.Find("name")) == name) return &s;
      }
    }
    return nullptr;
  }
  // TLS settings for (subset, port): subset policy over top-level, port-level over both.
  const Node* Tls(std::string_view subset, int port) const {
    auto from_policy = [&](const Node* policy) -> const Node* {
      if (!policy || !policy->IsMapping()) return nullptr;
      if (const Node* pls = policy->Find("portLevelSettings"); pls && pls->IsSequence()) {
        for (const Node& pl : pls->items()) {
          const Node* p = pl.Find("port");
          if (p && ScalarText(p->Find("number")) == std::to_string(port) && pl.Find("tls"))
            return pl.Find("tls");
        }
      }
      return policy->Find("tls");
    };
    if (!subset.empty()) {
      if (const Node* s = SubsetNode(subset)) {
        if (const Node* tls = from_policy(s->Find("trafficPolicy"))) return tls;
      }
    }
    for (const DestinationRule* dr : rules) {
      if (const Node* tls = from_policy(dr->object->spec()->Find("trafficPolicy"))) return tls;
    }
    return nullptr;
  }
};

struct RouteEntry {
  const VirtualService* vs = nullptr;
  const Node* rule = nullptr;
  const Node* block = nullptr;  // null: the rule has no match (a catch-all)
  size_t rule_index = 0;
  size_t block_index = 0;
  // Set by Simulator::Name: Name(); for routes meshfed compiled from a donor's VirtualService,
  // how hops name that VirtualService and its file; the rule's or block's position.
  std::string name;
  std::string compiled_from;
  std::string compiled_from_file;
  std::optional<Position> position;
  std::string Name() const {
    std::string given(ScalarText(rule->Find("name")));
    std::string where = block ? fmt::format("spec.http[{}].match[{}]", rule_index, block_index)
                              : fmt::format("spec.http[{}]", rule_index);
    return given.empty() ? where : fmt::format("{} (\"{}\")", where, given);
  }
  bool CatchAll() const {
    if (!block) return true;
    // SortVHostRoutes: prefix "/" or regex ".*" with no header, query or other matcher.
    for (const MapEntry& e : block->entries()) {
      if (e.key != "uri" && e.key != "ignoreUriCase" && e.key != "name") return false;
    }
    const Node* uri = block->Find("uri");
    if (!uri) return true;
    return ScalarText(uri->Find("prefix")) == "/" || ScalarText(uri->Find("regex")) == ".*";
  }
};

// What a sidecar's virtual host for a host does (Simulator::BuildSidecarVirtualHost).
struct VirtualHostChoice {
  std::string detail;  // the virtual-host hop
  const Object* object = nullptr;
  enum Kind { kPassthrough, kNoRoute, kDefault, kRoutes } kind = kNoRoute;
  std::string message;             // kPassthrough
  std::string forward_host;        // kDefault: the service's own cluster
  std::vector<RouteEntry> routes;  // kRoutes
  // A gateway's virtual host made by a server with tls.httpsRedirect: require_tls ALL.
  bool require_tls = false;
};

// The servers a gateway proxy has on one port once Istio has merged every Gateway that selects
// it (Simulator::Servers).
struct PortServers {
  GatewayPortServers merged;
  // Two servers whose filter chains match one SNI name: Envoy rejects the listener.
  std::optional<GatewayPortServers::Overlap> overlap;
  // For the SNI match: each merged server's filter-chain server names (`*` for a chain that
  // matches any SNI), and indexes into the servers by exact name and of those with a wildcard.
  std::vector<std::vector<std::string>> sni_names;
  std::unordered_map<std::string, std::vector<size_t>> by_host;
  std::vector<size_t> wildcard;
};

}  // namespace

struct RouteSimulator::Derived {
  // The Deployments with pods (replicas > 0) that a Service's selector selects, in the order of
  // its namespace's Deployments.
  std::unordered_map<const Service*, std::vector<const Deployment*>> selected;
  std::unordered_map<const Object*, std::string> descriptions;  // Object::Describe()
  std::unordered_map<const Object*, std::string> hop_objects;   // Simulator::HopObject
  std::unordered_map<const Cluster*, std::string> federation_gateway_names;
  std::unordered_map<const Object*, std::string> gateway_refs;  // "<ns>/<name>" of Gateways
  // Hosts as routing compares them: resolved in the object's namespace and lower-cased.
  std::unordered_map<const VirtualService*, std::vector<std::string>> vs_hosts;
  std::unordered_map<const VirtualService*, std::vector<std::string>> vs_gateways;  // resolved
  std::unordered_map<const DestinationRule*, std::string> dr_hosts;
  // A route destination's host, by the destination and its VirtualService: a destination's node
  // may be a value shared with other objects' (Node::Share), in other namespaces.
  absl::node_hash_map<std::pair<const Node*, const Object*>, std::string> route_hosts;
  Matcher matcher;  // keeps compiled regexes
  // Outbound clusters by proxy and cluster (Simulator::Outbound); node-based: references stay
  // valid while others are added.
  absl::node_hash_map<std::string, OutboundCluster> outbound;
  // Sidecar virtual hosts by proxy, port and host (Simulator::SidecarHttp).
  absl::node_hash_map<std::string, VirtualHostChoice> sidecar_virtual_hosts;
  absl::node_hash_map<std::string, VirtualHostChoice> gateway_virtual_hosts;
  // A gateway proxy's merged servers by cluster, proxy labels and port (Simulator::Servers).
  absl::node_hash_map<std::string, PortServers> port_servers;
  std::string key;  // reused to build lookup keys (Simulator::Key)
  // Per cluster and namespace, its Deployments with pods by each pod label "key=value", in the
  // namespace's order.
  std::unordered_map<
      const Cluster*,
      std::unordered_map<std::string,
                         std::unordered_map<std::string, std::vector<const Deployment*>>>>
      deployments_by_label;
  // Per gateway proxy (cluster, name): the DENY policies that apply to it, and whether any ALLOW
  // policy does.
  struct GatewayPolicies {
    std::vector<const AuthorizationPolicy*> deny;
    bool any_allow = false;
  };
  std::unordered_map<const Cluster*, std::unordered_map<std::string, GatewayPolicies>> policies;
};

namespace {

class Simulator {
 public:
  Simulator(const Fleet& fleet, RouteSimulator::Derived& derived, Simulation& out)
      : fleet_(fleet), derived_(derived), out_(out) {}

  void Run(const Proxy& client, std::string principal, Branch branch);
  // The request arrives from outside the mesh at a gateway workload (an ingress gateway).
  void RunAtGateway(const Proxy& gateway, Branch branch) {
    principal_.clear();
    int port = branch.request.port;
    EnterGateway(*gateway.cluster, gateway, std::move(branch), "", false, port);
  }

 private:
  const std::string& Describe(const Object& o) {
    auto [it, added] = derived_.descriptions.try_emplace(&o);
    if (added) it->second = o.Describe();
    return it->second;
  }
  const std::vector<const Deployment*>& Selected(const Cluster& cluster, const Service& s);
  // "federation gateway <ns> (<selector>)": how hops name a donor's federation gateway.
  const std::string& FederationGatewayName(const Cluster& donor) {
    auto [it, added] = derived_.federation_gateway_names.try_emplace(&donor);
    if (added) {
      const FederationGateway& fg = donor.mesh.federation_gateway;
      std::string selector;
      for (const auto& [k, v] : fg.selector) {
        selector += fmt::format(FMT_COMPILE("{}{}={}"), selector.empty() ? "" : ",", k, v);
      }
      it->second = fmt::format(FMT_COMPILE("federation gateway {} ({})"), fg.namespace_, selector);
    }
    return it->second;
  }
  const std::vector<std::string>& Hosts(const VirtualService& vs) {
    auto [it, added] = derived_.vs_hosts.try_emplace(&vs);
    if (added) {
      for (const std::string& h : vs.hosts) {
        it->second.push_back(ToLower(ResolveShortName(h, vs.object->namespace_)));
      }
    }
    return it->second;
  }
  const std::vector<std::string>& GatewayRefs(const VirtualService& vs) {
    auto [it, added] = derived_.vs_gateways.try_emplace(&vs);
    if (added) {
      for (const std::string& g : vs.gateways) {
        it->second.push_back(ResolveGatewayReference(g, vs.object->namespace_));
      }
    }
    return it->second;
  }
  const std::string& Host(const DestinationRule& dr) {
    auto [it, added] = derived_.dr_hosts.try_emplace(&dr);
    if (added) it->second = ToLower(ResolveShortName(dr.host, dr.object->namespace_));
    return it->second;
  }
  // The host of a route destination (`destination` of an http route), in `vs`'s namespace.
  const std::string& RouteHost(const Node* destination, const Object& vs) {
    auto [it, added] = derived_.route_hosts.try_emplace(std::make_pair(destination, &vs));
    if (added) {
      it->second = ToLower(ResolveShortName(
          ScalarText(destination ? destination->Find("host") : nullptr), vs.namespace_));
    }
    return it->second;
  }
  // "<ns>/<name>" of a Gateway.
  const std::string& GatewayRef(const Object& gateway) {
    auto [it, added] = derived_.gateway_refs.try_emplace(&gateway);
    if (added) it->second = fmt::format(FMT_COMPILE("{}/{}"), gateway.namespace_, gateway.name);
    return it->second;
  }
  // How a hop names the object that decided it: for objects meshfed generated, what the user
  // wrote that they came from, not meshfed's own output (and no file).
  const std::string& HopObject(const Object& o) {
    auto [it, added] = derived_.hop_objects.try_emplace(&o);
    if (added) {
      it->second = Describe(o);
      if (o.ManagedByMeshfed()) {
        const Node* notes = o.metadata() ? o.metadata()->Find("annotations") : nullptr;
        it->second +=
            fmt::format(FMT_COMPILE(", generated for {}"),
                        ScalarText(notes ? notes->Find("multicluster.istio.io/owner") : nullptr));
      }
    }
    return it->second;
  }
  // A hop's detail, formatted into a buffer every hop reuses: valid until the next Fmt.
  template <typename Format, typename... T>
  std::string_view Fmt(const Format& format, const T&... args) {
    scratch_.clear();
    fmt::format_to(std::back_inserter(scratch_), format, args...);
    return {scratch_.data(), scratch_.size()};
  }
  // `step` is a literal; the rest is copied into the simulation's text.
  Hop MakeHop(const Proxy& proxy, std::string_view step, std::string_view detail,
              const Object* object = nullptr) {
    TextStore& text = out_.text;
    Hop h{proxy.cluster_name, proxy.name, step, text.Save(detail), {}, {}, {}};
    if (object) {
      h.object = text.Save(HopObject(*object));
      if (!object->ManagedByMeshfed()) {
        h.file = text.Save(object->file);
        h.position = object->position;
      }
    }
    return h;
  }
  // A route hop: for routes meshfed compiled from a donor VirtualService, point at that
  // VirtualService's file and the rule's own position (positions survive compilation).
  Hop RouteHop(const Proxy& proxy, std::string_view detail, const RouteEntry& route) {
    Hop h = MakeHop(proxy, "route", detail, route.vs->object);
    if (!route.compiled_from.empty()) {
      h.object = out_.text.Save(route.compiled_from);
      h.file = out_.text.Save(route.compiled_from_file);
    }
    if (route.position) h.position = *route.position;
    return h;
  }
  // A route's name and where its hops point, for routes kept between requests.
  void Name(const Proxy& proxy, RouteEntry& route) {
    route.name = route.Name();
    const Object& vs = *route.vs->object;
    const Node* notes = vs.metadata() ? vs.metadata()->Find("annotations") : nullptr;
    std::string_view from =
        ScalarText(notes ? notes->Find("multicluster.istio.io/routes-from") : nullptr);
    const Node* at = route.block ? route.block : route.rule;
    if (!from.empty()) {
      // "VirtualService <ns>/<name>"
      size_t space = from.find(' ');
      size_t slash = from.find('/');
      const Object* source =
          space == std::string::npos || slash == std::string::npos
              ? nullptr
              : proxy.cluster->FindObject(kNetworkingGroup, "VirtualService",
                                          from.substr(space + 1, slash - space - 1),
                                          from.substr(slash + 1));
      if (source && !source->ManagedByMeshfed()) {
        route.compiled_from = fmt::format("{} (compiled into {})", from, Describe(vs));
        route.compiled_from_file = source->file;
        route.position = at->position();
      }
    } else if (!vs.ManagedByMeshfed()) {
      route.position = at->position();
    }
  }
  void Finish(Branch& b, int status, std::string flag, std::string message,
              std::optional<Destination> destination = std::nullopt) {
    out_.outcomes.push_back(Outcome{b.probability, status, std::move(flag), std::move(message),
                                    std::move(b.hops), std::move(destination)});
  }

  std::optional<ServiceView> FindService(const Proxy& proxy, std::string_view host);
  DestinationRuleView DestinationRulesFor(const Proxy& proxy, const ServiceView& svc);
  std::vector<const VirtualService*> VirtualServicesFor(const Proxy& proxy,
                                                        std::string_view hostname, bool gateway);
  std::vector<RouteEntry> BuildRoutes(const VirtualService& vs, const Proxy& proxy, int port);

  VirtualHostChoice BuildSidecarVirtualHost(const Proxy& proxy, const std::string& host, int port);
  void SidecarHttp(const Proxy& proxy, Branch branch, int port);
  const PortServers& Servers(const Cluster& donor, const Labels& labels, int port);
  VirtualHostChoice BuildGatewayVirtualHost(const Cluster& donor, const Proxy& gw,
                                            const std::vector<const GatewayServer*>& servers,
                                            const std::string& route_name, const std::string& host,
                                            int gateway_port);
  // A key for the caches of derived routing: the pointers' values, the port, then each string
  // ending with a NUL. Valid until the next Key.
  const std::string& Key(std::initializer_list<const void*> pointers, int port,
                         std::initializer_list<std::string_view> parts) {
    std::string& key = derived_.key;
    key.clear();
    for (const void* p : pointers) key.append(reinterpret_cast<const char*>(&p), sizeof p);
    key.append(reinterpret_cast<const char*>(&port), sizeof port);
    for (std::string_view part : parts) {
      key.append(part);
      key.push_back('\0');
    }
    return key;
  }
  void EvaluateRoutes(const Proxy& proxy, const std::vector<RouteEntry>& routes, Branch branch,
                      int port);
  void ApplyRoute(const Proxy& proxy, const RouteEntry& route, Branch branch, int port);
  OutboundCluster BuildOutbound(const Proxy& proxy, const std::string& host,
                                const std::string& subset, int port, const Object* decided_by);
  const OutboundCluster& Outbound(const Proxy& proxy, const std::string& host,
                                  const std::string& subset, int port, const Object* decided_by);
  void ForwardToCluster(const Proxy& proxy, Branch branch, const std::string& host,
                        const std::string& subset, int port, const Object* decided_by);
  void EnterGateway(const Cluster& donor, Proxy gw, Branch branch, const std::string& sni,
                    bool mtls, int gateway_port);
  bool Authorize(const Proxy& gateway, const Cluster& donor, Branch& branch);

  const Fleet& fleet_;
  RouteSimulator::Derived& derived_;
  Simulation& out_;
  std::string principal_;  // the client workload's SPIFFE principal, kept across hops (mTLS)
  fmt::memory_buffer scratch_;
};

std::optional<ServiceView> Simulator::FindService(const Proxy& proxy, std::string_view host) {
  std::string h(host);
  // A Kubernetes Service wins over a ServiceEntry with the same hostname; among ServiceEntries
  // the proxy's namespace's (Istio's service index prefers it).
  if (const Service* s = proxy.cluster->ServiceForHost(h);
      s && ExportedTo(s->export_to, s->object->namespace_, proxy.namespace_)) {
    return ServiceView{s, nullptr, h};
  }
  std::optional<ServiceView> found;
  auto it = proxy.cluster->service_entries_by_host.find(h);
  if (it == proxy.cluster->service_entries_by_host.end()) return found;
  for (const ServiceEntry* se : it->second) {
    if (!ExportedTo(se->export_to, se->object->namespace_, proxy.namespace_)) continue;
    if (!found || (se->object->namespace_ == proxy.namespace_ &&
                   found->object().namespace_ != proxy.namespace_)) {
      found = ServiceView{nullptr, se, h};
    }
  }
  return found;
}

DestinationRuleView Simulator::DestinationRulesFor(const Proxy& proxy, const ServiceView& svc) {
  DestinationRuleView view;
  const std::string_view order[] = {proxy.namespace_, svc.object().namespace_, kRootNamespace};
  const std::vector<const DestinationRule*>& for_host =
      proxy.cluster->DestinationRulesForHost(svc.hostname);
  const std::vector<const DestinationRule*>& wildcard = proxy.cluster->wildcard_destination_rules;
  std::vector<const DestinationRule*> hits;
  for (std::string_view ns : order) {
    int best = -1;
    hits.clear();
    auto consider = [&](const DestinationRule* drp) {
      const DestinationRule& dr = *drp;
      if (dr.object->namespace_ != ns) return;
      if (dr.has_workload_selector) {
        const Node* ws = dr.object->spec()->Find("workloadSelector");
        if (ns != proxy.namespace_ ||
            !LabelsSubset(StringMap(ws ? ws->Find("matchLabels") : nullptr), *proxy.labels)) {
          return;
        }
      } else if (!ExportedTo(dr.export_to, ns, proxy.namespace_)) {
        return;
      }
      int rank = DomainRank(Host(dr), svc.hostname);
      if (rank < 0) return;
      if (best < 0 || rank < best) {
        best = rank;
        hits.clear();
      }
      if (rank == best) hits.push_back(&dr);
    };
    for (const DestinationRule* dr : for_host) consider(dr);
    for (const DestinationRule* dr : wildcard) consider(dr);
    if (!hits.empty()) {
      view.rules = std::move(hits);  // already in creation order
      return view;
    }
  }
  return view;
}

// §3.2 and §3.3: mesh (or gateway) VirtualServices visible to the proxy's namespace, in Istio's
// order: private ones of that namespace, those exported to it by name, public ones; each group
// by creation time, then name. Only those whose host names `hostname` exactly, or else the
// most specific wildcard host that covers it.
std::vector<const VirtualService*> Simulator::VirtualServicesFor(const Proxy& proxy,
                                                                 std::string_view hostname,
                                                                 bool gateway) {
  std::vector<const VirtualService*> groups[3];
  size_t best_wildcard = 0;
  std::vector<const VirtualService*> exact;
  std::vector<std::pair<const VirtualService*, size_t>> wildcard;
  // A VirtualService can be a candidate twice (an exact and a wildcard host, a gateway named
  // twice); the few chosen are deduplicated below.
  auto consider = [&](const VirtualService* vsp) {
    const VirtualService& vs = *vsp;
    const std::string& ns = vs.object->namespace_;
    if (!ExportedTo(vs.export_to, ns, proxy.namespace_)) return;
    if (!gateway && !vs.BindsMesh()) return;
    if (gateway) {
      const std::vector<std::string>& refs = GatewayRefs(vs);
      if (std::find(refs.begin(), refs.end(), *proxy.gateway_ref) == refs.end()) return;
    }
    bool is_exact = false;
    size_t wild = 0;
    for (const std::string& resolved : Hosts(vs)) {
      if (resolved == hostname) is_exact = true;
      if (resolved.size() > 1 && resolved[0] == '*' && DomainRank(resolved, hostname) >= 0) {
        wild = std::max(wild, resolved.size());
      }
      if (resolved == "*") wild = std::max<size_t>(wild, 1);
    }
    if (is_exact) {
      exact.push_back(&vs);
    } else if (wild > 0) {
      wildcard.emplace_back(&vs, wild);
      best_wildcard = std::max(best_wildcard, wild);
    }
  };
  if (gateway) {
    auto bound = proxy.cluster->virtual_services_by_gateway.find(*proxy.gateway_ref);
    if (bound != proxy.cluster->virtual_services_by_gateway.end()) {
      for (const VirtualService* vs : bound->second) consider(vs);
    }
  } else {
    for (const VirtualService* vs : proxy.cluster->VirtualServicesForHost(std::string(hostname))) {
      consider(vs);
    }
    for (const VirtualService* vs : proxy.cluster->wildcard_virtual_services) consider(vs);
  }
  std::vector<const VirtualService*> chosen;
  auto choose = [&](const VirtualService* vs) {
    if (std::find(chosen.begin(), chosen.end(), vs) == chosen.end()) chosen.push_back(vs);
  };
  for (const VirtualService* vs : exact) choose(vs);
  if (chosen.empty()) {
    for (const auto& [vs, w] : wildcard) {
      if (w == best_wildcard) choose(vs);
    }
  }
  for (const VirtualService* vs : chosen) {
    const auto& e = vs->export_to;
    bool is_public = e.empty() || std::find(e.begin(), e.end(), "*") != e.end();
    if (is_public) {
      groups[2].push_back(vs);
    } else if (vs->object->namespace_ == proxy.namespace_) {
      groups[0].push_back(vs);
    } else {
      groups[1].push_back(vs);
    }
  }
  std::vector<const VirtualService*> out;
  for (auto& g : groups) out.insert(out.end(), g.begin(), g.end());
  return out;
}

// One Envoy route per surviving match block (BuildHTTPRoutesForVirtualService); static fields
// are decided here, for this proxy and listener port (§3.1). Routes after a catch-all are not
// emitted.
std::vector<RouteEntry> Simulator::BuildRoutes(const VirtualService& vs, const Proxy& proxy,
                                               int port) {
  std::vector<RouteEntry> routes;
  if (!vs.http) return routes;
  const std::string& ns = vs.object->namespace_;
  const std::string_view self = proxy.gateway ? std::string_view(*proxy.gateway_ref) : "mesh";
  for (size_t i = 0; i < vs.http->items().size(); ++i) {
    const Node& rule = vs.http->items()[i];
    if (!rule.IsMapping()) continue;
    const Node* match = rule.Find("match");
    if (!match || !match->IsSequence() || match->items().empty()) {
      routes.push_back(RouteEntry{&vs, &rule, nullptr, i, 0, {}, {}, {}, {}});
      Name(proxy, routes.back());
      break;  // a catch-all: nothing after it is reachable
    }
    for (size_t j = 0; j < match->items().size(); ++j) {
      const Node& block = match->items()[j];
      if (!block.IsMapping()) continue;
      if (const Node* gws = block.Find("gateways");
          gws && gws->IsSequence() && !gws->items().empty()) {
        bool mine = std::any_of(gws->items().begin(), gws->items().end(), [&](const Node& g) {
          return ResolveGatewayReference(g.text(), ns) == self;
        });
        if (!mine) continue;
      } else {
        // sourceMatchHTTP: source fields are compared with the proxy being configured.
        if (!LabelsSubset(StringMap(block.Find("sourceLabels")), *proxy.labels)) continue;
        std::string_view sns = ScalarText(block.Find("sourceNamespace"));
        if (!sns.empty() && sns != proxy.namespace_) continue;
      }
      if (const Node* p = block.Find("port");
          p && p->IsScalar() && p->text() != std::to_string(port)) {
        continue;
      }
      routes.push_back(RouteEntry{&vs, &rule, &block, i, j, {}, {}, {}, {}});
      Name(proxy, routes.back());
    }
  }
  return routes;
}

void Simulator::Run(const Proxy& client, std::string principal, Branch branch) {
  principal_ = std::move(principal);
  Request& req = branch.request;
  const Cluster& cluster = *client.cluster;
  // DNS: the pod's resolv.conf search path (<ns>.svc.cluster.local, svc.cluster.local,
  // cluster.local) before the name itself; kube-dns answers for Services only.
  std::vector<std::string> candidates;
  if (!IsIpAddress(req.host)) {
    for (const std::string& suffix :
         {fmt::format(FMT_COMPILE(".{}.svc.{}"), client.namespace_, kDefaultDomainSuffix),
          fmt::format(FMT_COMPILE(".svc.{}"), kDefaultDomainSuffix),
          fmt::format(FMT_COMPILE(".{}"), kDefaultDomainSuffix), std::string()}) {
      candidates.push_back(req.host + suffix);
    }
  }
  const Service* target = nullptr;
  for (const std::string& name : candidates) {
    if ((target = cluster.ServiceForHost(name))) break;
  }
  if (!target && !IsIpAddress(req.host) && LooksInCluster(cluster, req.host)) {
    branch.hops.push_back(
        MakeHop(client, "dns",
                Fmt(FMT_COMPILE("`{}` does not resolve: cluster {} has no Service by that "
                                "name (search path {}.svc.cluster.local)"),
                    req.host, cluster.name, client.namespace_)));
    Finish(branch, 0, "DNS",
           fmt::format(FMT_COMPILE("no route to host: {} does not resolve"), req.host));
    return;
  }
  if (target) {
    branch.hops.push_back(
        MakeHop(client, "dns",
                Fmt(FMT_COMPILE("`{}` resolves to the ClusterIP of Service {}/{}"), req.host,
                    target->object->namespace_, target->object->name),
                target->object));
    auto port = std::find_if(target->ports.begin(), target->ports.end(),
                             [&](const ServicePort& p) { return p.port == req.port; });
    if (port == target->ports.end()) {
      branch.hops.push_back(MakeHop(client, "listener",
                                    Fmt(FMT_COMPILE("Service {}/{} has no port {}"),
                                        target->object->namespace_, target->object->name, req.port),
                                    target->object));
      Finish(branch, 0, "UF",
             fmt::format(FMT_COMPILE("connection refused: nothing listens on {}:{}"), req.host,
                         req.port));
      return;
    }
    if (!port->CarriesHttp()) {
      branch.hops.push_back(
          MakeHop(client, "listener",
                  Fmt(FMT_COMPILE("port {} ({}) is not HTTP: TCP proxy to "
                                  "outbound|{}||{}, no HTTP routing"),
                      req.port, port->name, req.port,
                      ServiceFqdn(target->object->name, target->object->namespace_)),
                  target->object));
      ForwardToCluster(client, branch,
                       ServiceFqdn(target->object->name, target->object->namespace_), "", req.port,
                       nullptr);
      return;
    }
  } else {
    branch.hops.push_back(
        MakeHop(client, "dns",
                Fmt(FMT_COMPILE("`{}` is not a Service of cluster {}: resolved by upstream "
                                "DNS (not simulated)"),
                    req.host, cluster.name)));
  }
  SidecarHttp(client, std::move(branch), req.port);
}

// A sidecar's outbound HTTP route config for port `port` (BuildSidecarOutboundVirtualHosts).
// The virtual host a sidecar's route config "<port>" has for `host`, and what it does with
// requests (BuildSidecarOutboundVirtualHosts): derived once per proxy, port and host.
VirtualHostChoice Simulator::BuildSidecarVirtualHost(const Proxy& proxy, const std::string& host,
                                                     int port) {
  VirtualHostChoice choice;
  struct VirtualHost {
    std::string hostname;
    std::optional<ServiceView> service;
    std::vector<const VirtualService*> vss;
    int rank = -1;
    std::string domain;
  };
  std::optional<VirtualHost> best;
  auto consider = [&](VirtualHost vh, const std::vector<std::string>& domains) {
    for (const std::string& d : domains) {
      int rank = DomainRank(d, host);
      if (rank >= 0 && (!best || rank < best->rank)) {
        vh.rank = rank;
        vh.domain = d;
        best = vh;
      }
    }
  };
  // Domains (generateVirtualHostDomains, §2.3): the FQDN; for svc.cluster.local names also
  // name.ns.svc and name.ns, and the bare name from the same namespace.
  const std::string svc_suffix = fmt::format(FMT_COMPILE(".svc.{}"), kDefaultDomainSuffix);
  auto ends_with = [](std::string_view s, std::string_view suffix) {
    return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
  };
  auto domains_of = [&](const std::string& hostname) {
    std::vector<std::string> domains = {hostname};
    if (ends_with(hostname, svc_suffix)) {
      std::string name_ns = hostname.substr(0, hostname.size() - svc_suffix.size());
      domains.push_back(name_ns + ".svc");
      domains.push_back(name_ns);
      size_t dot = name_ns.find('.');
      if (dot != std::string::npos && name_ns.substr(dot + 1) == proxy.namespace_) {
        domains.push_back(name_ns.substr(0, dot));
      }
    }
    return domains;
  };
  auto has_port = [&](const ServiceView& sv) {
    std::vector<int> ports = sv.Ports();
    return std::find(ports.begin(), ports.end(), port) != ports.end();
  };
  // The services whose domains could equal the Host: the name itself, or the FQDN it is a short
  // form of. (Virtual hosts are looked up, not enumerated.)
  std::vector<std::string> exact = {host};
  size_t dots = static_cast<size_t>(std::count(host.begin(), host.end(), '.'));
  if (ends_with(host, ".svc"))
    exact.push_back(fmt::format(FMT_COMPILE("{}.{}"), host, kDefaultDomainSuffix));
  if (dots == 1) exact.push_back(host + svc_suffix);
  if (dots == 0)
    exact.push_back(fmt::format(FMT_COMPILE("{}.{}{}"), host, proxy.namespace_, svc_suffix));
  for (const std::string& candidate : exact) {
    std::optional<ServiceView> sv = FindService(proxy, candidate);
    if (!sv || !has_port(*sv)) continue;
    consider(VirtualHost{candidate, sv, VirtualServicesFor(proxy, candidate, false), -1, ""},
             domains_of(candidate));
  }
  if (!best || best->rank > 0) {
    // Wildcard ServiceEntry hosts.
    for (const ServiceEntry* se : proxy.cluster->wildcard_service_entries) {
      if (!ExportedTo(se->export_to, se->object->namespace_, proxy.namespace_)) continue;
      for (const std::string& h : se->hosts) {
        std::string wild = ToLower(h);
        if (wild.empty() || wild[0] != '*') continue;
        ServiceView sv{nullptr, se, wild};
        if (!has_port(sv)) continue;
        consider(VirtualHost{wild, sv, VirtualServicesFor(proxy, wild, false), -1, ""}, {wild});
      }
    }
  }
  // VS hosts that are no service get virtual hosts on port 80 only (§3.3).
  if (port == 80 && (!best || best->rank > 0)) {
    std::vector<const VirtualService*> candidates = proxy.cluster->VirtualServicesForHost(host);
    candidates.insert(candidates.end(), proxy.cluster->wildcard_virtual_services.begin(),
                      proxy.cluster->wildcard_virtual_services.end());
    for (const VirtualService* vs : candidates) {
      if (!vs->BindsMesh() ||
          !ExportedTo(vs->export_to, vs->object->namespace_, proxy.namespace_)) {
        continue;
      }
      for (const std::string& resolved : Hosts(*vs)) {
        if (FindService(proxy, resolved)) continue;
        consider(
            VirtualHost{resolved, std::nullopt, VirtualServicesFor(proxy, resolved, false), -1, ""},
            {resolved});
      }
    }
  }
  if (!best) {
    choice.detail = fmt::format(
        "no virtual host of route \"{}\" matches `{}`: the allow_any virtual host sends it to "
        "PassthroughCluster",
        port, host);
    choice.kind = VirtualHostChoice::kPassthrough;
    choice.message = fmt::format(
        "passthrough: {} leaves the mesh unrouted (outboundTrafficPolicy ALLOW_ANY)", host);
    return choice;
  }
  const VirtualService* vs = best->vss.empty() ? nullptr : best->vss.front();
  std::vector<RouteEntry> routes;
  if (vs) routes = BuildRoutes(*vs, proxy, port);
  std::string note;
  if (best->vss.size() > 1) {
    note = fmt::format(
        FMT_COMPILE("; {} VirtualServices define it and the oldest wins on sidecars (IST0109)"),
        best->vss.size());
  }
  if (vs && routes.empty()) {
    note += fmt::format(FMT_COMPILE("; no route of {} applies to this proxy, so Istio ignores it"),
                        Describe(*vs->object));
    vs = nullptr;
  }
  choice.detail = fmt::format(
      "route \"{}\", virtual host {}:{} (domain `{}` matches `{}`){}{}", port, best->hostname, port,
      best->domain, host,
      vs ? fmt::format(", routes of {}", Describe(*vs->object)) : ", default route", note);
  choice.object = vs ? vs->object : (best->service ? &best->service->object() : nullptr);
  if (vs) {
    choice.kind = VirtualHostChoice::kRoutes;
    choice.routes = std::move(routes);
  } else if (best->service) {
    choice.kind = VirtualHostChoice::kDefault;
    choice.forward_host = best->hostname;
  } else {
    choice.kind = VirtualHostChoice::kNoRoute;
    choice.message = "no route";
  }
  return choice;
}

void Simulator::SidecarHttp(const Proxy& proxy, Branch branch, int port) {
  const std::string host = HostWithoutPort(branch.request.authority);
  // Everything the choice reads of the proxy: its cluster, namespace and labels.
  const std::string& key = Key({proxy.cluster, proxy.labels}, port, {proxy.namespace_, host});
  auto found = derived_.sidecar_virtual_hosts.find(key);
  if (found == derived_.sidecar_virtual_hosts.end()) {
    std::string owned(key);
    found = derived_.sidecar_virtual_hosts
                .emplace(std::move(owned), BuildSidecarVirtualHost(proxy, host, port))
                .first;
  }
  const VirtualHostChoice& choice = found->second;
  branch.hops.push_back(MakeHop(proxy, "virtual-host", choice.detail, choice.object));
  switch (choice.kind) {
    case VirtualHostChoice::kPassthrough:
      Finish(branch, 0, "PASSTHROUGH", choice.message);
      return;
    case VirtualHostChoice::kNoRoute:
      Finish(branch, 404, "NR", choice.message);
      return;
    case VirtualHostChoice::kDefault:
      ForwardToCluster(proxy, std::move(branch), choice.forward_host, "", port, nullptr);
      return;
    case VirtualHostChoice::kRoutes:
      EvaluateRoutes(proxy, choice.routes, std::move(branch), port);
      return;
  }
}

void Simulator::EvaluateRoutes(const Proxy& proxy, const std::vector<RouteEntry>& routes,
                               Branch branch, int port) {
  branch.request.path = NormalizePath(branch.request.path);
  std::vector<std::string> misses;
  for (const RouteEntry& route : routes) {
    std::string why;
    if (route.block && !derived_.matcher.Matches(*route.block, branch.request, why)) {
      misses.push_back(fmt::format(FMT_COMPILE("{}: {}"), route.name, why));
      continue;
    }
    branch.hops.push_back(RouteHop(
        proxy,
        Fmt(FMT_COMPILE("first matching route: {} of {}{}"), route.name,
            Describe(*route.vs->object),
            misses.empty() ? "" : fmt::format(FMT_COMPILE(" (not: {})"), fmt::join(misses, "; "))),
        route));
    ApplyRoute(proxy, route, std::move(branch), port);
    return;
  }
  branch.hops.push_back(MakeHop(
      proxy, "route",
      Fmt(FMT_COMPILE("no route matches ({})"),
          misses.empty() ? "no routes" : fmt::format(FMT_COMPILE("{}"), fmt::join(misses, "; "))),
      routes.empty() ? nullptr : routes.front().vs->object));
  Finish(branch, 404, "NR", "no route matched: 404 NR");
}

void ApplyHeaderOps(const Node* headers, Request& request) {
  const Node* req = headers && headers->IsMapping() ? headers->Find("request") : nullptr;
  if (!req || !req->IsMapping()) return;
  if (const Node* set = req->Find("set"); set && set->IsMapping()) {
    for (const MapEntry& e : set->entries())
      request.SetHeader(e.key, std::string(ScalarText(&e.value)));
  }
  if (const Node* add = req->Find("add"); add && add->IsMapping()) {
    for (const MapEntry& e : add->entries())
      request.AddHeader(e.key, std::string(ScalarText(&e.value)));
  }
  if (const Node* remove = req->Find("remove"); remove && remove->IsSequence()) {
    for (const Node& n : remove->items()) request.RemoveHeader(ScalarText(&n));
  }
}

double Percentage(const Node* fault_part) {
  const Node* pct = fault_part ? fault_part->Find("percentage") : nullptr;
  std::string_view v = ScalarText(pct ? pct->Find("value") : nullptr);
  if (v.empty()) return 100.0;
  double value = ParseDoubleOr(v, 100.0);
  return std::isfinite(value) ? std::clamp(value, 0.0, 100.0) : 100.0;
}

void Simulator::ApplyRoute(const Proxy& proxy, const RouteEntry& route, Branch branch, int port) {
  const Node& rule = *route.rule;
  const Object* vs = route.vs->object;
  Request& req = branch.request;
  if (rule.Find("delegate")) {
    branch.hops.push_back(MakeHop(proxy, "route", "delegation is not simulated", vs));
    Finish(branch, 404, "NR", "delegate VirtualServices are not simulated");
    return;
  }
  if (const Node* redirect = rule.Find("redirect"); redirect && redirect->IsMapping()) {
    std::string_view code = ScalarText(redirect->Find("redirectCode"));
    int status = ParseIntOr(code, 301);
    std::string location = fmt::format(
        "{}://{}{}",
        ScalarText(redirect->Find("scheme")).empty() ? req.scheme
                                                     : ScalarText(redirect->Find("scheme")),
        ScalarText(redirect->Find("authority")).empty() ? req.authority
                                                        : ScalarText(redirect->Find("authority")),
        ScalarText(redirect->Find("uri")).empty() ? req.path : ScalarText(redirect->Find("uri")));
    branch.hops.push_back(
        MakeHop(proxy, "route", Fmt(FMT_COMPILE("redirect {} to {}"), status, location), vs));
    Finish(branch, status, "", fmt::format(FMT_COMPILE("redirect to {}"), location));
    return;
  }
  if (const Node* dr = rule.Find("directResponse"); dr && dr->IsMapping()) {
    std::string_view code = ScalarText(dr->Find("status"));
    int status = ParseIntOr(code, 200);
    branch.hops.push_back(
        MakeHop(proxy, "route", Fmt(FMT_COMPILE("direct response {}"), status), vs));
    Finish(branch, status, "", "direct response");
    return;
  }
  if (const Node* fault = rule.Find("fault"); fault && fault->IsMapping()) {
    if (const Node* delay = fault->Find("delay"); delay && delay->IsMapping()) {
      branch.hops.push_back(MakeHop(proxy, "route",
                                    Fmt(FMT_COMPILE("fault: delay {} for {}% of requests"),
                                        ScalarText(delay->Find("fixedDelay")), Percentage(delay)),
                                    vs));
    }
    if (const Node* abort = fault->Find("abort"); abort && abort->IsMapping()) {
      double pct = Percentage(abort);
      std::string_view code = ScalarText(abort->Find("httpStatus"));
      int status = ParseIntOr(code, 200);
      if (pct > 0) {
        Branch aborted = branch;
        aborted.probability *= pct / 100.0;
        aborted.hops.push_back(
            MakeHop(proxy, "route",
                    Fmt(FMT_COMPILE("fault: abort with {} for {}% of requests"), status, pct), vs));
        Finish(aborted, status, "FI", "fault injected: abort");
      }
      if (pct >= 100) return;
      branch.probability *= (100 - pct) / 100.0;
    }
  }
  // Rewrites, then header operations: what the next hop sees.
  if (const Node* rewrite = rule.Find("rewrite"); rewrite && rewrite->IsMapping()) {
    if (std::string authority(ScalarText(rewrite->Find("authority"))); !authority.empty()) {
      req.authority = authority;
    }
    if (const Node* uri = rewrite->Find("uri"); uri && uri->IsScalar()) {
      const Node* m = route.block ? route.block->Find("uri") : nullptr;
      std::string prefix(m ? ScalarText(m->Find("prefix")) : std::string());
      if (!prefix.empty() && req.path.compare(0, prefix.size(), prefix) == 0) {
        req.path = std::string(uri->text()) + req.path.substr(prefix.size());
      } else {
        req.path = uri->text();
      }
    }
    if (const Node* rr = rewrite->Find("uriRegexRewrite"); rr && rr->IsMapping()) {
      req.path = derived_.matcher.RegexReplace(ScalarText(rr->Find("match")),
                                               ScalarText(rr->Find("rewrite")), req.path);
    }
  }
  ApplyHeaderOps(rule.Find("headers"), req);
  if (rule.Find("mirror") || rule.Find("mirrors")) {
    branch.hops.push_back(
        MakeHop(proxy, "route", "a copy is mirrored (fire and forget; not followed)", vs));
  }
  const Node* dests = rule.Find("route");
  if (!dests || !dests->IsSequence() || dests->items().empty()) {
    Finish(branch, 404, "NR", "the route has no destination");
    return;
  }
  // Weights (§3.6): one destination takes everything; otherwise weight/sum over weight > 0.
  std::vector<std::pair<const Node*, double>> weighted;
  double total = 0;
  for (const Node& d : dests->items()) {
    std::string_view w = ScalarText(d.Find("weight"));
    double weight = ParseDoubleOr(w, 0);
    if (!std::isfinite(weight) || weight < 0 || weight > 1e9) weight = 0;
    if (dests->items().size() == 1) weight = 1;
    if (weight <= 0) continue;
    weighted.emplace_back(&d, weight);
    total += weight;
  }
  if (weighted.empty()) {  // all weights 0 with several destinations: rejected by validation
    Finish(branch, 503, "NC", "every destination has weight 0");
    return;
  }
  for (size_t i = 0; i < weighted.size(); ++i) {
    const auto& [d, weight] = weighted[i];
    // The last share takes the branch itself; the others copy it first.
    Branch b =
        i + 1 == weighted.size() ? std::move(branch) : branch;  // NOLINT(bugprone-use-after-move)
    b.probability *= weight / total;
    const Node* dest = d->Find("destination");
    const std::string& host = RouteHost(dest, *vs);
    std::string subset(ScalarText(dest ? dest->Find("subset") : nullptr));
    // GetDestinationCluster (§2.4): the destination's port, else the service's only port, else
    // the listener port.
    int dport = port;
    const Node* p = dest ? dest->Find("port") : nullptr;
    if (std::string_view n = ScalarText(p ? p->Find("number") : nullptr);
        !n.empty() && ResolvePlainScalar(n) == ScalarType::Int) {
      dport = ParseIntOr(n, port);
    } else if (auto sv = FindService(proxy, host)) {
      std::vector<int> ports = sv->Ports();
      if (ports.size() == 1) dport = ports[0];
    }
    ApplyHeaderOps(d->Find("headers"), b.request);
    if (weighted.size() > 1) {
      b.hops.push_back(
          MakeHop(proxy, "route",
                  Fmt(FMT_COMPILE("weighted destination {}{} takes {:.4g}% of requests"), host,
                      subset.empty() ? "" : "/" + subset, 100 * weight / total),
                  vs));
    }
    ForwardToCluster(proxy, std::move(b), host, subset, dport, vs);
  }
}

// The proxy's outbound cluster for (host, subset, port), as Envoy's CDS and EDS give it to that
// proxy: everything a request through it does that does not depend on the request. Derived once
// per proxy and cluster, then replayed (ForwardToCluster).
OutboundCluster Simulator::BuildOutbound(const Proxy& proxy, const std::string& host,
                                         const std::string& subset, int port,
                                         const Object* decided_by) {
  OutboundCluster oc;
  const std::string envoy_cluster =
      fmt::format(FMT_COMPILE("outbound|{}|{}|{}"), port, subset, host);
  auto end = [&](int status, std::string_view flag, std::string message) {
    oc.status = status;
    oc.flag = flag;
    oc.message = std::move(message);
    return oc;
  };
  std::optional<ServiceView> svc = FindService(proxy, host);
  auto no_cluster = [&](const std::string& why) {
    oc.hops.push_back(
        {"cluster", fmt::format("cluster {} does not exist: {}", envoy_cluster, why), decided_by});
    return end(503, "NC", fmt::format("no cluster {}: 503 NC", envoy_cluster));
  };
  if (!svc)
    return no_cluster(
        fmt::format("no service {} is visible from namespace {}", host, proxy.namespace_));
  std::vector<int> ports = svc->Ports();
  if (std::find(ports.begin(), ports.end(), port) == ports.end()) {
    return no_cluster(fmt::format("{} has no port {}", Describe(svc->object()), port));
  }
  DestinationRuleView drs = DestinationRulesFor(proxy, *svc);
  Labels subset_labels;
  if (!subset.empty()) {
    const Node* s = drs.SubsetNode(subset);
    if (!s) {
      return no_cluster(drs.rules.empty()
                            ? fmt::format("no DestinationRule for {} is visible from namespace {}",
                                          host, proxy.namespace_)
                            : fmt::format("subset `{}` is not defined in {}", subset,
                                          Describe(*drs.rules.front()->object)));
    }
    subset_labels = StringMap(s->Find("labels"));
  }
  const Node* tls = drs.Tls(subset, port);
  std::string mode(ScalarText(tls ? tls->Find("mode") : nullptr));
  std::string sni(ScalarText(tls ? tls->Find("sni") : nullptr));
  oc.hops.push_back(
      {"cluster",
       fmt::format("cluster {}{}", envoy_cluster,
                   drs.rules.empty()
                       ? ""
                       : fmt::format(" (subsets from {})", Describe(*drs.rules.front()->object))),
       drs.rules.empty() ? &svc->object() : drs.rules.front()->object});

  if (svc->service) {
    // Endpoints: pods of the service's namespace selected by the Service, filtered by the
    // subset's labels (a Service without selector has none of its own).
    std::vector<std::string> workloads;
    const Service& s = *svc->service;
    for (const Deployment* d : Selected(*proxy.cluster, s)) {
      if (LabelsSubset(subset_labels, d->pod_labels)) workloads.push_back(d->object->name);
    }
    std::sort(workloads.begin(), workloads.end());
    if (workloads.empty()) {
      oc.hops.push_back(
          {"endpoints",
           fmt::format(
               "no pod of {} {}: no healthy upstream", Describe(*s.object),
               subset.empty() ? std::string() : fmt::format("has the labels of subset {}", subset)),
           s.object});
      return end(503, "UH", fmt::format("no healthy upstream in {}: 503 UH", envoy_cluster));
    }
    std::string how = mode.empty() ? "auto mTLS (ISTIO_MUTUAL to sidecars)" : mode;
    oc.hops.push_back(
        {"endpoints",
         fmt::format("pods of {} ({}), {}", fmt::join(workloads, ", "), proxy.cluster->name, how),
         s.object});
    oc.destination =
        Destination{proxy.cluster->name, host, subset, port, std::move(workloads), envoy_cluster};
    return end(200, "", "delivered");
  }

  // ServiceEntry endpoints, filtered by the subset's labels.
  const Node* spec = svc->entry->object->spec();
  std::string port_name;
  int target_port = port;
  if (const Node* sports = spec->Find("ports"); sports && sports->IsSequence()) {
    for (const Node& p : sports->items()) {
      if (ScalarText(p.Find("number")) == std::to_string(port)) {
        port_name = ScalarText(p.Find("name"));
        if (std::string_view tp = ScalarText(p.Find("targetPort")); !tp.empty())
          target_port = ParseIntOr(tp, target_port);
      }
    }
  }
  std::vector<EntryEndpoint> endpoints;
  if (const Node* eps = spec->Find("endpoints"); eps && eps->IsSequence()) {
    for (const Node& ep : eps->items()) {
      EntryEndpoint e{std::string(ScalarText(ep.Find("address"))), target_port,
                      StringMap(ep.Find("labels"))};
      if (const Node* ports_map = ep.Find("ports"); ports_map && ports_map->IsMapping()) {
        if (std::string_view p = ScalarText(ports_map->Find(port_name)); !p.empty())
          e.port = ParseIntOr(p, e.port);
      }
      if (LabelsSubset(subset_labels, e.labels)) endpoints.push_back(e);
    }
  }
  if (endpoints.empty()) {
    oc.hops.push_back({"endpoints",
                       fmt::format("{} has no endpoint{}", Describe(svc->object()),
                                   subset.empty() ? "" : " with the subset's labels"),
                       &svc->object()});
    return end(503, "UH", fmt::format("no healthy upstream in {}: 503 UH", envoy_cluster));
  }
  oc.entry = &svc->object();
  oc.mtls = mode == "ISTIO_MUTUAL" || mode == "MUTUAL";
  oc.outside = Destination{"", host, subset, port, {}, envoy_cluster};
  for (const EntryEndpoint& ep : endpoints) {
    OutboundCluster::Endpoint& out = oc.endpoints.emplace_back();
    out.port = ep.port;
    // Is it a member cluster's federation gateway?
    for (const Cluster& c : fleet_.clusters) {
      const FederationGateway& gw = c.mesh.federation_gateway;
      if (gw.port == ep.port &&
          std::find(gw.addresses.begin(), gw.addresses.end(), ep.address) != gw.addresses.end()) {
        out.donor = &c;
      }
    }
    out.sni = sni.empty() && mode == "ISTIO_MUTUAL"
                  ? fmt::format("outbound_.{}_.{}_.{}", port, subset, host)
                  : sni;
    out.detail =
        fmt::format("endpoint {}:{}{}{}{}", ep.address, ep.port,
                    endpoints.size() > 1 ? fmt::format(" (1 of {})", endpoints.size()) : "",
                    mode.empty() ? ", plaintext" : fmt::format(", {}", mode),
                    out.sni.empty() ? "" : fmt::format(" with SNI {}", out.sni));
  }
  return oc;
}

const OutboundCluster& Simulator::Outbound(const Proxy& proxy, const std::string& host,
                                           const std::string& subset, int port,
                                           const Object* decided_by) {
  // Everything the derivation reads of the proxy: its cluster, namespace and labels.
  const std::string& key =
      Key({proxy.cluster, proxy.labels, decided_by}, port, {proxy.namespace_, host, subset});
  auto found = derived_.outbound.find(key);
  if (found == derived_.outbound.end()) {
    std::string owned(key);
    found = derived_.outbound
                .emplace(std::move(owned), BuildOutbound(proxy, host, subset, port, decided_by))
                .first;
  }
  return found->second;
}

void Simulator::ForwardToCluster(const Proxy& proxy, Branch branch, const std::string& host,
                                 const std::string& subset, int port, const Object* decided_by) {
  const OutboundCluster& oc = Outbound(proxy, host, subset, port, decided_by);
  for (const OutboundCluster::Step& h : oc.hops) {
    branch.hops.push_back(MakeHop(proxy, h.step, h.detail, h.object));
  }
  if (oc.endpoints.empty()) {
    Finish(branch, oc.status, oc.flag, oc.message, oc.destination);
    return;
  }
  for (size_t i = 0; i < oc.endpoints.size(); ++i) {
    const OutboundCluster::Endpoint& ep = oc.endpoints[i];
    Branch b = i + 1 == oc.endpoints.size() ? std::move(branch)  // NOLINT(bugprone-use-after-move)
                                            : branch;
    b.probability *= 1.0 / static_cast<double>(oc.endpoints.size());
    b.hops.push_back(MakeHop(proxy, "endpoints", ep.detail, oc.entry));
    if (!ep.donor) {
      Finish(b, 200, "", "delivered outside the fleet", oc.outside);
      continue;
    }
    if (b.depth >= kMaxHops) {
      Finish(b, 503, "UF", "too many gateway hops: a routing loop");
      continue;
    }
    const FederationGateway& fg = ep.donor->mesh.federation_gateway;
    Proxy gw;
    gw.cluster = ep.donor;
    gw.namespace_ = fg.namespace_;
    gw.labels = &fg.selector;
    gw.gateway = true;
    gw.name = out_.text.Save(FederationGatewayName(*ep.donor));
    gw.cluster_name = out_.text.Save(ep.donor->name);
    EnterGateway(*ep.donor, gw, std::move(b), ep.sni, oc.mtls, ep.port);
  }
}

const std::vector<const Deployment*>& Simulator::Selected(const Cluster& cluster,
                                                          const Service& s) {
  auto [it, added] = derived_.selected.try_emplace(&s);
  if (!added || s.selector.empty()) return it->second;  // no selector: no endpoints of its own
  const std::string& ns = s.object->namespace_;
  auto [by_label, indexed] = derived_.deployments_by_label[&cluster].try_emplace(ns);
  if (indexed) {
    auto in_ns = cluster.deployments_by_namespace.find(ns);
    if (in_ns != cluster.deployments_by_namespace.end()) {
      for (const Deployment* d : in_ns->second) {
        if (d->replicas <= 0) continue;
        for (const auto& [k, v] : d->pod_labels) {
          by_label->second[fmt::format("{}={}", k, v)].push_back(d);
        }
      }
    }
  }
  // Every selected Deployment has the selector's first label.
  const auto& [key, value] = *s.selector.begin();
  auto with_label = by_label->second.find(key + "=" + value);
  if (with_label == by_label->second.end()) return it->second;
  for (const Deployment* d : with_label->second) {
    if (LabelsSubset(s.selector, d->pod_labels)) it->second.push_back(d);
  }
  return it->second;
}

// Istio authorization (security.istio.io): DENY policies first, then ALLOW; with any ALLOW
// policy on the workload a request must match one, or it is denied with 403.
bool MatchesValue(std::string_view pattern, std::string_view value) {
  if (pattern == "*") return !value.empty();
  if (!pattern.empty() && pattern.front() == '*') {
    std::string_view s = pattern.substr(1);
    return value.size() >= s.size() && value.substr(value.size() - s.size()) == s;
  }
  if (!pattern.empty() && pattern.back() == '*') {
    std::string_view p = pattern.substr(0, pattern.size() - 1);
    return value.substr(0, p.size()) == p;
  }
  return pattern == value;
}

// `lower_value` is lower case when `ignore_case`.
bool AnyMatches(const Node* list, std::string_view lower_value, bool ignore_case = false) {
  if (!list || !list->IsSequence()) return false;
  return std::any_of(list->items().begin(), list->items().end(), [&](const Node& n) {
    std::string_view pattern = n.text();
    if (ignore_case &&
        std::any_of(pattern.begin(), pattern.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      return MatchesValue(ToLower(pattern), lower_value);
    }
    return MatchesValue(pattern, lower_value);
  });
}

bool RuleMatches(const Node& rule, const std::string& principal, const std::string& source_ns,
                 const Request& req, std::string_view lower_authority, bool deny) {
  if (const Node* from = rule.Find("from"); from && from->IsSequence()) {
    bool any = false;
    for (const Node& f : from->items()) {
      const Node* s = f.Find("source");
      if (!s) continue;
      bool ok = true;
      if (const Node* p = s->Find("principals")) ok = ok && AnyMatches(p, principal);
      if (const Node* p = s->Find("notPrincipals")) ok = ok && !AnyMatches(p, principal);
      if (const Node* n = s->Find("namespaces")) ok = ok && AnyMatches(n, source_ns);
      if (const Node* n = s->Find("notNamespaces")) ok = ok && !AnyMatches(n, source_ns);
      any = any || ok;
    }
    if (!any) return false;
  }
  if (const Node* to = rule.Find("to"); to && to->IsSequence()) {
    bool any = false;
    const std::string& path = req.path;
    for (const Node& t : to->items()) {
      const Node* op = t.Find("operation");
      if (!op) continue;
      bool ok = true;
      if (const Node* h = op->Find("hosts")) ok = ok && AnyMatches(h, lower_authority, true);
      if (const Node* h = op->Find("notHosts")) ok = ok && !AnyMatches(h, lower_authority, true);
      if (const Node* m = op->Find("methods")) ok = ok && AnyMatches(m, req.method);
      if (const Node* m = op->Find("notMethods")) ok = ok && !AnyMatches(m, req.method);
      if (const Node* p = op->Find("paths")) ok = ok && AnyMatches(p, path);
      if (const Node* p = op->Find("notPaths")) ok = ok && !AnyMatches(p, path);
      any = any || ok;
    }
    if (!any) return false;
  }
  // `when` conditions are not simulated: a rule whose sources and operations match fails closed,
  // taken to deny when it is a DENY rule and not to allow when it is an ALLOW rule.
  if (rule.Find("when")) return deny;
  return true;
}

bool Simulator::Authorize(const Proxy& gateway, const Cluster& donor, Branch& branch) {
  std::string source_ns;
  if (size_t ns = principal_.find("/ns/"); ns != std::string::npos) {
    size_t end = principal_.find('/', ns + 4);
    source_ns =
        principal_.substr(ns + 4, end == std::string::npos ? std::string::npos : end - ns - 4);
  }
  auto applies = [&](const AuthorizationPolicy& ap) {
    const std::string& ns = ap.object->namespace_;
    if (ns != gateway.namespace_ && ns != kRootNamespace) return false;
    return !ap.has_selector || LabelsSubset(ap.selector, *gateway.labels);
  };
  auto rules_of = [](const AuthorizationPolicy& ap) {
    const Node* rules = ap.object->spec() ? ap.object->spec()->Find("rules") : nullptr;
    return rules && rules->IsSequence() ? rules : nullptr;
  };
  auto [found, added] = derived_.policies[&donor].try_emplace(std::string(gateway.name));
  RouteSimulator::Derived::GatewayPolicies& mine = found->second;
  if (added) {
    for (const AuthorizationPolicy& ap : donor.authorization_policies) {
      if (!applies(ap)) continue;
      if (ap.action == "DENY") mine.deny.push_back(&ap);
      if (ap.action == "ALLOW") mine.any_allow = true;
    }
  }
  const std::string lower_host = ToLower(branch.request.authority);
  for (const AuthorizationPolicy* ap : mine.deny) {
    const Node* rules = rules_of(*ap);
    if (rules && std::any_of(rules->items().begin(), rules->items().end(), [&](const Node& r) {
          return RuleMatches(r, principal_, source_ns, branch.request, lower_host, true);
        })) {
      branch.hops.push_back(
          MakeHop(gateway, "authorization",
                  Fmt(FMT_COMPILE("denied: {} matches {}"), principal_, Describe(*ap->object)),
                  ap->object));
      Finish(branch, 403, "RBAC", "RBAC: access denied");
      return false;
    }
  }
  // ALLOW: with any ALLOW policy on the workload, a request must match one. Only the policies
  // that may match the Host are evaluated (an index by host; the others cannot match), in the
  // order of the cluster's policies, so the first that admits is named.
  bool any_allow = mine.any_allow;
  std::vector<const AuthorizationPolicy*> candidates = donor.allow_policies_any_host;
  if (auto it = donor.allow_policies_by_host.find(std::string(AuthorizationHostKey(lower_host)));
      it != donor.allow_policies_by_host.end()) {
    candidates.insert(candidates.end(), it->second.begin(), it->second.end());
    std::sort(candidates.begin(), candidates.end(),
              [](const AuthorizationPolicy* a, const AuthorizationPolicy* b) {
                return a->object->order < b->object->order;
              });
  }
  for (const AuthorizationPolicy* ap : candidates) {
    if (!applies(*ap) || !ap->MayMatchHost(lower_host)) continue;
    const Node* rules = rules_of(*ap);
    if (rules && std::any_of(rules->items().begin(), rules->items().end(), [&](const Node& r) {
          return RuleMatches(r, principal_, source_ns, branch.request, lower_host, false);
        })) {
      branch.hops.push_back(
          MakeHop(gateway, "authorization",
                  Fmt(FMT_COMPILE("allowed: principal {} to host {} by {}"), principal_,
                      branch.request.authority, Describe(*ap->object)),
                  ap->object));
      return true;
    }
  }
  if (any_allow) {
    branch.hops.push_back(MakeHop(
        gateway, "authorization",
        Fmt(FMT_COMPILE("denied: no ALLOW policy admits principal {} to host {}"),
            principal_.empty() ? "(none: no mTLS)" : principal_, branch.request.authority)));
    Finish(branch, 403, "RBAC", "RBAC: access denied");
    return false;
  }
  return true;
}

// The servers of a gateway proxy (its cluster and pod labels) on one port, as Istio merges every
// Gateway that selects the proxy (core/model/gateway_servers.h; §6.1).
const PortServers& Simulator::Servers(const Cluster& donor, const Labels& labels, int port) {
  const std::string& key = Key({&donor, &labels}, port, {});
  if (auto found = derived_.port_servers.find(key); found != derived_.port_servers.end()) {
    return found->second;
  }
  std::string owned_key(key);
  PortServers ps;
  for (const Gateway* g : GatewaysSelecting(donor.gateways, labels)) {
    ps.merged.OfferGateway(*g, port);
  }
  if (std::vector<GatewayPortServers::Overlap> overlaps = ps.merged.Overlaps(); !overlaps.empty()) {
    ps.overlap = overlaps.front();
  }
  for (const GatewayServer& s : ps.merged.servers()) {
    std::vector<std::string> names = s.SniNames();
    if (names.empty()) names.emplace_back("*");
    const size_t i = ps.sni_names.size();
    for (const std::string& name : names) {
      (!name.empty() && name[0] == '*' ? ps.wildcard : ps.by_host[name]).push_back(i);
    }
    ps.sni_names.push_back(std::move(names));
  }
  return derived_.port_servers.emplace(std::move(owned_key), std::move(ps)).first->second;
}

// A gateway proxy's listener on `gateway_port`: the server that takes the connection (by SNI
// among TLS servers, Envoy's filter-chain match: an exact server name beats a wildcard, a longer
// wildcard a shorter one; the port's one route config for plaintext HTTP), TLS terminated,
// authorization, then the VirtualServices bound to the server's Gateway, merged (§3.4, §6).
void Simulator::EnterGateway(const Cluster& donor, Proxy gw, Branch branch, const std::string& sni,
                             bool mtls, int gateway_port) {
  ++branch.depth;
  const PortServers& ps = Servers(donor, *gw.labels, gateway_port);
  const std::vector<GatewayServer>& servers = ps.merged.servers();
  if (ps.overlap) {
    const GatewayServer& first = servers[ps.overlap->first];
    const GatewayServer& second = servers[ps.overlap->second];
    branch.hops.push_back(MakeHop(
        gw, "listener",
        Fmt(FMT_COMPILE("Envoy rejects the listener on port {}: spec.servers[{}] of {} and "
                        "spec.servers[{}] of {} both terminate TLS for SNI {} (\"multiple filter "
                        "chains with the same matching rules\"); a gateway started with this "
                        "config has no listener there: the connection is reset"),
            gateway_port, first.index, Describe(*first.gateway->object), second.index,
            Describe(*second.gateway->object), ps.overlap->sni),
        second.gateway->object));
    Finish(branch, 503, "UF", "upstream connect error: connection reset by the federation gateway");
    return;
  }
  const bool tls_request = mtls || !sni.empty();
  const GatewayServer* chosen = nullptr;
  const std::string host = HostWithoutPort(branch.request.authority);
  if (tls_request && !ps.merged.plaintext()) {
    const std::string lower_sni = ToLower(sni);
    int best = -1;
    auto consider = [&](size_t i) {
      const GatewayServer& s = servers[i];
      for (const std::string& name : ps.sni_names[i]) {
        int rank = DomainRank(name, lower_sni);
        if (rank >= 0 && (best < 0 || rank < best || (rank == best && &s < chosen))) {
          best = rank;
          chosen = &s;
        }
      }
    };
    if (auto it = ps.by_host.find(lower_sni); it != ps.by_host.end()) {
      for (size_t i : it->second) consider(i);
    }
    for (size_t i : ps.wildcard) consider(i);
  } else if (!tls_request && ps.merged.plaintext() && !servers.empty()) {
    // One route config for the port's servers; the trace names the one whose hosts best cover
    // the Host header, else the first.
    int best = -1;
    for (const GatewayServer& s : servers) {
      int rank = 4'000'000;  // on the port but no host matches: still this route config
      for (const auto& [ns, dns] : s.hosts) {
        int r = DomainRank(dns, host);
        if (r >= 0) rank = std::min(rank, r);
      }
      if (best < 0 || rank < best) {
        best = rank;
        chosen = &s;
      }
    }
  }
  if (!chosen) {
    branch.hops.push_back(MakeHop(
        gw, "listener",
        ps.merged.plaintext() && tls_request && !servers.empty()
            ? Fmt(FMT_COMPILE("port {} serves plaintext, and the client speaks TLS (SNI {}): the "
                              "connection is reset"),
                  gateway_port, sni.empty() ? "(none)" : sni)
            : Fmt(FMT_COMPILE("no Gateway server on port {} matches SNI {}: the connection is "
                              "reset"),
                  gateway_port, sni.empty() ? "(none)" : sni)));
    Finish(branch, 503, "UF", "upstream connect error: connection reset by the federation gateway");
    return;
  }
  const Object& gateway = *chosen->gateway->object;
  gw.gateway_ref = &GatewayRef(gateway);
  const std::string& mode = chosen->tls_mode;
  if (!ps.merged.plaintext() && (mode == "ISTIO_MUTUAL" || mode == "MUTUAL") && !mtls) {
    branch.hops.push_back(MakeHop(
        gw, "tls",
        Fmt(FMT_COMPILE("server requires {} but the client sent no client certificate"), mode),
        &gateway));
    Finish(branch, 503, "UF", "upstream connect error: TLS handshake failed");
    return;
  }
  if (ps.merged.plaintext() ? !chosen->Http() : !chosen->TerminatesHttps()) {
    branch.hops.push_back(
        MakeHop(gw, "listener",
                chosen->protocol == "https"
                    ? Fmt(FMT_COMPILE("server https:{} passes TLS through ({}): not simulated"),
                          gateway_port, mode)
                    : Fmt(FMT_COMPILE("server protocol {} is not simulated"), chosen->protocol),
                &gateway));
    Finish(branch, 503, "UF", "non-HTTP gateway server");
    return;
  }
  // The route config: http.<port> for the port's plaintext servers, one per terminating HTTPS
  // server otherwise (gatewayRDSRouteName).
  std::string route_name = ps.merged.plaintext()
                               ? fmt::format(FMT_COMPILE("http.{}"), gateway_port)
                               : fmt::format(FMT_COMPILE("https.{}.{}.{}.{}"), gateway_port,
                                             ScalarText(chosen->node->Find("port")->Find("name")),
                                             gateway.name, gateway.namespace_);
  // The peer keeps its identity only when the server asked for its certificate.
  bool peer_known =
      mtls && (mode == "ISTIO_MUTUAL" || mode == "MUTUAL" || mode == "OPTIONAL_MUTUAL");
  if (!peer_known) principal_.clear();
  branch.hops.push_back(MakeHop(
      gw, ps.merged.plaintext() ? "listener" : "tls",
      ps.merged.plaintext()
          ? Fmt(FMT_COMPILE("server {}:{} of {} takes the plaintext request"), chosen->protocol,
                gateway_port, Describe(gateway))
          : Fmt(FMT_COMPILE("server {}:{} of {} takes SNI {}; {} terminates, peer {}"),
                chosen->protocol, gateway_port, Describe(gateway), sni, mode.empty() ? "-" : mode,
                principal_.empty() ? "unauthenticated" : principal_),
      &gateway));
  if (!Authorize(gw, donor, branch)) return;

  const std::string& key =
      Key({&donor, ps.merged.plaintext() ? static_cast<const void*>(&ps) : chosen, gw.labels},
          gateway_port, {gw.namespace_, host});
  auto found = derived_.gateway_virtual_hosts.find(key);
  if (found == derived_.gateway_virtual_hosts.end()) {
    std::string owned(key);
    std::vector<const GatewayServer*> route_servers;
    if (ps.merged.plaintext()) {
      for (const GatewayServer& s : servers) route_servers.push_back(&s);
    } else {
      route_servers.push_back(chosen);
    }
    found = derived_.gateway_virtual_hosts
                .emplace(std::move(owned), BuildGatewayVirtualHost(donor, gw, route_servers,
                                                                   route_name, host, gateway_port))
                .first;
  }
  const VirtualHostChoice& choice = found->second;
  branch.hops.push_back(MakeHop(gw, "virtual-host", choice.detail, choice.object));
  if (choice.kind != VirtualHostChoice::kRoutes) {
    Finish(branch, 404, "NR", choice.message);
    return;
  }
  if (choice.require_tls && !tls_request) {
    std::string location =
        fmt::format(FMT_COMPILE("https://{}{}"), branch.request.authority, branch.request.path);
    branch.hops.push_back(
        MakeHop(gw, "virtual-host",
                Fmt(FMT_COMPILE("the server has tls.httpsRedirect: redirect 301 to {}"), location),
                choice.object));
    Finish(branch, 301, "", fmt::format(FMT_COMPILE("redirect to {}"), location));
    return;
  }
  EvaluateRoutes(gw, choice.routes, std::move(branch), gateway_port);
}

// The virtual host of a gateway route config for `host`: for each of its servers, the hosts of
// the VirtualServices bound to the server's Gateway intersected with the server's hosts
// (namespace-restricted); Envoy takes the best domain. Its routes are those of every
// VirtualService with that domain, server by server and in §3.2 order within one, catch-alls last
// (buildGatewayHTTPRouteConfig, SortVHostRoutes; §3.4).
VirtualHostChoice Simulator::BuildGatewayVirtualHost(
    const Cluster& donor, const Proxy& gw, const std::vector<const GatewayServer*>& servers,
    const std::string& route_name, const std::string& host, int gateway_port) {
  VirtualHostChoice choice;
  int best_rank = -1;
  std::string best_domain;
  // (server, VirtualService) with the best domain so far.
  std::vector<std::pair<const GatewayServer*, const VirtualService*>> bound;
  const std::vector<const VirtualService*> none;
  for (const GatewayServer* server : servers) {
    auto bound_here = donor.virtual_services_by_gateway.find(GatewayRef(*server->gateway->object));
    for (const VirtualService* vsp :
         bound_here == donor.virtual_services_by_gateway.end() ? none : bound_here->second) {
      const VirtualService& vs = *vsp;
      const std::string& ns = vs.object->namespace_;
      if (!ExportedTo(vs.export_to, ns, gw.namespace_)) continue;
      for (const std::string& resolved : Hosts(vs)) {
        for (const auto& [sns, sdns] : server->hosts) {
          if ((sns != "*" && sns != ns) || !HostsOverlap(resolved, sdns)) continue;
          std::string domain = MoreSpecific(resolved, sdns);
          int rank = DomainRank(domain, host);
          if (rank < 0) continue;
          if (best_rank < 0 || rank < best_rank) {
            best_rank = rank;
            best_domain = domain;
            bound.clear();
          }
          if (rank == best_rank &&
              std::find(bound.begin(), bound.end(), std::make_pair(server, vsp)) == bound.end()) {
            bound.emplace_back(server, vsp);
          }
        }
      }
    }
  }
  const Object& first_gateway = *servers.front()->gateway->object;
  if (bound.empty()) {
    choice.detail = fmt::format("route {}: no VirtualService bound to {} serves host `{}`",
                                route_name, GatewayRef(first_gateway), host);
    choice.object = &first_gateway;
    choice.kind = VirtualHostChoice::kNoRoute;
    choice.message = "no route: 404 NR";
    return choice;
  }
  for (const auto& [server, vs] : bound) {
    if (server->tls && IsTrue(server->tls->Find("httpsRedirect"))) choice.require_tls = true;
  }
  std::vector<RouteEntry> routes, catch_alls;
  const VirtualService* first = nullptr;
  for (const GatewayServer* server : servers) {
    Proxy through = gw;  // routes name the Gateway their server belongs to
    through.gateway_ref = &GatewayRef(*server->gateway->object);
    std::vector<const VirtualService*> here;
    for (const auto& [s, vs] : bound) {
      if (s == server) here.push_back(vs);
    }
    if (here.empty()) continue;
    // §3.2 order, then any the order does not name (a wildcard domain).
    std::vector<const VirtualService*> ordered;
    for (const VirtualService* vs : VirtualServicesFor(through, best_domain, true)) {
      if (std::find(here.begin(), here.end(), vs) != here.end()) ordered.push_back(vs);
    }
    for (const VirtualService* vs : here) {
      if (std::find(ordered.begin(), ordered.end(), vs) == ordered.end()) ordered.push_back(vs);
    }
    if (!first) first = ordered.front();
    for (const VirtualService* vs : ordered) {
      for (RouteEntry& r : BuildRoutes(*vs, through, gateway_port)) {
        (r.CatchAll() ? catch_alls : routes).push_back(r);
      }
    }
  }
  routes.insert(routes.end(), catch_alls.begin(), catch_alls.end());
  choice.detail = fmt::format("route {}, virtual host `{}` from {}", route_name, best_domain,
                              Describe(*first->object));
  choice.object = first->object;
  choice.kind = VirtualHostChoice::kRoutes;
  choice.routes = std::move(routes);
  return choice;
}

}  // namespace

Fleet EffectiveFleet(const Fleet& fleet, const Translation& translation) {
  FleetSource source;
  source.mesh_clusters = fleet.mesh_cluster_objects;
  uint64_t order = 0;
  for (const Object& o : fleet.mesh_cluster_objects) order = std::max(order, o.order + 1);
  for (const Cluster& c : fleet.clusters) {
    std::vector<Object>& objects = source.cluster_objects[c.name];
    objects.assign(c.objects.begin(), c.objects.end());
    for (const Object& o : objects) order = std::max(order, o.order + 1);
  }
  Diagnostics ignored;
  for (const ClusterOutput& c : translation.clusters) {
    AppendObjects(c.objects, fmt::format(FMT_COMPILE("(generated for {})"), c.cluster), order,
                  source.cluster_objects[c.cluster], ignored);
  }
  return BuildFleet(std::move(source), ignored, /*index_generated=*/true);
}

std::string_view TextStore::Save(std::string_view text) {
  if (text.empty()) return {};
  char* at = nullptr;
  if (text.size() > kBlock / 4) {  // a block of its own, before the one being filled
    auto own = std::make_unique_for_overwrite<char[]>(text.size());
    at = own.get();
    blocks_.insert(blocks_.empty() ? blocks_.end() : blocks_.end() - 1, std::move(own));
    if (blocks_.size() == 1) used_ = kBlock;
  } else {
    if (blocks_.empty() || used_ + text.size() > kBlock) {
      blocks_.push_back(std::make_unique_for_overwrite<char[]>(kBlock));
      used_ = 0;
    }
    at = blocks_.back().get() + used_;
    used_ += text.size();
  }
  std::memcpy(at, text.data(), text.size());
  return {at, text.size()};
}

RouteSimulator::RouteSimulator(const Fleet& fleet)
    : fleet_(fleet), derived_(std::make_unique<Derived>()) {}
RouteSimulator::~RouteSimulator() = default;

bool Simulate(const Fleet& fleet, const SimulateInput& input, Simulation& out, std::string& error) {
  return RouteSimulator(fleet).Simulate(input, out, error);
}

bool RouteSimulator::Simulate(const SimulateInput& input, Simulation& out, std::string& error) {
  out = Simulation{};
  const Fleet& fleet = fleet_;
  const Cluster* cluster = fleet.Find(input.cluster);
  if (!cluster) {
    error = fmt::format(FMT_COMPILE("no cluster `{}` in the fleet"), input.cluster);
    return false;
  }
  auto found = cluster->deployment_by_name.find(input.namespace_ + "/" + input.workload);
  const Deployment* workload = found == cluster->deployment_by_name.end() ? nullptr : found->second;
  if (!workload) {
    error = fmt::format(FMT_COMPILE("cluster {} has no Deployment {}/{}"), input.cluster,
                        input.namespace_, input.workload);
    return false;
  }
  Proxy client;
  client.cluster = cluster;
  client.namespace_ = input.namespace_;
  client.labels = &workload->pod_labels;
  client.name =
      out.text.Save(fmt::format(FMT_COMPILE("sidecar {}/{}"), input.namespace_, input.workload));
  client.cluster_name = out.text.Save(cluster->name);
  std::string principal = fmt::format(FMT_COMPILE("{}/ns/{}/sa/{}"), cluster->mesh.trust_domain,
                                      input.namespace_, workload->service_account);
  Simulator sim(fleet, *derived_, out);
  Branch branch;
  branch.request = input.request;
  branch.hops.reserve(16);  // a call through a federation gateway takes about a dozen
  // A workload that a Gateway selects is a gateway: the request arrives at it from outside.
  bool is_gateway =
      std::any_of(cluster->gateways.begin(), cluster->gateways.end(), [&](const Gateway& g) {
        return !g.selector.empty() && LabelsSubset(g.selector, workload->pod_labels);
      });
  if (is_gateway) {
    client.gateway = true;
    client.name =
        out.text.Save(fmt::format(FMT_COMPILE("gateway {}/{}"), input.namespace_, input.workload));
    sim.RunAtGateway(client, std::move(branch));
    return true;
  }
  sim.Run(client, principal, std::move(branch));
  return true;
}

}  // namespace meshfed
