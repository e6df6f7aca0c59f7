// Two-sided status (PRODUCT.md 1.4): conditions in the metav1.Condition shape plus per-entry
// detail. The donor's SEP lists who bound each exposed name; the RSB lists where each service
// resolved and why it is not ready. No timestamps: render output is byte-for-byte deterministic
// (the controller adds lastTransitionTime when it writes status).

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "core/model/text.h"
#include "core/translate/names.h"
#include "core/translate/translate_internal.h"

namespace meshfed::internal {
namespace {

Node Condition(std::string_view type, bool status, std::string_view reason, std::string message,
               const Object& owner) {
  Node c = Node::MappingWithRoom(5);
  c.Add("type", Node::String(type));
  c.Add("status", Node::String(status ? "True" : "False"));
  if (const Node* meta = owner.metadata()) {
    if (const Node* gen = meta->Find("generation"); gen && gen->IsScalar()) {
      c.Add("observedGeneration", Node::Plain(gen->text()));
    }
  }
  c.Add("reason", Node::String(reason));
  c.Add("message", Node::String(std::move(message)));
  return c;
}

Node StatusObject(const Object& owner, const std::string& cluster) {
  Node meta = Node::Mapping();
  meta.Add("name", Node::String(owner.name));
  meta.Add("namespace", Node::String(owner.namespace_));
  Node annotations = Node::Mapping();
  annotations.Add(Key::Static(kClusterAnnotation), Node::String(cluster));
  meta.Add("annotations", std::move(annotations));
  return NewObject(owner.api_version, owner.kind, std::move(meta));
}

void SetObservedGeneration(Node& status, const Object& owner) {
  if (const Node* meta = owner.metadata()) {
    if (const Node* gen = meta->Find("generation"); gen && gen->IsScalar()) {
      status.Add("observedGeneration", Node::Plain(gen->text()));
    }
  }
}

// "1 exposed name", "2 exposed names".
std::string Count(size_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

Node Conditions(const Object& owner, size_t total, size_t ready, size_t conflicts,
                std::string_view what, std::string_view ready_reason,
                const std::string& first_problem) {
  Node conditions = Node::SequenceWithRoom(3);
  conditions.Append(Condition("Accepted", true, "Accepted",
                              fmt::format("{} read without errors", Count(total, what)), owner));
  bool all_ready = ready == total;
  conditions.Append(Condition("Ready", all_ready, all_ready ? ready_reason : "NotAllReady",
                              all_ready ? fmt::format("{} in effect", Count(total, what))
                                        : fmt::format("{} of {} in effect; first problem: {}",
                                                      ready, Count(total, what), first_problem),
                              owner));
  conditions.Append(
      Condition("Conflict", conflicts > 0, conflicts > 0 ? "Conflict" : "NoConflict",
                conflicts > 0 ? fmt::format("{} of {} in conflict", conflicts, Count(total, what))
                              : std::string("no conflicts"),
                owner));
  return conditions;
}

// An exposure's entry without boundBy, with room for it.
Node ExposureStatusEntry(const Exposure& e, SharedValues& shared) {
  Node n = Node::MappingWithRoom(10);
  n.Add("name", Node::String(e.entry->name));
  n.Add("exposedName", Node::String(e.exposed_name));
  n.Add("host", Node::String(e.host));
  if (!e.target.empty()) n.Add("target", Node::String(e.target));
  if (!e.ports.empty()) {
    n.Add("ports", shared.Get(ConcatText("status.ports/", JoinText(e.ports, ",")), [&] {
      Node ports = Node::SequenceWithRoom(e.ports.size());
      for (int p : e.ports) ports.Append(Node::Int(p));
      return ports;
    }));
  }
  n.Add("allowedClusters",
        shared.Get(ConcatText("status.allowedClusters/", JoinText(e.allowed_clusters, "/")),
                   [&] { return StringList(e.allowed_clusters); }));
  n.Add("ready", Node::Bool(e.ready));
  n.Add("reason", Node::String(e.reason));
  n.Add("message", Node::String(e.message));
  return n;
}

}  // namespace

Node ExposureEntry(const Exposure& e, std::vector<const Binding*> bound_by, SharedValues& shared) {
  Node n = ExposureStatusEntry(e, shared);
  Node bound = Node::SequenceWithRoom(bound_by.size());
  // Who bound it: the acceptor, its RSB's namespace and name, and the local name.
  auto who = [](const Binding* b) {
    return std::tie(b->acceptor->name, b->policy->object->namespace_, b->policy->object->name,
                    b->local_name());
  };
  std::sort(bound_by.begin(), bound_by.end(),
            [&](const Binding* a, const Binding* b) { return who(a) < who(b); });
  for (const Binding* b : bound_by) {
    const auto [cluster, namespace_, binding, local_name] = who(b);
    Node item = Node::MappingWithRoom(4);
    item.Add("cluster", Node::String(cluster));
    item.Add("namespace", Node::String(namespace_));
    item.Add("binding", Node::String(binding));
    item.Add("localName", Node::String(local_name));
    bound.Append(std::move(item));
  }
  n.Add("boundBy", std::move(bound));
  return n;
}

Node NewStatus(const Object& owner, const std::string& cluster, const StatusSummary& summary,
               Node entries) {
  bool sep = owner.kind == "ServiceExpositionPolicy";
  Node status = Node::Mapping();
  SetObservedGeneration(status, owner);
  status.Add("conditions", StatusConditions(owner, summary));
  status.Add(sep ? "exposed" : "services", std::move(entries));
  Node obj = StatusObject(owner, cluster);
  obj.Add("status", std::move(status));
  return obj;
}

Node StatusConditions(const Object& owner, const StatusSummary& summary) {
  bool sep = owner.kind == "ServiceExpositionPolicy";
  return Conditions(owner, summary.total, summary.ready, summary.conflicts,
                    sep ? "exposed name" : "bound service", sep ? "AllExposed" : "AllBound",
                    summary.first_problem);
}

void StatusSummary::Count(bool is_ready, bool is_conflict, std::string_view name,
                          std::string_view reason) {
  ++total;
  ready += is_ready ? 1 : 0;
  conflicts += is_conflict ? 1 : 0;
  if (!is_ready && first_problem.empty()) first_problem = fmt::format("{}: {}", name, reason);
}

namespace {

Node MakeBindingStatusEntry(const Binding& b, SharedValues& shared) {
  Node n = Node::MappingWithRoom(10);
  n.Add("cluster", Node::String(b.remote->cluster));
  n.Add("namespace", Node::String(b.donor_namespace()));
  n.Add("name", Node::String(b.service->name));
  n.Add("localName", Node::String(b.local_name()));
  if (b.exposure) n.Add("host", Node::String(b.exposure->host));
  if (!b.ports.empty()) {
    std::string key = "status.portMappings";
    for (const PortMapping& p : b.ports) {
      fmt::format_to(std::back_inserter(key), "/{}:{}", p.local_port, p.exposed_port);
    }
    n.Add("ports", shared.Get(key, [&] {
      Node ports = Node::SequenceWithRoom(b.ports.size());
      for (const PortMapping& p : b.ports) {
        Node pm = Node::MappingWithRoom(2);
        pm.Add("local", Node::Int(p.local_port));
        pm.Add("exposed", Node::Int(p.exposed_port));
        ports.Append(std::move(pm));
      }
      return ports;
    }));
  }
  if (b.ready) {
    // The donor's gateway (its MeshCluster) is the same throughout a translation.
    const Cluster& donor = *b.exposure->donor;
    n.Add("gateways", shared.Get("status.gateways/" + donor.name, [&] {
      const FederationGateway& gw = donor.mesh.federation_gateway;
      Node gws = Node::SequenceWithRoom(gw.addresses.size());
      for (const std::string& a : gw.addresses) {
        gws.Append(Node::String(fmt::format("{}:{}", a, gw.port)));
      }
      return gws;
    }));
  }
  n.Add("ready", Node::Bool(b.ready));
  n.Add("reason", Node::String(b.reason));
  n.Add("message", Node::String(BindingMessage(b)));
  return n;
}

}  // namespace

// Acceptors that bind alike (one RemoteServiceBinding manifest applied in several clusters) have
// equal entries: an entry is made once per translation for what it holds, and shared.
Node BindingStatusEntry(const Binding& b, SharedValues& shared) {
  std::string key;
  key.reserve(256 + b.message.size());  // grown once, not at every part
  key = "status.binding";
  AppendKeyPart(key, b.remote->cluster);
  AppendKeyPart(key, b.donor_namespace());
  AppendKeyPart(key, b.service->name);
  AppendKeyPart(key, b.local_name());
  key += b.exposure ? "/host" : "/no-host";
  if (b.exposure) AppendKeyPart(key, b.exposure->host);
  key += "/ports";
  for (const PortMapping& p : b.ports) {
    AppendText(key, ",", p.local_port, ":", p.exposed_port);
  }
  if (b.ready) AppendKeyPart(key, b.exposure->donor->name);  // its gateways
  key += b.ready ? "/ready" : "/not-ready";
  AppendKeyPart(key, b.reason);
  // A ready binding's message is made of the parts above and its RSB's namespace
  // (BindingMessage); any other's is its own text.
  AppendKeyPart(
      key, b.ready ? std::string_view(b.policy->object->namespace_) : std::string_view(b.message));
  return shared.Get(key, [&] { return MakeBindingStatusEntry(b, shared); });
}

}  // namespace meshfed::internal
