// Known long keys (KeyOf, core/model/node.h) are referred to, not copied, on every road a key
// takes into a tree.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "codec/json_reader.h"
#include "codec/yaml_reader.h"
#include "core/model/node.h"
#include "core/model/object.h"
#include "core/sync/plan.h"
#include "core/translate/names.h"

namespace meshfed {
namespace {

// Whether `key` refers to text kept elsewhere (Key::Static): longer than a Key holds in place,
// and not on the heap.
bool Referred(const Key& key) { return key.size() > Key::kInPlace && !key.OnHeap(); }

// The labels mapping of `object`'s metadata.
const Node& Labels(const Node& object) { return *object.Find("metadata")->Find("labels"); }

void ExpectKnownReferredUnknownCopied(const Node& object, const std::string& road) {
  SCOPED_TRACE(road);
  const Node& labels = Labels(object);
  ASSERT_EQ(labels.entries().size(), 3u);
  EXPECT_EQ(labels.entries()[0].key, "app.kubernetes.io/managed-by");
  EXPECT_TRUE(Referred(labels.entries()[0].key));
  EXPECT_EQ(labels.entries()[1].key, "example.com/a-label-nobody-knows");
  EXPECT_TRUE(labels.entries()[1].key.OnHeap());
  EXPECT_EQ(labels.entries()[2].key, "app");  // short: in place
  EXPECT_FALSE(labels.entries()[2].key.OnHeap());
  EXPECT_EQ(labels.Find("app.kubernetes.io/managed-by")->text(), "meshfed");
  const Node* meta = object.Find("metadata");
  ASSERT_NE(meta->Find("creationTimestamp"), nullptr);
  EXPECT_TRUE(Referred(meta->entries().back().key));
}

TEST(KnownKeys, EveryReaderRefersToKnownLongKeys) {
  const std::string json =
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"reviews","labels":)"
      R"({"app.kubernetes.io/managed-by":"meshfed","example.com/a-label-nobody-knows":"x",)"
      R"("app":"reviews"},"creationTimestamp":"2026-11-28T01:02:03Z"}})";
  const std::string block_yaml =
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: reviews\n  labels:\n"
      "    app.kubernetes.io/managed-by: meshfed\n    example.com/a-label-nobody-knows: x\n"
      "    app: reviews\n  creationTimestamp: \"2026-11-28T01:02:03Z\"\n";
  const std::string flow_yaml = "# flow style: libyaml's road\n" + json + "\n";

  Node api;
  std::string error;
  ASSERT_TRUE(ReadJson(json, api, error)) << error;
  ExpectKnownReferredUnknownCopied(api, "API answer (simdjson DOM)");

  for (const auto& [text, road] :
       std::vector<std::pair<std::string, std::string>>{{json, "JSON file (simdjson on demand)"},
                                                        {block_yaml, "block YAML"},
                                                        {flow_yaml, "libyaml"}}) {
    ReadResult read = ReadYamlStream(text, "test.yaml");
    ASSERT_TRUE(read.diagnostics.empty()) << road;
    ASSERT_EQ(read.documents.size(), 1u) << road;
    ExpectKnownReferredUnknownCopied(read.documents[0], road);
  }
  ReadResult events = ReadYamlEvents(block_yaml, "test.yaml");
  ASSERT_EQ(events.documents.size(), 1u);
  ExpectKnownReferredUnknownCopied(events.documents[0], "libyaml events");

  // Add and Set make their keys the same way; a copy of a tree refers to the same text.
  Node built = Node::Mapping();
  built.Set("observedGeneration", Node::Int(3));
  built.Add("example.com/another-unknown-key", Node::Null());
  Node copy = built;
  EXPECT_TRUE(Referred(copy.entries()[0].key));
  EXPECT_TRUE(copy.entries()[1].key.OnHeap());
  EXPECT_EQ(copy, built);
}

TEST(KnownKeys, MeshfedsOwnLabelsAndAnnotationsAreKnown) {
  for (std::string_view key : {kManagedByLabel, kOwnerKindLabel, kOwnerNamespaceLabel,
                               kOwnerNameLabel, kOwnerAnnotation, kExposedHostAnnotation,
                               kRoutesFromAnnotation, kClusterAnnotation, kAppliedHashAnnotation}) {
    EXPECT_TRUE(Referred(KeyOf(key))) << key;
    EXPECT_EQ(KeyOf(key), key);
  }
  EXPECT_FALSE(KeyOf("app").OnHeap());  // short keys are kept in place, not looked up
  EXPECT_FALSE(Referred(KeyOf("app")));
  Key unknown = KeyOf("example.com/a-label-nobody-knows");
  EXPECT_TRUE(unknown.OnHeap());
  EXPECT_EQ(unknown, "example.com/a-label-nobody-knows");
}

}  // namespace
}  // namespace meshfed
