#include "core/translate/translator.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>
#include <type_traits>
#include <unordered_map>

#include "core/model/hosts.h"
#include "core/model/text.h"
#include "core/translate/names.h"
#include "core/translate/translate_internal.h"

namespace meshfed {
namespace internal {

constexpr char kSep = '\x1f';

std::string Key(std::string_view a, std::string_view b, std::string_view c) {
  std::string k;
  k.reserve(a.size() + b.size() + c.size() + 2);
  k.append(a).push_back(kSep);
  k.append(b).push_back(kSep);
  k.append(c);
  return k;
}

namespace {
Dependency Hash(char tag, std::string_view a, std::string_view b) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a, 64 bits
  auto mix = [&h](std::string_view part) {
    for (char ch : part) {
      h ^= static_cast<uint8_t>(ch);
      h *= 1099511628211ull;
    }
    h ^= static_cast<uint8_t>(kSep);
    h *= 1099511628211ull;
  };
  mix(std::string_view(&tag, 1));
  mix(a);
  mix(b);
  return h;
}
}  // namespace

Dependency HostDependency(std::string_view cluster, std::string_view host) {
  return Hash('h', cluster, host);
}
Dependency ObjectDependency(std::string_view cluster, std::string_view object_key) {
  return Hash('o', cluster, object_key);
}
Dependency ExposureDependency(std::string_view exposure_key) { return Hash('x', exposure_key, ""); }
std::string StatusKey(std::string_view cluster, const Object& owner) {
  return std::string(cluster) + kSep + owner.Key();
}

Node StringList(const std::vector<std::string>& values) {
  Node list = Node::SequenceWithRoom(values.size());
  for (const std::string& v : values) list.Append(Node::String(v));
  return list;
}
Node StringList(std::initializer_list<std::string_view> values) {
  Node list = Node::SequenceWithRoom(values.size());
  for (std::string_view v : values) list.Append(Node::String(v));
  return list;
}

Node SharedValues::Labels(const Object& owner) {
  auto [it, added] = labels_.try_emplace(&owner);
  OwnerEntry& e = it->second;
  if (added || e.kind != owner.kind || e.namespace_ != owner.namespace_ || e.name != owner.name) {
    e = OwnerEntry{owner.kind, owner.namespace_, owner.name, OwnerLabels(owner)};
  }
  return e.labels;
}

Node PortNode(int number) {
  Node port = Node::MappingWithRoom(1);
  port.Add("number", Node::Int(number));
  return port;
}

const Service* Context::ServiceForHost(const Cluster& c, const std::string& fqdn) {
  Depend([&] { return HostDependency(c.name, fqdn); });
  return c.ServiceForHost(fqdn);
}

const Service* Context::FindService(const Cluster& c, std::string_view namespace_,
                                    std::string_view name) {
  return ServiceForHost(c, ServiceFqdn(name, namespace_));
}

const std::vector<const VirtualService*>& Context::VirtualServicesForHost(const Cluster& c,
                                                                          const std::string& host) {
  Depend([&] { return HostDependency(c.name, host); });
  return c.VirtualServicesForHost(host);
}

const std::vector<const DestinationRule*>& Context::DestinationRulesForHost(
    const Cluster& c, const std::string& host) {
  Depend([&] { return HostDependency(c.name, host); });
  return c.DestinationRulesForHost(host);
}

std::vector<std::string> ObjectKeys(const std::vector<Node>& objects) {
  std::vector<std::string> keys(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) AppendObjectKey(objects[i], keys[i]);
  return keys;
}

bool Context::CollidesWithUserObject(const Cluster& cluster,
                                     const std::vector<std::string>& object_keys,
                                     std::string& who) {
  for (const std::string& key : object_keys) {
    Depend([&] { return ObjectDependency(cluster.name, key); });
    const Object* existing = cluster.FindObject(key);
    if (existing && !existing->ManagedByMeshfed()) {
      who = fmt::format("{} {}/{} ({}:{}:{})", existing->kind, existing->namespace_, existing->name,
                        existing->file, existing->position.line, existing->position.column);
      return true;
    }
  }
  return false;
}

void Context::Warn(Severity severity, const char* code, const Object& o, const std::string& cluster,
                   const std::string& field, std::string message) {
  out.diagnostics.push_back(Diagnostic{severity, code, o.file, o.PositionOfField(field),
                                       o.Ref(cluster), field, std::move(message)});
}

namespace {

std::array<std::string_view, 3> SplitKey(std::string_view key) {
  size_t a = key.find(kSep);
  size_t b = key.find(kSep, a + 1);
  return {key.substr(0, a), key.substr(a + 1, b - a - 1), key.substr(b + 1)};
}

// Views into the object: valid while it is neither changed nor moved.
using SortKey = std::tuple<std::string_view, std::string_view, std::string_view>;

SortKey SortKeyOf(const Node& o) {
  auto text = [](const Node* n) { return n ? std::string_view(n->text()) : std::string_view(); };
  const Node* meta = o.Find("metadata");
  return {text(o.Find("kind")), text(meta->Find("namespace")), text(meta->Find("name"))};
}

template <typename V>
const V* ViewOf(const std::list<V>& list, const Object* o) {
  auto it = std::find_if(list.begin(), list.end(), [o](const V& v) { return v.object == o; });
  return it == list.end() ? nullptr : &*it;
}

// The objects of `before` and `after` (one unit's, in one cluster) that differ.
void Diff(const std::string& cluster, std::vector<Node>& before, std::vector<Node>& after,
          TranslationDelta& delta) {
  std::map<SortKey, Node*> old;
  for (Node& o : before) old.emplace(SortKeyOf(o), &o);
  for (Node& o : after) {
    auto it = old.find(SortKeyOf(o));
    if (it != old.end()) {
      bool same = *it->second == o;
      old.erase(it);
      if (same) continue;
    }
    delta.applied.emplace_back(cluster, o);
  }
  for (auto& [key, o] : old) delta.removed.emplace_back(cluster, std::move(*o));
}

bool SamePosition(Position a, Position b) { return a.line == b.line && a.column == b.column; }

// Equal values at equal positions (diagnostics quote positions, so an entry that moved in its
// file gives other output).
bool Identical(const Node* a, const Node* b) {
  if (!a || !b) return a == b;
  if (!SamePosition(a->position(), b->position()) || !(*a == *b)) return false;
  for (size_t i = 0; i < a->items().size(); ++i) {
    if (!Identical(&a->items()[i], &b->items()[i])) return false;
  }
  for (size_t i = 0; i < a->entries().size(); ++i) {
    if (!SamePosition(a->entries()[i].key_position, b->entries()[i].key_position) ||
        !Identical(&a->entries()[i].value, &b->entries()[i].value)) {
      return false;
    }
  }
  return true;
}

// The entries of an SEP or RSB as its units read them: place ((i, 0) for spec.exposed[i],
// (i, k) for spec.remote[i].services[k]) -> the nodes the entry's unit reads, in place order.
using EntryPlace = std::pair<size_t, size_t>;
std::vector<std::pair<EntryPlace, std::vector<const Node*>>> EntryNodes(const Object& o) {
  std::vector<std::pair<EntryPlace, std::vector<const Node*>>> out;
  const Node* spec = o.spec();
  if (!spec || !spec->IsMapping()) return out;
  if (o.kind == "ServiceExpositionPolicy") {
    const Node* exposed = spec->Find("exposed");
    if (!exposed || !exposed->IsSequence()) return out;
    for (size_t i = 0; i < exposed->items().size(); ++i) {
      out.push_back({{i, 0}, {&exposed->items()[i]}});
    }
    return out;
  }
  const Node* remote = spec->Find("remote");
  if (!remote || !remote->IsSequence()) return out;
  for (size_t i = 0; i < remote->items().size(); ++i) {
    const Node& r = remote->items()[i];
    const Node* services = r.IsMapping() ? r.Find("services") : nullptr;
    if (!services || !services->IsSequence()) continue;
    for (size_t k = 0; k < services->items().size(); ++k) {
      // The remote entry's own position stands in for a missing `cluster` in messages.
      out.push_back({{i, k}, {&r, r.Find("cluster"), r.Find("namespace"), &services->items()[k]}});
    }
  }
  return out;
}

// The places of the entries that differ between two versions of an SEP or RSB.
std::set<EntryPlace> ChangedEntries(const Object& before, const Object& after) {
  auto a = EntryNodes(before);
  auto b = EntryNodes(after);
  std::set<EntryPlace> changed;
  // Both lists are in place order: walk them together.
  size_t j = 0;
  for (const auto& [place, nodes] : a) {
    while (j < b.size() && b[j].first < place) changed.insert(b[j++].first);
    bool same = j < b.size() && b[j].first == place;
    for (size_t i = 0; same && i < nodes.size(); ++i) {
      // The remote entry itself (index 0 of an RSB's nodes) counts by position only.
      bool position_only = before.kind == "RemoteServiceBinding" && i == 0;
      same = position_only ? SamePosition(nodes[i]->position(), b[j].second[i]->position())
                           : Identical(nodes[i], b[j].second[i]);
    }
    if (!same) changed.insert(place);
    if (j < b.size() && b[j].first == place) ++j;
  }
  for (; j < b.size(); ++j) changed.insert(b[j].first);
  return changed;
}

}  // namespace

// Every unit of the translation, their dependencies, and the statuses.
class TranslationState {
  static constexpr uint8_t kReady = 1, kConflict = 2;
  // A status and, per entry (in status order), where it comes from.
  struct StatusSlot {
    StatusOutput output;
    std::vector<std::pair<uint64_t, uint64_t>> seen;  // the generations (EntryNow::stamp)
    // Index in the view: an SEP's (entry, 0), an RSB's (remote, service).
    std::vector<std::pair<size_t, size_t>> at;
    std::vector<uint8_t> flags;                                      // kReady, kConflict
    std::unordered_map<std::string, std::vector<size_t>> positions;  // unit key -> entries
  };

