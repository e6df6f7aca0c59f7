// The long keys KeyOf (core/model/node.h) refers to instead of copying.
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <iterator>

#include "core/model/node.h"

namespace meshfed {
namespace {

// Longer than Key::kInPlace, and common: metadata every API server adds or controllers set, the
// recommended labels, the long field names of the kinds meshfed reads and writes, and meshfed's
// own labels and annotations (core/model/object.h, core/translate/names.h, core/sync/plan.h; a
// test checks that those are all here).
constexpr std::string_view kKnownLongKeys[] = {
    // metadata
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "blockOwnerDeletion",
    "kubectl.kubernetes.io/last-applied-configuration",
    "kubectl.kubernetes.io/restartedAt",
    "deployment.kubernetes.io/revision",
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "sidecar.istio.io/inject",
    "service.istio.io/canonical-name",
    "service.istio.io/canonical-revision",
    "topology.istio.io/network",
    "topology.istio.io/cluster",
    // meshfed's labels and annotations
    "multicluster.istio.io/owner-kind",
    "multicluster.istio.io/owner-namespace",
    "multicluster.istio.io/owner-name",
    "multicluster.istio.io/owner",
    "multicluster.istio.io/exposed-host",
    "multicluster.istio.io/routes-from",
    "multicluster.istio.io/cluster",
    "multicluster.istio.io/applied-hash",
    // status
    "observedGeneration",
    "lastTransitionTime",
    "availableReplicas",
    "unavailableReplicas",
    // Deployment and pod template
    "serviceAccountName",
    "terminationGracePeriodSeconds",
    "revisionHistoryLimit",
    "progressDeadlineSeconds",
    "terminationMessagePath",
    "terminationMessagePolicy",
    // Service
    "internalTrafficPolicy",
    "externalTrafficPolicy",
    "publishNotReadyAddresses",
    // Istio
    "workloadSelector",
    "outlierDetection",
    "consecutive5xxErrors",
    "baseEjectionTime",
    "maxEjectionPercent",
};

static_assert(std::all_of(std::begin(kKnownLongKeys), std::end(kKnownLongKeys),
                          [](std::string_view k) { return k.size() > Key::kInPlace; }),
              "a key a Key holds in place needs no entry");

const absl::flat_hash_set<std::string_view>& KnownLongKeys() {
  static const auto* keys =  // used until the process ends, by any thread
      new absl::flat_hash_set<std::string_view>(std::begin(kKnownLongKeys),
                                                std::end(kKnownLongKeys));
  return *keys;
}

}  // namespace

Key KnownKeyOrCopy(std::string_view text) {
  const auto& known = KnownLongKeys();
  auto it = known.find(text);
  return it != known.end() ? Key::Static(*it) : Key(text);
}

}  // namespace meshfed
