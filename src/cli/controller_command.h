// `meshfed controller --fleet-context CTX [--kubeconfig PATHS] [--metrics-addr HOST:PORT]
//  [--leader-elect=false] [--lease-namespace NS] [--lease-name NAME] [--identity ID]`
// Runs until SIGTERM or SIGINT, then stops gracefully (watches closed, lease released).
#pragma once

#include <iosfwd>
#include <string>

#include "CLI/CLI.hpp"

namespace meshfed {

struct ControllerCommandOptions {
  std::string fleet_context;
  std::string kubeconfig;
  std::string metrics_addr = "0.0.0.0:8080";
  bool leader_elect = true;
  std::string lease_namespace = "meshfed-system";
  std::string lease_name = "meshfed";
  std::string identity;
  int debounce_ms = 100;
};

void AddControllerCommand(CLI::App& app, ControllerCommandOptions& options);

// Exit code: 0 after a graceful stop, 1 when it cannot start, 2 usage errors.
int RunController(const ControllerCommandOptions& options, std::ostream& out, std::ostream& err);

}  // namespace meshfed
