#include "core/generate/fleet_generator.h"

#include <gtest/gtest.h>

#include <tuple>

#include "codec/emitter.h"
#include "core/translate/translator.h"

namespace meshfed {
namespace {

std::string Bytes(const GeneratedFleet& f) {
  std::string out;
  for (const auto& [path, docs] : f) out += path + "\n" + EmitYamlStream(docs);
  return out;
}

TEST(FleetGenerator, IsDeterministicFromTheSeed) {
  FleetShape shape{4, 30, 3, 0.5, 2, 0.3, 7};
  EXPECT_EQ(Bytes(GenerateFleet(shape)), Bytes(GenerateFleet(shape)));
  FleetShape other = shape;
  other.seed = 8;
  EXPECT_NE(Bytes(GenerateFleet(shape)), Bytes(GenerateFleet(other)));
}

// The bindings' statuses of a generated fleet, after checking that it reads without problems:
// (bound services, ready ones, RSB objects).
std::tuple<size_t, size_t, size_t> Bindings(const FleetShape& shape) {
  GeneratedFleet generated = GenerateFleet(shape);
  FleetSource source;
  Diagnostics d;
  uint64_t order = 0;
  for (auto& [path, docs] : generated) {
    if (path == "fleet.yaml") {
      AppendObjects(docs, path, order, source.mesh_clusters, d);
    } else {
      AppendObjects(docs, path, order, source.cluster_objects[path.substr(0, path.find('/'))], d);
    }
  }
  Fleet fleet = BuildFleet(std::move(source), d);
  EXPECT_TRUE(d.empty()) << d[0].Format();
  EXPECT_EQ(fleet.clusters.size(), 4u);
  EXPECT_EQ(fleet.clusters[0].services.size(), 40u);
  EXPECT_EQ(fleet.clusters[0].deployments.size(), 120u);
  Translation t = Translate(fleet);
  EXPECT_TRUE(t.diagnostics.empty()) << t.diagnostics[0].Format();
  size_t bound = 0, ready = 0, objects = 0;
  for (const StatusOutput& s : t.statuses) {
    if (s.object.Find("kind")->text() != "RemoteServiceBinding") continue;
    ++objects;
    for (const Node& svc : s.object.Find("status")->Find("services")->items()) {
      ++bound;
      ready += svc.Find("ready")->text() == "true";
    }
  }
  return {bound, ready, objects};
}

TEST(FleetGenerator, RendersWithoutProblemsAndBindsWhatItExposes) {
  FleetShape shape{4, 40, 3, 0.5, 2, 0.5, 3};
  auto [bound, ready, objects] = Bindings(shape);
  EXPECT_GT(bound, 20u);
  EXPECT_EQ(ready, bound) << "every generated binding resolves";
  EXPECT_EQ(objects, 4u) << "one RSB per acceptor";
  // One policy per service: the same bindings, each in an RSB of its own.
  shape.policy_per_service = true;
  auto [bound_each, ready_each, objects_each] = Bindings(shape);
  EXPECT_EQ(bound_each, bound);
  EXPECT_EQ(ready_each, bound);
  EXPECT_EQ(objects_each, bound);
}

}  // namespace
}  // namespace meshfed
