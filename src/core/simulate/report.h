// Presenting a simulation: a tree for YAML/JSON and a readable hop-by-hop table.
#pragma once

#include <string>

#include "core/model/node.h"
#include "core/simulate/simulator.h"

namespace meshfed {

struct DestinationShare {
  Destination destination;
  double probability = 0;
};

// Outcomes that reach the same destination (e.g. through two donors' gateways) merged, most
// probable first.
std::vector<DestinationShare> Destinations(const Simulation& simulation);
// The most probable outcome (the first on ties).
const Outcome& MainOutcome(const Simulation& simulation);

// {request, status, flag, message, hops, destinations, outcomes}.
Node SimulationToNode(const SimulateInput& input, const Simulation& simulation);
std::string SimulationToTable(const SimulateInput& input, const Simulation& simulation);

// "v2 in cluster-b (reviews-v2)" style one-line summary of where requests land.
std::string Summary(const Simulation& simulation);

}  // namespace meshfed
