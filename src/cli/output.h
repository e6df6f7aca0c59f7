// Writing command output: all files or none (each written to a temporary name first, then renamed).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace meshfed {

absl::Status WriteFilesAtomically(
    const std::vector<std::pair<std::filesystem::path, std::string>>& files);

}  // namespace meshfed
