#include "core/translate/translator.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/inlined_vector.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "core/model/hosts.h"
#include "core/model/text.h"
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
  Node list = Node::Sequence();
  for (const std::string& v : values) list.Append(Node::String(v));
  return list;
}

Node PortNode(int number) {
  Node port = Node::Mapping();
  port.Set("number", Node::Int(number));
  return port;
}

const Service* Context::ServiceForHost(const Cluster& c, const std::string& fqdn) {
  Depend(HostDependency(c.name, fqdn));
  return c.ServiceForHost(fqdn);
}

const Service* Context::FindService(const Cluster& c, std::string_view namespace_,
                                    std::string_view name) {
  return ServiceForHost(c, ServiceFqdn(name, namespace_));
}

const std::vector<const VirtualService*>& Context::VirtualServicesForHost(const Cluster& c,
                                                                          const std::string& host) {
  Depend(HostDependency(c.name, host));
  return c.VirtualServicesForHost(host);
}

const std::vector<const DestinationRule*>& Context::DestinationRulesForHost(
    const Cluster& c, const std::string& host) {
  Depend(HostDependency(c.name, host));
  return c.DestinationRulesForHost(host);
}

bool Context::CollidesWithUserObject(const Cluster& cluster, const std::vector<Node>& objects,
                                     std::string& who) {
  for (const Node& o : objects) {
    std::string api_version = ScalarText(o.Find("apiVersion"));
    std::string group = api_version.find('/') == std::string::npos
                            ? std::string()
                            : api_version.substr(0, api_version.find('/'));
    std::string kind = ScalarText(o.Find("kind"));
    const Node* meta = o.Find("metadata");
    std::string ns = ScalarText(meta->Find("namespace"));
    std::string name = ScalarText(meta->Find("name"));
    std::string key = fmt::format("{}/{}/{}/{}", group, kind, ns, name);
    Depend(ObjectDependency(cluster.name, key));
    const Object* existing = cluster.FindObject(key);
    if (existing && !existing->ManagedByMeshfed()) {
      who = fmt::format("{} {}/{} ({}:{}:{})", kind, ns, name, existing->file,
                        existing->position.line, existing->position.column);
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

using SortKey = std::tuple<std::string, std::string, std::string>;

SortKey SortKeyOf(const Node& o) {
  const Node* meta = o.Find("metadata");
  return {ScalarText(o.Find("kind")), ScalarText(meta->Find("namespace")),
          ScalarText(meta->Find("name"))};
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

}  // namespace

// Every unit of the translation, their dependencies, and the statuses.
class TranslationState {
 public:
  struct Dirty {
    std::set<std::string> exposures, bindings, statuses;
  };

  void Build(const Fleet& fleet) {
    for (const Cluster& c : fleet.clusters) {
      std::map<std::string, std::vector<Claim>> claims;
      for (const ServiceExpositionPolicy& sep : c.expositions) {
        for (const ExposedEntry& entry : sep.exposed) {
          claims[Key(c.name, sep.object->namespace_, entry.exposed_name())].push_back(
              {&sep, &entry});
        }
      }
      for (const auto& [key, list] : claims) PutExposure(fleet, c, key, list);
    }
    for (const Cluster& c : fleet.clusters) {
      std::map<std::string, std::vector<Member>> members;
      for (const RemoteServiceBinding& rsb : c.bindings) {
        for (const RemoteEntry& remote : rsb.remote) {
          for (const BoundService& svc : remote.services) {
            members[Key(c.name, rsb.object->namespace_, svc.local_name())].push_back(
                {&rsb, &remote, &svc});
          }
        }
      }
      for (const auto& [key, list] : members) PutBinding(fleet, c, key, list);
    }
    for (const Cluster& c : fleet.clusters) {
      for (const ServiceExpositionPolicy& sep : c.expositions) {
        statuses_[StatusKey(c.name, *sep.object)] = {c.name, StatusOf(c, sep)};
      }
      for (const RemoteServiceBinding& rsb : c.bindings) {
        statuses_[StatusKey(c.name, *rsb.object)] = {c.name, StatusOf(c, rsb)};
      }
    }
  }

  // Marks the units that read `dependency`.
  void AddDependents(Dependency dependency, Dirty& dirty) const {
    auto it = dependents_.find(dependency);
    if (it == dependents_.end()) return;
    for (const UnitRef& unit : it->second) {
      (unit.exposure ? dirty.exposures : dirty.bindings).insert(*unit.key);
    }
  }

  // Recomputes the dirty units, then the units and statuses that depend on what changed.
  void Recompute(const Fleet& fleet, Dirty dirty, TranslationDelta& delta) {
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
      dirty.statuses.insert(before.status_keys.begin(), before.status_keys.end());
      if (!claims.empty()) {
        ExposureUnit& now = PutExposure(fleet, *c, key, claims);
        after = &now.objects;
        dirty.statuses.insert(now.status_keys.begin(), now.status_keys.end());
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
        dirty.statuses.insert(unit.status_keys.begin(), unit.status_keys.end());
        for (const auto& [exposure, by] : unit.bound) {
          auto it = exposures_.find(exposure);
          if (it == exposures_.end()) continue;
          dirty.statuses.insert(it->second.status_keys.begin(), it->second.status_keys.end());
        }
      };
      mark_donors(before);
      if (!members.empty()) {
        BindingUnit& now = PutBinding(fleet, *c, key, members);
        after = &now.objects;
        mark_donors(now);
      }
      Diff(std::string(parts[0]), before.objects, *after, delta);
    }
    for (const std::string& key : dirty.statuses) {
      size_t sep = key.find(kSep);
      const Cluster* c = fleet.Find(std::string_view(key).substr(0, sep));
      const Object* owner = c ? c->FindObject(key.substr(sep + 1)) : nullptr;
      std::optional<Node> status;
      if (owner) {
        if (const auto* v = ViewOf(c->expositions, owner)) status = StatusOf(*c, *v);
        if (const auto* v = ViewOf(c->bindings, owner)) status = StatusOf(*c, *v);
      }
      if (!status) {
        statuses_.erase(key);
        continue;
      }
      StatusOutput& slot = statuses_[key];
      if (slot.cluster == c->name && slot.object == *status) continue;
      slot = StatusOutput{c->name, std::move(*status)};
      delta.statuses.push_back(slot);
    }
  }

  // The whole translation, sorted as Translate documents; copied, or moved out when `take`
  // (the state is then spent).
  Translation Assemble(const Fleet& fleet) const {
    return const_cast<TranslationState*>(this)->AssembleImpl(fleet, false);
  }
  Translation Take(const Fleet& fleet) { return AssembleImpl(fleet, true); }

 private:
  Translation AssembleImpl(const Fleet& fleet, bool take) {
    Translation out;
    std::unordered_map<std::string_view, std::vector<Node*>> by_cluster;
    std::vector<std::pair<std::string_view, UnitOutput*>> units;
    units.reserve(exposures_.size() + bindings_.size());
    for (auto& [key, unit] : exposures_) units.emplace_back(key, &unit);
    for (auto& [key, unit] : bindings_) units.emplace_back(key, &unit);
    for (const auto& [key, unit] : units) {
      auto& list = by_cluster[SplitKey(key)[0]];
      for (Node& o : unit->objects) list.push_back(&o);
    }
    for (const Cluster& c : fleet.clusters) {
      ClusterOutput co{c.name, {}};
      std::vector<std::pair<SortKey, Node*>> order;
      for (Node* o : by_cluster[c.name]) order.emplace_back(SortKeyOf(*o), o);
      std::sort(order.begin(), order.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      co.objects.reserve(order.size());
      for (const auto& [key, o] : order) co.objects.push_back(take ? std::move(*o) : *o);
      out.clusters.push_back(std::move(co));
    }
    for (auto& [key, status] : statuses_) out.statuses.push_back(take ? std::move(status) : status);
    std::stable_sort(out.statuses.begin(), out.statuses.end(),
                     [](const StatusOutput& a, const StatusOutput& b) {
                       return std::make_tuple(a.cluster, SortKeyOf(a.object)) <
                              std::make_tuple(b.cluster, SortKeyOf(b.object));
                     });
    // Warnings unit by unit in key order, exposures first: deterministic (SortDiagnostics orders
    // them by position later).
    auto middle = units.begin() + static_cast<std::ptrdiff_t>(exposures_.size());
    auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
    std::sort(units.begin(), middle, by_key);
    std::sort(middle, units.end(), by_key);
    for (const auto& [key, unit] : units) {
      if (take) {
        std::move(unit->diagnostics.begin(), unit->diagnostics.end(),
                  std::back_inserter(out.diagnostics));
      } else {
        out.diagnostics.insert(out.diagnostics.end(), unit->diagnostics.begin(),
                               unit->diagnostics.end());
      }
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

  ExposureUnit& PutExposure(const Fleet& fleet, const Cluster& c, const std::string& key,
                            const std::vector<Claim>& claims) {
    auto& entry = *exposures_.try_emplace(key).first;
    ExposeClaims(fleet, c, claims, entry.second);
    Remember(entry, true);
    return entry.second;
  }

  BindingUnit& PutBinding(const Fleet& fleet, const Cluster& c, const std::string& key,
                          const std::vector<Member>& members) {
    auto& entry = *bindings_.try_emplace(key).first;
    BindingUnit& unit = entry.second;
    BindMembers(
        fleet, c, members,
        [this](const std::string& exposure) -> const ExposureUnit* {
          auto it = exposures_.find(exposure);
          return it == exposures_.end() ? nullptr : &it->second;
        },
        unit);
    Remember(entry, false);
    return unit;
  }

  // Who bound the exposure in effect of unit `key`.
  std::vector<BoundBy> BoundTo(const std::string& key) const {
    std::vector<BoundBy> out;
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

  Node StatusOf(const Cluster& c, const ServiceExpositionPolicy& sep) const {
    std::vector<const Exposure*> exposures;
    std::vector<std::vector<BoundBy>> bound_by;
    for (const ExposedEntry& entry : sep.exposed) {
      std::string key = Key(c.name, sep.object->namespace_, entry.exposed_name());
      const ExposureUnit& unit = exposures_.at(key);
      for (size_t i = 0; i < unit.exposures.size(); ++i) {
        if (unit.exposures[i].entry != &entry) continue;
        exposures.push_back(&unit.exposures[i]);
        bound_by.push_back(i == 0 ? BoundTo(key) : std::vector<BoundBy>{});
      }
    }
    return ExpositionStatus(c, sep, exposures, bound_by);
  }

  Node StatusOf(const Cluster& c, const RemoteServiceBinding& rsb) const {
    std::vector<const Binding*> bindings;
    for (const RemoteEntry& remote : rsb.remote) {
      for (const BoundService& svc : remote.services) {
        const BindingUnit& unit =
            bindings_.at(Key(c.name, rsb.object->namespace_, svc.local_name()));
        for (const Binding& b : unit.bindings) {
          if (b.service == &svc) bindings.push_back(&b);
        }
      }
    }
    return BindingStatus(c, rsb, bindings);
  }

  // Units by key; unordered_map keeps element addresses stable (bindings point to exposures).
  std::unordered_map<std::string, ExposureUnit> exposures_;
  std::unordered_map<std::string, BindingUnit> bindings_;
  std::map<std::string, StatusOutput> statuses_;  // by StatusKey
  // Dependency -> the units that read it (keys point into exposures_ and bindings_).
  struct UnitRef {
    const std::string* key;
    bool exposure;
  };
  absl::flat_hash_map<Dependency, absl::InlinedVector<UnitRef, 2>> dependents_;
};

}  // namespace internal

Translation Translate(const Fleet& fleet) {
  internal::TranslationState state;
  state.Build(fleet);
  return state.Take(fleet);
}

IncrementalTranslator::IncrementalTranslator(Fleet fleet)
    : fleet_(std::move(fleet)), state_(std::make_unique<internal::TranslationState>()) {
  state_->Build(fleet_);
}

IncrementalTranslator::~IncrementalTranslator() = default;
IncrementalTranslator::IncrementalTranslator(IncrementalTranslator&&) noexcept = default;
IncrementalTranslator& IncrementalTranslator::operator=(IncrementalTranslator&&) noexcept = default;

Translation IncrementalTranslator::Current() const { return state_->Assemble(fleet_); }

TranslationDelta IncrementalTranslator::Apply(std::vector<ObjectChange> changes,
                                              Diagnostics& diagnostics) {
  using internal::Key;
  internal::TranslationState::Dirty dirty;
  // What an object's current version is read by: units that looked up its identity or one of its
  // hosts, and the units of its own entries (SEP, RSB).
  auto mark = [&](const Cluster& c, const Object& o) {
    state_->AddDependents(internal::ObjectDependency(c.name, o.Key()), dirty);
    for (const std::string& host : IndexedHosts(c, o)) {
      state_->AddDependents(internal::HostDependency(c.name, host), dirty);
    }
    if (const auto* sep = internal::ViewOf(c.expositions, &o)) {
      for (const ExposedEntry& entry : sep->exposed) {
        dirty.exposures.insert(Key(c.name, o.namespace_, entry.exposed_name()));
      }
      dirty.statuses.insert(internal::StatusKey(c.name, o));
    }
    if (const auto* rsb = internal::ViewOf(c.bindings, &o)) {
      for (const RemoteEntry& remote : rsb->remote) {
        for (const BoundService& svc : remote.services) {
          dirty.bindings.insert(Key(c.name, o.namespace_, svc.local_name()));
        }
      }
      dirty.statuses.insert(internal::StatusKey(c.name, o));
    }
  };
  for (ObjectChange& change : changes) {
    auto it = std::find_if(fleet_.clusters.begin(), fleet_.clusters.end(),
                           [&](const Cluster& c) { return c.name == change.cluster; });
    if (it == fleet_.clusters.end()) continue;
    Cluster& c = *it;
    std::string key = change.object.Key();
    if (const Object* old = c.FindObject(key)) mark(c, *old);
    if (change.removed) {
      RemoveObject(c, key);
    } else {
      mark(c, UpsertObject(c, std::move(change.object), diagnostics));
    }
  }
  TranslationDelta delta;
  state_->Recompute(fleet_, std::move(dirty), delta);
  return delta;
}

}  // namespace meshfed
