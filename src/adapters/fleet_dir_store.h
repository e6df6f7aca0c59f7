// The fleet directory store, meshfed's embedded default: FLEET/fleet.yaml holds the MeshCluster
// objects; FLEET/<cluster>/ (recursively, *.yaml, *.yml, *.json, in path order) holds that
// cluster's objects. Hidden files and directories are skipped; symbolic links are followed
// (the bundled example steps share files that way), with loops detected.
#pragma once

#include <filesystem>

#include "absl/status/statusor.h"
#include "codec/yaml_reader.h"
#include "core/model/diagnostic.h"
#include "core/model/fleet.h"

namespace meshfed {

// Reads the directory. Problems in the files are diagnostics; a directory that cannot be read at
// all is a Status.
absl::StatusOr<FleetSource> ReadFleetDirectory(const std::filesystem::path& root,
                                               Diagnostics& diagnostics,
                                               const ReadLimits& limits = {});

// ReadFleetDirectory followed by BuildFleet.
absl::StatusOr<Fleet> LoadFleet(const std::filesystem::path& root, Diagnostics& diagnostics,
                                const ReadLimits& limits = {});

// Reads one file's objects (any kind), for commands that take files.
absl::Status ReadObjectsFile(const std::filesystem::path& file, uint64_t& next_order,
                             std::vector<Object>& out, Diagnostics& diagnostics,
                             const ReadLimits& limits = {});

}  // namespace meshfed
