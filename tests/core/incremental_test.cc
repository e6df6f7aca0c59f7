// The incremental translator against the whole one: after every change, what it holds equals
// Translate() of the fleet built afresh from the same objects, the fleet's indexes equal
// BuildFleet's, and the deltas it returned, applied in order, give the same output and name
// only what changed.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "adapters/fleet_dir_store.h"
#include "codec/emitter.h"
#include "core/generate/fleet_generator.h"
#include "core/model/hosts.h"
#include "core/model/text.h"
#include "core/sync/plan.h"
#include "core/translate/translator.h"
#include "core/validate/validate.h"

namespace meshfed {
namespace {

std::string Name(const Node& o) {
  const Node* meta = o.Find("metadata");
  return fmt::format("{}/{}/{}", ScalarText(o.Find("kind")), ScalarText(meta->Find("namespace")),
                     ScalarText(meta->Find("name")));
}

// Every index of a cluster as sorted lines "index key -> object keys in order".
std::vector<std::string> Indexes(const Cluster& c) {
  std::vector<std::string> out;
  auto list = [](const auto& views) {
    std::string s;
    for (const auto* v : views) s += v->object->Key() + ",";
    return s;
  };
  auto views = [](const auto& l) {
    std::string s;
    for (const auto& v : l) s += v.object->Key() + ",";
    return s;
  };
  for (const Object& o : c.objects)
    out.push_back("object " + o.Key() + " " + std::to_string(o.order));
  for (const auto& [k, o] : c.object_index) out.push_back("object_index " + k + " " + o->Key());
  out.push_back("expositions " + views(c.expositions));
  out.push_back("bindings " + views(c.bindings));
  out.push_back("services " + views(c.services));
  out.push_back("deployments " + views(c.deployments));
  out.push_back("virtual_services " + views(c.virtual_services));
  out.push_back("destination_rules " + views(c.destination_rules));
  out.push_back("service_entries " + views(c.service_entries));
  out.push_back("gateways " + views(c.gateways));
  out.push_back("authorization_policies " + views(c.authorization_policies));
  for (const std::string& n : c.namespaces) out.push_back("namespace " + n);
  for (const auto& [k, s] : c.service_by_host) out.push_back("svc " + k + " " + s->object->Key());
  for (const auto& [k, l] : c.virtual_services_by_host) out.push_back("vs " + k + " " + list(l));
  for (const auto& [k, l] : c.destination_rules_by_host) out.push_back("dr " + k + " " + list(l));
  for (const auto& [k, l] : c.service_entries_by_host) out.push_back("se " + k + " " + list(l));
  out.push_back("wildcard vs " + list(c.wildcard_virtual_services));
  out.push_back("wildcard dr " + list(c.wildcard_destination_rules));
  out.push_back("wildcard se " + list(c.wildcard_service_entries));
  for (const auto& [k, l] : c.virtual_services_by_gateway) out.push_back("gw " + k + " " + list(l));
  for (const auto& [k, l] : c.deployments_by_namespace) out.push_back("dep " + k + " " + list(l));
  for (const auto& [k, d] : c.deployment_by_name)
    out.push_back("depn " + k + " " + d->object->Key());
  for (const auto& [k, n] : c.known_namespaces) out.push_back("ns " + k + " " + std::to_string(n));
  for (const auto& [k, l] : c.allow_policies_by_host) out.push_back("ap " + k + " " + list(l));
  out.push_back("any-host ap " + list(c.allow_policies_any_host));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Texts(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const Diagnostic& x : d) out.push_back(x.Format());
  std::sort(out.begin(), out.end());
  return out;
}

// A fleet source with the same objects (and load order) as `fleet`.
FleetSource SourceOf(const Fleet& fleet) {
  FleetSource source;
  source.mesh_clusters = fleet.mesh_cluster_objects;
  for (const Cluster& c : fleet.clusters) {
    source.cluster_objects[c.name].assign(c.objects.begin(), c.objects.end());
  }
  return source;
}

class Checker {
 public:
  explicit Checker(IncrementalTranslator& engine) : engine_(engine) {
    Translation t = engine.Current();
    for (const ClusterOutput& c : t.clusters) {
      for (const Node& o : c.objects) rendered_[{c.cluster, Name(o)}] = o;
    }
    for (const StatusOutput& s : t.statuses) statuses_[{s.cluster, Name(s.object)}] = s.object;
  }

