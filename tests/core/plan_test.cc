#include "core/sync/plan.h"

#include <gtest/gtest.h>

#include <utility>

#include "codec/yaml_reader.h"
#include "core/model/text.h"

namespace meshfed {
namespace {

Node Yaml(const std::string& text) {
  ReadResult r = ReadYamlStream(text, "t.yaml");
  EXPECT_TRUE(r.diagnostics.empty()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].Format());
  return r.documents.at(0);
}

constexpr const char* kGenerated = R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: meshfed-reviews
  namespace: default
  labels: {app.kubernetes.io/managed-by: meshfed}
spec:
  host: reviews.default.meshfed.internal
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL, sni: reviews.default.svc.cluster.local}})";

std::vector<std::string> Summary(const ClusterPlan& plan) {
  std::vector<std::string> out;
  for (const Change& c : plan.changes) {
    const char* kind[] = {"create", "update", "delete", "conflict"};
    out.push_back(std::string(kind[static_cast<int>(c.kind)]) + " " + c.key);
  }
  return out;
}

TEST(Plan, CreatesWhatIsMissingAndSkipsWhatIsThere) {
  Node desired = Yaml(kGenerated);
  ClusterPlan first = PlanCluster({desired}, {});
  EXPECT_EQ(Summary(first),
            std::vector<std::string>{
                "create networking.istio.io/DestinationRule/default/meshfed-reviews"});
  EXPECT_EQ(first.Writes(), 1u);
  // Once applied (hash annotation included), the same desired state plans nothing.
  Node live = first.changes[0].ToApply();
  live.Find("metadata")->Set("resourceVersion", Node::String("42"));
  ClusterPlan second = PlanCluster({desired}, {live});
  EXPECT_TRUE(second.changes.empty());
  EXPECT_EQ(second.unchanged, 1u);
}

// A plan of a whole cluster holds what to write for every object that changed: it refers to the
// generated trees (shared values, as the translator keeps them) instead of copying each, and the
// object sent, with the hash annotation, is made when it is written.
TEST(Plan, RefersToTheGeneratedTreesAndMakesTheObjectToSendOnDemand) {
  Node desired = Node::Share(Yaml(kGenerated));
  Node stale = WithAppliedHash(desired);
  stale.Find("spec")->Set("host", Node::String("old.default.meshfed.internal"));
  for (const ClusterPlan& plan : {PlanCluster({desired}, {}), PlanCluster({desired}, {stale})}) {
    ASSERT_EQ(plan.changes.size(), 1u);
    const Change& c = plan.changes[0];
    EXPECT_EQ(c.desired.shared_value(), desired.shared_value()) << "not a copy";
    Node sent = c.ToApply();
    EXPECT_TRUE(SameValue(sent, WithAppliedHash(desired)));
    EXPECT_EQ(ScalarAt(sent.Find("metadata")->Find("annotations"), kAppliedHashAnnotation),
              c.applied_hash);
    EXPECT_EQ(c.applied_hash, HashOf(desired));
    EXPECT_EQ(std::as_const(desired).Find("metadata")->Find("annotations"), nullptr)
        << "the tree is unchanged";
  }
}

TEST(Plan, ApiServerDefaultsAreNotDriftButEditsAre) {
  Node desired = Yaml(R"(apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default, labels: {app.kubernetes.io/managed-by: meshfed}}
spec: {ports: [{name: http, port: 9080}]})");
  Node live = WithAppliedHash(desired);
  // What a real API server adds: a cluster IP, the default protocol and type, other labels.
  live.Find("spec")->Set("clusterIP", Node::String("10.96.3.4"));
  live.Find("spec")->Set("type", Node::String("ClusterIP"));
  live.Find("spec")->Find("ports")->items()[0].Set("protocol", Node::String("TCP"));
  live.Find("metadata")->Find("labels")->Set("team", Node::String("shop"));
  EXPECT_TRUE(PlanCluster({desired}, {live}).changes.empty());
  // Someone edits a field meshfed sets: that is drift, and meshfed puts it back.
  live.Find("spec")->Find("ports")->items()[0].Set("port", Node::Int(9999));
  ClusterPlan plan = PlanCluster({desired}, {live});
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].kind, Change::Kind::Update);
  EXPECT_EQ(plan.changes[0].reason, "the live object drifted from what meshfed applied");
}

TEST(Plan, AFieldMeshfedNoLongerSetsChangesTheHash) {
  Node before = Yaml(kGenerated);
  Node live = WithAppliedHash(before);
  Node after = before;
  after.Find("spec")->Find("trafficPolicy")->Find("tls")->Erase("sni");
  // `after` is a subset of what is live, so only the hash tells that sni must go.
  ClusterPlan plan = PlanCluster({after}, {live});
  ASSERT_EQ(plan.changes.size(), 1u);
  EXPECT_EQ(plan.changes[0].reason, "the generated configuration changed");
}

