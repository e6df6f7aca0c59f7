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

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace meshfed {

// Files written beside their places and moved into them together: until Commit, no file a
// reader sees changes. A failure, or destruction before Commit, removes what was staged. Staging
// writes the content at once, so a caller need not keep every file's text until the end, nor, with
// `write`, one file's text whole.
class StagedFiles {
 public:
  StagedFiles() = default;
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;
  ~StagedFiles();

  absl::Status Stage(const std::filesystem::path& path, std::string_view content);
  // The content is what `write` writes to the stream it is given.
  absl::Status Stage(const std::filesystem::path& path,
                     absl::FunctionRef<void(std::ostream&)> write);
  absl::Status Commit();

 private:
  void RemoveStaged();
  std::vector<std::pair<std::filesystem::path, std::filesystem::path>> staged_;  // temp, place
};

// Writes `content` to `out` in pieces of kWritePiece bytes. On this project's VM, `meshfed render`
// spent 12% of its time writing the large fleet's 116 MiB with one write(2) per 5.5 MiB file, and
// 1.4% in 256 KiB pieces; writes of 2 MiB or more are slow whenever their page-cache folios come
// from memory the host took back (`meshfed_bench write`; docs/performance-history.md, "Eighth
// session"). coreutils' cp writes in pieces of this size too.
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
