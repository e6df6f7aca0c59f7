#include "core/validate/validate.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <set>
#include <tuple>
#include <unordered_map>

#include "core/model/gateway_servers.h"
#include "core/model/hosts.h"
#include "core/model/text.h"
#include "core/translate/names.h"
#include "core/validate/istio_rules.h"
#include "core/validate/schema.h"

namespace meshfed {

void ValidateObject(const Object& o, const std::string& cluster, Diagnostics& diagnostics) {
  if (o.ManagedByMeshfed() || !HasIstioSchema(o)) return;
  // Unlike the API server (which stops at the schema), the webhook rules run even when the
  // schema layer found errors, so that one run lists every problem; they skip values of the
  // wrong type.
  CheckIstioSchema(o, cluster, diagnostics);
  CheckIstioRules(o, cluster, diagnostics);
}

void ValidateObjects(const Fleet& fleet, Diagnostics& diagnostics) {
  for (const Cluster& c : fleet.clusters) {
    for (const Object& o : c.objects) ValidateObject(o, c.name, diagnostics);
  }
}

namespace {

// Calls `fn` with each object of `kind` meshfed generates in a cluster: a cluster's output is
// sorted by kind (ClusterOutput), so the objects of one kind are found by bisection and the others'
// trees are not touched.
template <typename Fn>
void ForEachGenerated(const ClusterOutput& output, std::string_view kind, Fn fn) {
  auto kind_of = [](const Node& o) { return ScalarText(o.Find("kind")); };
  assert(std::is_sorted(output.objects.begin(), output.objects.end(),
                        [&](const Node& a, const Node& b) { return kind_of(a) < kind_of(b); }));
  auto it = std::partition_point(output.objects.begin(), output.objects.end(),
                                 [&](const Node& o) { return kind_of(o) < kind; });
  for (; it != output.objects.end() && kind_of(*it) == kind; ++it) fn(*it);
}

// What meshfed generates in one cluster that user objects may refer to, by host: one table, not
// one per question, since the large fleet's acceptors generate some seventy thousand hosts.
class GeneratedFacts {
 public:
  struct Fact {
    std::string_view exposed;  // the exposed host a bound name or an internal host stands for
    bool host = false;         // a generated Service's FQDN or ServiceEntry's host
    bool bound = false;        // a bound name: a Service meshfed binds from another cluster
    bool internal = false;     // the internal host of a bound name (name.ns.meshfed.internal)
  };

  // Only the generated Services and ServiceEntries are read; the other objects' trees are not
  // touched. The facts refer to the output's text.
  explicit GeneratedFacts(const ClusterOutput* output) {
    if (output == nullptr) return;
    // About half of what meshfed generates names a host (an acceptor's Service and ServiceEntry).
    by_host_.reserve(output->objects.size() / 2);
    ForEachGenerated(*output, "Service", [&](const Node& o) {
      const Node* meta = o.Find("metadata");
      if (!meta) return;
      std::string_view name = ScalarText(meta->Find("name"));
      std::string_view ns = ScalarText(meta->Find("namespace"));
      Fact& fqdn = by_host_[ServiceFqdn(name, ns)];
      fqdn.host = true;
      const Node* annotations = meta->Find("annotations");
      if (const Node* exposed = annotations ? annotations->Find(kExposedHostAnnotation) : nullptr) {
        fqdn.bound = true;
        fqdn.exposed = exposed->text();
        Fact& f = by_host_[InternalHost(name, ns)];
        f.internal = true;
        f.exposed = exposed->text();
      }
    });
    ForEachGenerated(*output, "ServiceEntry", [&](const Node& o) {
      const Node* spec = o.Find("spec");
      const Node* hosts = spec ? spec->Find("hosts") : nullptr;
      if (hosts == nullptr || !hosts->IsSequence()) return;
      for (const Node& h : hosts->items()) by_host_[ToLower(h.text())].host = true;
    });
  }

  // What is known of `host` (resolved, lower case); null: nothing meshfed generates.
  const Fact* Find(const std::string& host) const {
    auto it = by_host_.find(host);
    return it == by_host_.end() ? nullptr : &it->second;
  }
  bool Generates(const std::string& host) const {
    const Fact* f = Find(host);
    return f != nullptr && f->host;
  }