 public:
  // A one-shot state (Translate) is built once and taken apart: it records no dependencies, no
  // units by dependency and no entry places, which only updates need.
  explicit TranslationState(bool incremental) : incremental_(incremental) {}

  struct Dirty {
    std::set<std::string> exposures, bindings;
    // Status key -> the units whose entries to refresh; none: all of them (the owner changed).
    std::map<std::string, std::optional<std::set<std::string>>> statuses;
    void Status(const std::string& status, const std::string* unit) {
      auto it = statuses.try_emplace(status, std::set<std::string>{}).first;
      if (!unit) {
        it->second.reset();
      } else if (it->second) {
        it->second->insert(*unit);
      }
    }
  };

  void Build(const Fleet& fleet) {
    size_t entries = 0, services = 0;
    for (const Cluster& c : fleet.clusters) {
      for (const ServiceExpositionPolicy& sep : c.expositions) entries += sep.exposed.size();
      for (const RemoteServiceBinding& rsb : c.bindings) {
        for (const RemoteEntry& r : rsb.remote) services += r.services.size();
      }
    }
    exposures_.reserve(entries);
    bindings_.reserve(services);
    if (incremental_) dependents_.reserve(4 * (entries + services));
    for (const Cluster& c : fleet.clusters) {
      std::vector<std::pair<std::string, Claim>> claims;
      for (const ServiceExpositionPolicy& sep : c.expositions) {
        for (const ExposedEntry& entry : sep.exposed) {
          claims.emplace_back(Key(c.name, sep.object->namespace_, entry.exposed_name()),
                              Claim{&sep, &entry});
        }
      }
      ForEachGroup(claims, [&](std::string key, const std::vector<Claim>& list) {
        auto& unit = PutExposure(fleet, c, std::move(key), list);
        for (const Claim& claim : list) exposure_of_[claim.entry] = &unit;
      });
    }
    for (const Cluster& c : fleet.clusters) {
      std::vector<std::pair<std::string, Member>> members;
      for (const RemoteServiceBinding& rsb : c.bindings) {
        for (const RemoteEntry& remote : rsb.remote) {
          for (const BoundService& svc : remote.services) {
            members.emplace_back(Key(c.name, rsb.object->namespace_, svc.local_name()),
                                 Member{&rsb, &remote, &svc});
          }
        }
      }
      ForEachGroup(members, [&](std::string key, const std::vector<Member>& list) {
        auto& unit = PutBinding(fleet, c, std::move(key), list);
        for (const Member& m : list) binding_of_[m.service] = &unit;
      });
    }
    if (!incremental_) IndexBound();
    for (const Cluster& c : fleet.clusters) {
      for (const ServiceExpositionPolicy& sep : c.expositions) {
        Refresh(c, *sep.object, EntriesOf(c, sep), statuses_[StatusKey(c.name, *sep.object)], true);
      }
      for (const RemoteServiceBinding& rsb : c.bindings) {
        Refresh(c, *rsb.object, EntriesOf(c, rsb), statuses_[StatusKey(c.name, *rsb.object)], true);
      }
    }
    exposure_of_ = {};  // updates find units by key
    binding_of_ = {};
  }

