#include "adapters/fleet_dir_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

namespace meshfed {
namespace fs = std::filesystem;
namespace {

bool IsObjectFile(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool IsHidden(const fs::path& p) {
  std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

absl::Status CollectFiles(const fs::path& dir, std::set<fs::path>& visiting,
                          std::vector<fs::path>& out) {
  std::error_code ec;
  fs::path canonical = fs::canonical(dir, ec);
  if (ec) return absl::NotFoundError(fmt::format("{}: {}", dir.string(), ec.message()));
  if (!visiting.insert(canonical).second) {
    return absl::FailedPreconditionError(
        fmt::format("{}: symbolic links form a loop back to {}", dir.string(), canonical.string()));
  }
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!IsHidden(it->path())) entries.push_back(it->path());
  }
  if (ec) return absl::UnavailableError(fmt::format("{}: {}", dir.string(), ec.message()));
  std::sort(entries.begin(), entries.end());
  for (const fs::path& p : entries) {
    if (fs::is_directory(p, ec)) {
      if (absl::Status s = CollectFiles(p, visiting, out); !s.ok()) return s;
    } else if (IsObjectFile(p) && fs::is_regular_file(p, ec)) {
      out.push_back(p);
    }
  }
  visiting.erase(canonical);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const fs::path& file, size_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec) return absl::NotFoundError(fmt::format("{}: {}", file.string(), ec.message()));
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return absl::PermissionDeniedError(fmt::format("{}: cannot open for reading", file.string()));
  std::string content;
  // Read at most one byte past the limit: the reader reports the size problem with position.
  content.resize(std::min<size_t>(size, max_bytes + 1));
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<size_t>(in.gcount()));
  return content;
}

}  // namespace

absl::Status ReadObjectsFile(const fs::path& file, uint64_t& next_order, std::vector<Object>& out,
                             Diagnostics& diagnostics, const ReadLimits& limits) {
  absl::StatusOr<std::string> content = ReadFile(file, limits.max_bytes);
  if (!content.ok()) return content.status();
  ReadResult read = ReadYamlStream(*content, file.string(), limits);
  for (Diagnostic& d : read.diagnostics) diagnostics.push_back(std::move(d));
  AppendObjects(std::move(read.documents), file.string(), next_order, out, diagnostics);
  return absl::OkStatus();
}

absl::StatusOr<FleetSource> ReadFleetDirectory(const fs::path& root, Diagnostics& diagnostics,
                                               const ReadLimits& limits) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return absl::NotFoundError(
        fmt::format("{}: not a fleet directory (it should hold fleet.yaml "
                    "and one directory per cluster)",
                    root.string()));
  }
  FleetSource source;
  uint64_t order = 0;
  fs::path fleet_file = root / "fleet.yaml";
  source.fleet_file = fleet_file.string();
  if (!fs::is_regular_file(fleet_file, ec)) {
    diagnostics.push_back(Diagnostic{Severity::Error,
                                     code::kFleetLayout,
                                     root.string(),
                                     {},
                                     {},
                                     "",
                                     "no fleet.yaml: a fleet directory needs fleet.yaml with one "
                                     "MeshCluster per member cluster"});
    return source;
  }
  if (absl::Status s =
          ReadObjectsFile(fleet_file, order, source.mesh_clusters, diagnostics, limits);
      !s.ok()) {
    return s;
  }
  std::vector<fs::path> cluster_dirs;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!IsHidden(it->path()) && fs::is_directory(it->path())) cluster_dirs.push_back(it->path());
  }
  if (ec) return absl::UnavailableError(fmt::format("{}: {}", root.string(), ec.message()));
  std::sort(cluster_dirs.begin(), cluster_dirs.end());
  for (const fs::path& dir : cluster_dirs) {
    std::string cluster = dir.filename().string();
    std::vector<fs::path> files;
    std::set<fs::path> visiting;
    if (absl::Status s = CollectFiles(dir, visiting, files); !s.ok()) return s;
    std::vector<Object>& objects = source.cluster_objects[cluster];
    source.cluster_directories[cluster] = dir.string();
    for (const fs::path& f : files) {
      if (absl::Status s = ReadObjectsFile(f, order, objects, diagnostics, limits); !s.ok())
        return s;
    }
  }
  return source;
}

absl::StatusOr<Fleet> LoadFleet(const fs::path& root, Diagnostics& diagnostics,
                                const ReadLimits& limits) {
  absl::StatusOr<FleetSource> source = ReadFleetDirectory(root, diagnostics, limits);
  if (!source.ok()) return source.status();
  return BuildFleet(std::move(*source), diagnostics);
}

}  // namespace meshfed
