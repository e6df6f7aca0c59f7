// Donor side (PRODUCT.md section 2; docs/data-plane.md): per exposed name, a Gateway server that
// terminates the federation mTLS, a gateway-bound VirtualService whose routes are the donor's own
// mesh routes for that host, and an AuthorizationPolicy that admits only the listed clusters.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>

#include "core/model/hosts.h"
#include "core/model/text.h"
#include "core/translate/names.h"
#include "core/translate/translate_internal.h"

namespace meshfed::internal {
namespace {

// The mesh VirtualServices that define `fqdn`, as a sidecar in `viewer_namespace` orders them
// (Istio §3.2, SelectVirtualServices): VSs of the viewer's namespace exported privately to it,
// then other namespaces' VSs exported to it by name, then VSs exported to "*"; each group in
// creation order. On sidecars the first one wins and later ones are dropped (§3.3).
std::vector<const VirtualService*> MeshVirtualServicesFor(Context& ctx, const Cluster& cluster,
                                                          const std::string& fqdn,
                                                          std::string_view viewer_namespace) {
  std::array<std::vector<const VirtualService*>, 3> groups;
  for (const VirtualService* vsp : ctx.VirtualServicesForHost(cluster, fqdn)) {
    const VirtualService& vs = *vsp;
    if (!vs.BindsMesh()) continue;
    const std::string& ns = vs.object->namespace_;
    if (!ExportedTo(vs.export_to, ns, viewer_namespace)) continue;
    bool is_public = vs.export_to.empty() ||
                     std::find(vs.export_to.begin(), vs.export_to.end(), "*") != vs.export_to.end();
    if (is_public) {
      groups[2].push_back(&vs);
    } else if (ns == viewer_namespace) {
      groups[0].push_back(&vs);
    } else {
      groups[1].push_back(&vs);
    }
  }
  std::vector<const VirtualService*> out;
  for (auto& g : groups) out.insert(out.end(), g.begin(), g.end());  // already in creation order
  return out;
}

// Whether a proxy in `viewer_namespace` can use `subset` of `fqdn` (Istio §4, PushContext
// destinationRule): the DRs of the viewer's namespace first, then the service's namespace, then
// the root namespace, each only if exported to the viewer; the first namespace with any decides,
// and its DRs merge their subsets.
bool SubsetVisible(Context& ctx, const Cluster& cluster, const std::string& fqdn,
                   std::string_view service_namespace, std::string_view viewer_namespace,
                   std::string_view subset) {
  const std::array<std::string_view, 3> order = {viewer_namespace, service_namespace,
                                                 "istio-system"};
  for (std::string_view ns : order) {
    bool found = false;  // a DestinationRule of `ns` applies: its subsets are the ones visible
    for (const DestinationRule* drp : ctx.DestinationRulesForHost(cluster, fqdn)) {
      const DestinationRule& dr = *drp;
      if (dr.object->namespace_ != ns || dr.has_workload_selector) continue;
      if (!ExportedTo(dr.export_to, ns, viewer_namespace)) continue;
      found = true;
      for (const Subset& s : dr.subsets) {
        if (s.name == subset) return true;
      }
    }
    if (found) return false;
  }
  return false;
}

struct Compiled {
  Node http = Node::Sequence();
  std::vector<std::string> notes;            // what was not carried, and why
  std::vector<std::string> missing_subsets;  // host+subset the gateway cannot resolve
};

class RouteCompiler {
 public:
  RouteCompiler(Context& ctx, const Cluster& donor, std::string gateway_namespace,
                std::vector<int> ports)
      : ctx_(ctx),
        donor_(donor),
        gateway_namespace_(std::move(gateway_namespace)),
        ports_(std::move(ports)) {}

