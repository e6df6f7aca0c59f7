// Validation shared by every command (issue: `render`, `simulate`, `demo` and `validate` check
// input the same way, and none writes anything when there are errors).
//
//   1. reading: YAML/JSON syntax, limits, envelopes, the fleet layout (codec, adapters,
//   BuildFleet);
//   2. objects: meshfed's own kinds (kinds.cc), and Istio's CRD schema and webhook rules for the
//      Istio kinds (schema.h, istio_rules.h): ValidateObjects;
//   3. the fleet: what the translator reports (MF2xxx), and cross-object analyzers — Istio's own
//      (IST0101, IST0109, IST0112, IST0132, IST0173, IST0174) and meshfed's (MF2010–MF2012):
//      AnalyzeFleet.
//
// Analyzer findings are warnings even where `istioctl analyze` says Error: the API server accepts
// those objects and the mistake shows at run time, so they must not stop `render` from writing
// the rest of the fleet. `validate --strict` fails on them.
#pragma once

#include <optional>

#include "core/model/diagnostic.h"
#include "core/model/fleet.h"
#include "core/translate/translator.h"

namespace meshfed {

// Schema and webhook checks for every user object of every cluster (generated objects are skipped:
// meshfed checks its own output in its tests).
void ValidateObjects(const Fleet& fleet, Diagnostics& diagnostics);
// The same for one object of `cluster` (a changed object, in the incremental path).
void ValidateObject(const Object& object, const std::string& cluster, Diagnostics& diagnostics);

// Cross-object analysis over the fleet and what meshfed generates for it.
void AnalyzeFleet(const Fleet& fleet, const Translation& translation, Diagnostics& diagnostics);

struct CheckedFleet {
  Fleet fleet;
  Translation translation;  // meaningful only without errors
  Diagnostics diagnostics;  // everything found, sorted (SortDiagnostics)
  bool HasErrors() const { return meshfed::HasErrors(diagnostics); }
};

// The whole pipeline every command shares: BuildFleet, ValidateObjects, Translate and
// AnalyzeFleet. `diagnostics` holds what reading the files found.
CheckedFleet CheckFleet(FleetSource source, Diagnostics diagnostics);

// Drops repeats (one problem found by two layers) and orders by file, line and column; problems
// without a file keep their order after those with one.
void SortDiagnostics(Diagnostics& diagnostics);

}  // namespace meshfed
