// The route simulator: what Istio/Envoy would do with one request, hop by hop, over a fleet's
// configuration — what users wrote plus what meshfed generates (EffectiveFleet). Semantics are
// those of istio-semantics.md (sections 2-6); each step cites the Istio code it reproduces.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/model/fleet.h"
#include "core/simulate/request.h"
#include "core/translate/translator.h"

namespace meshfed {

// The fleet as the clusters would hold it after meshfed applied its generated objects.
Fleet EffectiveFleet(const Fleet& fleet, const Translation& translation);

struct SimulateInput {
  std::string cluster;
  std::string namespace_;
  std::string workload;  // a Deployment: its pod labels and service account are the source
  Request request;
};

// Text that a simulation's hops point into: appended in blocks that never move, freed with the
// simulation. A request's trace is about a dozen hops of a few hundred bytes; one block holds it
// all, so a trace costs one allocation instead of several per hop.
class TextStore {
 public:
  TextStore() = default;
  TextStore(TextStore&&) = default;
  TextStore& operator=(TextStore&&) = default;
  TextStore(const TextStore&) = delete;
  TextStore& operator=(const TextStore&) = delete;

  // A copy of `text` that lives as long as the store.
  std::string_view Save(std::string_view text);

 private:
  static constexpr size_t kBlock = 8192;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = kBlock;  // in the last block; a full "block" before the first one
};

// One decision on the way, and the object (with its position) that made it. The text is kept
// in the simulation's TextStore (or is static): a Hop is valid as long as its Simulation.
struct Hop {
  std::string_view cluster;
  std::string_view proxy;  // e.g. "sidecar default/productpage-v1"
  std::string_view
      step;  // dns, listener, virtual-host, route, cluster, endpoints, tls, authorization
  std::string_view detail;
  std::string_view object;  // e.g. "VirtualService default/reviews", empty for built-in behaviour
  std::string_view file;
  Position position;
};

struct Destination {
  std::string cluster;
  std::string host;
  std::string subset;
  int port = 0;
  std::vector<std::string> workloads;  // Deployments whose pods receive the request
  std::string envoy_cluster;           // outbound|port|subset|host
};

// One way the request can end. Weighted routes and partial faults give several outcomes whose
// probabilities add up to 1. Its hops point into its Simulation's text: read them while the
// Simulation lives.
struct Outcome {
  double probability = 1.0;
  int status = 0;    // HTTP status; 0 when no HTTP response comes back (DNS, connection failure)
  std::string flag;  // Envoy response flag: NR, NC, UH, UF, RBAC, FI (fault), DNS, PASSTHROUGH
  std::string message;
  std::vector<Hop> hops;
  std::optional<Destination> destination;
};

// Movable, not copyable: the hops point into `text`.
struct Simulation {
  std::vector<Outcome> outcomes;
  TextStore text;
};

// Simulates requests over one fleet (an EffectiveFleet), keeping what it derives from the fleet
// between requests (which Deployments a Service selects, how objects are named in hops), so
// that many requests cost less than many one-off simulations. The fleet must outlive it and
// must not change while it is used.
class RouteSimulator {
 public:
  explicit RouteSimulator(const Fleet& fleet);
  ~RouteSimulator();
  RouteSimulator(const RouteSimulator&) = delete;
  RouteSimulator& operator=(const RouteSimulator&) = delete;

  // Simulates `input`, replacing `out`. Returns false with `error` set when the input names no
  // such cluster or workload.
  bool Simulate(const SimulateInput& input, Simulation& out, std::string& error);

  struct Derived;  // what it keeps between requests (simulator.cc)

 private:
  const Fleet& fleet_;
  std::unique_ptr<Derived> derived_;
};

// One request: RouteSimulator(fleet).Simulate(input, out, error).
bool Simulate(const Fleet& fleet, const SimulateInput& input, Simulation& out, std::string& error);

}  // namespace meshfed