  // The donor VS's http rules as the federation gateway must run them for a caller of `port`:
  // only what a sidecar in the donor would apply (mesh-bound match blocks; `port` matches
  // evaluated statically against the service port, as on a sidecar's listener), destinations
  // made explicit (FQDN hosts, ports), and, with several exposed ports, a header condition that
  // tells them apart at the gateway's single listener.
  void AddVirtualService(const VirtualService& vs, Compiled& out) {
    const std::string& ns = vs.object->namespace_;
    std::set<std::string> noted;
    static const std::vector<Node> kNoRules;
    for (int port : ports_) {
      // A VirtualService without `http` (only tcp/tls, or a typo) has no HTTP routes: as for one
      // whose routes all fall away, the service's default route applies.
      const auto& rules = vs.http ? vs.http->items() : kNoRules;
      for (size_t i = 0; i < rules.size(); ++i) {
        const Node& rule = rules[i];
        if (!rule.IsMapping()) continue;
        // For notes only (rare): made when one is written.
        auto rule_name = [&] { return fmt::format("{} spec.http[{}]", vs.object->name, i); };
        if (rule.Find("delegate")) {
          Note(noted, out,
               fmt::format("{}: delegation is not carried to the federation gateway; "
                           "its requests from remote callers get 404 NR",
                           rule_name()));
          continue;
        }
        const Node* match = rule.Find("match");
        Node blocks = Node::Sequence();
        bool had_blocks = match && match->IsSequence() && !match->items().empty();
        if (had_blocks) {
          for (size_t j = 0; j < match->items().size(); ++j) {
            const Node& block = match->items()[j];
            if (!block.IsMapping()) continue;
            if (const Node* gws = block.Find("gateways"); gws && gws->IsSequence()) {
              bool mesh = std::any_of(gws->items().begin(), gws->items().end(),
                                      [](const Node& g) { return g.text() == "mesh"; });
              if (!mesh) continue;  // applies to other gateways only, never to sidecars
            }
            if (block.Find("sourceLabels") || block.Find("sourceNamespace")) {
              Note(noted, out,
                   fmt::format("{}.match[{}]: sourceLabels/sourceNamespace select donor workloads; "
                               "remote callers are not donor workloads, so this block is left out",
                               rule_name(), j));
              continue;
            }
            if (const Node* p = block.Find("port");
                p && p->IsScalar() && p->text() != std::to_string(port)) {
              continue;  // static: dropped on listener `port`
            }
            Node b = block;
            b.Erase("gateways");
            b.Erase("port");
            AddPortCondition(b, port);
            blocks.Append(std::move(b));
          }
          if (blocks.items().empty()) continue;  // every block filtered: the rule is gone
        } else if (ports_.size() > 1) {
          Node b = Node::Mapping();
          AddPortCondition(b, port);
          blocks.Append(std::move(b));
        }
        Node rebuilt = Node::Mapping(rule.position());  // keeps the rule's source position
        // Room for the rule's entries but its match, and the match if any: kept exactly, not
        // grown by doubling.
        rebuilt.entries().reserve(
            (blocks.items().empty() ? 0 : 1) +
            static_cast<size_t>(std::count_if(rule.entries().begin(), rule.entries().end(),
                                              [](const MapEntry& e) { return e.key != "match"; })));
        if (const Node* name = rule.Find("name")) rebuilt.Add("name", *name);
        if (!blocks.items().empty()) rebuilt.Add("match", std::move(blocks));
        for (const MapEntry& e : rule.entries()) {
          if (e.key == "name" || e.key == "match") continue;
          rebuilt.Set(e.key, e.value);
        }
        FixDestinations(rebuilt, ns, port, out);
        out.http.Append(std::move(rebuilt));
      }
    }
  }

  // No VirtualService: what a sidecar does by default, a route to the service (or to the pinned
  // subset) on each exposed port.
  void AddPlainRoute(const std::string& service_host, const std::string& subset, Compiled& out) {
    for (int port : ports_) {
      Node rule = Node::Mapping();
      if (ports_.size() > 1) {
        Node b = Node::Mapping();
        AddPortCondition(b, port);
        Node blocks = Node::Sequence();
        blocks.Append(std::move(b));
        rule.Add("match", std::move(blocks));
      }
      Node dest = Node::Mapping();
      dest.Add("host", Node::String(service_host));
      if (!subset.empty()) dest.Add("subset", Node::String(subset));
      dest.Add("port", PortNode(port));
      Node wrapper = Node::Mapping();
      wrapper.Add("destination", std::move(dest));
      Node route = Node::Sequence();
      route.Append(std::move(wrapper));
      rule.Add("route", std::move(route));
      CheckSubset(service_host, subset, out);
      out.http.Append(std::move(rule));
    }
  }