 private:
  std::unordered_map<std::string, Fact> by_host_;
};

const Node* Get(const Node* n, std::string_view key) {
  return n && n->IsMapping() ? n->Find(key) : nullptr;
}
const std::vector<Node>& ItemsOf(const Node* n) {
  static const std::vector<Node> kNone;
  return n && n->IsSequence() ? n->items() : kNone;
}

std::vector<int> PortsOfServiceEntry(const ServiceEntry& se) {
  std::vector<int> ports;
  for (const Node& p : ItemsOf(Get(se.object->spec(), "ports"))) {
    int n = ParseIntOr(ScalarText(Get(&p, "number")), 0);
    if (n > 0) ports.push_back(n);
  }
  return ports;
}

class Analyzer {
 public:
  Analyzer(const Cluster& c, const GeneratedFacts& facts, Diagnostics& d)
      : cluster_(c), facts_(facts), diagnostics_(d) {}

  void Report(const char* code, const Object& o, const Node* at, const std::string& field,
              std::string message) {
    Position pos = at ? at->position() : o.position;
    if (pos.line == 0) pos = o.position;
    diagnostics_.push_back(Diagnostic{Severity::Warning, code, o.file, pos, o.Ref(cluster_.name),
                                      field, std::move(message)});
  }

  void Run() {
    for (const VirtualService& vs : cluster_.virtual_services) {
      Destinations(vs);
      Gateways(vs);
    }
    MeshHostConflicts();
    for (const DestinationRule& dr : cluster_.destination_rules) DestinationRuleChecks(dr);
  }

  // ---- The federation gateway's port: MF2012 ----