  // Applies the delta to what was rendered so far; every entry must be a real change.
  void Take(const TranslationDelta& delta) {
    for (const auto& [cluster, o] : delta.applied) {
      auto it = rendered_.find({cluster, Name(o)});
      EXPECT_TRUE(it == rendered_.end() || !(it->second == o))
          << "delta repeats an unchanged object " << cluster << " " << Name(o);
      rendered_[{cluster, Name(o)}] = o;
    }
    for (const auto& [cluster, o] : delta.removed) {
      EXPECT_EQ(rendered_.erase({cluster, Name(o)}), 1u)
          << "delta removes what was not there: " << cluster << " " << Name(o);
    }
    for (const StatusOutput* status : delta.statuses) {
      const StatusOutput& s = *status;
      auto it = statuses_.find({s.cluster, Name(s.object)});
      EXPECT_TRUE(it == statuses_.end() || !(it->second == s.object))
          << "delta repeats an unchanged status " << s.cluster << " " << Name(s.object);
      statuses_[{s.cluster, Name(s.object)}] = s.object;
    }
  }

  // The engine equals a fresh build and translation of the same objects.
  void Check(const std::string& step) {
    SCOPED_TRACE(step);
    Diagnostics d;
    Fleet fresh = BuildFleet(SourceOf(engine_.fleet()), d);
    ASSERT_EQ(fresh.clusters.size(), engine_.fleet().clusters.size());
    for (size_t i = 0; i < fresh.clusters.size(); ++i) {
      ASSERT_EQ(Indexes(engine_.fleet().clusters[i]), Indexes(fresh.clusters[i]))
          << "cluster " << fresh.clusters[i].name;
    }
    Translation want = Translate(fresh);
    Translation got = engine_.Current();
    ASSERT_EQ(got.clusters.size(), want.clusters.size());
    size_t objects = 0;
    for (size_t i = 0; i < want.clusters.size(); ++i) {
      ASSERT_EQ(got.clusters[i].cluster, want.clusters[i].cluster);
      ASSERT_EQ(got.clusters[i].objects.size(), want.clusters[i].objects.size())
          << want.clusters[i].cluster;
      for (size_t j = 0; j < want.clusters[i].objects.size(); ++j) {
        const Node& w = want.clusters[i].objects[j];
        ASSERT_TRUE(got.clusters[i].objects[j] == w) << Name(w);
        auto it = rendered_.find({want.clusters[i].cluster, Name(w)});
        ASSERT_TRUE(it != rendered_.end() && it->second == w)
            << "the deltas miss " << want.clusters[i].cluster << " " << Name(w);
      }
      objects += want.clusters[i].objects.size();
    }
    EXPECT_EQ(rendered_.size(), objects) << "the deltas left objects that are gone";
    ASSERT_EQ(got.statuses.size(), want.statuses.size());
    for (size_t i = 0; i < want.statuses.size(); ++i) {
      ASSERT_EQ(got.statuses[i].cluster, want.statuses[i].cluster);
      ASSERT_TRUE(got.statuses[i].object == want.statuses[i].object)
          << Name(want.statuses[i].object) << "\n--- incremental:\n"
          << EmitYamlStream({got.statuses[i].object}) << "--- whole:\n"
          << EmitYamlStream({want.statuses[i].object});
      auto it = statuses_.find({want.statuses[i].cluster, Name(want.statuses[i].object)});
      ASSERT_TRUE(it != statuses_.end() && it->second == want.statuses[i].object)
          << "the deltas miss the status of " << Name(want.statuses[i].object);
    }
    EXPECT_EQ(Texts(got.diagnostics), Texts(want.diagnostics));
    // A removed SEP or RSB has no status to write: forget it, so that its return counts as new.
    std::set<std::pair<std::string, std::string>> owners;
    for (const StatusOutput& s : want.statuses) owners.emplace(s.cluster, Name(s.object));
    std::erase_if(statuses_, [&](const auto& e) { return !owners.count(e.first); });
  }

