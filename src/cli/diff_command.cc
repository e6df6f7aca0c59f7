#include "cli/diff_command.h"

#include <fmt/format.h>

#include <ostream>

#include "codec/emitter.h"
#include "core/sync/plan.h"
#include "core/validate/validate.h"

namespace meshfed {
namespace {

// `live` reduced to the shape of `desired`: the fields meshfed sets, so that what the API server
// adds (uid, resourceVersion, defaults such as a Service's clusterIP) does not show as a change.
Node Project(const Node& live, const Node& desired) {
  if (live.IsMapping() && desired.IsMapping()) {
    Node out = Node::Mapping();
    for (const MapEntry& e : desired.entries()) {
      if (const Node* v = live.Find(e.key)) out.Add(e.key, Project(*v, e.value));
    }
    return out;
  }
  if (live.IsSequence() && desired.IsSequence() && live.items().size() == desired.items().size()) {
    Node out = Node::Sequence();
    for (size_t i = 0; i < live.items().size(); ++i) {
      out.Append(Project(live.items()[i], desired.items()[i]));
    }
    return out;
  }
  return live;
}

Node WithoutHash(Node object) {
  if (Node* meta = object.Find("metadata")) {
    if (Node* annotations = meta->Find("annotations")) {
      annotations->Erase(kAppliedHashAnnotation);
      if (annotations->entries().empty()) meta->Erase("annotations");
    }
  }
  return object;
}

// What a user would have applied: no server-side metadata, no status.
Node Trimmed(Node object) {
  object.Erase("status");
  if (Node* meta = object.Find("metadata")) {
    for (const char* k : {"uid", "resourceVersion", "generation", "creationTimestamp",
                          "managedFields", "deletionTimestamp"}) {
      meta->Erase(k);
    }
  }
  return WithoutHash(std::move(object));
}

std::string Yaml(const Node& n) {
  std::string out;
  EmitYaml(n, out);
  return out;
}

}  // namespace

void AddDiffCommand(CLI::App& app, DiffOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "diff", "Show what the controller would change in the live clusters, changing nothing");
  cmd->add_option("--fleet-context", options.fleet_context,
                  "kubeconfig context of the cluster that holds the MeshClusters "
                  "(\"in-cluster\" for the pod's service account)")
      ->required();
  cmd->add_option("--kubeconfig", options.kubeconfig,
                  "kubeconfig file(s), ':'-separated (default: $KUBECONFIG or ~/.kube/config)");
  cmd->add_option("--cluster", options.cluster, "Only this member cluster's changes");
}

int RunDiff(const DiffOptions& options, std::ostream& out, std::ostream& err) {
  kube::ResolveContext resolve =
      options.resolve ? options.resolve : kube::KubeconfigResolver(options.kubeconfig);
  absl::StatusOr<kube::LiveFleet> live = kube::ReadLiveFleet(resolve, options.fleet_context);
  if (!live.ok()) {
    err << "meshfed diff: " << live.status().message() << '\n';
    return 1;
  }
  std::map<std::string, std::string> unreachable = live->unreachable;
  std::map<std::string, std::vector<Node>> live_objects = live->live;
  CheckedFleet checked = CheckFleet(std::move(live->source), {});
  for (const Diagnostic& d : checked.diagnostics) {
    if (d.severity == Severity::Error) err << d.Format() << '\n';
  }
  if (checked.HasErrors()) {
    err << "meshfed diff: the live fleet has input errors; the controller writes nothing until "
           "they are fixed\n";
    return 1;
  }
  size_t creates = 0, updates = 0, deletes = 0, conflicts = 0, statuses = 0;
  for (const ClusterOutput& c : checked.translation.clusters) {
    if (!options.cluster.empty() && c.cluster != options.cluster) continue;
    if (unreachable.count(c.cluster)) continue;
    ClusterPlan plan = PlanCluster(c.objects, live_objects[c.cluster]);
    for (const Change& change : plan.changes) {
      std::string name = fmt::format("{}/{}", c.cluster, change.key);
      switch (change.kind) {
        case Change::Kind::Create:
          ++creates;
          out << fmt::format("# {}: create {} ({})\n", c.cluster, change.key, change.reason);
          out << UnifiedDiff("", Yaml(change.desired), "/dev/null", name);
          break;
        case Change::Kind::Update: {
          ++updates;
          const Node& desired = change.desired;
          out << fmt::format("# {}: update {} ({})\n", c.cluster, change.key, change.reason);
          out << UnifiedDiff(Yaml(Project(WithoutHash(change.live), desired)), Yaml(desired),
                             name + " (live)", name + " (generated)");
          break;
        }
        case Change::Kind::Delete:
          ++deletes;
          out << fmt::format("# {}: delete {} ({})\n", c.cluster, change.key, change.reason);
          out << UnifiedDiff(Yaml(Trimmed(change.live)), "", name, "/dev/null");
          break;
        case Change::Kind::Conflict:
          ++conflicts;
          out << fmt::format("# {}: conflict {}: {}; left alone\n", c.cluster, change.key,
                             change.reason);
          break;
      }
    }
  }
  // Statuses the controller would write.
  for (const StatusOutput& s : checked.translation.statuses) {
    if (!options.cluster.empty() && s.cluster != options.cluster) continue;
    if (unreachable.count(s.cluster) || !s.object.Find("status")) continue;
    const Node* meta = s.object.Find("metadata");
    std::string key = ObjectKey(s.object);
    const Node* live_object = nullptr;
    for (const Object& o : checked.fleet.Find(s.cluster)->objects) {
      if (ObjectKey(o.root) == key) live_object = &o.root;
    }
    if (!live_object) continue;
    std::optional<Node> status = StatusToWrite(*s.object.Find("status"), *live_object, "(now)");
    if (!status) continue;
    ++statuses;
    const Node* current = live_object->Find("status");
    out << fmt::format("# {}: status of {} {}/{}\n", s.cluster, s.object.Find("kind")->text(),
                       meta->Find("namespace")->text(), meta->Find("name")->text());
    out << UnifiedDiff(current ? Yaml(*current) : "", Yaml(*status),
                       fmt::format("{}/{} status (live)", s.cluster, key),
                       fmt::format("{}/{} status (computed)", s.cluster, key));
  }
  for (const auto& [cluster, why] : unreachable) {
    err << fmt::format("meshfed diff: cluster {} cannot be read ({}); its changes are unknown\n",
                       cluster, why);
  }
  size_t total = creates + updates + deletes + statuses;
  err << fmt::format(
      "meshfed diff: {} to create, {} to update, {} to delete, {} status(es) to write, {} "
      "conflict(s)\n",
      creates, updates, deletes, statuses, conflicts);
  return total > 0 || conflicts > 0 || !unreachable.empty() ? 1 : 0;
}

}  // namespace meshfed