  // Istio merges the Gateways meshfed generates with the user's Gateways that select the
  // federation gateway's pods, oldest first (core/model/gateway_servers.h); meshfed's come last,
  // as they are written after the user's exist. A user's server can then keep meshfed's out of
  // the merge, or match an SNI name one of meshfed's matches, so that Envoy rejects the port's
  // listener. Either way exposed hosts cannot be reached. One finding per user server and kind,
  // naming what it costs.
  void FederationPort(const ClusterOutput* output) {
    if (output == nullptr) return;
    const FederationGateway& fg = cluster_.mesh.federation_gateway;
    GatewayPortServers merge;
    // The cluster's Gateways are the user's: generated objects read back are not indexed.
    for (const Gateway* g : GatewaysSelecting(cluster_.gateways, fg.selector)) {
      merge.OfferGateway(*g, fg.port);
    }
    const size_t user_servers = merge.servers().size();
    std::vector<Finding> findings;
    auto finding = [&](Finding::Kind kind, const Gateway* g, size_t index) -> Finding& {
      for (Finding& f : findings) {
        if (f.kind == kind && f.gateway == g && f.index == index) return f;
      }
      Finding& f = findings.emplace_back();
      f.kind = kind;
      f.gateway = g;
      f.index = index;
      return f;
    };
    auto add = [](std::vector<std::string>& list, std::string item) {
      if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(std::move(item));
    };
    bool any = false;
    ForEachGenerated(*output, "Gateway", [&](const Node& o) {
      const Node* meta = o.Find("metadata");
      const Node* servers = Get(o.Find("spec"), "servers");
      if (!meta || !servers || !servers->IsSequence()) return;
      const std::vector<Node>& items = servers->items();
      for (size_t i = 0; i < items.size(); ++i) {
        std::optional<GatewayServer> s =
            ReadGatewayServer(ScalarText(meta->Find("namespace")), items[i], i, fg.port);
        if (!s || s->hosts.empty()) continue;
        any = true;
        std::string host = s->hosts.front().second;
        GatewayPortServers::Verdict v = merge.Offer(std::move(*s));
        if (v.skip == GatewayPortServers::Skip::kNone || v.by.gateway == nullptr) continue;
        if (v.skip == GatewayPortServers::Skip::kDuplicateHost) {
          Finding& f = finding(Finding::kDuplicateHost, v.by.gateway, v.by.index);
          add(f.names, v.host);
          f.hosts.push_back(std::move(host));
        } else {
          finding(Finding::kPlaintextPort, v.by.gateway, v.by.index).hosts.push_back(host);
        }
      }
    });
    if (!any) return;
    // Once Envoy rejects the listener, no host on the port works: every one of meshfed's servers
    // that the merge kept.
    const std::vector<GatewayServer>& merged = merge.servers();
    std::vector<std::string> kept;
    for (size_t i = user_servers; i < merged.size(); ++i) {
      kept.push_back(merged[i].hosts.front().second);
    }
    for (const GatewayPortServers::Overlap& o : merge.Overlaps()) {
      const GatewayServer& first = merged[o.first];
      const GatewayServer& second = merged[o.second];
      if (first.gateway == nullptr) continue;  // meshfed's servers name distinct hosts
      Finding& f = finding(second.gateway == nullptr ? Finding::kSameSni : Finding::kUserOverlap,
                           second.gateway == nullptr ? first.gateway : second.gateway,
                           second.gateway == nullptr ? first.index : second.index);
      add(f.names, o.sni);
      f.hosts = kept;
      if (second.gateway != nullptr && f.other.empty()) {
        f.other =
            fmt::format("spec.servers[{}] of {}", first.index, first.gateway->object->Describe());
      }
    }
    const std::string where = fmt::format("port {} of cluster {}'s federation gateway ({})",
                                          fg.port, cluster_.name, SelectorText(fg));
    for (const Finding& f : findings) {
      if (f.hosts.empty()) continue;
      const Object& gw = *f.gateway->object;
      const Node* node = ItemsOf(Get(gw.spec(), "servers")).data() + f.index;
      const std::string cost =
          ListText(f.hosts, "exposed host cannot be reached:", "exposed hosts cannot be reached:");
      const std::string names = ListText(f.names, "", "");
      constexpr std::string_view kEnvoyRejects =
          "Envoy rejects a listener whose filter chains match one name alike (\"multiple filter "
          "chains with the same matching rules are defined\"): a gateway that starts with this "
          "config has no listener on the port, and one already running keeps its last accepted "
          "listener";
      std::string message;
      switch (f.kind) {
        case Finding::kPlaintextPort:
          message = fmt::format(
              "this {} is the first server on {} and makes the port plaintext, so Istio skips "
              "the HTTPS servers meshfed generates there (\"conflict with existing server\"), and "
              "{}. Move this server to another port, or give MeshCluster {} a free "
              "spec.federationGateway.port",
              ServerText(merged.front()), where, cost, cluster_.name);
          break;
        case Finding::kDuplicateHost:
          message = fmt::format(
              "this server, older than meshfed's, has `tls` and names {} on {}, so Istio skips "
              "the server meshfed generates for the same host (\"duplicate host names\"), and {}. "
              "Remove {} from this server",
              names, where, cost, f.names.size() == 1 ? "it" : "them");
          break;
        case Finding::kSameSni:
          message = fmt::format(
              "this server terminates TLS for SNI {} on {}, as the server meshfed generates for "
              "that host does; {}, so {}. Remove {} from this server",
              names, where, kEnvoyRejects, cost, f.names.size() == 1 ? "it" : "them");
          break;
        case Finding::kUserOverlap:
          message = fmt::format(
              "this server and {} both terminate TLS for SNI {} on {}; {}, so the servers "
              "meshfed generates there do not work either, and {}. Give the two servers "
              "distinct hosts",
              f.other, names, where, kEnvoyRejects, cost);
          break;
      }
      Report(code::kFederationServerKeptOut, gw, node, fmt::format("spec.servers[{}]", f.index),
             std::move(message));
    }
  }

 private:
  struct Finding {
    enum Kind { kPlaintextPort, kDuplicateHost, kSameSni, kUserOverlap } kind = kPlaintextPort;
    const Gateway* gateway = nullptr;  // the user's Gateway whose server causes it
    size_t index = 0;                  // the server, in spec.servers
    std::vector<std::string> names;    // the hosts or SNI names in question, as Istio sees them
    std::vector<std::string> hosts;    // the exposed hosts it costs
    std::string other;                 // kUserOverlap: the other server
  };