  const StatusOutput* Status(const std::string& key) const {
    auto it = statuses_.find(key);
    return it == statuses_.end() ? nullptr : &it->second.output;
  }

  // Marks the units that read `dependency`.
  void AddDependents(Dependency dependency, Dirty& dirty) const {
    auto it = dependents_.find(dependency);
    if (it == dependents_.end()) return;
    for (const UnitRef& unit : it->second) {
      (unit.exposure ? dirty.exposures : dirty.bindings).insert(*unit.key);
    }
  }

  // After an SEP was replaced by a version whose view kept its address: the claims of unit `key`
  // that came from it point at its new entries. `index_of_old` maps an entry index of the old
  // view to the new one, for the entries that did not change (the others' units are dirty).
  void Rebase(const std::string& key, const ServiceExpositionPolicy& view,
              const std::vector<std::optional<size_t>>& index_of_old) {
    auto it = exposures_.find(key);
    if (it == exposures_.end()) return;
    for (Exposure& e : it->second.exposures) {
      if (e.policy != &view || e.entry_index >= index_of_old.size() ||
          !index_of_old[e.entry_index]) {
        continue;
      }
      e.entry_index = *index_of_old[e.entry_index];
      e.entry = &view.exposed[e.entry_index];
    }
  }

  // The same for an RSB's bindings; indexes are (remote, service).
  void Rebase(const std::string& key, const RemoteServiceBinding& view,
              const absl::flat_hash_map<std::pair<size_t, size_t>, std::pair<size_t, size_t>>&
                  index_of_old) {
    auto it = bindings_.find(key);
    if (it == bindings_.end()) return;
    for (Binding& b : it->second.bindings) {
      if (b.policy != &view) continue;
      auto moved = index_of_old.find({b.remote_index, b.service_index});
      if (moved == index_of_old.end()) continue;
      std::tie(b.remote_index, b.service_index) = moved->second;
      b.remote = &view.remote[b.remote_index];
      b.service = &b.remote->services[b.service_index];
    }
  }

  // Recomputes the dirty units, then the units and statuses that depend on what changed.
  void Recompute(const Fleet& fleet, Dirty dirty, TranslationDelta& delta) {
    shared_.Clear();  // shared within one update: what they are made of changes
    for (const std::string& key : dirty.exposures) {
      ++delta.units;
      ExposureUnit before = Take(exposures_, key);
      auto parts = SplitKey(key);
      const Cluster* c = fleet.Find(parts[0]);
      std::vector<Claim> claims;
      if (c) {
        for (const ServiceExpositionPolicy& sep : c->expositions) {
          if (sep.object->namespace_ != parts[1]) continue;
          for (const ExposedEntry& entry : sep.exposed) {
            if (entry.exposed_name() == parts[2]) claims.push_back({&sep, &entry});
          }
        }
      }
      std::vector<Node> no_objects;
      std::vector<Node>* after = &no_objects;
      for (const std::string& status : before.status_keys) dirty.Status(status, &key);
      if (!claims.empty()) {
        ExposureUnit& now = PutExposure(fleet, *c, key, claims).second;
        after = &now.objects;
        for (const std::string& status : now.status_keys) dirty.Status(status, &key);
      }
      Diff(std::string(parts[0]), before.objects, *after, delta);
      AddDependents(ExposureDependency(key), dirty);  // bindings that read it
    }
    for (const std::string& key : dirty.bindings) {
      ++delta.units;
      BindingUnit before = Take(bindings_, key);
      auto parts = SplitKey(key);
      const Cluster* c = fleet.Find(parts[0]);
      std::vector<Member> members;
      if (c) {
        for (const RemoteServiceBinding& rsb : c->bindings) {
          if (rsb.object->namespace_ != parts[1]) continue;
          for (const RemoteEntry& remote : rsb.remote) {
            for (const BoundService& svc : remote.services) {
              if (svc.local_name() == parts[2]) members.push_back({&rsb, &remote, &svc});
            }
          }
        }
      }
      std::vector<Node> no_objects;
      std::vector<Node>* after = &no_objects;
      auto mark_donors = [&](const BindingUnit& unit) {
        for (const std::string& status : unit.status_keys) dirty.Status(status, &key);
        for (const auto& [exposure, by] : unit.bound) {
          auto it = exposures_.find(exposure);
          if (it == exposures_.end()) continue;
          it->second.bound_generation = next_generation_++;  // who bound it may have changed
          for (const std::string& status : it->second.status_keys) {
            dirty.Status(status, &it->first);
          }
        }
      };
      mark_donors(before);
      if (!members.empty()) {
        BindingUnit& now = PutBinding(fleet, *c, key, members).second;
        after = &now.objects;
        mark_donors(now);
      }
      Diff(std::string(parts[0]), before.objects, *after, delta);
    }
    for (const auto& [key, units] : dirty.statuses) {
      size_t sep = key.find(kSep);
      const Cluster* c = fleet.Find(std::string_view(key).substr(0, sep));
      const Object* owner = c ? c->FindObject(key.substr(sep + 1)) : nullptr;
      const ServiceExpositionPolicy* sep_view = owner ? ViewOf(c->expositions, owner) : nullptr;
      const RemoteServiceBinding* rsb_view = owner ? ViewOf(c->bindings, owner) : nullptr;
      if (!sep_view && !rsb_view) {
        statuses_.erase(key);
        continue;
      }
      auto [slot, fresh] = statuses_.try_emplace(key);
      std::optional<bool> changed;
      if (!fresh && units) {
        changed = sep_view ? RefreshEntries(*c, *owner, sep_view, *units, slot->second)
                           : RefreshEntries(*c, *owner, rsb_view, *units, slot->second);
      }
      if (!changed) {
        changed =
            Refresh(*c, *owner, sep_view ? EntriesOf(*c, *sep_view) : EntriesOf(*c, *rsb_view),
                    slot->second, fresh);
      }
      if (*changed) delta.statuses.push_back(&slot->second.output);
    }
  }

