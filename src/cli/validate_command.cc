#include "cli/validate_command.h"

#include <fmt/format.h>

#include <filesystem>
#include <ostream>

#include "adapters/fleet_dir_store.h"
#include "codec/emitter.h"
#include "core/model/hosts.h"
#include "core/validate/validate.h"

namespace meshfed {
namespace {

namespace fs = std::filesystem;

// A MeshCluster for a stand-alone cluster, so files can be checked without a fleet.
Object StandaloneCluster(const std::string& name) {
  Object o;
  o.api_version = "multicluster.istio.io/v1alpha1";
  o.group = std::string(kMulticlusterGroup);
  o.kind = "MeshCluster";
  o.name = name;
  o.root = Node::Mapping();
  o.root.Add("apiVersion", Node::String(o.api_version));
  o.root.Add("kind", Node::String(o.kind));
  Node meta = Node::Mapping();
  meta.Add("name", Node::String(name));
  o.root.Add("metadata", std::move(meta));
  Node gateway = Node::Mapping();
  Node addresses = Node::Sequence();
  addresses.Append(Node::String("192.0.2.1"));
  gateway.Add("addresses", std::move(addresses));
  Node spec = Node::Mapping();
  spec.Add("trustDomain", Node::String(name + ".local"));
  spec.Add("federationGateway", std::move(gateway));
  o.root.Add("spec", std::move(spec));
  return o;
}

Node DiagnosticToNode(const Diagnostic& d) {
  Node n = Node::Mapping();
  n.Add("code", Node::String(d.code));
  n.Add("severity", Node::String(SeverityName(d.severity)));
  if (!d.file.empty()) n.Add("file", Node::String(d.file));
  if (d.position.line > 0) {
    n.Add("line", Node::Int(d.position.line));
    n.Add("column", Node::Int(d.position.column));
  }
  if (!d.object.kind.empty()) {
    Node object = Node::Mapping();
    if (!d.object.cluster.empty()) object.Add("cluster", Node::String(d.object.cluster));
    object.Add("kind", Node::String(d.object.kind));
    if (!d.object.namespace_.empty()) object.Add("namespace", Node::String(d.object.namespace_));
    if (!d.object.name.empty()) object.Add("name", Node::String(d.object.name));
    n.Add("object", std::move(object));
  }
  if (!d.field.empty()) n.Add("field", Node::String(d.field));
  n.Add("message", Node::String(d.message));
  return n;
}

}  // namespace

void AddValidateCommand(CLI::App& app, ValidateOptions& options) {
  CLI::App* validate = app.add_subcommand(
      "validate",
      "Check a fleet directory, or files of one cluster, and list every problem with its code "
      "and position (docs/diagnostics.md)");
  validate
      ->add_option("PATH", options.paths,
                   "A fleet directory (fleet.yaml plus one directory per cluster), or YAML/JSON "
                   "files")
      ->required()
      ->check(CLI::ExistingPath);
  validate
      ->add_option("--fleet", options.fleet,
                   "Check the files as if applied to --cluster of this fleet directory")
      ->check(CLI::ExistingDirectory);
  validate->add_option("--cluster", options.cluster,
                       "The cluster the files belong to (default: local, or the only cluster of "
                       "--fleet)");
  validate->add_option("--output", options.format, "Output format")
      ->check(CLI::IsMember({"text", "json"}));
  validate->add_flag("--strict", options.strict, "Fail (exit 1) on warnings too");
}

int RunValidate(const ValidateOptions& options, std::ostream& out, std::ostream& err) {
  Diagnostics diagnostics;
  FleetSource source;
  bool registry = true;  // a real fleet registry: checks across clusters apply
  std::error_code ec;
  bool fleet_mode = options.paths.size() == 1 && fs::is_directory(options.paths[0], ec);
  if (fleet_mode && (!options.fleet.empty() || !options.cluster.empty())) {
    err << "meshfed validate: --fleet and --cluster apply to files, not to a fleet directory\n";
    return 2;
  }
  if (fleet_mode) {
    absl::StatusOr<FleetSource> read = ReadFleetDirectory(options.paths[0], diagnostics);
    if (!read.ok()) {
      err << "meshfed validate: " << read.status().message() << '\n';
      return 1;
    }
    source = std::move(*read);
  } else {
    for (const std::string& p : options.paths) {
      if (fs::is_directory(p, ec)) {
        err << fmt::format(
            "meshfed validate: {} is a directory; give either one fleet directory or files\n", p);
        return 2;
      }
    }
    std::string cluster = options.cluster;
    if (!options.fleet.empty()) {
      absl::StatusOr<FleetSource> read = ReadFleetDirectory(options.fleet, diagnostics);
      if (!read.ok()) {
        err << "meshfed validate: " << read.status().message() << '\n';
        return 1;
      }
      source = std::move(*read);
      if (cluster.empty()) {
        if (source.mesh_clusters.size() != 1) {
          err << "meshfed validate: name the cluster the files belong to with --cluster\n";
          return 2;
        }
        cluster = source.mesh_clusters.front().name;
      }
      bool member = std::any_of(source.mesh_clusters.begin(), source.mesh_clusters.end(),
                                [&](const Object& o) { return o.name == cluster; });
      if (!member) {
        err << fmt::format("meshfed validate: {} has no cluster `{}`\n", options.fleet, cluster);
        return 2;
      }
    } else {
      if (cluster.empty()) cluster = "local";
      if (!IsDns1123Label(cluster)) {
        err << fmt::format("meshfed validate: --cluster `{}` is not a valid cluster name\n",
                           cluster);
        return 2;
      }
    }
    // Objects from the files come after the fleet's (they are applied on top of it).
    uint64_t order = uint64_t{1} << 40;
    std::vector<Object> objects;
    for (const std::string& p : options.paths) {
      if (absl::Status s = ReadObjectsFile(p, order, objects, diagnostics); !s.ok()) {
        err << "meshfed validate: " << s.message() << '\n';
        return 1;
      }
    }
    std::vector<Object>& into = source.cluster_objects[cluster];
    for (Object& o : objects) {
      if (options.fleet.empty() && o.group == kMulticlusterGroup && o.kind == "MeshCluster") {
        source.mesh_clusters.push_back(std::move(o));
      } else {
        into.push_back(std::move(o));
      }
    }
    if (options.fleet.empty()) {
      registry = source.mesh_clusters.size() > 0;
      bool named = std::any_of(source.mesh_clusters.begin(), source.mesh_clusters.end(),
                               [&](const Object& o) { return o.name == cluster; });
      if (!named) source.mesh_clusters.push_back(StandaloneCluster(cluster));
    }
  }

  CheckedFleet checked = CheckFleet(std::move(source), std::move(diagnostics));
  Diagnostics& found = checked.diagnostics;
  if (!registry) {
    // Without a fleet registry every other cluster is unknown; saying so for each is noise.
    std::erase_if(found, [](const Diagnostic& d) { return d.code == code::kUnknownCluster; });
  }
  size_t errors = 0, warnings = 0, objects = 0;
  for (const Diagnostic& d : found) {
    if (d.severity == Severity::Error) ++errors;
    if (d.severity == Severity::Warning) ++warnings;
  }
  for (const Cluster& c : checked.fleet.clusters) objects += c.objects.size();
  for (const Object& o : checked.fleet.mesh_cluster_objects) objects += o.file.empty() ? 0 : 1;

  if (options.format == "json") {
    Node report = Node::Mapping();
    Node list = Node::Sequence();
    for (const Diagnostic& d : found) list.Append(DiagnosticToNode(d));
    report.Add("diagnostics", std::move(list));
    report.Add("errors", Node::Int(static_cast<int64_t>(errors)));
    report.Add("warnings", Node::Int(static_cast<int64_t>(warnings)));
    report.Add("objects", Node::Int(static_cast<int64_t>(objects)));
    std::string json;
    EmitJson(report, json);
    out << json << '\n';
  } else {
    for (const Diagnostic& d : found) out << d.Format() << '\n';
    if (found.empty()) {
      out << fmt::format("meshfed validate: no problems in {} object(s)\n", objects);
    } else {
      out << fmt::format("meshfed validate: {} error(s), {} warning(s) in {} object(s)\n", errors,
                         warnings, objects);
    }
  }
  if (errors > 0 || (options.strict && warnings > 0)) return 1;
  return 0;
}

}  // namespace meshfed
