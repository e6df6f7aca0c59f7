#include "cli/render_command.h"

#include <fmt/format.h>

#include <ostream>

#include "absl/cleanup/cleanup.h"
#include "adapters/fleet_dir_store.h"
#include "cli/fleet_loading.h"
#include "cli/output.h"
#include "codec/emitter.h"
#include "core/translate/translator.h"

namespace meshfed {
namespace {

// Writes one file's objects to `out`. A fleet's output is written one file at a time, and each
// file's trees are released once written (unless the process exits right after), so that they are
// not kept while the next is built. The text goes out in pieces as it is made, not held whole.
void Serialize(const std::vector<Node>& objects, const std::string& format, std::ostream& out) {
  auto write = [&out](std::string_view piece) { WriteInPieces(out, piece); };
  if (format == "json") {
    EmitJsonList(objects, write);
  } else {
    EmitYamlStream(objects, write);
  }
}

}  // namespace

void AddRenderCommand(CLI::App& app, RenderOptions& options) {
  CLI::App* render = app.add_subcommand(
      "render", "Generate every cluster's Istio/Kubernetes config from a fleet directory, offline");
  render
      ->add_option("FLEET", options.fleet,
                   "Fleet directory: fleet.yaml plus one directory per cluster")
      ->required();
  render->add_option(
      "-o,--out", options.out_dir,
      "Write OUTDIR/<cluster>/generated.yaml and OUTDIR/status.yaml (default: stdout)");
  render->add_option("--cluster", options.cluster, "Only this cluster's generated objects");
  render->add_option("--output", options.format, "Output format")
      ->check(CLI::IsMember({"yaml", "json"}));
}

int RunRender(const RenderOptions& options, std::ostream& out, std::ostream& err) {
  std::optional<LoadedFleet> loaded = LoadAndTranslate(options.fleet, "render", err);
  if (!loaded) return 1;
  std::vector<Node> statuses;
  // When the process exits right after, the fleet and its output are kept for the kernel to take
  // back; otherwise each file's trees are released as soon as it is written.
  absl::Cleanup keep = [&] {
    if (options.process_exits_after) {
      KeepUntilExit(std::move(loaded));
      KeepUntilExit(std::move(statuses));
    }
  };
  auto release = [&](std::vector<Node>& objects) {
    if (!options.process_exits_after) std::vector<Node>().swap(objects);
  };
  const Fleet* fleet = &loaded->fleet;
  Translation& translation = loaded->translation;
  if (!options.cluster.empty() && fleet->Find(options.cluster) == nullptr) {
    std::vector<std::string> names;
    for (const Cluster& c : fleet->clusters) names.push_back(c.name);
    err << fmt::format("meshfed render: no cluster `{}` in {}; the clusters are: {}\n",
                       options.cluster, options.fleet, fmt::join(names, ", "));
    return 2;
  }

  const std::string ext = options.format == "json" ? "json" : "yaml";
  for (StatusOutput& s : translation.statuses) {
    if (options.cluster.empty() || s.cluster == options.cluster) {
      statuses.push_back(std::move(s.object));
    }
  }
  if (options.out_dir.empty()) {
    for (ClusterOutput& c : translation.clusters) {
      if (!options.cluster.empty() && c.cluster != options.cluster) continue;
      if (options.cluster.empty() && options.format == "yaml")
        out << "# cluster: " << c.cluster << '\n';
      Serialize(c.objects, options.format, out);
      release(c.objects);
    }
    return 0;
  }
  // Each file is staged as soon as it is serialized, so neither its trees nor its text are kept
  // while the next is built; all move into place together at the end.
  StagedFiles staged;
  std::filesystem::path dir(options.out_dir);
  absl::Status written;
  for (ClusterOutput& c : translation.clusters) {
    if (!options.cluster.empty() && c.cluster != options.cluster) continue;
    written = staged.Stage(dir / c.cluster / ("generated." + ext),
                           [&](std::ostream& file) { Serialize(c.objects, options.format, file); });
    release(c.objects);
    if (!written.ok()) break;
  }
  if (written.ok()) {
    written = staged.Stage(dir / ("status." + ext),
                           [&](std::ostream& file) { Serialize(statuses, options.format, file); });
  }
  if (written.ok()) written = staged.Commit();
  if (!written.ok()) {
    err << "meshfed render: " << written.message() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace meshfed
