// Writing command output: all files or none (each written to a temporary name first, then renamed).
#pragma once

#include <cstddef>
#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
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

// Writes `content` to `out` in pieces of kWritePiece bytes. Large buffered writes are much slower
// on this project's VM than the same bytes in pieces: one write(2) of 100 MiB to ext4 took
// 0.27 s, and the same bytes in 256 KiB or 1 MiB writes 0.035-0.045 s, while 2 MiB writes took
// 0.47 s (the kernel sizes page-cache folios by the write, and the VM's free-page reporting hands
// blocks of 2 MiB back to the host, so large folios come from memory the host must fault in
// again; docs/performance.md, "Eighth session"). coreutils' cp writes in pieces of this size too.
inline constexpr size_t kWritePiece = 256 * 1024;
void WriteInPieces(std::ostream& out, std::string_view content);

// For a command that main exits right after: keeps `value` alive until the process ends and never
// destroys it. The kernel takes back a process's memory at once, where destroying a fleet's trees
// node by node takes a tenth of a render. What is kept stays reachable from a global, so leak
// checkers do not report it.
template <typename T>
void KeepUntilExit(T&& value) {
  static auto* const kept = new std::vector<std::decay_t<T>>();
  kept->push_back(std::forward<T>(value));
}

absl::Status WriteFilesAtomically(
    const std::vector<std::pair<std::filesystem::path, std::string>>& files);

}  // namespace meshfed
