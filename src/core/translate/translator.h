// The translator: a pure function from a fleet snapshot to the generated Istio/Kubernetes objects
// of every member cluster plus the two-sided status of every SEP and RSB (docs/data-plane.md).
#pragma once

#include <string>
#include <vector>

#include "core/model/diagnostic.h"
#include "core/model/fleet.h"
#include "core/model/node.h"

namespace meshfed {

struct ClusterOutput {
  std::string cluster;
  std::vector<Node> objects;  // sorted by kind, namespace, name
};

struct StatusOutput {
  std::string cluster;
  Node object;  // apiVersion, kind, metadata (name, namespace), status
};

struct Translation {
  std::vector<ClusterOutput> clusters;  // every member cluster, sorted by name
  std::vector<StatusOutput> statuses;   // every SEP and RSB, by cluster, kind, namespace, name
  Diagnostics diagnostics;              // warnings about what the fleet asks for
};

Translation Translate(const Fleet& fleet);

}  // namespace meshfed