  // "istio=eastwestgateway in istio-system".
  static std::string SelectorText(const FederationGateway& fg) {
    std::string out;
    for (const auto& [k, v] : fg.selector) {
      if (!out.empty()) out += ',';
      out += k + '=' + v;
    }
    return fmt::format("{} in {}", out.empty() ? "every gateway" : out, fg.namespace_);
  }

  // "HTTP server", "TCP server without `tls`": what makes a port plaintext.
  static std::string ServerText(const GatewayServer& s) {
    std::string_view protocol = ScalarText(Get(Get(s.node, "port"), "protocol"));
    return s.Http() ? fmt::format("{} server", protocol)
                    : fmt::format("{} server without `tls`", protocol);
  }

  // "a, b, c and 2 more", after "<n> <one|many>: " when those are given.
  static std::string ListText(const std::vector<std::string>& items, std::string_view one,
                              std::string_view many) {
    constexpr size_t kShown = 3;
    std::string out;
    if (!one.empty()) {
      out = fmt::format("{} {} ", items.size(), items.size() == 1 ? one : many);
    }
    for (size_t i = 0; i < items.size() && i < kShown; ++i) {
      if (i > 0) out += ", ";
      out += items[i];
    }
    if (items.size() > kShown) out += fmt::format(" and {} more", items.size() - kShown);
    return out;
  }

  // ---- VirtualService destinations: IST0101, IST0112, MF2010, MF2011 ----

  // Where a destination is: spec.<list>[rule], then .<step>[index] when there is a step, then
  // .<leaf>. Written out only for a diagnostic: most destinations have none.
  struct DestinationField {
    std::string_view list;  // http, tls, tcp
    size_t rule = 0;
    std::string_view step;  // route, mirrors; empty: none
    size_t index = 0;
    std::string_view leaf;  // destination, mirror
    std::string Str(std::string_view more = {}) const {
      std::string f = fmt::format("spec.{}[{}]", list, rule);
      if (!step.empty()) f += fmt::format(".{}[{}]", step, index);
      f += '.';
      f += leaf;
      f += more;
      return f;
    }
  };

  void Destinations(const VirtualService& vs) {
    const Node* spec = vs.object->spec();
    const std::vector<Node>& http = ItemsOf(Get(spec, "http"));
    for (size_t i = 0; i < http.size(); ++i) {
      const std::vector<Node>& routes = ItemsOf(Get(&http[i], "route"));
      for (size_t j = 0; j < routes.size(); ++j) {
        Destination(vs, &http[i], Get(&routes[j], "destination"),
                    {"http", i, "route", j, "destination"}, false);
      }
      Destination(vs, &http[i], Get(&http[i], "mirror"), {"http", i, {}, 0, "mirror"}, true);
      const std::vector<Node>& mirrors = ItemsOf(Get(&http[i], "mirrors"));
      for (size_t j = 0; j < mirrors.size(); ++j) {
        Destination(vs, &http[i], Get(&mirrors[j], "destination"),
                    {"http", i, "mirrors", j, "destination"}, true);
      }
    }
    for (const char* list : {"tls", "tcp"}) {
      const std::vector<Node>& rules = ItemsOf(Get(spec, list));
      for (size_t i = 0; i < rules.size(); ++i) {
        const std::vector<Node>& routes = ItemsOf(Get(&rules[i], "route"));
        for (size_t j = 0; j < routes.size(); ++j) {
          Destination(vs, nullptr, Get(&routes[j], "destination"),
                      {list, i, "route", j, "destination"}, false);
        }
      }
    }
  }

