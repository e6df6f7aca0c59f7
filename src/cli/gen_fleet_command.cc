#include "cli/gen_fleet_command.h"

#include <fmt/format.h>

#include <filesystem>
#include <ostream>

#include "cli/output.h"
#include "codec/emitter.h"

namespace meshfed {

void AddGenFleetCommand(CLI::App& app, GenFleetOptions& options) {
  CLI::App* cmd =
      app.add_subcommand("gen-fleet", "Write a synthetic fleet directory for benchmarks");
  cmd->add_option("OUTDIR", options.out_dir, "Where to write the fleet")->required();
  cmd->add_option("--clusters", options.shape.clusters, "Member clusters")
      ->check(CLI::Range(1, 250));
  cmd->add_option("--services", options.shape.services, "Services per cluster")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--versions", options.shape.versions,
                  "Versions (Deployments, subsets) per service")
      ->check(CLI::Range(3, 20));
  cmd->add_option("--exposed", options.shape.exposed_fraction, "Fraction of services exposed")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--bind", options.shape.bind_clusters,
                  "Clusters each exposed service is exposed to and bound by")
      ->check(CLI::Range(1, 249));
  cmd->add_option("--aliases", options.shape.alias_fraction,
                  "Fraction of exposed services with a donation alias")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--seed", options.shape.seed, "Random seed");
  cmd->add_flag("--policy-per-service", options.shape.policy_per_service,
                "One SEP per exposed service and one RSB per bound service (default: one of each "
                "per cluster, holding every entry)");
  cmd->add_option("--output", options.format, "File format")
      ->check(CLI::IsMember({"yaml", "json"}));
}

int RunGenFleet(const GenFleetOptions& options, std::ostream& out, std::ostream& err) {
  GeneratedFleet fleet = GenerateFleet(options.shape);
  std::vector<std::pair<std::filesystem::path, std::string>> files;
  size_t objects = 0, bytes = 0;
  for (const auto& [path, docs] : fleet) {
    std::filesystem::path file = std::filesystem::path(options.out_dir) / path;
    std::string content;
    if (options.format == "json" && path != "fleet.yaml") {
      file.replace_extension(".json");
      Node list = Node::Mapping();
      list.Set("apiVersion", Node::String("v1"));
      list.Set("kind", Node::String("List"));
      Node items = Node::Sequence();
      for (const Node& d : docs) items.Append(d);
      list.Set("items", std::move(items));
      EmitJson(list, content, -1);
      content += '\n';
    } else {
      content = EmitYamlStream(docs);
    }
    objects += docs.size();
    bytes += content.size();
    files.emplace_back(std::move(file), std::move(content));
  }
  if (absl::Status s = WriteFilesAtomically(files); !s.ok()) {
    err << "meshfed gen-fleet: " << s.message() << '\n';
    return 1;
  }
  out << fmt::format("wrote {} objects ({:.1f} MiB) in {} files to {}\n", objects,
                     static_cast<double>(bytes) / (1 << 20), files.size(), options.out_dir);
  return 0;
}

}  // namespace meshfed