 private:
  IncrementalTranslator& engine_;
  std::map<std::pair<std::string, std::string>, Node> rendered_;
  std::map<std::pair<std::string, std::string>, Node> statuses_;
};

// Random edits of user objects: scalars swapped for other values of the fleet, entries and list
// items dropped or repeated, objects removed and brought back, user objects squatting on the
// names meshfed generates, objects marked as meshfed's.
class Mutator {
 public:
  Mutator(const Fleet& fleet, uint32_t seed) : rng_(seed) {
    for (const Cluster& c : fleet.clusters) {
      for (const Object& o : c.objects) Collect(o.root);
    }
    std::sort(pool_.begin(), pool_.end());
    pool_.erase(std::unique(pool_.begin(), pool_.end()), pool_.end());
  }

  std::vector<ObjectChange> Next(IncrementalTranslator& engine, std::string& what) {
    const Fleet& fleet = engine.fleet();
    std::vector<ObjectChange> changes;
    size_t n = 1 + Pick(3);
    for (size_t i = 0; i < n; ++i) {
      if (fleet.clusters.empty()) break;
      const Cluster& c = fleet.clusters[Pick(fleet.clusters.size())];
      size_t op = Pick(20);
      if (op == 0 && !removed_.empty()) {  // bring one back
        size_t k = Pick(removed_.size());
        changes.push_back(std::move(removed_[k]));
        removed_.erase(removed_.begin() + static_cast<std::ptrdiff_t>(k));
        what += " restore " + changes.back().object.Key();
        continue;
      }
      if (c.objects.empty()) continue;
      const Object& o =
          *std::next(c.objects.begin(), static_cast<std::ptrdiff_t>(Pick(c.objects.size())));
      ObjectChange change{c.name, o, false};
      if (op == 1) {  // remove
        removed_.push_back(change);
        change.removed = true;
        what += " remove " + o.Key();
      } else if (op == 2) {  // squat on a generated name
        Translation t = engine.Current();
        const ClusterOutput* out = nullptr;
        for (const ClusterOutput& co : t.clusters) {
          if (co.cluster == c.name && !co.objects.empty()) out = &co;
        }
        if (!out) continue;
        Node squat = out->objects[Pick(out->objects.size())];
        squat.Find("metadata")->Erase("labels");
        std::vector<Object> objs;
        Diagnostics d;
        uint64_t order = 1'000'000 + squats_++;
        AppendObjects({squat}, "squat.yaml", order, objs, d);
        if (objs.empty()) continue;
        change.object = objs.front();
        what += " squat " + change.object.Key();
      } else if (op == 3) {  // mark as generated, or as the user's again
        Node* meta = change.object.root.Find("metadata");
        Node* labels = meta ? meta->Find("labels") : nullptr;
        if (!labels || !labels->IsMapping()) labels = &meta->Set("labels", Node::Mapping());
        if (labels->Find(kManagedByLabel)) {
          labels->Erase(kManagedByLabel);
        } else {
          labels->Set(kManagedByLabel, Node::String(std::string(kManagedByValue)));
        }
        what += " relabel " + o.Key();
      } else {
        Node* spec = change.object.root.Find("spec");
        if (!spec) continue;
        for (size_t k = 0; k < 1 + Pick(2); ++k) Mutate(*spec);
        what += " edit " + o.Key();
      }
      changes.push_back(std::move(change));
    }
    return changes;
  }

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  void Collect(const Node& n) {
    if (n.IsScalar()) pool_.emplace_back(n.text());
    for (const Node& i : n.items()) Collect(i);
    for (const MapEntry& e : n.entries()) Collect(e.value);
  }