  void Destination(const VirtualService& vs, const Node* http_route, const Node* d,
                   const DestinationField& field, bool mirror) {
    const Node* host_node = Get(d, "host");
    if (!host_node || !host_node->IsString()) return;
    std::string_view host = host_node->text();
    if (host.empty() || host.front() == '*') return;
    const std::string& ns = vs.object->namespace_;
    std::string resolved = ToLower(ResolveShortName(host, ns));
    const Object& o = *vs.object;
    const GeneratedFacts::Fact* fact = facts_.Find(resolved);
    if (fact != nullptr && fact->bound) {
      std::string local = resolved.substr(0, resolved.find(".svc."));
      Report(code::kRoutesToBoundName, o, host_node, field.Str(".host"),
             fmt::format("`{}` is a name meshfed binds from another cluster ({}); VirtualServices "
                         "do not chain, so this route goes to the bound Service itself, which has "
                         "no endpoints: callers get 503 UH. Route to `{}` with "
                         "`rewrite.authority: {}` instead, or bind the remote service under the "
                         "name your callers use",
                         host, fact->exposed, InternalHost(local.substr(0, local.find('.')), ns),
                         fact->exposed));
      return;
    }
    if (fact != nullptr && fact->internal) {
      // The gateway matches the host without the port (Envoy strips it for virtual-host matching,
      // and the generated AuthorizationPolicy admits `host:*`).
      std::string authority = ToLower(ScalarText(Get(Get(http_route, "rewrite"), "authority")));
      if (size_t colon = authority.rfind(':');
          colon != std::string::npos && authority.find(']') == std::string::npos) {
        authority.resize(colon);
      }
      if (http_route != nullptr && authority != fact->exposed) {
        Report(code::kRoutesToInternalHost, o, host_node, field.Str(".host"),
               fmt::format("`{}` reaches the donor's federation gateway, which admits and routes "
                           "only the exposed name; without `rewrite.authority: {}` on this route "
                           "the request keeps its own authority and the gateway denies it (403; "
                           "were it admitted, no route would match: 404)",
                           host, fact->exposed));
      }
      return;
    }
    std::vector<int> ports;
    bool found = false;
    if (const Service* svc = cluster_.ServiceForHost(resolved);
        svc && ExportedTo(svc->export_to, svc->object->namespace_, ns)) {
      found = true;
      for (const ServicePort& p : svc->ports) ports.push_back(p.port);
    }
    if (!found) {
      for (const ServiceEntry* se : cluster_.service_entries_by_host.count(resolved)
                                        ? cluster_.service_entries_by_host.at(resolved)
                                        : std::vector<const ServiceEntry*>{}) {
        if (!ExportedTo(se->export_to, se->object->namespace_, ns)) continue;
        found = true;
        ports = PortsOfServiceEntry(*se);
        break;
      }
    }
    if (!found) {
      for (const ServiceEntry* se : cluster_.wildcard_service_entries) {
        if (!ExportedTo(se->export_to, se->object->namespace_, ns)) continue;
        for (const std::string& h : se->hosts) {
          if (HostsOverlap(ToLower(h), resolved)) found = true;
        }
        if (found) {
          ports = PortsOfServiceEntry(*se);
          break;
        }
      }
    }
    if (!found && fact != nullptr && fact->host) return;  // meshfed generates it
    if (!found) {
      Report(code::kReferencedResourceNotFound, o, host_node, field.Str(".host"),
             fmt::format("Referenced {} not found: \"{}\"", mirror ? "mirror host" : "host", host));
      return;
    }
    const Node* port_node = Get(Get(d, "port"), "number");
    if (!port_node) {
      if (ports.size() > 1) {
        Report(code::kDestinationPortSelectorRequired, o, host_node, field.Str(),
               fmt::format("This VirtualService routes to a service \"{}\" that exposes multiple "
                           "ports [{}]. Specifying a port in the destination is required to "
                           "disambiguate.",
                           host, fmt::join(ports, " ")));
      }
    } else if (int port = ParseIntOr(ScalarText(port_node), 0);
               port > 0 && std::find(ports.begin(), ports.end(), port) == ports.end()) {
      Report(code::kReferencedResourceNotFound, o, port_node, field.Str(".port.number"),
             fmt::format("Referenced host:port not found: \"{}:{}\"", host, port));
    }
    const Node* subset_node = Get(d, "subset");
    if (subset_node && subset_node->IsString() && !subset_node->text().empty() &&
        !SubsetDefined(resolved, subset_node->text(), ns)) {
      Report(code::kReferencedResourceNotFound, o, subset_node, field.Str(".subset"),
             fmt::format("Referenced {} in destinationrule not found: \"{}+{}\"",
                         mirror ? "mirror+subset" : "host+subset", host, subset_node->text()));
    }
  }