TEST(Plan, DeletesOnlyWhatMeshfedOwnsAndNeverOverwritesUserObjects) {
  Node desired = Yaml(kGenerated);
  Node user = Yaml(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: meshfed-reviews, namespace: default}
spec: {host: reviews})");
  Node orphan = Yaml(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: meshfed-old, namespace: default, uid: u-1,
           labels: {app.kubernetes.io/managed-by: meshfed}}
spec: {hosts: [old]})");
  Node unrelated = Yaml(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec: {hosts: [reviews]})");
  ClusterPlan plan = PlanCluster({desired}, {user, orphan, unrelated});
  EXPECT_EQ(Summary(plan),
            (std::vector<std::string>{
                "conflict networking.istio.io/DestinationRule/default/meshfed-reviews",
                "delete networking.istio.io/VirtualService/default/meshfed-old"}));
  EXPECT_EQ(plan.Writes(), 1u);
  EXPECT_EQ(plan.changes[1].live.Find("metadata")->Find("uid")->text(), "u-1")
      << "the delete carries the uid for its precondition";
}

TEST(Plan, SatisfiesComparesTypesAndListLengths) {
  EXPECT_TRUE(Satisfies(Yaml("{a: 1, b: [x, y], c: {d: e}}"), Yaml("{a: 1, c: {}}")));
  EXPECT_FALSE(Satisfies(Yaml("{a: \"1\"}"), Yaml("{a: 1}"))) << "a string is not a number";
  EXPECT_FALSE(Satisfies(Yaml("{b: [x, y, z]}"), Yaml("{b: [x, y]}")));
  EXPECT_FALSE(Satisfies(Yaml("{a: 1}"), Yaml("{z: 1}")));
  // A null asks for the field to be absent (or null).
  EXPECT_TRUE(Satisfies(Yaml("{a: 1}"), Yaml("{a: 1, b: null}")));
  EXPECT_TRUE(Satisfies(Yaml("{a: 1, b: null}"), Yaml("{b: null}")));
  EXPECT_FALSE(Satisfies(Yaml("{a: 1, b: 2}"), Yaml("{a: 1, b: null}")));
}

TEST(Plan, StatusKeepsTransitionTimesAndObservesTheGeneration) {
  Node desired = Yaml(R"(conditions:
- {type: Ready, status: "True", reason: AllExposed, message: ok}
- {type: Conflict, status: "False", reason: NoConflict, message: none}
exposed: [{name: reviews}])");
  Node live = Yaml(R"(metadata: {name: s, generation: 3}
status:
  observedGeneration: 2
  conditions:
  - {type: Ready, status: "False", reason: NotFound, message: no, lastTransitionTime: "2026-01-01T00:00:00Z"}
  - {type: Conflict, status: "False", reason: NoConflict, message: none, lastTransitionTime: "2026-01-01T00:00:00Z"})");
  std::optional<Node> status = StatusToWrite(desired, live, "2026-11-26T10:00:00Z");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(CanonicalText(*status), CanonicalText(Yaml(R"(observedGeneration: 3
conditions:
- {type: Ready, status: "True", reason: AllExposed, message: ok, lastTransitionTime: "2026-11-26T10:00:00Z"}
- {type: Conflict, status: "False", reason: NoConflict, message: none, lastTransitionTime: "2026-01-01T00:00:00Z"}
exposed: [{name: reviews}])")));
  // Written back (in any key order), it is not written again.
  live.Set("status", Yaml(CanonicalText(*status)));
  EXPECT_FALSE(StatusToWrite(desired, live, "2026-11-26T11:00:00Z").has_value());
}

TEST(Plan, UnifiedDiffShowsHunksWithContext) {
  // As diff -u: changes six lines apart share a hunk, seven apart do not.
  EXPECT_EQ(UnifiedDiff("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n", "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\n",
                        "live", "generated"),
            "--- live\n+++ generated\n"
            "@@ -1,10 +1,11 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n h\n i\n j\n+k\n");
  EXPECT_EQ(UnifiedDiff("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\n",
                        "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\nl\nm\n", "live", "generated"),
            "--- live\n+++ generated\n"
            "@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"
            "@@ -10,3 +10,4 @@\n j\n k\n l\n+m\n");
  EXPECT_EQ(UnifiedDiff("x\n", "x\n", "a", "b"), "");
  EXPECT_EQ(UnifiedDiff("", "new\n", "/dev/null", "b"),
            "--- /dev/null\n+++ b\n@@ -0,0 +1,1 @@\n+new\n");
}

}  // namespace
}  // namespace meshfed