  void Nodes(Node& n, std::vector<Node*>& out) {
    out.push_back(&n);
    for (Node& i : n.items()) Nodes(i, out);
    for (MapEntry& e : n.entries()) Nodes(e.value, out);
  }

  void Mutate(Node& spec) {
    std::vector<Node*> nodes;
    Nodes(spec, nodes);
    Node& n = *nodes[Pick(nodes.size())];
    if (!n.IsScalar() && Pick(5) == 0) {
      // A list item or value that is no longer a mapping or list: readers skip such entries, so
      // the entries after it are at other places in the view than in the object.
      n = Node::String(pool_[Pick(pool_.size())]);
    } else if (n.IsScalar()) {
      const std::string& v = pool_[Pick(pool_.size())];
      bool number = !v.empty() && std::all_of(v.begin(), v.end(), ::isdigit) && v.size() < 6;
      n = number && Pick(2) ? Node::Int(std::stoi(v)) : Node::String(v);
    } else if (n.IsMapping() && !n.entries().empty()) {
      n.Erase(n.entries()[Pick(n.entries().size())].key);
    } else if (n.IsSequence() && !n.items().empty()) {
      size_t i = Pick(n.items().size());
      if (Pick(2)) {
        n.Append(Node(n.items()[i]));
      } else {
        n.items().erase(n.items().begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
  }

  std::mt19937 rng_;
  std::vector<std::string> pool_;
  std::vector<ObjectChange> removed_;
  uint64_t squats_ = 0;
};

void RunRandomChanges(Fleet fleet, uint32_t seed, int steps) {
  Mutator mutator(fleet, seed);
  IncrementalTranslator engine(std::move(fleet));
  Checker checker(engine);
  checker.Check("start");
  for (int step = 0; step < steps && !testing::Test::HasFatalFailure(); ++step) {
    std::string what;
    std::vector<ObjectChange> changes = mutator.Next(engine, what);
    Diagnostics d;
    TranslationDelta delta = engine.Apply(std::move(changes), d);
    checker.Take(delta);
    checker.Check("step " + std::to_string(step) + ":" + what);
  }
}

Fleet LoadExample(const std::string& dir) {
  Diagnostics d;
  absl::StatusOr<Fleet> fleet = LoadFleet(std::filesystem::path(MESHFED_SOURCE_DIR) / dir, d);
  if (!fleet.ok()) {
    ADD_FAILURE() << dir << ": " << fleet.status();
    return Fleet{};
  }
  return std::move(*fleet);
}

FleetShape SmallShape(uint64_t seed) {
  FleetShape shape;
  shape.clusters = 4;
  shape.services = 12;
  shape.exposed_fraction = 0.6;
  shape.bind_clusters = 2;
  shape.alias_fraction = 0.4;
  shape.seed = seed;
  return shape;
}

Fleet GeneratedSmallFleet(uint64_t seed) {
  FleetShape shape = SmallShape(seed);
  FleetSource source;
  uint64_t order = 0;
  Diagnostics d;
  for (const auto& [path, documents] : GenerateFleet(shape)) {
    size_t slash = path.find('/');
    std::vector<Object>& into = slash == std::string::npos
                                    ? source.mesh_clusters
                                    : source.cluster_objects[path.substr(0, slash)];
    AppendObjects(documents, path, order, into, d);
  }
  return BuildFleet(std::move(source), d);
}

// The controller reads its informers' objects, which are shared values (Node::Share), into the
// fleet it translates: the fleet must share them, not copy them, through reading, building,
// checking and translating, first in full and then a change at a time. A copy is a second tree
// of every object of every cluster (about 150 MiB of the large fleet's controller). The objects
// it generates it hands out the same way: the controller keeps one of each it applies.
TEST(IncrementalTranslator, SharesTheObjectsItIsGivenAndThoseItGenerates) {
  std::map<std::string, std::vector<Node>> documents;  // by cluster, as informers hold them
  std::set<const void*> given;
  for (const auto& [path, docs] : GenerateFleet(SmallShape(3))) {
    size_t slash = path.find('/');
    for (const Node& d : docs) {
      Node shared = Node::Share(d);
      given.insert(shared.shared_value());
      documents[slash == std::string::npos ? "" : path.substr(0, slash)].push_back(shared);
    }
  }
  FleetSource source;
  uint64_t order = 0;
  Diagnostics d;
  for (auto& [cluster, docs] : documents) {
    std::vector<Node> copies = docs;  // what a snapshot of the informers hands over
    AppendObjects(std::move(copies), cluster, order,
                  cluster.empty() ? source.mesh_clusters : source.cluster_objects[cluster], d);
  }
  Fleet fleet = BuildFleet(std::move(source), d);
  ValidateObjects(fleet, d);
  ASSERT_FALSE(HasErrors(d));
  IncrementalTranslator engine(std::move(fleet));
  Translation first = engine.Current();

  // A change to an exposed VirtualService, read from a shared version too.
  const Object* vs = nullptr;
  for (const Object& o : engine.fleet().Find("cluster-00")->objects) {
    if (o.kind == "VirtualService" && !vs) vs = &o;
  }
  ASSERT_NE(vs, nullptr);
  Node edited = vs->root;
  edited.Find("metadata")->Set("labels", Node::Mapping());
  Node shared_edit = Node::Share(std::move(edited));
  given.insert(shared_edit.shared_value());
  std::vector<Object> read;
  AppendObjects({shared_edit}, "cluster-00 (live)", order, read, d);
  ASSERT_EQ(read.size(), 1u);
  ObjectChange change{"cluster-00", std::move(read.front()), false};
  engine.Apply({std::move(change)}, d);
  Translation second = engine.Current();

  size_t objects = 0;
  for (const Cluster& c : engine.fleet().clusters) {
    for (const Object& o : c.objects) {
      ++objects;
      EXPECT_TRUE(o.root.IsShared() && given.count(o.root.shared_value()))
          << c.name << " " << o.Key() << " was copied";
    }
  }
  EXPECT_GT(objects, 50u);
  // And what it generates is handed out the same way: Current() refers to the units' trees.
  Translation third = engine.Current();
  ASSERT_EQ(third.clusters.size(), second.clusters.size());
  size_t generated = 0;
  for (size_t c = 0; c < third.clusters.size(); ++c) {
    ASSERT_EQ(third.clusters[c].objects.size(), second.clusters[c].objects.size());
    for (size_t i = 0; i < third.clusters[c].objects.size(); ++i) {
      const Node& o = third.clusters[c].objects[i];
      ++generated;
      EXPECT_TRUE(o.IsShared() && o.shared_value() == second.clusters[c].objects[i].shared_value())
          << third.clusters[c].cluster << " " << ObjectKey(o) << " was copied";
    }
  }
  EXPECT_GT(generated, 20u);
}

TEST(IncrementalTranslator, StartsEqualToTranslate) {
  Fleet fleet = LoadExample("examples/bookinfo/step6");
  IncrementalTranslator engine(std::move(fleet));
  Checker checker(engine);
  checker.Check("start");
  Diagnostics d;
  TranslationDelta none = engine.Apply({}, d);
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.units, 0u);
}

TEST(IncrementalTranslator, OneChangeRecomputesOnlyWhatReadsIt) {
  Fleet fleet = GeneratedSmallFleet(7);
  IncrementalTranslator engine(std::move(fleet));
  // A Deployment is read by no unit: nothing to recompute, nothing changes.
  const Cluster& c = engine.fleet().clusters[0];
  const Object& deployment = *std::find_if(c.objects.begin(), c.objects.end(),
                                           [](const Object& o) { return o.kind == "Deployment"; });
  Diagnostics d;
  TranslationDelta delta = engine.Apply({{c.name, deployment, false}}, d);
  EXPECT_EQ(delta.units, 0u);
  EXPECT_TRUE(delta.empty());
  // Re-applying an exposed service's VirtualService unchanged recomputes its exposure unit (and
  // the bindings that read it) and changes nothing.
  const Cluster& donor = engine.fleet().clusters[0];
  const ServiceExpositionPolicy& sep = donor.expositions.front();
  std::string host = ServiceFqdn(sep.exposed.front().name, sep.object->namespace_);
  const VirtualService* vs = donor.VirtualServicesForHost(host).front();
  delta = engine.Apply({{donor.name, *vs->object, false}}, d);
  EXPECT_TRUE(delta.empty());
  EXPECT_GE(delta.units, 1u);
  EXPECT_LE(delta.units, 1u + 2u * 2u) << "its exposure and at most the bindings of it";
}

// An entry that is not a mapping is skipped by the reader: the entries after it are at other
// places in the view than in the object, and an edit to one of them must still recompute it
// (and only re-point the others).
TEST(IncrementalTranslator, EditsAfterASkippedEntryStaySameAsTranslate) {
  IncrementalTranslator engine(GeneratedSmallFleet(5));
  Checker checker(engine);
  const RemoteServiceBinding* rsb = nullptr;
  const ServiceExpositionPolicy* sep = nullptr;
  std::string rsb_cluster, sep_cluster;
  for (const Cluster& c : engine.fleet().clusters) {
    for (const RemoteServiceBinding& b : c.bindings) {
      if (!rsb && b.remote.size() >= 2 && b.remote[1].services.size() >= 2) {
        rsb = &b;
        rsb_cluster = c.name;
      }
    }
    for (const ServiceExpositionPolicy& e : c.expositions) {
      if (!sep && e.exposed.size() >= 3) {
        sep = &e;
        sep_cluster = c.name;
      }
    }
  }
  ASSERT_TRUE(rsb && sep);
  Object binding = *rsb->object;
  Object exposition = *sep->object;
  auto apply = [&](const std::string& cluster, const Object& o, const std::string& what) {
    Diagnostics d;
    checker.Take(engine.Apply({{cluster, o, false}}, d));
    checker.Check(what);
  };
  std::vector<Node>& remote = binding.root.Find("spec")->Find("remote")->items();
  remote[0] = Node::String("not an entry");
  apply(rsb_cluster, binding, "RSB remote[0] a string");
  remote[1].Find("services")->items()[0].Set("alias", Node::String("renamed-first"));
  apply(rsb_cluster, binding, "RSB remote[1].services[0] renamed");
  remote[1].Find("services")->items()[1].Set("alias", Node::String("renamed-second"));
  apply(rsb_cluster, binding, "RSB remote[1].services[1] renamed");
  Node& exposed = *exposition.root.Find("spec")->Find("exposed");
  exposed.items()[0] = Node::Int(7);
  apply(sep_cluster, exposition, "SEP exposed[0] a number");
  exposed.items()[1].Set("alias", Node::String("renamed-exposed"));
  apply(sep_cluster, exposition, "SEP exposed[1] renamed");
  exposed.items()[2].Set("alias", Node::String("renamed-exposed-2"));
  apply(sep_cluster, exposition, "SEP exposed[2] renamed");
}

TEST(IncrementalTranslator, RandomChangesToBookinfoStaySameAsTranslate) {
  for (const char* step :
       {"examples/bookinfo/step2", "examples/bookinfo/step6", "examples/bookinfo/step7",
        "tests/golden/cases/conflicts/fleet", "tests/golden/cases/donor-routing/fleet"}) {
    SCOPED_TRACE(step);
    RunRandomChanges(LoadExample(step), 11, 150);
  }
}

TEST(IncrementalTranslator, RandomChangesToAGeneratedFleetStaySameAsTranslate) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    RunRandomChanges(GeneratedSmallFleet(seed), seed, 200);
  }
}

}  // namespace
}  // namespace meshfed
