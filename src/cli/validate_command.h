// `meshfed validate FLEET | FILE... [--fleet DIR] [--cluster NAME] [--output text|json] [--strict]`
//
// Runs every check the other commands run (src/core/validate/validate.h) and lists every problem.
// A fleet directory is checked whole. Files are checked as the objects of one cluster: of the
// fleet given by --fleet (as if they were applied to that cluster), or of a stand-alone cluster
// when there is no --fleet (then checks that need the fleet registry are left out).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace meshfed {

struct ValidateOptions {
  std::vector<std::string> paths;
  std::string fleet;
  std::string cluster;
  std::string format = "text";
  bool strict = false;
};

void AddValidateCommand(CLI::App& app, ValidateOptions& options);

// Exit code: 0 no errors (and, with --strict, no warnings), 1 problems found, 2 usage errors.
int RunValidate(const ValidateOptions& options, std::ostream& out, std::ostream& err);

}  // namespace meshfed