  // The whole translation, sorted as Translate documents; copied, or moved out when `take`
  // (the state is then spent).
  Translation Assemble(const Fleet& fleet) const { return AssembleImpl(*this, fleet); }
  Translation Take(const Fleet& fleet) { return AssembleImpl(*this, fleet); }

 private:
  // Copies the results out of a const state, moves them out of a state about to go.
  template <typename Self>
  static Translation AssembleImpl(Self& self, const Fleet& fleet) {
    constexpr bool kTake = !std::is_const_v<Self>;
    using NodePtr = std::conditional_t<kTake, Node*, const Node*>;
    using UnitPtr = std::conditional_t<kTake, UnitOutput*, const UnitOutput*>;
    auto give = [](auto& value) {
      if constexpr (kTake) {
        return std::move(value);
      } else {
        return value;
      }
    };
    Translation out;
    std::unordered_map<std::string_view, std::vector<NodePtr>> by_cluster;
    std::vector<std::pair<std::string_view, UnitPtr>> units;
    units.reserve(self.exposures_.size() + self.bindings_.size());
    for (auto& [key, unit] : self.exposures_) units.emplace_back(key, &unit);
    for (auto& [key, unit] : self.bindings_) units.emplace_back(key, &unit);
    for (const auto& [key, unit] : units) {
      auto& list = by_cluster[SplitKey(key)[0]];
      for (auto& o : unit->objects) list.push_back(&o);
    }
    // Each cluster's objects in (kind, namespace, name) order. The distinct keys are ordered
    // once for the whole fleet and each cluster's objects then by the key's rank: an object that
    // is a shared value (an acceptor's, held by every acceptor that binds alike) has one key
    // however many clusters hold it, so the texts are read and compared once, not per cluster.
    // Each key is copied as one text, kind NUL namespace NUL name, next to the others: the sort
    // compares one text per object in one block of memory, not three texts in each of thousands
    // of trees. NUL sorts before any other byte, so the texts sort as the
    // (kind, namespace, name) triples do while no part holds a NUL (none that passes validation
    // does; one that did would still sort the same way every time).
    struct Placed {
      uint32_t key = 0;  // the key's index (into `spans`), then its rank
      NodePtr object = nullptr;
    };
    std::vector<std::vector<Placed>> placed(fleet.clusters.size());
    std::vector<std::pair<size_t, size_t>> spans;  // of each key in `packed`, fixed once all are in
    std::string packed;
    absl::flat_hash_map<const void*, uint32_t> key_of_shared;
    for (size_t ci = 0; ci < fleet.clusters.size(); ++ci) {
      const std::vector<NodePtr>& objects = by_cluster[fleet.clusters[ci].name];
      placed[ci].reserve(objects.size());
      for (NodePtr o : objects) {
        const void* shared = o->IsShared() ? o->shared_value() : nullptr;
        if (shared) {
          auto [it, added] = key_of_shared.try_emplace(shared, static_cast<uint32_t>(spans.size()));
          if (!added) {
            placed[ci].push_back({it->second, o});
            continue;
          }
        }
        auto [kind, ns, name] = SortKeyOf(*o);
        size_t at = packed.size();
        packed.append(kind).push_back('\0');
        packed.append(ns).push_back('\0');
        packed.append(name);
        placed[ci].push_back({static_cast<uint32_t>(spans.size()), o});
        spans.emplace_back(at, packed.size() - at);
      }
    }
    std::vector<std::pair<std::string_view, uint32_t>> keys;  // packed text, index
    keys.reserve(spans.size());
    for (size_t i = 0; i < spans.size(); ++i) {
      keys.emplace_back(std::string_view(packed).substr(spans[i].first, spans[i].second),
                        static_cast<uint32_t>(i));
    }
    // One three-way comparison of the texts per step (a pair's `<` makes two when the first
    // members are not less); equal texts, from objects generated twice under one identity, keep
    // the order they were found in.
    std::sort(keys.begin(), keys.end(), [](const auto& x, const auto& y) {
      int c = x.first.compare(y.first);
      return c != 0 ? c < 0 : x.second < y.second;
    });
    std::vector<uint32_t> rank(keys.size());
    for (size_t r = 0; r < keys.size(); ++r) rank[keys[r].second] = static_cast<uint32_t>(r);
    for (size_t ci = 0; ci < fleet.clusters.size(); ++ci) {
      std::vector<Placed>& order = placed[ci];
      for (Placed& p : order) p.key = rank[p.key];
      std::sort(order.begin(), order.end(),
                [](const Placed& x, const Placed& y) { return x.key < y.key; });
      ClusterOutput co{fleet.clusters[ci].name, {}};
      co.objects.reserve(order.size());
      for (const Placed& p : order) co.objects.push_back(give(*p.object));
      out.clusters.push_back(std::move(co));
    }
    for (auto& [key, slot] : self.statuses_) out.statuses.push_back(give(slot.output));
    std::stable_sort(out.statuses.begin(), out.statuses.end(),
                     [](const StatusOutput& a, const StatusOutput& b) {
                       return std::make_tuple(std::string_view(a.cluster), SortKeyOf(a.object)) <
                              std::make_tuple(std::string_view(b.cluster), SortKeyOf(b.object));
                     });
    // Warnings unit by unit in key order, exposures first: deterministic (SortDiagnostics orders
    // them by position later). Only the units that have any are sorted.
    std::vector<std::pair<std::string_view, UnitPtr>> warned;
    size_t exposures_warned = 0;
    for (size_t i = 0; i < units.size(); ++i) {
      if (units[i].second->diagnostics.empty()) continue;
      warned.push_back(units[i]);
      if (i < self.exposures_.size()) ++exposures_warned;
    }
    auto middle = warned.begin() + static_cast<std::ptrdiff_t>(exposures_warned);
    auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
    std::sort(warned.begin(), middle, by_key);
    std::sort(middle, warned.end(), by_key);
    for (const auto& [key, unit] : warned) {
      for (auto& d : unit->diagnostics) out.diagnostics.push_back(give(d));
    }
    return out;
  }

