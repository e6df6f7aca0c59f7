// Acceptor side (PRODUCT.md section 2; docs/data-plane.md): per bound local name, a selector-less
// Service (DNS and a ClusterIP for the sidecar to capture), a mesh VirtualService for that name
// that sets :authority to the exposed FQDN, and a ServiceEntry + DestinationRule that carry the
// request to the donors' federation gateways with Istio mTLS and SNI = the exposed FQDN.

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <set>

#include "core/model/hosts.h"
#include "core/model/text.h"
#include "core/translate/names.h"
#include "core/translate/translate_internal.h"

namespace meshfed::internal {
namespace {

void Fail(Binding& b, std::string reason, std::string message) {
  b.ready = false;
  b.reason = std::move(reason);
  b.message = std::move(message);
}

void Warn(Context& ctx, const Binding& b, const char* code, const std::string& field,
          const std::string& message) {
  ctx.Warn(Severity::Warning, code, *b.policy->object, b.acceptor->name, field, message);
}

// `exposure_key` gets the key of the exposure unit the binding looks for.
bool ResolveBinding(Context& ctx, Binding& b, const ExposureFinder& find,
                    std::string& exposure_key) {
  const RemoteEntry& remote = *b.remote;
  const BoundService& svc = *b.service;
  const Cluster* donor = ctx.fleet.Find(remote.cluster);
  if (!donor) {
    Fail(b, "UnknownCluster",
         fmt::format("cluster `{}` is not a member of the fleet (no MeshCluster)", remote.cluster));
    Warn(ctx, b, code::kUnknownCluster, remote.field + ".cluster", b.message);
    return false;
  }
  // The exposure in effect: the winning claim on the name, unless it conflicts with a user object.
  exposure_key = Key(donor->name, b.donor_namespace(), svc.name);
  ctx.Depend([&] { return ExposureDependency(exposure_key); });
  const ExposureUnit* unit = find(exposure_key);
  const Exposure* e = unit && !unit->exposures.empty() && !unit->exposures.front().conflict
                          ? &unit->exposures.front()
                          : nullptr;
  if (!e) {
    Fail(b, "NotExposed",
         fmt::format("cluster {} exposes no `{}` in namespace {}", donor->name, svc.name,
                     b.donor_namespace()));
    Warn(ctx, b, code::kBindingProblem, svc.field + ".name", b.message);
    return false;
  }
  b.exposure = e;
  if (std::find(e->allowed_clusters.begin(), e->allowed_clusters.end(), b.acceptor->name) ==
      e->allowed_clusters.end()) {
    Fail(b, "NotExposedToThisCluster",
         fmt::format("cluster {} exposes `{}` in namespace {} only to: {}", donor->name, svc.name,
                     b.donor_namespace(),
                     e->allowed_clusters.empty()
                         ? std::string("nobody")
                         : fmt::format("{}", fmt::join(e->allowed_clusters, ", "))));
    Warn(ctx, b, code::kBindingProblem, svc.field + ".name", b.message);
    return false;
  }
  if (!e->generated) {
    Fail(b, e->reason == "SubsetNotFound" ? "SubsetNotFound" : "NotExposed",
         fmt::format("the exposure of `{}` in cluster {} is not in effect: {}", svc.name,
                     donor->name, e->message));
    Warn(ctx, b, code::kBindingProblem, svc.field + ".name", b.message);
    return false;
  }
  // Ports: the local port(s) and the exposed port each carries.
  if (svc.port) {
    if (e->ports.size() == 1) {
      b.ports.push_back({*svc.port, e->ports[0]});
    } else if (std::find(e->ports.begin(), e->ports.end(), *svc.port) != e->ports.end()) {
      b.ports.push_back({*svc.port, *svc.port});
    } else {
      Fail(
          b, "PortNotExposed",
          fmt::format("`{}` is exposed on ports {}; with several exposed ports, `port` must be one "
                      "of them",
                      svc.name, fmt::join(e->ports, ", ")));
      Warn(ctx, b, code::kBindingProblem, svc.field + ".port", b.message);
      return false;
    }
  } else {
    for (int p : e->ports) b.ports.push_back({p, p});
  }
  return true;
}

std::string Addresses(const Binding& b) {
  const FederationGateway& gw = b.exposure->donor->mesh.federation_gateway;
  std::string out;
  for (const std::string& a : gw.addresses) {
    AppendText(out, out.empty() ? "" : ", ", a, ":", gw.port);
  }
  return out;
}

// The objects for one local name, served by `group` (one binding, or several bindings of the same
// exposed FQDN from different donors: their gateways are all endpoints).
std::vector<Node> MakeObjects(Context& ctx, const std::vector<Binding*>& group) {
  const Binding& first = *group.front();
  const Object& owner = *first.policy->object;
  const std::string& ns = owner.namespace_;
  const std::string& local = first.local_name();
  const std::string& exposed_host = first.exposure->host;
  const std::string internal_host = InternalHost(local, ns);
  const std::string name = GeneratedName({local});
  const Annotation notes[] = {{kExposedHostAnnotation, exposed_host}};
  const bool several_ports = first.ports.size() > 1;
  auto port_name = [](int p) { return ConcatText("http-", p); };
  std::vector<Node> objects;
  objects.reserve(4);

  // Service: DNS for <local>, <local>.<ns>, the FQDN; a ClusterIP the sidecar captures.
  // The four objects' metadata differ only in the Service's name: the ServiceEntry's,
  // DestinationRule's and VirtualService's is one shared value, and the Service's shares its
  // labels and annotations.
  const Node owner_labels = ctx.shared.Labels(owner);
  Node service_meta = GeneratedMetadata(name, ns, owner, owner_labels, notes);
  const Node meta = Node::Share(service_meta);
  *service_meta.Find("name") = Node::String(local);
  // What many names' objects hold alike is made once per translation and shared: the Service's
  // spec and the ServiceEntry's ports for the same local ports, the endpoints for the same donors
  // and ports.
  std::string local_ports;
  for (const PortMapping& p : first.ports) {
    AppendText(local_ports, ",", p.local_port);
  }
  Node service = NewObject("v1", "Service", std::move(service_meta));
  service.Add("spec", ctx.shared.Get("Service.spec" + local_ports, [&] {
    Node sspec = Node::MappingWithRoom(2);
    Node sports = Node::SequenceWithRoom(first.ports.size());
    for (const PortMapping& p : first.ports) {
      Node port = Node::MappingWithRoom(4);
      port.Add("name", Node::String(port_name(p.local_port)));
      port.Add("port", Node::Int(p.local_port));
      port.Add("protocol", Node::String("TCP"));
      port.Add("targetPort", Node::Int(p.local_port));
      sports.Append(std::move(port));
    }
    sspec.Add("ports", std::move(sports));
    sspec.Add("type", Node::String("ClusterIP"));
    return sspec;
  }));
  objects.push_back(std::move(service));

  // ServiceEntry: the donors' federation gateways as endpoints of an internal host.
  bool all_ip = true;
  std::string endpoints_key = "ServiceEntry.endpoints";
  for (const Binding* b : group) {
    const Cluster& donor = *b->exposure->donor;
    for (const std::string& address : donor.mesh.federation_gateway.addresses) {
      all_ip = all_ip && IsIpAddress(address);
    }
    // The donor's gateway (its MeshCluster) is the same throughout a translation.
    AppendText(endpoints_key, "/", donor.name);
    for (const PortMapping& p : b->ports) {
      AppendText(endpoints_key, ",", p.local_port);
    }
  }
  Node endpoints = ctx.shared.Get(endpoints_key, [&] {
    Node list = Node::Sequence();
    std::set<std::string> seen;
    for (const Binding* b : group) {
      const Cluster& donor = *b->exposure->donor;
      const FederationGateway& gw = donor.mesh.federation_gateway;
      for (const std::string& address : gw.addresses) {
        if (!seen.insert(ConcatText(address, ":", gw.port)).second) continue;
        Node ep = Node::MappingWithRoom(3);
        ep.Add("address", Node::String(address));
        Node labels = Node::MappingWithRoom(1);
        labels.Add(Key::Static(kClusterAnnotation), Node::String(donor.name));
        ep.Add("labels", std::move(labels));
        Node ports = Node::MappingWithRoom(b->ports.size());
        for (const PortMapping& p : b->ports) {
          ports.Add(port_name(p.local_port), Node::Int(gw.port));
        }
        ep.Add("ports", std::move(ports));
        list.Append(std::move(ep));
      }
    }
    return list;
  });
  Node se = NewObject("networking.istio.io/v1", "ServiceEntry", meta);
  Node sespec = Node::MappingWithRoom(5);
  sespec.Add("hosts", StringList({internal_host}));
  sespec.Add("location", Node::String("MESH_INTERNAL"));
  sespec.Add("ports", ctx.shared.Get("ServiceEntry.ports" + local_ports, [&] {
    Node seports = Node::SequenceWithRoom(first.ports.size());
    for (const PortMapping& p : first.ports) {
      Node port = Node::MappingWithRoom(3);
      port.Add("number", Node::Int(p.local_port));
      port.Add("name", Node::String(port_name(p.local_port)));
      port.Add("protocol", Node::String("HTTP"));
      seports.Append(std::move(port));
    }
    return seports;
  }));
  sespec.Add("resolution", Node::String(all_ip ? "STATIC" : "DNS"));
  sespec.Add("endpoints", std::move(endpoints));
  se.Add("spec", std::move(sespec));
  objects.push_back(std::move(se));

  // DestinationRule: Istio mTLS to the gateway, SNI = the exposed FQDN (selects its server).
  Node dr = NewObject("networking.istio.io/v1", "DestinationRule", meta);
  Node drspec = Node::MappingWithRoom(2);
  drspec.Add("host", Node::String(internal_host));
  Node tls = Node::MappingWithRoom(2);
  tls.Add("mode", Node::String("ISTIO_MUTUAL"));
  tls.Add("sni", Node::String(exposed_host));
  Node policy = Node::MappingWithRoom(1);
  policy.Add("tls", std::move(tls));
  drspec.Add("trafficPolicy", std::move(policy));
  dr.Add("spec", std::move(drspec));
  objects.push_back(std::move(dr));

  // VirtualService for the local name: :authority = the exposed FQDN, so the donor gateway's
  // virtual host and the donor's own match rules see the name they were written for.
  Node vs = NewObject("networking.istio.io/v1", "VirtualService", meta);
  Node vspec = Node::MappingWithRoom(2);
  vspec.Add("hosts", StringList({ServiceFqdn(local, ns)}));
  Node http = Node::SequenceWithRoom(first.ports.size());
  const bool port_header = first.exposure->ports.size() > 1;
  for (const PortMapping& p : first.ports) {
    Node rule = Node::MappingWithRoom(2 + (several_ports ? 1 : 0) + (port_header ? 1 : 0));
    if (several_ports) {
      Node block = Node::MappingWithRoom(1);
      block.Add("port", Node::Int(p.local_port));
      Node match = Node::SequenceWithRoom(1);
      match.Append(std::move(block));
      rule.Add("match", std::move(match));
    }
    Node rewrite = Node::MappingWithRoom(1);
    rewrite.Add("authority", Node::String(exposed_host));
    rule.Add("rewrite", std::move(rewrite));
    if (port_header) {
      Node set = Node::MappingWithRoom(1);
      set.Add(kPortHeader, Node::String(std::to_string(p.exposed_port)));
      Node request = Node::MappingWithRoom(1);
      request.Add("set", std::move(set));
      Node headers = Node::MappingWithRoom(1);
      headers.Add("request", std::move(request));
      rule.Add("headers", std::move(headers));
    }
    Node dest = Node::MappingWithRoom(2);
    dest.Add("host", Node::String(internal_host));
    dest.Add("port", PortNode(p.local_port));
    Node rd = Node::MappingWithRoom(1);
    rd.Add("destination", std::move(dest));
    Node route = Node::SequenceWithRoom(1);
    route.Append(std::move(rd));
    rule.Add("route", std::move(route));
    http.Append(std::move(rule));
  }
  vspec.Add("http", std::move(http));
  vs.Add("spec", std::move(vspec));
  objects.push_back(std::move(vs));
  return objects;
}

// MakeObjects(group), made once per translation for all that read the same: an acceptor's objects
// depend only on what the key names (the owner's kind, namespace and name; the local name; the
// exposed host and whether it has several ports; each donor and its port mappings; a donor's
// gateway is the same throughout a translation). Acceptors that bind one exposure under the same
// local name through RemoteServiceBindings of the same namespace and name (one manifest applied
// in several clusters; the generated fleet's five acceptors of each exposed service) share the
// objects: each object is a shared value, read in place by every cluster's output. Their
// identities come with them (made once, like the objects).
const SharedValues::ObjectSet& BuildObjects(Context& ctx, const std::vector<Binding*>& group) {
  const Binding& first = *group.front();
  const Object& owner = *first.policy->object;
  std::string key;
  key.reserve(256);  // grown once, not at every part
  key = "acceptor";
  auto add = [&key](std::string_view text) { AppendKeyPart(key, text); };
  add(owner.kind);
  add(owner.namespace_);
  add(owner.name);
  add(first.local_name());
  add(first.exposure->host);
  key += first.exposure->ports.size() > 1 ? "/several" : "/one";
  for (const Binding* b : group) {
    add(b->exposure->donor->name);
    for (const PortMapping& p : b->ports) {
      AppendText(key, ",", p.local_port, ":", p.exposed_port);
    }
  }
  return ctx.shared.Objects(key, [&] { return MakeObjects(ctx, group); });
}

bool SamePorts(const Binding& a, const Binding& b) {
  if (a.ports.size() != b.ports.size()) return false;
  for (size_t i = 0; i < a.ports.size(); ++i) {
    if (a.ports[i].local_port != b.ports[i].local_port ||
        a.ports[i].exposed_port != b.ports[i].exposed_port) {
      return false;
    }
  }
  return true;
}

void BindGroup(Context& ctx, const Cluster& acceptor, const std::vector<Member>& members,
               const ExposureFinder& find, BindingUnit& unit) {
  unit.bindings.reserve(members.size());  // the group points into it
  // The oldest binding that resolves wins the local name; the same exposed name from another
  // donor joins it (HA); anything else conflicts.
  std::vector<Binding*> group;
  // The exposure unit each member's binding looks for: kept only for `bound`, so the records do
  // not each hold a copy. Members' bindings start at `start` in unit.bindings.
  const size_t start = unit.bindings.size();
  std::vector<std::string> exposure_keys(members.size());
  for (const Member& m : members) {
    Binding b;
    b.acceptor = &acceptor;
    b.policy = m.policy;
    b.remote = m.remote;
    b.service = m.service;
    b.remote_index = static_cast<size_t>(m.remote - m.policy->remote.data());
    b.service_index = static_cast<size_t>(m.service - m.remote->services.data());
    unit.bindings.push_back(std::move(b));
    Binding& bound = unit.bindings.back();
    if (unit.track_dependencies) {
      std::string status = StatusKey(acceptor.name, *m.policy->object);
      if (std::find(unit.status_keys.begin(), unit.status_keys.end(), status) ==
          unit.status_keys.end()) {
        unit.status_keys.push_back(std::move(status));
      }
    }
    std::string& exposure_key = exposure_keys[unit.bindings.size() - 1 - start];
    if (!ResolveBinding(ctx, bound, find, exposure_key)) continue;
    if (group.empty()) {
      group.push_back(&bound);
      continue;
    }
    const Binding& winner = *group.front();
    if (winner.exposure->host == bound.exposure->host && SamePorts(winner, bound) &&
        std::none_of(group.begin(), group.end(), [&](const Binding* other) {
          return other->exposure->donor == bound.exposure->donor;
        })) {
      group.push_back(&bound);  // the same exposed name from another donor: HA
      continue;
    }
    bound.conflict = true;
    Fail(bound, "AliasConflict",
         fmt::format("local name `{}` is already bound by RemoteServiceBinding {}/{} {} to {} "
                     "in cluster {}",
                     bound.local_name(), winner.policy->object->namespace_,
                     winner.policy->object->name, winner.service->field, winner.exposure->host,
                     winner.exposure->donor->name));
    Warn(ctx, bound, code::kBindingProblem, m.service->field, bound.message);
  }
  if (group.empty()) return;

  const SharedValues::ObjectSet& made = BuildObjects(ctx, group);
  std::string who;
  if (ctx.CollidesWithUserObject(acceptor, made.keys, who)) {
    for (Binding* b : group) {
      b->conflict = true;
      Fail(
          *b, "AliasConflict",
          fmt::format("{} exists and is not managed by meshfed; meshfed never overwrites it", who));
      Warn(ctx, *b, code::kOwnershipConflict, b->service->field, b->message);
    }
    return;
  }
  unit.objects.insert(unit.objects.end(), made.objects.begin(), made.objects.end());
  // A user's mesh VirtualService for the local name: on sidecars the oldest VS for a host
  // wins and meshfed's is the newest, so the user's shadows it (Istio §3.3, IST0109).
  const Binding& first = *group.front();
  std::string shadowed_by;
  for (const VirtualService* vs : ctx.VirtualServicesForHost(
           acceptor, ServiceFqdn(first.local_name(), first.policy->object->namespace_))) {
    if (vs->BindsMesh()) {
      shadowed_by =
          fmt::format("VirtualService {}/{} ({}:{}:{})", vs->object->namespace_, vs->object->name,
                      vs->object->file, vs->object->position.line, vs->object->position.column);
      break;
    }
  }
  for (Binding* b : group) {
    unit.bound.emplace_back(
        std::move(exposure_keys[static_cast<size_t>(b - unit.bindings.data()) - start]), b);
    if (!shadowed_by.empty()) {
      Fail(*b, "Shadowed",
           fmt::format("{} also routes {}.{}; on sidecars the oldest VirtualService for a "
                       "host wins, so it takes this name's traffic instead of the donor "
                       "(IST0109)",
                       shadowed_by, b->local_name(), b->policy->object->namespace_));
      Warn(ctx, *b, code::kLocalNameShadowed, b->service->field, b->message);
      continue;
    }
    b->ready = true;
    b->reason = "Bound";  // its message is made where it is read (BindingMessage)
  }
}

}  // namespace

std::string BindingMessage(const Binding& b) {
  if (!b.ready) return b.message;
  return ConcatText(b.local_name(), ".", b.policy->object->namespace_, " -> ", b.exposure->host,
                    " via ", b.exposure->donor->name, " federation gateway ", Addresses(b));
}

void BindMembers(const Fleet& fleet, const Cluster& acceptor, const std::vector<Member>& members,
                 const ExposureFinder& find, SharedValues& shared, BindingUnit& unit) {
  Context ctx{fleet, unit, shared};
  BindGroup(ctx, acceptor, members, find, unit);
}

}  // namespace meshfed::internal
