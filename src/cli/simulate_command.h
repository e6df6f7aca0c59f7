// `meshfed simulate FLEET --from CLUSTER/NAMESPACE/WORKLOAD --url URL [--method M] [-H 'N: v']...
//  [--output table|yaml|json]`
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace meshfed {

struct SimulateOptions {
  std::string fleet;
  std::string from;
  std::string url;
  std::string method = "GET";
  std::vector<std::string> headers;
  std::string format = "table";
};

void AddSimulateCommand(CLI::App& app, SimulateOptions& options);

// Exit code: 0 simulated (whatever the outcome), 1 input errors, 2 usage errors.
int RunSimulate(const SimulateOptions& options, std::ostream& out, std::ostream& err);

}  // namespace meshfed
