// Shared between the translator's passes; not part of the public interface.
//
// The translation is split into units that depend on little of the fleet, so that a change
// recomputes only the units that read what changed (IncrementalTranslator):
//   - an exposure unit: every SEP entry of one donor claiming one exposed name in one namespace
//     (the oldest claim wins, the others conflict), and the donor objects of the winner;
//   - a binding unit: every RSB entry of one acceptor binding one local name in one namespace
//     (the oldest wins; the same exposed name from other donors joins it), and its objects;
//   - a status: one SEP's or RSB's, assembled from the units of its entries.
// A unit records what it read (its dependencies) through Context's lookups.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/node_hash_map.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "core/model/fleet.h"
#include "core/model/text.h"
#include "core/translate/translator.h"

namespace meshfed::internal {

// Keys of units: parts joined by '\x1f' (no name contains it).
std::string Key(std::string_view a, std::string_view b, std::string_view c);
// Dependencies, as 64-bit hashes (a collision only recomputes a unit that did not need it): a
// host looked up in a cluster's indexes (Services, VirtualServices and DestinationRules by host),
// an object identity looked up in a cluster, an exposure unit.
using Dependency = uint64_t;
Dependency HostDependency(std::string_view cluster, std::string_view host);
Dependency ObjectDependency(std::string_view cluster, std::string_view object_key);
Dependency ExposureDependency(std::string_view exposure_key);
// The identities (AppendObjectKey) of generated objects, in their order.
std::vector<std::string> ObjectKeys(const std::vector<Node>& objects);
// A status's key: the cluster and the identity (Object::Key()) of its SEP or RSB.
std::string StatusKey(std::string_view cluster, const Object& owner);

// One exposed name of a donor: the result of one spec.exposed[] entry.
struct Exposure {
  const Cluster* donor = nullptr;
  const ServiceExpositionPolicy* policy = nullptr;
  const ExposedEntry* entry = nullptr;
  size_t entry_index = 0;  // of `entry` in policy->exposed
  std::string namespace_;
  std::string exposed_name;
  std::string host;    // the exposed FQDN
  std::string target;  // what it routes with, e.g. "VirtualService default/reviews"
  std::vector<int> ports;
  std::vector<std::string> allowed_clusters;  // known member clusters allowed to bind
  bool generated = false;                     // gateway config was generated: callers can reach it
  bool ready = false;
  bool conflict = false;
  std::string reason;
  std::string message;
};

struct PortMapping {
  int local_port = 0;
  int exposed_port = 0;
};

// One spec.remote[].services[] entry of a binding.
struct Binding {
  const Cluster* acceptor = nullptr;
  const RemoteServiceBinding* policy = nullptr;
  const RemoteEntry* remote = nullptr;
  const BoundService* service = nullptr;
  size_t remote_index = 0;   // of `remote` in policy->remote
  size_t service_index = 0;  // of `service` in remote->services
  const Exposure* exposure = nullptr;
  std::vector<PortMapping> ports;
  bool ready = false;
  bool conflict = false;
  std::string reason;
  std::string message;  // why it is not ready; a ready binding's is BindingMessage's

