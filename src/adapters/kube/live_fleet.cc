#include "adapters/kube/live_fleet.h"

#include <fmt/format.h>

#include <cstdlib>

#include "adapters/kube/resources.h"
#include "core/model/text.h"

namespace meshfed::kube {

absl::StatusOr<LiveFleet> ReadLiveFleet(const ResolveContext& resolve,
                                        const std::string& fleet_context,
                                        const ClientOptions& options) {
  absl::StatusOr<RestConfig> fleet_config = resolve(fleet_context);
  if (!fleet_config.ok()) return fleet_config.status();
  absl::StatusOr<std::unique_ptr<Client>> fleet = Client::Create(*fleet_config, options);
  if (!fleet.ok()) return fleet.status();
  absl::StatusOr<ListResult> clusters = (*fleet)->List(MeshClusterResource(), "");
  if (!clusters.ok()) return clusters.status();
  LiveFleet out;
  uint64_t order = 0;
  Diagnostics ignored;
  out.source.fleet_file = fmt::format("{} (MeshClusters)", fleet_config->context);
  AppendObjects(clusters->items, out.source.fleet_file, order, out.source.mesh_clusters, ignored);
  for (const Node& mc : clusters->items) {
    std::string name(ScalarAt(&mc, "metadata", "name"));
    std::string context(ScalarAt(mc.Find("spec"), "kubeconfig", "context"));
    if (context.empty()) context = name;
    absl::StatusOr<RestConfig> config = resolve(context);
    absl::StatusOr<std::unique_ptr<Client>> client =
        config.ok() ? Client::Create(*config, options)
                    : absl::StatusOr<std::unique_ptr<Client>>(config.status());
    if (!client.ok()) {
      out.unreachable[name] = std::string(client.status().message());
      continue;
    }
    std::vector<Node> objects;
    bool failed = false;
    for (const ResourceType& t : WatchedResources()) {
      absl::StatusOr<ListResult> list = (*client)->List(t, "");
      if (!list.ok()) {
        out.unreachable[name] = std::string(list.status().message());
        failed = true;
        break;
      }
      for (Node& item : list->items) {
        if (GeneratedKind(t)) out.live[name].push_back(item);
        if (OwnerBeingDeleted(t, item)) continue;
        objects.push_back(std::move(item));
      }
    }
    if (failed) continue;
    AppendObjects(std::move(objects), fmt::format("{} (live)", name), order,
                  out.source.cluster_objects[name], ignored);
  }
  return out;
}

ResolveContext KubeconfigResolver(const std::string& kubeconfig_flag) {
  std::vector<std::string> paths =
      kubeconfig_flag.empty() ? KubeconfigPaths(std::getenv("KUBECONFIG"), std::getenv("HOME"))
                              : KubeconfigPaths(kubeconfig_flag.c_str(), nullptr);
  return [paths](const std::string& context) -> absl::StatusOr<RestConfig> {
    if (context == "in-cluster") return InClusterConfig();
    return LoadKubeconfig(paths, context);
  };
}

}  // namespace meshfed::kube
