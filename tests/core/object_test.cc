#include "core/model/object.h"

#include <gtest/gtest.h>

#include "codec/yaml_reader.h"

namespace meshfed {
namespace {

std::vector<Object> Objects(const std::string& text, Diagnostics& d) {
  ReadResult r = ReadYamlStream(text, "x.yaml");
  d = r.diagnostics;
  std::vector<Object> out;
  uint64_t order = 0;
  AppendObjects(std::move(r.documents), "x.yaml", order, out, d);
  return out;
}

TEST(Object, NamespacedObjectsWithoutNamespaceLandInDefault) {
  Diagnostics d;
  auto objs = Objects(
      "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n"
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n---\n"
      "apiVersion: multicluster.istio.io/v1alpha1\nkind: MeshCluster\nmetadata: {name: c}\n",
      d);
  ASSERT_TRUE(d.empty());
  ASSERT_EQ(objs.size(), 3u);
  EXPECT_EQ(objs[0].namespace_, "default");
  EXPECT_EQ(objs[1].namespace_, "") << "Namespace is cluster-scoped";
  EXPECT_EQ(objs[2].namespace_, "") << "MeshCluster is cluster-scoped";
  EXPECT_EQ(objs[0].order + 1, objs[1].order);
}

TEST(Object, ListIsExpanded) {
  Diagnostics d;
  auto objs = Objects(R"({"apiVersion":"v1","kind":"List","items":[
    {"apiVersion":"v1","kind":"Service","metadata":{"name":"a","namespace":"x"}},
    {"apiVersion":"v1","kind":"Service","metadata":{"name":"b"}}]})",
                      d);
  ASSERT_TRUE(d.empty());
  ASSERT_EQ(objs.size(), 2u);
  EXPECT_EQ(objs[0].namespace_, "x");
  EXPECT_EQ(objs[1].name, "b");
}

TEST(Object, EnvelopeProblemsAreReportedWithPositions) {
  Diagnostics d;
  auto objs = Objects(
      "kind: Service\nmetadata: {name: a}\n---\n- not\n- an object\n---\n"
      "apiVersion: v1\nkind: Service\nmetadata: {name: 7}\n",
      d);
  EXPECT_TRUE(objs.empty());
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].code, "MF1011");
  EXPECT_EQ(d[0].field, "apiVersion");
  EXPECT_EQ(d[1].code, "MF1004");
  EXPECT_EQ(d[1].position.line, 4u);
  EXPECT_EQ(d[2].code, "MF1010");
  EXPECT_EQ(d[2].field, "metadata.name");
  EXPECT_EQ(d[2].position.line, 9u);
}

TEST(Object, CreationOrderUsesTimestampsThenLoadOrder) {
  Object a, b;
  a.name = "z";
  b.name = "a";
  a.order = 5;
  b.order = 1;
  EXPECT_TRUE(CreatedBefore(b, a)) << "no timestamps: load order";
  a.creation_timestamp = "2026-01-01T00:00:00Z";
  EXPECT_TRUE(CreatedBefore(a, b)) << "an object with a timestamp already exists: older";
  b.creation_timestamp = "2025-01-01T00:00:00Z";
  EXPECT_TRUE(CreatedBefore(b, a));
  b.creation_timestamp = a.creation_timestamp;
  EXPECT_TRUE(CreatedBefore(b, a)) << "same time: by name";
}

}  // namespace
}  // namespace meshfed
