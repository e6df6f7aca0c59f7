#include "cli/output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <system_error>

namespace meshfed {
namespace fs = std::filesystem;

absl::Status WriteFilesAtomically(const std::vector<std::pair<fs::path, std::string>>& files) {
  std::vector<fs::path> temps;
  auto cleanup = [&] {
    std::error_code ignored;
    for (const fs::path& t : temps) fs::remove(t, ignored);
  };
  for (const auto& [path, content] : files) {
    std::error_code ec;
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
    if (ec) {
      cleanup();
      return absl::PermissionDeniedError(fmt::format("{}: cannot create directory: {}",
                                                     path.parent_path().string(), ec.message()));
    }
    fs::path temp = path;
    temp += fmt::format(".tmp-{}", getpid());
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    temps.push_back(temp);
    if (!out) {
      cleanup();
      return absl::UnavailableError(fmt::format("{}: write failed", path.string()));
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    std::error_code ec;
    fs::rename(temps[i], files[i].first, ec);
    if (ec) {
      cleanup();
      return absl::UnavailableError(
          fmt::format("{}: cannot move into place: {}", files[i].first.string(), ec.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace meshfed
