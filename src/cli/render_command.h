// `meshfed render FLEET [-o OUTDIR] [--cluster NAME] [--output yaml|json]`
#pragma once

#include <iosfwd>
#include <string>

#include "CLI/CLI.hpp"

namespace meshfed {

struct RenderOptions {
  std::string fleet;
  std::string out_dir;  // empty: stdout
  std::string cluster;  // empty: every cluster
  std::string format = "yaml";
  // Set by main, which exits right after: the fleet's trees are then left to the kernel, which
  // takes a process's memory back at once, instead of being destroyed node by node (0.14 s of
  // the 2.4 s render of the large fleet; docs/performance-history.md, "Eighth session").
  bool process_exits_after = false;
};

void AddRenderCommand(CLI::App& app, RenderOptions& options);

// Exit code: 0 rendered, 1 input errors (nothing written), 2 usage errors.
int RunRender(const RenderOptions& options, std::ostream& out, std::ostream& err);

}  // namespace meshfed
