// meshfed: wiring only. Each subcommand lives in its own file under src/cli/.
#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "adapters/heap_prefault.h"
#include "cli/controller_command.h"
#include "cli/demo_command.h"
#include "cli/diff_command.h"
#include "cli/gen_fleet_command.h"
#include "cli/render_command.h"
#include "cli/simulate_command.h"
#include "cli/validate_command.h"

namespace {

// Runs the subcommand that was parsed.
int Run(CLI::App& app, meshfed::RenderOptions& render, meshfed::DemoOptions& demo,
        meshfed::GenFleetOptions& gen_fleet, meshfed::SimulateOptions& simulate,
        meshfed::ValidateOptions& validate, meshfed::DiffOptions& diff,
        meshfed::ControllerCommandOptions& controller) {
  if (app.got_subcommand("render")) {
    render.process_exits_after = true;
    return meshfed::RunRender(render, std::cout, std::cerr);
  }
  if (app.got_subcommand("demo")) return meshfed::RunDemo(demo, std::cout, std::cerr);
  if (app.got_subcommand("gen-fleet")) return meshfed::RunGenFleet(gen_fleet, std::cout, std::cerr);
  if (app.got_subcommand("simulate")) return meshfed::RunSimulate(simulate, std::cout, std::cerr);
  if (app.got_subcommand("validate")) return meshfed::RunValidate(validate, std::cout, std::cerr);
  if (app.got_subcommand("diff")) return meshfed::RunDiff(diff, std::cout, std::cerr);
  if (app.got_subcommand("controller")) {
    return meshfed::RunController(controller, std::cout, std::cerr);
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  meshfed::PrefaultHeapGrowth();
  CLI::App app{
      "meshfed: share services between independent Istio clusters, keeping the donor's "
      "request routing"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "meshfed 0.1.0");
  meshfed::RenderOptions render;
  meshfed::AddRenderCommand(app, render);
  meshfed::DemoOptions demo;
  meshfed::AddDemoCommand(app, demo);
  meshfed::GenFleetOptions gen_fleet;
  meshfed::AddGenFleetCommand(app, gen_fleet);
  meshfed::SimulateOptions simulate;
  meshfed::AddSimulateCommand(app, simulate);
  meshfed::ValidateOptions validate;
  meshfed::AddValidateCommand(app, validate);
  meshfed::DiffOptions diff;
  meshfed::AddDiffCommand(app, diff);
  meshfed::ControllerCommandOptions controller;
  meshfed::AddControllerCommand(app, controller);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;  // usage errors exit 2 (PRODUCT.md section 4)
  }
  int code = Run(app, render, demo, gen_fleet, simulate, validate, diff, controller);
  // What a command printed may still be in the stream's buffer: a full disk shows only when it
  // is flushed, and must not pass for success. The reason is known only when this last flush is
  // what failed: after an earlier failure there is nothing left to flush, and errno has moved on.
  errno = 0;
  std::cout.flush();
  const int reason = errno;
  if (!std::cout) {
    std::cerr << "meshfed: cannot write to standard output"
              << (reason != 0 ? std::string(": ") + std::strerror(reason) : std::string()) << '\n';
    return code == 0 ? 1 : code;
  }
  return code;
}
