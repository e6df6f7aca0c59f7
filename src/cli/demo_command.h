// `meshfed demo [BOOKINFO_DIR]`: the design note, step by step, on the bundled bookinfo fleet.
#pragma once

#include <iosfwd>
#include <string>

#include "CLI/CLI.hpp"

namespace meshfed {

struct DemoOptions {
  std::string examples;  // the directory holding step1..step7
};

void AddDemoCommand(CLI::App& app, DemoOptions& options);

// Exit code: 0 when every simulated outcome matches the design note's table, 1 otherwise.
int RunDemo(const DemoOptions& options, std::ostream& out, std::ostream& err);

}  // namespace meshfed