  template <typename Unit>
  Unit Take(std::unordered_map<std::string, Unit>& units, const std::string& key) {
    auto it = units.find(key);
    if (it == units.end()) return Unit{};
    Forget(&it->first, it->second.dependencies);
    Unit unit = std::move(it->second);
    units.erase(it);
    return unit;
  }

  template <typename Unit>
  void Remember(std::pair<const std::string, Unit>& entry, bool exposure) {
    if (!incremental_) {
      if constexpr (std::is_same_v<Unit, BindingUnit>) put_bindings_.push_back(&entry.second);
      return;
    }
    std::vector<Dependency>& d = entry.second.dependencies;
    std::sort(d.begin(), d.end());
    d.erase(std::unique(d.begin(), d.end()), d.end());
    for (Dependency dep : d) dependents_[dep].push_back(UnitRef{&entry.first, exposure});
  }

  void Forget(const std::string* key, const std::vector<Dependency>& dependencies) {
    for (Dependency d : dependencies) {
      auto it = dependents_.find(d);
      if (it == dependents_.end()) continue;
      auto& units = it->second;
      units.erase(std::remove_if(units.begin(), units.end(),
                                 [key](const UnitRef& u) { return u.key == key; }),
                  units.end());
      if (it->second.empty()) dependents_.erase(it);
    }
  }

