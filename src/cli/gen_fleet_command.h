// `meshfed gen-fleet OUTDIR [--clusters N] [--services S] [--exposed F] [--bind K] [--aliases F]
//  [--seed X] [--output yaml|json]`: a synthetic fleet directory for benchmarks.
#pragma once

#include <iosfwd>
#include <string>

#include "CLI/CLI.hpp"
#include "core/generate/fleet_generator.h"

namespace meshfed {

struct GenFleetOptions {
  std::string out_dir;
  FleetShape shape;
  std::string format = "yaml";
};

void AddGenFleetCommand(CLI::App& app, GenFleetOptions& options);
int RunGenFleet(const GenFleetOptions& options, std::ostream& out, std::ostream& err);

}  // namespace meshfed
