#include "cli/fleet_loading.h"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>

#include "adapters/fleet_dir_store.h"
#include "core/validate/validate.h"

namespace meshfed {

std::optional<LoadedFleet> LoadAndTranslate(const std::string& path, const std::string& command,
                                            std::ostream& err, bool print_warnings) {
  Diagnostics read_diagnostics;
  absl::StatusOr<FleetSource> source = ReadFleetDirectory(path, read_diagnostics);
  auto print = [&](const Diagnostics& ds) {
    for (const Diagnostic& d : ds) {
      if (print_warnings || d.severity == Severity::Error) err << d.Format() << '\n';
    }
  };
  if (!source.ok()) {
    print(read_diagnostics);
    err << "meshfed " << command << ": " << source.status().message() << '\n';
    return std::nullopt;
  }
  CheckedFleet checked = CheckFleet(std::move(*source), std::move(read_diagnostics));
  print(checked.diagnostics);
  if (checked.HasErrors()) {
    size_t errors =
        std::count_if(checked.diagnostics.begin(), checked.diagnostics.end(),
                      [](const Diagnostic& d) { return d.severity == Severity::Error; });
    err << fmt::format(
        "meshfed {}: {} error(s) in {}; nothing written (`meshfed validate {}` "
        "lists every problem)\n",
        command, errors, path, path);
    return std::nullopt;
  }
  return LoadedFleet{std::move(checked.fleet), std::move(checked.translation)};
}

}  // namespace meshfed
