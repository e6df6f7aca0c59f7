#include "cli/simulate_command.h"

#include <fmt/format.h>

#include <ostream>

#include "cli/fleet_loading.h"
#include "codec/emitter.h"
#include "core/simulate/report.h"
#include "core/simulate/simulator.h"

namespace meshfed {

void AddSimulateCommand(CLI::App& app, SimulateOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Predict, hop by hop, what Istio/Envoy would do with one request across the fleet");
  cmd->add_option("FLEET", options.fleet, "Fleet directory")->required();
  cmd->add_option("--from", options.from, "Source workload: CLUSTER/NAMESPACE/DEPLOYMENT")
      ->required();
  cmd->add_option("--url", options.url, "Request URL, e.g. http://reviews:9080/reviews/0")
      ->required();
  cmd->add_option("--method", options.method, "HTTP method");
  cmd->add_option("-H,--header", options.headers, "Request header 'Name: value' (repeatable)");
  cmd->add_option("--output", options.format, "Output format")
      ->check(CLI::IsMember({"table", "yaml", "json"}));
}

int RunSimulate(const SimulateOptions& options, std::ostream& out, std::ostream& err) {
  SimulateInput input;
  size_t a = options.from.find('/');
  size_t b = a == std::string::npos ? a : options.from.find('/', a + 1);
  if (b == std::string::npos || options.from.find('/', b + 1) != std::string::npos || a == 0 ||
      b == a + 1 || b + 1 == options.from.size()) {
    err << fmt::format("meshfed simulate: --from `{}` must be CLUSTER/NAMESPACE/DEPLOYMENT\n",
                       options.from);
    return 2;
  }
  input.cluster = options.from.substr(0, a);
  input.namespace_ = options.from.substr(a + 1, b - a - 1);
  input.workload = options.from.substr(b + 1);
  std::string error;
  std::optional<Request> request =
      ParseRequest(options.url, options.method, options.headers, error);
  if (!request) {
    err << "meshfed simulate: " << error << '\n';
    return 2;
  }
  input.request = std::move(*request);
  std::optional<LoadedFleet> loaded = LoadAndTranslate(options.fleet, "simulate", err, false);
  if (!loaded) return 1;
  Fleet effective = EffectiveFleet(loaded->fleet, loaded->translation);
  Simulation simulation;
  if (!Simulate(effective, input, simulation, error)) {
    err << "meshfed simulate: " << error << '\n';
    return 2;
  }
  if (options.format == "table") {
    out << SimulationToTable(input, simulation);
  } else if (options.format == "json") {
    std::string json;
    EmitJson(SimulationToNode(input, simulation), json);
    out << json << '\n';
  } else {
    std::string yaml;
    EmitYaml(SimulationToNode(input, simulation), yaml);
    out << yaml;
  }
  return 0;
}

}  // namespace meshfed
