// `meshfed diff --fleet-context CTX [--kubeconfig PATHS] [--cluster NAME]`: what the controller
// would change in the live clusters — objects to create, update and delete, statuses to write,
// and conflicts it would leave alone — as unified diffs of YAML, without changing anything.
#pragma once

#include <iosfwd>
#include <string>

#include "CLI/CLI.hpp"
#include "adapters/kube/live_fleet.h"

namespace meshfed {

struct DiffOptions {
  std::string fleet_context;
  std::string kubeconfig;
  std::string cluster;
  kube::ResolveContext resolve;  // tests; default: the kubeconfig
};

void AddDiffCommand(CLI::App& app, DiffOptions& options);

// Exit code: 0 nothing to change, 1 changes (or problems: input errors, unreachable clusters),
// 2 usage errors.
int RunDiff(const DiffOptions& options, std::ostream& out, std::ostream& err);

}  // namespace meshfed