  // Read from the entry, not copied: `remote` and `service` point at the entry as the fleet has
  // it now whenever a binding is read (a changed entry's unit is recomputed, an unchanged one's
  // pointers are rebased), as the status entries' other fields already rely on.
  const std::string& local_name() const { return service->local_name(); }
  const std::string& donor_namespace() const { return remote->namespace_; }
};

// A claim on an exposed name, and a binding entry: pointers into the fleet's typed views.
struct Claim {
  const ServiceExpositionPolicy* policy = nullptr;
  const ExposedEntry* entry = nullptr;
};
struct Member {
  const RemoteServiceBinding* policy = nullptr;
  const RemoteEntry* remote = nullptr;
  const BoundService* service = nullptr;
};

// What one unit produced: objects for its cluster, warnings, and what it read.
struct UnitOutput {
  std::vector<Node> objects;
  Diagnostics diagnostics;
  std::vector<Dependency> dependencies;  // sorted, unique once the unit is stored
  bool track_dependencies = true;  // false for a one-shot translation, which never updates: it
                                   // keeps neither dependencies nor status_keys
  uint64_t generation = 0;         // unique to each computation of a unit (statuses compare them)
};

struct ExposureUnit : UnitOutput {
  std::vector<Exposure> exposures;       // one per claim, in claim order
  std::vector<std::string> status_keys;  // of the SEPs that claim it (updates only)
  uint64_t bound_generation = 0;         // changed when a binding of it was recomputed
};

struct BindingUnit : UnitOutput {
  // Moved, never copied: `bound` points into `bindings`, whose elements a move keeps in place
  // and a copy would not.
  BindingUnit() = default;
  BindingUnit(const BindingUnit&) = delete;
  BindingUnit& operator=(const BindingUnit&) = delete;
  BindingUnit(BindingUnit&&) noexcept = default;
  BindingUnit& operator=(BindingUnit&&) noexcept = default;
  ~BindingUnit() = default;

  std::vector<Binding> bindings;  // one per member, in member order
  // Who bound which exposure (by exposure unit key), for the donors' status: bindings of
  // `bindings`, read only while this unit is the one in effect (its entries are then the fleet's).
  std::vector<std::pair<std::string, const Binding*>> bound;
  std::vector<std::string> status_keys;  // of the RSBs of its members (updates only)
};

// Finds the exposure unit with this key (null when there is none).
using ExposureFinder = std::function<const ExposureUnit*(const std::string&)>;

// Appends `part` to a SharedValues key with its length first ("/<length>:<part>"), so that no part
// can be mistaken for a separator or run into the next. (One resize and two copies: the
// translator appends hundreds of thousands of parts.)
inline void AppendKeyPart(std::string& key, std::string_view part) {
  char head[24];
  head[0] = '/';
  char* end = std::to_chars(head + 1, head + sizeof head - 1, part.size()).ptr;
  *end++ = ':';
  const size_t head_size = static_cast<size_t>(end - head);
  const size_t at = key.size();
  key.resize(at + head_size + part.size());
  std::memcpy(key.data() + at, head, head_size);
  if (!part.empty()) std::memcpy(key.data() + at + head_size, part.data(), part.size());
}

// Values that many generated objects hold alike, made once and shared (Node::Share) by all that
// hold them: the labels of each owner's objects, values keyed by what they are made of (a
// Service's spec by its ports, a donor's federation gateway as endpoints), and whole generated
// objects keyed the same way (an acceptor's, for every acceptor that binds alike). Cleared before
// each update of an incremental translation: only values made from one snapshot of the fleet meet.
class SharedValues {
 public:
  // OwnerLabels(owner). An owner is found by its address and checked by its identity, so an
  // address that another object took over gets that object's labels.
  // A copy (it refers to the one value), not a reference into the cache, which moves its
  // values as it grows.
  Node Labels(const Object& owner);
  // The value of `key`, made by `make` the first time; `key` must name everything `make` reads
  // that may differ between calls.
  template <typename Make>
  Node Get(std::string_view key, Make make) {
    auto it = values_.find(key);
    if (it == values_.end()) it = values_.emplace(std::string(key), Node::Share(make())).first;
    return it->second;
  }
  // Generated objects, each a shared value, with their identities (ObjectKeys): made by `make`
  // (which returns the objects) the first time `key` is asked for. The reference stays valid
  // until Clear.
  struct ObjectSet {
    std::vector<Node> objects;
    std::vector<std::string> keys;
  };
  template <typename Make>
  const ObjectSet& Objects(std::string_view key, Make make) {
    auto it = object_sets_.find(key);
    if (it == object_sets_.end()) {
      ObjectSet set;
      set.objects = make();
      set.keys = ObjectKeys(set.objects);
      for (Node& o : set.objects) o = Node::Share(std::move(o));
      it = object_sets_.emplace(std::string(key), std::move(set)).first;
    }
    return it->second;
  }
  void Clear() {
    labels_.clear();
    values_.clear();
    object_sets_.clear();
  }

