// What must change in a live cluster for it to hold exactly the objects meshfed generates: pure
// functions shared by `meshfed diff` (which prints the plan) and the controller (which carries
// it out). Level-based: the plan depends only on the desired objects and the live state.
//
// Rules (PRODUCT.md 2, craft A2):
// - meshfed owns what carries `app.kubernetes.io/managed-by: meshfed`; it creates and updates
//   those, and deletes the ones no longer desired — found by that label, never by guessing.
// - A desired object whose name is taken by an object meshfed does not own is a Conflict: it is
//   left alone.
// - An object is written only when it would change: its applied-configuration hash (an
//   annotation meshfed writes with it) differs, or a field meshfed sets has drifted. API-server
//   defaults (a Service's clusterIP, a port's protocol) are not drift.
// - Status: `observedGeneration` from the live object; a condition keeps its
//   `lastTransitionTime` while its status stays the same.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model/node.h"

namespace meshfed {

inline constexpr std::string_view kAppliedHashAnnotation = "multicluster.istio.io/applied-hash";

// "group/Kind/namespace/name" of an object tree (apiVersion's group).
std::string ObjectKey(const Node& object);

// True when the object carries `app.kubernetes.io/managed-by: meshfed` (Object::ManagedByMeshfed
// for a tree).
bool Managed(const Node& object);

struct Change {
  enum class Kind { Create, Update, Delete, Conflict };
  Kind kind = Kind::Create;
  std::string key;
  // Create/Update/Conflict: what meshfed generates, without the hash annotation. A copy of the
  // generated object, which refers to its tree where that is a shared value: a plan of every
  // object of a cluster holds no second tree of each (ToApply makes the one to send).
  Node desired;
  Node live;  // Update/Delete/Conflict: what is there now
  std::string reason;
  std::string applied_hash;  // Create/Update: the hash annotation's value (HashOf(desired))
  // The object to apply: `desired` with the applied-hash annotation.
  Node ToApply() const;
};

struct ClusterPlan {
  std::vector<Change> changes;  // in key order
  size_t unchanged = 0;
  size_t Writes() const;  // creates + updates + deletes
};

// `desired`: what meshfed generates for the cluster; `live`: every live object of the kinds it
// generates (managed or not).
ClusterPlan PlanCluster(const std::vector<Node>& desired, const std::vector<Node>& live);
// The same over objects held elsewhere (no copies).
ClusterPlan PlanCluster(const std::vector<const Node*>& desired,
                        const std::vector<const Node*>& live);

// The object to apply: `desired` with the applied-hash annotation.
Node WithAppliedHash(const Node& desired);
// The value of the applied-hash annotation for `desired`.
std::string HashOf(const Node& desired);

// True when every field of `desired` is in `live` with the same value (maps: a subset, where a
// null asks for the field to be absent or null; lists: the same length, item by item; scalars:
// equal text and type).
bool Satisfies(const Node& live, const Node& desired);

// The status to write on a live SEP or RSB, or nothing when it already says the same.
// `desired_status` is the translator's status (conditions without lastTransitionTime).
std::optional<Node> StatusToWrite(const Node& desired_status, const Node& live_object,
                                  const std::string& now);

// A unified diff of two texts (3 lines of context), with `---`/`+++` headers; "" when equal.
std::string UnifiedDiff(const std::string& before, const std::string& after,
                        const std::string& before_name, const std::string& after_name);

}  // namespace meshfed
