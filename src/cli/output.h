// Writing command output: all files or none (each written to a temporary name first, then renamed).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace meshfed {

// Files written beside their places and moved into them together: until Commit, no file a
// reader sees changes. A failure, or destruction before Commit, removes what was staged. Staging
// writes the content at once, so a caller need not keep every file's text until the end.
class StagedFiles {
 public:
  StagedFiles() = default;
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;
  ~StagedFiles();

  absl::Status Stage(const std::filesystem::path& path, std::string_view content);
  absl::Status Commit();

 private:
  void RemoveStaged();
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> staged_;  // temp, place
};

absl::Status WriteFilesAtomically(
    const std::vector<std::pair<std::filesystem::path, std::string>>& files);

}  // namespace meshfed