  // The claims or members of each key, keys in order, each key's in the order found (a std::map
  // of the keys did the same with a node and a copy of the key per unit).
  template <typename Item, typename F>
  static void ForEachGroup(std::vector<std::pair<std::string, Item>>& found, F&& f) {
    std::stable_sort(found.begin(), found.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Item> list;
    for (size_t i = 0; i < found.size();) {
      size_t end = i + 1;
      while (end < found.size() && found[end].first == found[i].first) ++end;
      list.clear();
      for (size_t j = i; j < end; ++j) list.push_back(found[j].second);
      f(std::move(found[i].first), list);
      i = end;
    }
  }

  // Generated objects are kept a long time: without spare room, and, when the state is kept to
  // be updated, as shared values, so that the copies Current() hands out (a controller keeps one
  // of every object it applies) refer to the unit's trees instead of copying them. The translator
  // makes its lists at their size, so compacting moves nothing in the large fleet. Leaving a
  // one-shot translation's trees alone saved 2.5% of translate's instructions, but in alternated
  // one-render runs its translate met cold memory more often (6 of 20 against 2 of 20), for no
  // reason found: not done (performance-history.md, "Twenty-third session").
  void Keep(std::vector<Node>& objects) const {
    for (Node& o : objects) {
      Compact(o);
      if (incremental_ && !o.IsShared()) o = Node::Share(std::move(o));
    }
  }

  std::pair<const std::string, ExposureUnit>& PutExposure(const Fleet& fleet, const Cluster& c,
                                                          std::string key,
                                                          const std::vector<Claim>& claims) {
    auto& entry = *exposures_.try_emplace(std::move(key)).first;
    entry.second.track_dependencies = incremental_;
    ExposeClaims(fleet, c, claims, shared_, entry.second);
    Keep(entry.second.objects);
    entry.second.generation = next_generation_++;
    Remember(entry, true);
    return entry;
  }

  std::pair<const std::string, BindingUnit>& PutBinding(const Fleet& fleet, const Cluster& c,
                                                        std::string key,
                                                        const std::vector<Member>& members) {
    auto& entry = *bindings_.try_emplace(std::move(key)).first;
    BindingUnit& unit = entry.second;
    unit.track_dependencies = incremental_;
    BindMembers(
        fleet, c, members,
        [this](const std::string& exposure) -> const ExposureUnit* {
          auto it = exposures_.find(exposure);
          return it == exposures_.end() ? nullptr : &it->second;
        },
        shared_, unit);
    Keep(unit.objects);
    unit.generation = next_generation_++;
    Remember(entry, false);
    return entry;
  }

  // One-shot: who bound each exposure unit, in the order the bindings were put (the order
  // dependents_ keeps them in, for BoundTo).
  void IndexBound() {
    for (const BindingUnit* unit : put_bindings_) {
      for (const auto& [exposure, by] : unit->bound) bound_by_[exposure].push_back(by);
    }
  }

  // Who bound the exposure in effect of unit `key`: pointers into bindings_, valid until a binding
  // unit is put or taken.
  std::vector<const Binding*> BoundTo(const std::string& key) const {
    if (!incremental_) {
      auto it = bound_by_.find(key);
      return it == bound_by_.end() ? std::vector<const Binding*>{} : it->second;
    }
    std::vector<const Binding*> out;
    auto it = dependents_.find(ExposureDependency(key));
    if (it == dependents_.end()) return out;
    for (const UnitRef& unit : it->second) {
      if (unit.exposure) continue;
      auto b = bindings_.find(*unit.key);
      if (b == bindings_.end()) continue;
      for (const auto& [exposure, by] : b->second.bound) {
        if (exposure == key) out.push_back(by);
      }
    }
    return out;
  }

  // One entry of a status as its unit has it now, and the generations it comes from.
  struct EntryNow {
    std::pair<uint64_t, uint64_t> stamp;
    const Exposure* exposure = nullptr;  // of an SEP's entry
    const std::string* unit = nullptr;   // its unit's key
    bool in_effect = false;              // the winning claim: it lists who bound it
    const Binding* binding = nullptr;    // of an RSB's entry
    std::pair<size_t, size_t> At() const {
      return binding ? std::make_pair(binding->remote_index, binding->service_index)
                     : std::make_pair(exposure->entry_index, size_t{0});
    }
    uint8_t Flags() const {
      bool ready = binding ? binding->ready : exposure->ready;
      bool conflict = binding ? binding->conflict : exposure->conflict;
      return (ready ? kReady : 0) | (conflict ? kConflict : 0);
    }
  };

  std::vector<EntryNow> EntriesOf(const Cluster& c, const ServiceExpositionPolicy& sep) const {
    std::vector<EntryNow> out;
    for (const ExposedEntry& entry : sep.exposed) {
      auto built = exposure_of_.find(&entry);
      const auto* it =
          built != exposure_of_.end()
              ? built->second
              : &*exposures_.find(Key(c.name, sep.object->namespace_, entry.exposed_name()));
      const ExposureUnit& unit = it->second;
      for (size_t i = 0; i < unit.exposures.size(); ++i) {
        if (unit.exposures[i].entry != &entry) continue;
        out.push_back(EntryNow{{unit.generation, i == 0 ? unit.bound_generation : 0},
                               &unit.exposures[i],
                               &it->first,
                               i == 0,
                               nullptr});
      }
    }
    return out;
  }

  std::vector<EntryNow> EntriesOf(const Cluster& c, const RemoteServiceBinding& rsb) const {
    std::vector<EntryNow> out;
    for (const RemoteEntry& remote : rsb.remote) {
      for (const BoundService& svc : remote.services) {
        auto built = binding_of_.find(&svc);
        const auto* it =
            built != binding_of_.end()
                ? built->second
                : &*bindings_.find(Key(c.name, rsb.object->namespace_, svc.local_name()));
        for (const Binding& b : it->second.bindings) {
          if (b.service == &svc) {
            out.push_back(EntryNow{{it->second.generation, 0}, nullptr, &it->first, false, &b});
          }
        }
      }
    }
    return out;
  }

  Node EntryNode(const EntryNow& e) const {
    if (e.binding) return BindingStatusEntry(*e.binding, shared_);
    return ExposureEntry(*e.exposure,
                         e.in_effect ? BoundTo(*e.unit) : std::vector<const Binding*>{}, shared_);
  }

  // Builds the status of `owner` from all its entries, reusing the entries whose units were not
  // recomputed since. True if it changed.
  bool Refresh(const Cluster& c, const Object& owner, const std::vector<EntryNow>& now,
               StatusSlot& slot, bool fresh) const {
    Node* status = fresh ? nullptr : slot.output.object.Find("status");
    Node* list = status ? status->Find(ListKey(owner)) : nullptr;
    bool rebuild =
        !list || list->items().size() != now.size() || slot.at.size() != now.size() ||
        (Generation(owner) != nullptr) != (status->Find("observedGeneration") != nullptr);
    if (rebuild) slot.seen.assign(now.size(), {0, 0});
    Node entries = rebuild ? Node::SequenceWithRoom(now.size()) : Node::Sequence();
    std::vector<std::pair<size_t, size_t>> old_at = std::move(slot.at);
    slot.at.clear();
    slot.flags.clear();
    slot.positions.clear();
    bool changed = false;
    for (size_t i = 0; i < now.size(); ++i) {
      const EntryNow& e = now[i];
      slot.at.push_back(e.At());
      slot.flags.push_back(e.Flags());
      if (incremental_) slot.positions[*e.unit].push_back(i);
      if (rebuild) {
        entries.Append(EntryNode(e));
        slot.seen[i] = e.stamp;
      } else {
        if (old_at[i] != e.At()) slot.seen[i] = {0, 0};  // another entry at this place: rebuild
        changed = Patch(list->items()[i], slot.seen[i], e) || changed;
      }
    }
    if (rebuild) {
      StatusSummary summary = Summary(owner, entries, slot);
      Node object = NewStatus(owner, c.name, summary, std::move(entries));
      changed = fresh || !(object == slot.output.object);
      slot.output = StatusOutput{c.name, std::move(object)};
      return changed;
    }
    return Header(owner, slot) || changed;
  }

  // Refreshes only the entries of `units`; nothing when that cannot be done in place (the
  // caller then rebuilds the whole status).
  template <typename View>
  std::optional<bool> RefreshEntries(const Cluster& c, const Object& owner, const View* view,
                                     const std::set<std::string>& units, StatusSlot& slot) const {
    Node* status = slot.output.object.Find("status");
    Node* list = status ? status->Find(ListKey(owner)) : nullptr;
    if (!list || list->items().size() != slot.at.size() || EntryCount(*view) != slot.at.size() ||
        (Generation(owner) != nullptr) != (status->Find("observedGeneration") != nullptr)) {
      return std::nullopt;
    }
    // Every entry first: one that moved to another unit means the places changed, and nothing
    // may have been patched then.
    std::vector<std::pair<size_t, EntryNow>> entries;
    std::vector<std::pair<size_t, std::string>> moved;  // (place, from unit): to another unit
    for (const std::string& key : units) {
      auto positions = slot.positions.find(key);
      if (positions == slot.positions.end()) continue;
      for (size_t p : positions->second) {
        std::optional<EntryNow> e = EntryAt(view, key, slot.at[p]);
        if (!e) {
          // Renamed in place (another exposed or local name): its entry is now another unit's.
          std::string now = UnitOf(c.name, owner, *view, slot.at[p]);
          if (now != key) e = EntryAt(view, now, slot.at[p]);
          if (!e) return std::nullopt;
          moved.emplace_back(p, key);
        }
        entries.emplace_back(p, *e);
      }
    }
    bool changed = false;
    for (const auto& [p, e] : entries) {
      slot.flags[p] = e.Flags();
      changed = Patch(list->items()[p], slot.seen[p], e) || changed;
    }
    for (const auto& [p, from] : moved) std::erase(slot.positions[from], p);
    for (const auto& [p, e] : entries) {
      std::vector<size_t>& places = slot.positions[*e.unit];
      auto it = std::lower_bound(places.begin(), places.end(), p);
      if (it == places.end() || *it != p) places.insert(it, p);
    }
    return Header(owner, slot) || changed;
  }

  // The entry of an SEP (at: entry index) or RSB (at: remote, service) in unit `key`.
  std::optional<EntryNow> EntryAt(const ServiceExpositionPolicy* view, const std::string& key,
                                  std::pair<size_t, size_t> at) const {
    auto it = exposures_.find(key);
    if (it == exposures_.end()) return std::nullopt;
    const auto& exposures = it->second.exposures;
    for (size_t i = 0; i < exposures.size(); ++i) {
      if (exposures[i].policy != view || exposures[i].entry_index != at.first) continue;
      return EntryNow{{it->second.generation, i == 0 ? it->second.bound_generation : 0},
                      &exposures[i],
                      &it->first,
                      i == 0,
                      nullptr};
    }
    return std::nullopt;
  }
  std::optional<EntryNow> EntryAt(const RemoteServiceBinding* view, const std::string& key,
                                  std::pair<size_t, size_t> at) const {
    auto it = bindings_.find(key);
    if (it == bindings_.end()) return std::nullopt;
    for (const Binding& b : it->second.bindings) {
      if (b.policy != view || b.remote_index != at.first || b.service_index != at.second) continue;
      return EntryNow{{it->second.generation, 0}, nullptr, &it->first, false, &b};
    }
    return std::nullopt;
  }

  // Rebuilds one entry if its units changed since; true if its tree changed.
  bool Patch(Node& entry, std::pair<uint64_t, uint64_t>& seen, const EntryNow& e) const {
    if (seen == e.stamp) return false;
    seen = e.stamp;
    Node fresh = EntryNode(e);
    if (fresh == entry) return false;
    entry = std::move(fresh);
    return true;
  }

  // The key of the unit of an SEP's (at: entry) or RSB's (at: remote, service) entry.
  static std::string UnitOf(const std::string& cluster, const Object& owner,
                            const ServiceExpositionPolicy& sep, std::pair<size_t, size_t> at) {
    if (at.first >= sep.exposed.size()) return "";
    return Key(cluster, owner.namespace_, sep.exposed[at.first].exposed_name());
  }
  static std::string UnitOf(const std::string& cluster, const Object& owner,
                            const RemoteServiceBinding& rsb, std::pair<size_t, size_t> at) {
    if (at.first >= rsb.remote.size() || at.second >= rsb.remote[at.first].services.size()) {
      return "";
    }
    return Key(cluster, owner.namespace_, rsb.remote[at.first].services[at.second].local_name());
  }

  static size_t EntryCount(const ServiceExpositionPolicy& sep) { return sep.exposed.size(); }
  static size_t EntryCount(const RemoteServiceBinding& rsb) {
    size_t n = 0;
    for (const RemoteEntry& r : rsb.remote) n += r.services.size();
    return n;
  }

  static const char* ListKey(const Object& owner) {
    return owner.kind == "ServiceExpositionPolicy" ? "exposed" : "services";
  }
  static const Node* Generation(const Object& owner) {
    const Node* meta = owner.metadata();
    const Node* generation = meta ? meta->Find("generation") : nullptr;
    return generation && generation->IsScalar() ? generation : nullptr;
  }

  // The conditions' counts, from the slot's flags and the entries' names and reasons.
  static StatusSummary Summary(const Object& owner, const Node& entries, const StatusSlot& slot) {
    bool sep = owner.kind == "ServiceExpositionPolicy";
    StatusSummary summary;
    for (size_t i = 0; i < slot.flags.size(); ++i) {
      bool ready = (slot.flags[i] & kReady) != 0;
      // Only the first problem is named: the others need not be read.
      bool named = !ready && summary.first_problem.empty();
      const Node& e = entries.items()[i];
      summary.Count(ready, (slot.flags[i] & kConflict) != 0,
                    named ? ScalarText(e.Find(sep ? "exposedName" : "localName")) : "",
                    named ? ScalarText(e.Find("reason")) : "");
    }
    return summary;
  }

  // The conditions and observedGeneration of a status whose entries are up to date.
  bool Header(const Object& owner, StatusSlot& slot) const {
    Node& status = *slot.output.object.Find("status");
    bool changed = false;
    Node conditions = StatusConditions(owner, Summary(owner, *status.Find(ListKey(owner)), slot));
    if (!(conditions == *status.Find("conditions"))) {
      status.Set("conditions", std::move(conditions));
      changed = true;
    }
    if (const Node* generation = Generation(owner);
        generation && status.Find("observedGeneration")->text() != generation->text()) {
      status.Set("observedGeneration", Node::Plain(generation->text()));
      changed = true;
    }
    return changed;
  }

  // Units by key; unordered_map keeps element addresses stable (bindings point to exposures).
  std::unordered_map<std::string, ExposureUnit> exposures_;
  std::unordered_map<std::string, BindingUnit> bindings_;
  std::map<std::string, StatusSlot> statuses_;  // by StatusKey
  uint64_t next_generation_ = 1;
  mutable SharedValues shared_;  // a cache: what it gives is the same made anew
  // Dependency -> the units that read it (keys point into exposures_ and bindings_).
  struct UnitRef {
    const std::string* key;
    bool exposure;
  };
  absl::flat_hash_map<Dependency, absl::InlinedVector<UnitRef, 2>> dependents_;
  const bool incremental_;
  // One-shot only: the binding units in the order they were put, and who bound each exposure.
  std::vector<const BindingUnit*> put_bindings_;
  // While Build runs: the unit of each SEP entry and RSB service (by its view), for the statuses,
  // which otherwise find them by key.
  absl::flat_hash_map<const ExposedEntry*, std::pair<const std::string, ExposureUnit>*>
      exposure_of_;
  absl::flat_hash_map<const BoundService*, std::pair<const std::string, BindingUnit>*> binding_of_;
  absl::flat_hash_map<std::string_view, std::vector<const Binding*>> bound_by_;
};

}  // namespace internal

Translation Translate(const Fleet& fleet) {
  auto state = std::make_shared<internal::TranslationState>(/*incremental=*/false);
  state->Build(fleet);
  Translation out = state->Take(fleet);
  out.working_state = std::move(state);
  return out;
}

IncrementalTranslator::IncrementalTranslator(Fleet fleet)
    : fleet_(std::move(fleet)),
      state_(std::make_unique<internal::TranslationState>(/*incremental=*/true)) {
  state_->Build(fleet_);
}

IncrementalTranslator::~IncrementalTranslator() = default;
IncrementalTranslator::IncrementalTranslator(IncrementalTranslator&&) noexcept = default;
IncrementalTranslator& IncrementalTranslator::operator=(IncrementalTranslator&&) noexcept = default;

Translation IncrementalTranslator::Current() const { return state_->Assemble(fleet_); }

const StatusOutput* IncrementalTranslator::Status(const std::string& cluster,
                                                  const std::string& owner_key) const {
  return state_->Status(cluster + internal::kSep + owner_key);
}

namespace {

// The units of an SEP's or RSB's entries; with `only`, of the entries at those places.
std::set<std::string> EntryUnits(const Cluster& c, const Object& o,
                                 const std::set<internal::EntryPlace>* only) {
  std::set<std::string> out;
  if (const auto* sep = internal::ViewOf(c.expositions, &o)) {
    for (const ExposedEntry& entry : sep->exposed) {
      if (only && !only->count({entry.index, 0})) continue;
      out.insert(internal::Key(c.name, o.namespace_, entry.exposed_name()));
    }
  }
  if (const auto* rsb = internal::ViewOf(c.bindings, &o)) {
    for (const RemoteEntry& remote : rsb->remote) {
      for (const BoundService& svc : remote.services) {
        if (only && !only->count(svc.index)) continue;
        out.insert(internal::Key(c.name, o.namespace_, svc.local_name()));
      }
    }
  }
  return out;
}

bool IsOwnerKind(const Object& o) {
  return o.group == kMulticlusterGroup &&
         (o.kind == "ServiceExpositionPolicy" || o.kind == "RemoteServiceBinding");
}

}  // namespace

TranslationDelta IncrementalTranslator::Apply(std::vector<ObjectChange> changes,
                                              Diagnostics& diagnostics) {
  internal::TranslationState::Dirty dirty;
  // The units that read an object's current version: those that looked up its identity or one
  // of its hosts, and for an SEP or RSB the units of its entries (`only`: of these fields).
  auto mark = [&](const Cluster& c, const Object& o, const std::set<internal::EntryPlace>* only) {
    state_->AddDependents(internal::ObjectDependency(c.name, o.Key()), dirty);
    for (const std::string& host : IndexedHosts(c, o)) {
      state_->AddDependents(internal::HostDependency(c.name, host), dirty);
    }
    if (!IsOwnerKind(o)) return;
    // With `only`, the entries keep their places: the units of the changed ones refresh theirs.
    std::string status = internal::StatusKey(c.name, o);
    if (only) {
      dirty.statuses.try_emplace(status, std::set<std::string>{});
    } else {
      dirty.Status(status, nullptr);
    }
    auto& units = o.kind == "ServiceExpositionPolicy" ? dirty.exposures : dirty.bindings;
    units.merge(EntryUnits(c, o, only));
  };
  for (ObjectChange& change : changes) {
    auto it = std::find_if(fleet_.clusters.begin(), fleet_.clusters.end(),
                           [&](const Cluster& c) { return c.name == change.cluster; });
    if (it == fleet_.clusters.end()) continue;
    Cluster& c = *it;
    std::string key = change.object.Key();
    const Object* old = c.FindObject(key);
    // A new version of an SEP or RSB recomputes only the units of the entries that changed, when
    // the others can keep theirs: same file, same place in creation order, still the user's.
    bool by_entry = old && !change.removed && IsOwnerKind(*old) &&
                    old->file == change.object.file && !old->ManagedByMeshfed() &&
                    !change.object.ManagedByMeshfed() &&
                    (change.object.creation_timestamp.empty() ||
                     change.object.creation_timestamp == old->creation_timestamp);
    if (!by_entry) {
      if (old) mark(c, *old, nullptr);
      if (change.removed) {
        RemoveObject(c, key);
      } else {
        mark(c, UpsertObject(c, std::move(change.object), diagnostics), nullptr);
      }
      continue;
    }
    std::set<internal::EntryPlace> changed = internal::ChangedEntries(*old, change.object);
    mark(c, *old, &changed);
    bool is_sep = old->kind == "ServiceExpositionPolicy";
    const void* view_before = is_sep
                                  ? static_cast<const void*>(internal::ViewOf(c.expositions, old))
                                  : static_cast<const void*>(internal::ViewOf(c.bindings, old));
    // Indexes in the old view, by place in the object.
    absl::flat_hash_map<internal::EntryPlace, std::pair<size_t, size_t>> old_index;
    if (is_sep) {
      const auto& entries = internal::ViewOf(c.expositions, old)->exposed;
      for (size_t i = 0; i < entries.size(); ++i) old_index[{entries[i].index, 0}] = {i, 0};
    } else {
      const auto& remote = internal::ViewOf(c.bindings, old)->remote;
      for (size_t i = 0; i < remote.size(); ++i) {
        for (size_t k = 0; k < remote[i].services.size(); ++k) {
          old_index[remote[i].services[k].index] = {i, k};
        }
      }
    }
    const Object& now = UpsertObject(c, std::move(change.object), diagnostics);
    const void* view_after = is_sep
                                 ? static_cast<const void*>(internal::ViewOf(c.expositions, &now))
                                 : static_cast<const void*>(internal::ViewOf(c.bindings, &now));
    if (!view_after || view_after != view_before) {
      // The view moved: every entry's unit points to the old one. (An unchanged entry's unit
      // has the same key in both versions, so marking the new version's units is enough.)
      mark(c, now, nullptr);
      continue;
    }
    mark(c, now, &changed);
    // The units of the unchanged entries keep their results: point them at the new entries.
    if (is_sep) {
      const ServiceExpositionPolicy& view = *internal::ViewOf(c.expositions, &now);
      std::vector<std::optional<size_t>> index_of_old(old_index.size());
      for (size_t j = 0; j < view.exposed.size(); ++j) {
        internal::EntryPlace place{view.exposed[j].index, 0};
        auto before = old_index.find(place);
        if (before != old_index.end() && !changed.count(place)) {
          index_of_old[before->second.first] = j;
        }
      }
      for (const ExposedEntry& entry : view.exposed) {
        if (changed.count({entry.index, 0})) continue;
        state_->Rebase(internal::Key(c.name, now.namespace_, entry.exposed_name()), view,
                       index_of_old);
      }
    } else {
      const RemoteServiceBinding& view = *internal::ViewOf(c.bindings, &now);
      absl::flat_hash_map<std::pair<size_t, size_t>, std::pair<size_t, size_t>> index_of_old;
      for (size_t i = 0; i < view.remote.size(); ++i) {
        for (size_t k = 0; k < view.remote[i].services.size(); ++k) {
          const internal::EntryPlace& place = view.remote[i].services[k].index;
          auto before = old_index.find(place);
          if (before != old_index.end() && !changed.count(place)) {
            index_of_old[before->second] = {i, k};
          }
        }
      }
      for (const RemoteEntry& remote : view.remote) {
        for (const BoundService& svc : remote.services) {
          if (changed.count(svc.index)) continue;
          state_->Rebase(internal::Key(c.name, now.namespace_, svc.local_name()), view,
                         index_of_old);
        }
      }
    }
  }
  TranslationDelta delta;
  state_->Recompute(fleet_, std::move(dirty), delta);
  return delta;
}

}  // namespace meshfed