 private:
  static void Note(std::set<std::string>& noted, Compiled& out, std::string note) {
    if (noted.insert(note).second) out.notes.push_back(std::move(note));
  }

  void AddPortCondition(Node& block, int port) const {
    if (ports_.size() <= 1) return;
    Node* headers = block.Find("headers");
    if (!headers || !headers->IsMapping()) headers = &block.Set("headers", Node::Mapping());
    Node exact = Node::Mapping();
    exact.Add("exact", Node::String(std::to_string(port)));
    headers->Set(kPortHeader, std::move(exact));
  }

  void CheckSubset(const std::string& host, std::string_view subset, Compiled& out) {
    if (subset.empty()) return;
    const Service* svc = ctx_.ServiceForHost(donor_, host);
    std::string_view service_ns = svc ? std::string_view(svc->object->namespace_) : "";
    if (!SubsetVisible(ctx_, donor_, host, service_ns, gateway_namespace_, subset)) {
      std::string key = host + "+" + std::string(subset);
      if (std::find(out.missing_subsets.begin(), out.missing_subsets.end(), key) ==
          out.missing_subsets.end()) {
        out.missing_subsets.push_back(key);
      }
    }
  }

  void FixDestination(Node& dest, const std::string& ns, int port, Compiled& out) {
    Node* host = dest.Find("host");
    if (!host || !host->IsScalar()) return;
    std::string fqdn = ResolveShortName(host->text(), ns);
    *host = Node::String(fqdn);
    if (!dest.Find("port")) {
      const Service* svc = ctx_.ServiceForHost(donor_, fqdn);
      int chosen = svc && svc->ports.size() == 1 ? svc->ports[0].port : port;
      dest.entries().reserve(dest.entries().size() + 1);  // one more, not twice as many
      dest.Set("port", PortNode(chosen));
    }
    if (const Node* subset = dest.Find("subset"); subset && subset->IsScalar()) {
      CheckSubset(fqdn, subset->text(), out);
    }
  }

  void FixDestinations(Node& rule, const std::string& ns, int port, Compiled& out) {
    if (Node* route = rule.Find("route"); route && route->IsSequence()) {
      for (Node& rd : route->items()) {
        if (Node* dest = rd.Find("destination"); dest && dest->IsMapping()) {
          FixDestination(*dest, ns, port, out);
        }
      }
    }
    if (Node* mirror = rule.Find("mirror"); mirror && mirror->IsMapping()) {
      FixDestination(*mirror, ns, port, out);
    }
    if (Node* mirrors = rule.Find("mirrors"); mirrors && mirrors->IsSequence()) {
      for (Node& m : mirrors->items()) {
        if (Node* dest = m.Find("destination"); dest && dest->IsMapping()) {
          FixDestination(*dest, ns, port, out);
        }
      }
    }
  }

