// The translator: a pure function from a fleet snapshot to the generated Istio/Kubernetes objects
// of every member cluster plus the two-sided status of every SEP and RSB (docs/data-plane.md).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/model/diagnostic.h"
#include "core/model/fleet.h"
#include "core/model/node.h"

namespace meshfed {

struct ClusterOutput {
  std::string cluster;
  std::vector<Node> objects;  // sorted by kind, namespace, name
};

struct StatusOutput {
  std::string cluster;
  Node object;  // apiVersion, kind, metadata (name, namespace), status
};

namespace internal {
class TranslationState;
}

struct Translation {
  std::vector<ClusterOutput> clusters;  // every member cluster, sorted by name
  std::vector<StatusOutput> statuses;   // every SEP and RSB, by cluster, kind, namespace, name
  Diagnostics diagnostics;              // warnings about what the fleet asks for
  // What Translate computed on the way (its units and caches: 58 MiB for the large fleet, two
  // thirds as much as the output's trees), released with the translation rather than before
  // Translate returns: a command that exits right after keeps it all for the kernel to take
  // back (KeepUntilExit), where releasing it piece by piece costs about a tenth of translating.
  // Null from IncrementalTranslator, which keeps its state.
  std::shared_ptr<const internal::TranslationState> working_state;
};

Translation Translate(const Fleet& fleet);

// What one change to the fleet changed in the translation.
struct TranslationDelta {
  std::vector<std::pair<std::string, Node>> applied;  // (cluster, generated object) new or changed
  std::vector<std::pair<std::string, Node>> removed;  // (cluster, generated object) no longer
  // Changed statuses (of existing SEPs/RSBs); they point into the translator's state and stay
  // valid until its next Apply.
  std::vector<const StatusOutput*> statuses;
  size_t units = 0;  // exposure and binding units recomputed
  bool empty() const { return applied.empty() && removed.empty() && statuses.empty(); }
};

// One change to an object of a member cluster: a new version (added or replaced), or its removal
// (only the identity of `object` counts then).
struct ObjectChange {
  std::string cluster;
  Object object;
  bool removed = false;
};

// The translator kept up to date with a changing fleet: it owns the fleet, and a change
// re-translates only what read the changed objects (the units in translate_internal.h), so one
// change costs what depends on it, not the fleet. Current() always equals Translate(fleet()).
// MeshCluster changes are not incremental (they decide who is in the fleet): build a new one.
class IncrementalTranslator {
 public:
  explicit IncrementalTranslator(Fleet fleet);
  ~IncrementalTranslator();
  IncrementalTranslator(IncrementalTranslator&&) noexcept;
  IncrementalTranslator& operator=(IncrementalTranslator&&) noexcept;

  // Applies the changes to the fleet (reader diagnostics of the new versions go to
  // `diagnostics`) and returns what they changed in the translation. Changes to clusters that
  // are not members are ignored.
  TranslationDelta Apply(std::vector<ObjectChange> changes, Diagnostics& diagnostics);

  const Fleet& fleet() const { return fleet_; }
  Translation Current() const;
  // The status of one SEP or RSB (by Object::Key()) of `cluster`; null if there is none.
  const StatusOutput* Status(const std::string& cluster, const std::string& owner_key) const;

 private:
  Fleet fleet_;
  std::unique_ptr<internal::TranslationState> state_;
};

}  // namespace meshfed