  bool SubsetDefined(const std::string& host, std::string_view subset,
                     const std::string& viewer_namespace) const {
    auto defines = [&](const DestinationRule* dr) {
      if (!ExportedTo(dr->export_to, dr->object->namespace_, viewer_namespace)) return false;
      return std::any_of(dr->subsets.begin(), dr->subsets.end(),
                         [&](const Subset& s) { return s.name == subset; });
    };
    for (const DestinationRule* dr : cluster_.DestinationRulesForHost(host)) {
      if (defines(dr)) return true;
    }
    for (const DestinationRule* dr : cluster_.wildcard_destination_rules) {
      if (HostsOverlap(ToLower(ResolveShortName(dr->host, dr->object->namespace_)), host) &&
          defines(dr)) {
        return true;
      }
    }
    return false;
  }

  // ---- VirtualService gateways: IST0101 (gateway), IST0132 ----

  void Gateways(const VirtualService& vs) {
    const Node* list = Get(vs.object->spec(), "gateways");
    const std::vector<Node>& refs = ItemsOf(list);
    for (size_t i = 0; i < refs.size(); ++i) {
      if (!refs[i].IsString() || refs[i].text() == "mesh") continue;
      std::string resolved = ResolveGatewayReference(refs[i].text(), vs.object->namespace_);
      size_t slash = resolved.find('/');
      std::string gw_ns = resolved.substr(0, slash);
      std::string gw_name = resolved.substr(slash + 1);
      const Object* gw = cluster_.FindObject(kNetworkingGroup, "Gateway", gw_ns, gw_name);
      std::string field = fmt::format("spec.gateways[{}]", i);
      if (gw == nullptr) {
        Report(code::kReferencedResourceNotFound, *vs.object, &refs[i], field,
               fmt::format("Referenced gateway not found: \"{}\"", refs[i].text()));
        continue;
      }
      std::vector<std::pair<std::string, std::string>> server_hosts;  // namespace, dnsName
      for (const Node& server : ItemsOf(Get(gw->spec(), "servers"))) {
        for (const Node& h : ItemsOf(Get(&server, "hosts"))) {
          std::string text(ScalarText(&h));
          size_t s = text.find('/');
          if (s == std::string::npos) {
            server_hosts.emplace_back("*", ToLower(text));
          } else {
            std::string ns = text.substr(0, s);
            server_hosts.emplace_back(ns == "." ? gw_ns : ns, ToLower(text.substr(s + 1)));
          }
        }
      }
      for (const std::string& h : vs.hosts) {
        std::string lower = ToLower(h);
        std::string resolved_host = ToLower(ResolveShortName(h, vs.object->namespace_));
        bool found = std::any_of(server_hosts.begin(), server_hosts.end(), [&](const auto& sh) {
          if (sh.first != "*" && sh.first != vs.object->namespace_) return false;
          return HostsOverlap(lower, sh.second) || HostsOverlap(resolved_host, sh.second);
        });
        if (!found) {
          Report(code::kHostNotFoundInGateway, *vs.object, &refs[i], field,
                 fmt::format("one or more host {} defined in VirtualService {}/{} not found in "
                             "Gateway {}/{}.",
                             h, vs.object->namespace_, vs.object->name, gw_ns, gw_name));
        }
      }
    }
  }

  // ---- IST0109: two mesh VirtualServices for one host ----
  //
  // As conflictingmeshgatewayhosts.go: a mesh VirtualService's hosts are scoped to all namespaces
  // when it is exported to all (no exportTo, or "*"), else to its own namespace; VirtualServices
  // sharing a scoped host conflict, and so do those of a namespace scope with the public ones.

