// Loading and translating a fleet for a command, printing diagnostics; shared by the commands.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "core/model/fleet.h"
#include "core/translate/translator.h"

namespace meshfed {

struct LoadedFleet {
  Fleet fleet;
  Translation translation;
};

// Prints every diagnostic to `err`. Returns nothing (after saying why, prefixed by `command`)
// when the fleet cannot be read or has errors: then no command may write or simulate anything.
std::optional<LoadedFleet> LoadAndTranslate(const std::string& path, const std::string& command,
                                            std::ostream& err, bool print_warnings = true);

}  // namespace meshfed