  Context& ctx_;
  const Cluster& donor_;
  std::string gateway_namespace_;
  std::vector<int> ports_;
};

// Ports a donation alias (a VS with no Service of its own) serves: those its routes name, or the
// only port of each service it routes to.
std::vector<int> PortsOfRoutes(Context& ctx, const Cluster& donor, const VirtualService& vs) {
  std::set<int> ports;
  if (!vs.http) return {};
  for (const Node& rule : vs.http->items()) {
    const Node* route = rule.IsMapping() ? rule.Find("route") : nullptr;
    if (!route || !route->IsSequence()) continue;
    for (const Node& rd : route->items()) {
      const Node* dest = rd.IsMapping() ? rd.Find("destination") : nullptr;
      if (!dest || !dest->IsMapping()) continue;
      const Node* port = dest->Find("port");
      const Node* number = port && port->IsMapping() ? port->Find("number") : nullptr;
      if (number && number->IsScalar() && number->scalar_type() == ScalarType::Int) {
        if (int n = ParseIntOr(number->text(), 0); n > 0 && n <= 65535) ports.insert(n);
        continue;
      }
      const Node* host = dest->Find("host");
      if (!host || !host->IsScalar()) continue;
      const Service* svc =
          ctx.ServiceForHost(donor, ResolveShortName(host->text(), vs.object->namespace_));
      if (svc && svc->ports.size() == 1) ports.insert(svc->ports[0].port);
    }
  }
  return {ports.begin(), ports.end()};
}

void Fail(Exposure& e, std::string reason, std::string message) {
  e.ready = false;
  e.reason = std::move(reason);
  e.message = std::move(message);
}

void Warn(Context& ctx, const Exposure& e, const char* code, const std::string& field,
          std::string message) {
  ctx.Warn(Severity::Warning, code, *e.policy->object, e.donor->name, field, std::move(message));
}

// Why the gateway cannot see a subset, when a DestinationRule defines it but its exportTo hides
// it from the gateway's namespace: "; DestinationRule default/reviews (file:line:col) defines
// it, but its exportTo [.] hides it from namespace istio-system ...". Empty otherwise.
std::string HiddenSubsetHint(Context& ctx, const Cluster& donor, const std::string& host_and_subset,
                             const std::string& gateway_namespace) {
  size_t plus = host_and_subset.rfind('+');
  if (plus == std::string::npos) return "";
  std::string host = host_and_subset.substr(0, plus);
  std::string subset = host_and_subset.substr(plus + 1);
  for (const DestinationRule* dr : ctx.DestinationRulesForHost(donor, host)) {
    bool defines = std::any_of(dr->subsets.begin(), dr->subsets.end(),
                               [&](const Subset& s) { return s.name == subset; });
    if (!defines || ExportedTo(dr->export_to, dr->object->namespace_, gateway_namespace)) continue;
    return fmt::format(
        "; {} ({}:{}:{}) defines it, but its exportTo [{}] hides it from namespace {}: add {} "
        "(or \"*\") to its exportTo",
        dr->object->Describe(), dr->object->file, dr->object->position.line,
        dr->object->position.column, fmt::join(dr->export_to, ", "), gateway_namespace,
        gateway_namespace);
  }
  return "";
}

// `winner` is the claim on the same exposed name before this one, if any.
void ExposeEntry(Context& ctx, Exposure& e, const Exposure* winner) {
  const Cluster& donor = *e.donor;
  const ExposedEntry& entry = *e.entry;
  const Object& sep = *e.policy->object;
  const FederationGateway& gw = donor.mesh.federation_gateway;

  // Who may bind it.
  for (size_t i = 0; i < entry.clusters.size(); ++i) {
    const std::string& c = entry.clusters[i];
    if (c == "*") {
      for (const Cluster& other : ctx.fleet.clusters) {
        if (other.name != donor.name) e.allowed_clusters.push_back(other.name);
      }
    } else if (ctx.fleet.Find(c) == nullptr) {
      Warn(ctx, e, code::kUnknownCluster, fmt::format("{}.clusters[{}]", entry.field, i),
           fmt::format("cluster `{}` is not a member of the fleet (no MeshCluster); it is ignored",
                       c));
    } else if (c != donor.name) {
      e.allowed_clusters.push_back(c);
    } else {
      Warn(ctx, e, code::kInvalidValue, fmt::format("{}.clusters[{}]", entry.field, i),
           fmt::format("`{}` is this policy's own cluster; its workloads reach the service "
                       "directly, so listing it grants nothing",
                       c));
    }
  }
  std::sort(e.allowed_clusters.begin(), e.allowed_clusters.end());
  e.allowed_clusters.erase(std::unique(e.allowed_clusters.begin(), e.allowed_clusters.end()),
                           e.allowed_clusters.end());

  // Oldest claim on an exposed name wins (SEPs in creation order, entries in order).
  if (winner) {
    e.conflict = true;
    Fail(e, "Conflict",
         fmt::format("exposed name `{}` is already published by ServiceExpositionPolicy {}/{} {}",
                     e.exposed_name, winner->policy->object->namespace_,
                     winner->policy->object->name, winner->entry->field));
    Warn(ctx, e, code::kExposureConflict, entry.field, e.message);
    return;
  }
  if (e.allowed_clusters.empty()) {
    Fail(e, "UnknownCluster",
         "no cluster listed in `clusters` is another member of the fleet, so nobody may bind it");
    return;
  }

  // What the exposed name routes with.
  const std::string service_host = ServiceFqdn(entry.name, e.namespace_);
  const Service* service = ctx.FindService(donor, e.namespace_, entry.name);
  std::vector<const VirtualService*> vss;
  if (entry.subset.empty()) vss = MeshVirtualServicesFor(ctx, donor, service_host, e.namespace_);
  const VirtualService* vs = vss.empty() ? nullptr : vss.front();
  if (!entry.subset.empty() && !service) {
    std::vector<const VirtualService*> alias_vss =
        MeshVirtualServicesFor(ctx, donor, service_host, e.namespace_);
    Fail(e, "NotFound",
         alias_vss.empty()
             ? fmt::format("`subset` pins a subset of the Service `{}`, but namespace {} of "
                           "cluster {} has no such Service",
                           entry.name, e.namespace_, donor.name)
             : fmt::format("`subset` pins a subset of a Service, but `{}` is a host of {} (a "
                           "donation alias), not a Service: expose the alias without `subset`, "
                           "or pin the subset of the Service it routes to",
                           entry.name, alias_vss.front()->object->Describe()));
    Warn(ctx, e, code::kExposedNameNotFound, entry.field + ".name", e.message);
    return;
  }
  if (!vs && !service) {
    // A VirtualService for the name that does not apply to sidecars says more than "nothing".
    const VirtualService* gateway_only = nullptr;
    for (const VirtualService* v : ctx.VirtualServicesForHost(donor, service_host)) {
      if (!v->BindsMesh() && v->object->namespace_ == e.namespace_) gateway_only = v;
    }
    Fail(e, "NotFound",
         gateway_only
             ? fmt::format("`{}` is a host only of {}, which is bound to gateways ({}) and not "
                           "to `mesh`; a donation alias must apply to sidecars: add `mesh` to "
                           "its gateways",
                           entry.name, gateway_only->object->Describe(),
                           fmt::join(gateway_only->gateways, ", "))
             : fmt::format("`{}` matches no Service and no VirtualService host in namespace {} "
                           "of cluster {}; nothing is exposed",
                           entry.name, e.namespace_, donor.name));
    Warn(ctx, e, code::kExposedNameNotFound, entry.field + ".name", e.message);
    return;
  }

  // Ports.
  if (service) {
    for (const ServicePort& p : service->ports) {
      if (entry.port && p.port != *entry.port) continue;
      if (!p.CarriesHttp()) continue;
      e.ports.push_back(p.port);
    }
    if (entry.port && e.ports.empty()) {
      bool exists = std::any_of(service->ports.begin(), service->ports.end(),
                                [&](const ServicePort& p) { return p.port == *entry.port; });
      Fail(e, exists ? "UnsupportedProtocol" : "PortNotFound",
           exists ? fmt::format("port {} of Service {}/{} is not an HTTP port; federation routes "
                                "HTTP only",
                                *entry.port, e.namespace_, entry.name)
                  : fmt::format("Service {}/{} has no port {}", e.namespace_, entry.name,
                                *entry.port));
      Warn(ctx, e, code::kInvalidValue, entry.field + ".port", e.message);
      return;
    }
  } else if (entry.port) {
    e.ports.push_back(*entry.port);
  } else {
    e.ports = PortsOfRoutes(ctx, donor, *vs);
  }
  std::sort(e.ports.begin(), e.ports.end());
  if (e.ports.empty()) {
    Fail(e, "PortNotFound",
         "cannot tell which port to expose: no HTTP port on the Service and none named by the "
         "VirtualService's destinations; set `port`");
    Warn(ctx, e, code::kInvalidValue, entry.field, e.message);
    return;
  }

  // Routes.
  Compiled compiled;
  RouteCompiler compiler(ctx, donor, gw.namespace_, e.ports);
  bool routes_from_vs = false;  // whether e.target is the VirtualService
  if (vs) {
    e.target = vs->object->Describe();
    routes_from_vs = true;
    compiler.AddVirtualService(*vs, compiled);
    if (vss.size() > 1) {
      compiled.notes.push_back(fmt::format(
          "{} VirtualServices define host {}; as on sidecars the oldest, {}, is the one used "
          "(IST0109)",
          vss.size(), service_host, vs->object->Describe()));
    }
    if (compiled.http.items().empty() && service) {
      // Static filtering removed every route: Istio then ignores the VS (default route).
      compiled.notes.push_back(
          fmt::format("no route of {} applies to sidecars; the service's "
                      "default route is used, as Istio does",
                      vs->object->Describe()));
      e.target = service->object->Describe();
      routes_from_vs = false;
      compiler.AddPlainRoute(service_host, "", compiled);
    }
  } else {
    e.target = service->object->Describe();
    if (!entry.subset.empty()) AppendText(e.target, " subset ", entry.subset);
    compiler.AddPlainRoute(service_host, entry.subset, compiled);
  }
  if (compiled.http.items().empty()) {
    Fail(e, "NoRoutes",
         fmt::format("no route of {} applies to mesh callers, so remote callers would get 404",
                     e.target));
    Warn(ctx, e, code::kRouteNotCarried, entry.field, e.message);
    return;
  }
  for (const std::string& note : compiled.notes) {
    Warn(ctx, e, code::kRouteNotCarried, entry.field, note);
  }
  if (!entry.subset.empty() && !compiled.missing_subsets.empty()) {
    Fail(e, "SubsetNotFound",
         fmt::format(
             "subset `{}` of {} is not defined in any DestinationRule the federation "
             "gateway (namespace {}) can see{}",
             entry.subset, service_host, gw.namespace_,
             HiddenSubsetHint(ctx, donor, service_host + "+" + entry.subset, gw.namespace_)));
    Warn(ctx, e, code::kSubsetNotFound, entry.field + ".subset", e.message);
    return;
  }

  // The objects.
  const std::string name = GeneratedName({e.exposed_name, e.namespace_});
  // Every object's annotations name the exposed host; the VirtualService's also name the donor
  // VirtualService its routes come from, when they do.
  const Annotation notes[] = {{kExposedHostAnnotation, e.host}, {kRoutesFromAnnotation, e.target}};
  const std::span<const Annotation> vs_notes(notes, routes_from_vs ? 2 : 1);
  std::vector<Node> objects;
  objects.reserve(3);

  // What every exposure of this donor holds alike is made once per translation and shared: the
  // gateway's port, TLS mode and selector (the donor's MeshCluster is the same throughout).
  Node server = Node::MappingWithRoom(3);
  server.Add("port", ctx.shared.Get("Gateway.port/" + donor.name, [&] {
    Node port = Node::MappingWithRoom(3);
    port.Add("number", Node::Int(gw.port));
    port.Add("name", Node::String("https-meshfed"));
    port.Add("protocol", Node::String("HTTPS"));
    return port;
  }));
  server.Add("hosts", StringList({ConcatText(gw.namespace_, "/", e.host)}));
  server.Add("tls", ctx.shared.Get("Gateway.tls", [] {
    Node tls = Node::MappingWithRoom(1);
    tls.Add("mode", Node::String("ISTIO_MUTUAL"));
    return tls;
  }));
  // The Gateway's and the AuthorizationPolicy's metadata is one shared value; the VirtualService
  // shares its labels.
  const Node labels = ctx.shared.Labels(sep);
  const Node meta = Node::Share(GeneratedMetadata(name, gw.namespace_, sep, labels, {notes, 1}));
  Node gateway = NewObject("networking.istio.io/v1", "Gateway", meta);
  Node gspec = Node::MappingWithRoom(2);
  const Node selector = ctx.shared.Get("Gateway.selector/" + donor.name, [&] {
    Node match = Node::MappingWithRoom(gw.selector.size());
    for (const auto& [k, v] : gw.selector) match.Add(k, Node::String(v));
    return match;
  });
  gspec.Add("selector", selector);
  Node servers = Node::SequenceWithRoom(1);
  servers.Append(std::move(server));
  gspec.Add("servers", std::move(servers));
  gateway.Add("spec", std::move(gspec));
  objects.push_back(std::move(gateway));

  Node vsobj = NewObject("networking.istio.io/v1", "VirtualService",
                         GeneratedMetadata(name, gw.namespace_, sep, labels, vs_notes));
  Node vspec = Node::MappingWithRoom(4);
  vspec.Add("hosts", StringList({e.host}));
  vspec.Add("gateways", StringList({ConcatText(gw.namespace_, "/", name)}));
  vspec.Add("exportTo", StringList({"."}));
  vspec.Add("http", std::move(compiled.http));
  vsobj.Add("spec", std::move(vspec));
  objects.push_back(std::move(vsobj));

  Node ap = NewObject("security.istio.io/v1", "AuthorizationPolicy", meta);
  Node aspec = Node::MappingWithRoom(3);
  Node match_labels = Node::MappingWithRoom(1);
  match_labels.Add("matchLabels", selector);
  aspec.Add("selector", std::move(match_labels));
  aspec.Add("action", Node::String("ALLOW"));
  // The clusters' trust domains are the same throughout a translation (their MeshClusters).
  Node from = ctx.shared.Get(
      ConcatText("AuthorizationPolicy.from/", JoinText(e.allowed_clusters, "/")), [&] {
        std::vector<std::string> principals;
        for (const std::string& c : e.allowed_clusters) {
          principals.push_back(ctx.fleet.Find(c)->mesh.trust_domain + "/*");
        }
        Node source = Node::MappingWithRoom(1);
        source.Add("principals", StringList(principals));
        Node from_item = Node::MappingWithRoom(1);
        from_item.Add("source", std::move(source));
        Node list = Node::SequenceWithRoom(1);
        list.Append(std::move(from_item));
        return list;
      });
  Node operation = Node::MappingWithRoom(1);
  operation.Add("hosts", StringList({e.host, e.host + ":*"}));
  Node to_item = Node::MappingWithRoom(1);
  to_item.Add("operation", std::move(operation));
  Node to = Node::SequenceWithRoom(1);
  to.Append(std::move(to_item));
  Node rule = Node::MappingWithRoom(2);
  rule.Add("from", std::move(from));
  rule.Add("to", std::move(to));
  Node rules = Node::SequenceWithRoom(1);
  rules.Append(std::move(rule));
  aspec.Add("rules", std::move(rules));
  ap.Add("spec", std::move(aspec));
  objects.push_back(std::move(ap));

  std::string who;
  if (ctx.CollidesWithUserObject(donor, ObjectKeys(objects), who)) {
    e.conflict = true;
    Fail(e, "Conflict",
         fmt::format("{} exists and is not managed by meshfed; meshfed never overwrites it", who));
    Warn(ctx, e, code::kOwnershipConflict, entry.field, e.message);
    return;
  }
  for (Node& o : objects) ctx.out.objects.push_back(std::move(o));
  e.generated = true;
  if (!compiled.missing_subsets.empty()) {
    std::string list, hints;
    for (const std::string& s : compiled.missing_subsets) {
      list += (list.empty() ? "" : ", ") + s;
      if (hints.empty()) hints = HiddenSubsetHint(ctx, donor, s, gw.namespace_);
    }
    Fail(e, "SubsetNotFound",
         fmt::format("routes of {} name subsets the federation gateway (namespace {}) cannot see: "
                     "{}; those requests get 503 NC{}",
                     e.target, gw.namespace_, list, hints));
    Warn(ctx, e, code::kSubsetNotFound, entry.field, e.message);
    return;
  }
  e.ready = true;
  e.reason = "Exposed";
  e.message =
      ConcatText(e.host, " routes with ", e.target, " on port(s) ", JoinText(e.ports, ", "));
}

}  // namespace

void ExposeClaims(const Fleet& fleet, const Cluster& donor, const std::vector<Claim>& claims,
                  SharedValues& shared, ExposureUnit& unit) {
  Context ctx{fleet, unit, shared};
  unit.exposures.reserve(claims.size());  // later claims point to the first
  for (const Claim& claim : claims) {
    Exposure e;
    e.donor = &donor;
    e.policy = claim.policy;
    e.entry = claim.entry;
    e.entry_index = static_cast<size_t>(claim.entry - claim.policy->exposed.data());
    e.namespace_ = claim.policy->object->namespace_;
    e.exposed_name = claim.entry->exposed_name();
    e.host = ServiceFqdn(e.exposed_name, e.namespace_);
    unit.exposures.push_back(std::move(e));
    ExposeEntry(ctx, unit.exposures.back(),
                unit.exposures.size() > 1 ? &unit.exposures.front() : nullptr);
    if (unit.track_dependencies) {
      std::string status = StatusKey(donor.name, *claim.policy->object);
      if (unit.status_keys.empty() || unit.status_keys.back() != status) {
        unit.status_keys.push_back(std::move(status));
      }
    }
  }
}

}  // namespace meshfed::internal
