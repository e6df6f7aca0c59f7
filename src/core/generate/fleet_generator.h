// A synthetic fleet for benchmarks: N clusters x S services, each service with a Deployment per
// version, a DestinationRule with subsets and a VirtualService with a header match and weighted
// routes; a fraction of services exposed to K other clusters and bound by them, some through
// donation aliases. Deterministic from the seed (the same bytes on every machine).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/model/node.h"

namespace meshfed {

struct FleetShape {
  int clusters = 20;
  int services = 1000;  // per cluster
  int versions = 3;     // Deployments (and subsets) per service
  double exposed_fraction = 0.3;
  int bind_clusters = 5;        // each exposed service is exposed to and bound by this many
  double alias_fraction = 0.2;  // of exposed services, also exposed through a donation alias
  uint64_t seed = 1;
  // One ServiceExpositionPolicy per donor cluster and one RemoteServiceBinding per acceptor
  // (every entry in one object: the largest statuses), or one per exposed service and per bound
  // service.
  bool policy_per_service = false;
};

// File path (relative to the fleet directory) -> documents, in the order to write them.
using GeneratedFleet = std::map<std::string, std::vector<Node>>;

GeneratedFleet GenerateFleet(const FleetShape& shape);

}  // namespace meshfed
