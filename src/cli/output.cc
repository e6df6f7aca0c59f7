#include "cli/output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <system_error>

namespace meshfed {
namespace fs = std::filesystem;

void WriteInPieces(std::ostream& out, std::string_view content) {
  while (!content.empty() && out) {
    std::string_view piece = content.substr(0, kWritePiece);
    out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    content.remove_prefix(piece.size());
  }
}

StagedFiles::~StagedFiles() { RemoveStaged(); }

void StagedFiles::RemoveStaged() {
  std::error_code ignored;
  for (const auto& [temp, place] : staged_) fs::remove(temp, ignored);
  staged_.clear();
}

absl::Status StagedFiles::Stage(const fs::path& path, std::string_view content) {
  return Stage(path, [content](std::ostream& out) { WriteInPieces(out, content); });
}

absl::Status StagedFiles::Stage(const fs::path& path,
                                absl::FunctionRef<void(std::ostream&)> write) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (ec) {
    RemoveStaged();
    return absl::PermissionDeniedError(
        fmt::format("{}: cannot create directory: {}", path.parent_path().string(), ec.message()));
  }
  fs::path temp = path;
  temp += fmt::format(".tmp-{}", getpid());
  // Staged before it is written, so that it is removed whatever happens while `write` runs
  // (a failure, or an exception that reaches the destructor).
  staged_.emplace_back(temp, path);
  std::ofstream out(temp, std::ios::binary | std::ios::trunc);
  if (out) write(out);
  out.close();
  if (!out) {
    RemoveStaged();
    return absl::UnavailableError(fmt::format("{}: write failed", path.string()));
  }
  return absl::OkStatus();
}

absl::Status StagedFiles::Commit() {
  for (size_t i = 0; i < staged_.size(); ++i) {
    std::error_code ec;
    fs::rename(staged_[i].first, staged_[i].second, ec);
    if (ec) {
      std::string place = staged_[i].second.string();
      staged_.erase(staged_.begin(), staged_.begin() + static_cast<std::ptrdiff_t>(i));
      RemoveStaged();
      return absl::UnavailableError(
          fmt::format("{}: cannot move into place: {}", place, ec.message()));
    }
  }
  staged_.clear();
  return absl::OkStatus();
}

absl::Status WriteFilesAtomically(const std::vector<std::pair<fs::path, std::string>>& files) {
  StagedFiles staged;
  for (const auto& [path, content] : files) {
    if (absl::Status s = staged.Stage(path, content); !s.ok()) return s;
  }
  return staged.Commit();
}

}  // namespace meshfed