  void MeshHostConflicts() {
    // Grouped by a hash table, and only the groups that conflict sorted: a cluster has thousands
    // of VirtualServices and almost no conflicts. The groups are reported in the order of
    // (scope, host), which decides the message of a VirtualService in more than one conflict.
    struct Group {
      std::string scope;
      std::string host;
      std::vector<const VirtualService*> members;
    };
    std::unordered_map<std::string, Group> scoped;  // by scope's length, scope and host
    auto key_of = [](std::string_view scope, std::string_view host) {
      std::string key = std::to_string(scope.size());
      key.append(":").append(scope).append(host);
      return key;
    };
    std::vector<std::string> hosts;
    for (const VirtualService& vs : cluster_.virtual_services) {
      if (!vs.BindsMesh()) continue;
      bool to_all = vs.export_to.empty() ||
                    std::find(vs.export_to.begin(), vs.export_to.end(), "*") != vs.export_to.end();
      std::string_view scope = to_all ? std::string_view("*") : vs.object->namespace_;
      hosts.clear();
      for (const std::string& h : vs.hosts) {
        hosts.push_back(ToLower(ResolveShortName(h, vs.object->namespace_)));
      }
      std::sort(hosts.begin(), hosts.end());
      hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
      for (std::string& h : hosts) {
        Group& g = scoped[key_of(scope, h)];
        if (g.members.empty()) {
          g.scope = scope;
          g.host = std::move(h);
        }
        g.members.push_back(&vs);
      }
    }
    // A group conflicts with two members, or one of a namespace's scope with the public ones.
    std::vector<std::pair<const Group*, const Group*>> conflicts;  // group, public group of host
    for (const auto& [key, g] : scoped) {
      const Group* with = nullptr;
      if (g.scope != "*") {
        auto it = scoped.find(key_of("*", g.host));
        if (it != scoped.end()) with = &it->second;
      }
      if (g.members.size() + (with ? with->members.size() : 0) >= 2) {
        conflicts.emplace_back(&g, with);
      }
    }
    std::sort(conflicts.begin(), conflicts.end(), [](const auto& a, const auto& b) {
      return std::tie(a.first->scope, a.first->host) < std::tie(b.first->scope, b.first->host);
    });
    std::set<const VirtualService*> reported;
    for (const auto& [g, with] : conflicts) {
      std::vector<const VirtualService*> group = g->members;
      if (with != nullptr) group.insert(group.end(), with->members.begin(), with->members.end());
      std::vector<std::string> names;
      for (const VirtualService* vs : group) {
        names.push_back(vs->object->namespace_ + "/" + vs->object->name);
      }
      for (const VirtualService* vs : group) {
        if (!reported.insert(vs).second) continue;
        Report(code::kConflictingMeshGatewayHosts, *vs->object, Get(vs->object->spec(), "hosts"),
               "spec.hosts",
               fmt::format("The VirtualServices {} associated with mesh gateway define the same "
                           "host {} which can lead to undefined behavior. This can be fixed by "
                           "merging the conflicting VirtualServices into a single resource.",
                           fmt::join(names, ","), g->host));
      }
    }
  }

  // ---- DestinationRules: IST0173, IST0174 ----

  void DestinationRuleChecks(const DestinationRule& dr) {
    const Object& o = *dr.object;
    if (dr.host.empty() || dr.host.front() == '*') return;
    std::string resolved = ToLower(ResolveShortName(dr.host, o.namespace_));
    const Service* svc = cluster_.ServiceForHost(resolved);
    bool known = svc != nullptr || cluster_.service_entries_by_host.count(resolved) > 0 ||
                 facts_.Generates(resolved) ||
                 std::any_of(cluster_.wildcard_service_entries.begin(),
                             cluster_.wildcard_service_entries.end(), [&](const ServiceEntry* se) {
                               return std::any_of(se->hosts.begin(), se->hosts.end(),
                                                  [&](const std::string& h) {
                                                    return HostsOverlap(ToLower(h), resolved);
                                                  });
                             });
    if (!known) {
      Report(code::kUnknownDestinationRuleHost, o, Get(o.spec(), "host"), "spec.host",
             fmt::format("The host {} defined in the DestinationRule does not match any services "
                         "in the mesh.",
                         dr.host));
      return;
    }
    // Deployments stand in for pods; a namespace without any is not judged (its workloads are
    // not part of the fleet's files).
    if (svc == nullptr || svc->selector.empty()) return;
    if (!cluster_.deployments_by_namespace.count(svc->object->namespace_)) return;
    const std::vector<Node>& subsets = ItemsOf(Get(o.spec(), "subsets"));
    for (size_t i = 0; i < dr.subsets.size() && i < subsets.size(); ++i) {
      Labels wanted = svc->selector;
      for (const auto& [k, v] : dr.subsets[i].labels) wanted[k] = v;
      // Candidates: the Deployments carrying the first wanted label (an index, not a scan).
      const auto& first = *wanted.begin();
      const std::vector<const Deployment*>& candidates =
          DeploymentsWithLabel(svc->object->namespace_, first.first, first.second);
      bool selects = std::any_of(candidates.begin(), candidates.end(), [&](const Deployment* d) {
        if (d->replicas == 0) return false;
        return std::all_of(wanted.begin(), wanted.end(), [&](const auto& kv) {
          auto it = d->pod_labels.find(kv.first);
          return it != d->pod_labels.end() && it->second == kv.second;
        });
      });
      if (!selects) {
        Report(code::kSubsetSelectsNoPods, o, &subsets[i], fmt::format("spec.subsets[{}]", i),
               fmt::format("The Subset {} defined in the DestinationRule does not select any "
                           "pods. Which may lead to 503 UH (NoHealthyUpstream).",
                           dr.subsets[i].name));
      }
    }
  }