 private:
  struct OwnerEntry {
    std::string kind, namespace_, name;
    Node labels;
  };
  absl::flat_hash_map<const Object*, OwnerEntry> labels_;
  absl::flat_hash_map<std::string, Node, TextHash, std::equal_to<>> values_;
  absl::node_hash_map<std::string, ObjectSet, TextHash, std::equal_to<>> object_sets_;
};

// A unit's view of the fleet: lookups that record what they read, and where results go.
struct Context {
  const Fleet& fleet;
  UnitOutput& out;
  SharedValues& shared;

  const Service* ServiceForHost(const Cluster& c, const std::string& fqdn);
  const Service* FindService(const Cluster& c, std::string_view namespace_, std::string_view name);
  const std::vector<const VirtualService*>& VirtualServicesForHost(const Cluster& c,
                                                                   const std::string& host);
  const std::vector<const DestinationRule*>& DestinationRulesForHost(const Cluster& c,
                                                                     const std::string& host);
  // True (and nothing is added) when a user object, not managed by meshfed, already holds one of
  // these objects' identities in `cluster`; `who` then names it.
  bool CollidesWithUserObject(const Cluster& cluster, const std::vector<std::string>& object_keys,
                              std::string& who);
  // Records a dependency, computed only when the unit tracks them.
  template <typename MakeDependency>
  void Depend(MakeDependency make) {
    if (out.track_dependencies) out.dependencies.push_back(make());
  }
  void Warn(Severity severity, const char* code, const Object& o, const std::string& cluster,
            const std::string& field, std::string message);
};

// The units. `claims` and `members` are in creation order (SEPs/RSBs, then entries).
void ExposeClaims(const Fleet& fleet, const Cluster& donor, const std::vector<Claim>& claims,
                  SharedValues& shared, ExposureUnit& unit);
void BindMembers(const Fleet& fleet, const Cluster& acceptor, const std::vector<Member>& members,
                 const ExposureFinder& find, SharedValues& shared, BindingUnit& unit);
// The entries of an SEP's and an RSB's status, made when the status is refreshed (a change
// rebuilds only the entries of the units it recomputed), from the exposure or binding as its unit
// has it. Their lists of ports, clusters and gateways are shared values.
// An RSB's entry for one binding: one shared value for the bindings alike.
Node BindingStatusEntry(const Binding& b, SharedValues& shared);
// A binding's status message: its `message`, or for a ready binding where it leads (made only
// for the status entries, which share it between acceptors that bind alike).
std::string BindingMessage(const Binding& b);
// An SEP's entry for one exposure, with who bound it (bindings of the binding units in effect,
// read before this returns).
Node ExposureEntry(const Exposure& e, std::vector<const Binding*> bound_by, SharedValues& shared);

// What a status's conditions say about its entries.
struct StatusSummary {
  size_t total = 0, ready = 0, conflicts = 0;
  std::string first_problem;
  void Count(bool is_ready, bool is_conflict, std::string_view name, std::string_view reason);
};
// The status object of an SEP or RSB: apiVersion, kind, metadata, and status with
// observedGeneration, the conditions and the entries ("exposed" / "services").
Node NewStatus(const Object& owner, const std::string& cluster, const StatusSummary& summary,
               Node entries);
Node StatusConditions(const Object& owner, const StatusSummary& summary);

// Helpers shared by the passes.
Node StringList(const std::vector<std::string>& values);
// The same for a few texts written in place (`StringList({host})`), without a vector of copies.
Node StringList(std::initializer_list<std::string_view> values);
Node PortNode(int number);

}  // namespace meshfed::internal
