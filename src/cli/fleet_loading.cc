#include "cli/fleet_loading.h"

#include <fmt/format.h>

#include <algorithm>
#include <ostream>

#include "adapters/fleet_dir_store.h"

namespace meshfed {

std::optional<LoadedFleet> LoadAndTranslate(const std::string& path, const std::string& command,
                                            std::ostream& err, bool print_warnings) {
  Diagnostics diagnostics;
  absl::StatusOr<Fleet> fleet = LoadFleet(path, diagnostics);
  auto print = [&](const Diagnostics& ds) {
    for (const Diagnostic& d : ds) {
      if (print_warnings || d.severity == Severity::Error) err << d.Format() << '\n';
    }
  };
  if (!fleet.ok()) {
    print(diagnostics);
    err << "meshfed " << command << ": " << fleet.status().message() << '\n';
    return std::nullopt;
  }
  if (HasErrors(diagnostics)) {
    print(diagnostics);
    size_t errors = std::count_if(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& d) {
      return d.severity == Severity::Error;
    });
    err << fmt::format("meshfed {}: {} error(s) in {}; nothing written\n", command, errors, path);
    return std::nullopt;
  }
  LoadedFleet loaded{std::move(*fleet), {}};
  loaded.translation = Translate(loaded.fleet);
  print(diagnostics);
  print(loaded.translation.diagnostics);
  return loaded;
}

}  // namespace meshfed