  const std::vector<const Deployment*>& DeploymentsWithLabel(const std::string& ns,
                                                             const std::string& key,
                                                             const std::string& value) {
    if (deployments_by_label_.empty()) {
      for (const Deployment& d : cluster_.deployments) {
        for (const auto& [k, v] : d.pod_labels) {
          deployments_by_label_[d.object->namespace_ + "\n" + k + "=" + v].push_back(&d);
        }
      }
    }
    static const std::vector<const Deployment*> kNone;
    auto it = deployments_by_label_.find(ns + "\n" + key + "=" + value);
    return it == deployments_by_label_.end() ? kNone : it->second;
  }

  const Cluster& cluster_;
  const GeneratedFacts& facts_;
  Diagnostics& diagnostics_;
  std::unordered_map<std::string, std::vector<const Deployment*>> deployments_by_label_;
};

}  // namespace

void AnalyzeFleet(const Fleet& fleet, const Translation& translation, Diagnostics& diagnostics) {
  for (const Cluster& c : fleet.clusters) {
    const ClusterOutput* output = nullptr;
    for (const ClusterOutput& out : translation.clusters) {
      if (out.cluster == c.name) output = &out;
    }
    GeneratedFacts facts(output);
    Analyzer analyzer(c, facts, diagnostics);
    analyzer.Run();
    analyzer.FederationPort(output);
  }
}

CheckedFleet CheckFleet(FleetSource source, Diagnostics diagnostics) {
  CheckedFleet checked;
  checked.fleet = BuildFleet(std::move(source), diagnostics);
  ValidateObjects(checked.fleet, diagnostics);
  // Translated and analysed even with errors, so that `validate` lists everything in one run; the
  // translator is safe on any input (fuzzed), and commands that write check HasErrors() first.
  checked.translation = Translate(checked.fleet);
  for (Diagnostic& d : checked.translation.diagnostics) diagnostics.push_back(std::move(d));
  checked.translation.diagnostics.clear();
  AnalyzeFleet(checked.fleet, checked.translation, diagnostics);
  SortDiagnostics(diagnostics);
  checked.diagnostics = std::move(diagnostics);
  return checked;
}

void SortDiagnostics(Diagnostics& diagnostics) {
  std::set<std::tuple<std::string, uint32_t, uint32_t, std::string, std::string, std::string>> seen;
  Diagnostics unique;
  for (Diagnostic& d : diagnostics) {
    if (!seen.emplace(d.file, d.position.line, d.position.column, d.code, d.field, d.message)
             .second) {
      continue;
    }
    unique.push_back(std::move(d));
  }
  std::stable_sort(unique.begin(), unique.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.file.empty() != b.file.empty()) return b.file.empty();
    if (a.file.empty()) return false;
    return std::tie(a.file, a.position.line, a.position.column) <
           std::tie(b.file, b.position.line, b.position.column);
  });
  diagnostics = std::move(unique);
}

}  // namespace meshfed
