// One read of the live fleet: the MeshClusters of the fleet cluster, and every object the
// translator reads in each member cluster (generated ones included), by list. `meshfed diff`
// uses it; the controller keeps the same state current with informers instead.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/kube/client.h"
#include "core/model/fleet.h"

namespace meshfed::kube {

using ResolveContext = std::function<absl::StatusOr<RestConfig>(const std::string& context)>;

struct LiveFleet {
  FleetSource source;                              // what the translator reads
  std::map<std::string, std::vector<Node>> live;   // cluster -> objects of generated kinds
  std::map<std::string, std::string> unreachable;  // cluster -> why
};

// Reads the fleet. A member cluster that cannot be read is listed in `unreachable` (its objects
// are then unknown); only a fleet cluster that cannot be read is an error.
absl::StatusOr<LiveFleet> ReadLiveFleet(const ResolveContext& resolve,
                                        const std::string& fleet_context,
                                        const ClientOptions& options = {});

// The kubeconfig contexts of the current environment (KUBECONFIG, ~/.kube/config), with
// `--kubeconfig` overriding, and "in-cluster" for the pod's own service account.
ResolveContext KubeconfigResolver(const std::string& kubeconfig_flag);

}  // namespace meshfed::kube
