// End to end: the controller against emulated API servers (one fleet cluster and three member
// clusters), driven by API writes through the design note's steps. The assertion is always the
// state of every cluster (what `render` says it should be), never the calls made.
#include "adapters/kube/controller.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include "adapters/fleet_dir_store.h"
#include "cli/gen_fleet_command.h"
#include "codec/emitter.h"
#include "core/sync/plan.h"
#include "core/validate/validate.h"
#include "kube/api_server.h"
#include "kube/fleet_harness.h"

extern char** environ;

namespace meshfed::kube {
namespace {

using testing::ApiServer;
using testing::kConverge;
using testing::Managed;
using testing::Meta;
using testing::TypeOf;

const std::string kExamples = std::string(MESHFED_SOURCE_DIR) + "/examples/bookinfo";

class Fleet : public testing::FleetHarness {
 public:
  using FleetHarness::FleetHarness;

  // Every cluster holds exactly what render generates (by identity and content) and every
  // SEP/RSB says what render's status says.
  void ExpectConverged(const std::string& dir) {
    CheckedFleet want = Render(dir);
    for (const ClusterOutput& out : want.translation.clusters) {
      ApiServer& s = *servers[out.cluster];
      std::map<std::string, Node> live;
      for (const ResourceType& t : WatchedResources()) {
        for (Node& o : s.List(t)) {
          if (Managed(o)) live[ObjectKey(o)] = std::move(o);
        }
      }
      std::set<std::string> want_keys;
      for (const Node& o : out.objects) {
        std::string key = ObjectKey(o);
        want_keys.insert(key);
        auto it = live.find(key);
        ASSERT_NE(it, live.end()) << out.cluster << " lacks " << key;
        EXPECT_TRUE(Satisfies(it->second, o)) << out.cluster << " " << key << " differs";
      }
      for (const auto& [key, o] : live) {
        EXPECT_TRUE(want_keys.count(key)) << out.cluster << " has an orphan: " << key;
      }
    }
    for (const StatusOutput& st : want.translation.statuses) {
      const Node* meta = st.object.Find("metadata");
      const ResourceType* t = TypeOf(st.object);
      std::optional<Node> live =
          servers[st.cluster]->Find(*t, std::string(meta->Find("namespace")->text()),
                                    std::string(meta->Find("name")->text()));
      ASSERT_TRUE(live.has_value());
      const Node* status = live->Find("status");
      ASSERT_NE(status, nullptr) << st.cluster << " " << Meta(*live, "name") << " has no status";
      EXPECT_EQ(status->Find("observedGeneration")->text(), Meta(*live, "generation"));
      // Each condition observed this generation (render, from files, has no generation).
      Node without = *live;
      for (Node& c : without.Find("status")->Find("conditions")->items()) {
        EXPECT_EQ(c.Find("observedGeneration")->text(), Meta(*live, "generation"));
        c.Erase("observedGeneration");
      }
      // The conditions and entries render computes, with transition times added.
      std::optional<Node> rewrite = StatusToWrite(*st.object.Find("status"), without, "now");
      EXPECT_FALSE(rewrite.has_value())
          << st.cluster << " " << Meta(*live, "name") << " status is not render's:\n"
          << (rewrite ? CanonicalText(*rewrite) : "") << "\nlive:\n"
          << CanonicalText(*status);
    }
  }
};

std::string Step(int n) { return kExamples + "/step" + std::to_string(n); }

TEST(Controller, FollowsTheDesignNoteStepByStepThroughTheApi) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(1)));
  Controller controller(fleet.Options());
  ASSERT_TRUE(controller.Start().ok());
  ASSERT_TRUE(fleet.Settle(controller));
  fleet.ExpectConverged(Step(1));
  for (int step = 2; step <= 7; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    ASSERT_TRUE(fleet.SetUserObjects(Step(step)));
    ASSERT_TRUE(fleet.Settle(controller));
    fleet.ExpectConverged(Step(step));
  }
  // Finalizers on every SEP and RSB.
  for (const char* cluster : {"cluster-a", "cluster-b", "cluster-c"}) {
    for (const char* kind : {"ServiceExpositionPolicy", "RemoteServiceBinding"}) {
      for (const Node& o : fleet.servers[cluster]->List(*FindResource(kMulticlusterGroup, kind))) {
        const Node* f = o.Find("metadata")->Find("finalizers");
        ASSERT_TRUE(f && f->IsSequence() && !f->items().empty()) << cluster << " " << kind;
        EXPECT_EQ(f->items()[0].text(), kFinalizer);
      }
    }
  }
  controller.Stop();
}

TEST(Controller, ASecondStartWithNothingChangedWritesNothing) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(3)));
  {
    Controller first(fleet.Options());
    ASSERT_TRUE(first.Start().ok());
    ASSERT_TRUE(fleet.Settle(first));
    EXPECT_GT(first.counters().writes, 0u);
    first.Stop();
  }
  uint64_t before = fleet.MutatingRequests();
  Controller second(fleet.Options());
  ASSERT_TRUE(second.Start().ok());
  ASSERT_TRUE(fleet.Settle(second));
  EXPECT_EQ(second.counters().writes, 0u);
  EXPECT_EQ(fleet.MutatingRequests(), before);
  fleet.ExpectConverged(Step(3));
}

// A first reconcile gives every SEP and RSB its finalizer and its status. The finalizer is an
// update of the version the controller has read; were the status written first, that version
// would be stale and every update a 409 Conflict, then a read and a second update.
TEST(Controller, AColdStartWritesEveryFinalizerWithoutAConflict) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(7)));
  Controller controller(fleet.Options());
  ASSERT_TRUE(controller.Start().ok());
  ASSERT_TRUE(fleet.Settle(controller));
  fleet.ExpectConverged(Step(7));
  EXPECT_EQ(fleet.Conflicts(), 0u);
  controller.Stop();
}

// One cluster's objects are written by several writers at once, each on its own connection: a
// cluster holding most of the fleet's objects is not written one round trip at a time. The
// emulator holds cluster-b's first writes until two are in progress together (or 10 s have
// passed, when one writer alone would be writing).
TEST(Controller, WritesOneClustersObjectsInParallel) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(6)));
  fleet.servers["cluster-b"]->GatherWrites(2, std::chrono::seconds(10));
  Controller controller(fleet.Options());
  ASSERT_TRUE(controller.Start().ok());
  ASSERT_TRUE(fleet.Settle(controller));
  fleet.ExpectConverged(Step(6));
  EXPECT_GE(fleet.servers["cluster-b"]->most_writes_at_once(), 2);
  controller.Stop();
}

// After the first full reconcile a change costs only what depends on it: an edit that changes
// no generated object writes nothing, and a donor route edit writes the one gateway
// VirtualService compiled from it.
TEST(Controller, AChangeWritesOnlyWhatItChanges) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(6)));
  Controller controller(fleet.Options());
  ASSERT_TRUE(controller.Start().ok());
  ASSERT_TRUE(fleet.Settle(controller));
  ApiServer& donor = *fleet.servers["cluster-b"];
  const ResourceType& vs_type = *FindResource(kNetworkingGroup, "VirtualService");
  std::optional<Node> reviews = donor.Find(vs_type, "default", "reviews");
  ASSERT_TRUE(reviews);

  // From here on every change is reconciled from what changed: the first full reconcile wrote
  // the MeshClusters' Connected conditions, and a MeshCluster's status or labels are not inputs.
  uint64_t full = controller.counters().full_reconciles;
  EXPECT_GE(full, 1u);
  std::optional<Node> registry =
      fleet.servers["fleet"]->Find(MeshClusterResource(), "", "cluster-b");
  ASSERT_TRUE(registry);
  registry->Find("metadata")->Set("labels", Node::Mapping());
  registry->Find("metadata")->Find("labels")->Set("region", Node::String("eu"));
  uint64_t before = fleet.MutatingRequests();
  fleet.servers["fleet"]->Apply(MeshClusterResource(), *registry);
  ASSERT_TRUE(fleet.Settle(controller));
  EXPECT_EQ(controller.counters().full_reconciles, full);
  EXPECT_EQ(fleet.MutatingRequests(), before) << "a label on a MeshCluster changes nothing";

  // A label on the donor's VirtualService: its routes are the same, so nothing is written.
  Node labelled = *reviews;
  labelled.Find("metadata")->Set("labels", Node::Mapping());
  labelled.Find("metadata")->Find("labels")->Set("team", Node::String("ratings"));
  donor.Apply(vs_type, labelled);
  ASSERT_TRUE(fleet.Settle(controller));
  EXPECT_EQ(fleet.MutatingRequests(), before);

  // jason now goes to v3: the gateway VirtualService in the donor is the one write.
  Node edited = labelled;
  Node& jason = edited.Find("spec")->Find("http")->items()[0];
  jason.Find("route")->items()[0].Find("destination")->Set("subset", Node::String("v3"));
  donor.Apply(vs_type, edited);
  ASSERT_TRUE(fleet.Settle(controller));
  EXPECT_EQ(fleet.MutatingRequests(), before + 1);
  bool routed = false;
  for (const Node& vs : donor.List(vs_type)) {
    if (Meta(vs, "namespace") != "istio-system") continue;
    std::string yaml = EmitYamlStream({vs});
    routed = routed || yaml.find("subset: v3") != std::string::npos;
  }
  EXPECT_TRUE(routed) << "the gateway routes jason to v3";

  // Someone edits that gateway VirtualService by hand: the drift is undone, once more a single
  // write (the expectation of the earlier write must not hide it).
  for (Node vs : donor.List(vs_type)) {
    if (Meta(vs, "namespace") != "istio-system" ||
        EmitYamlStream({vs}).find("subset: v3") == std::string::npos) {
      continue;
    }
    Node& rule = vs.Find("spec")->Find("http")->items()[0];
    rule.Find("route")->items()[0].Find("destination")->Set("subset", Node::String("v1"));
    donor.Apply(vs_type, vs);
    ASSERT_TRUE(fleet.Settle(controller));
    EXPECT_EQ(fleet.MutatingRequests(), before + 2);
    std::optional<Node> restored = donor.Find(vs_type, "istio-system", Meta(vs, "name"));
    ASSERT_TRUE(restored);
    EXPECT_NE(EmitYamlStream({*restored}).find("subset: v3"), std::string::npos)
        << "the hand edit is undone";
  }
  EXPECT_EQ(controller.counters().full_reconciles, full);
  controller.Stop();
}

// An edited RSB is both an input whose live copy changed and an owner whose translated status
// changed: its status is written once, and from the version just read (no conflict).
TEST(Controller, AnEditedBindingWritesItsStatusOnce) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(6)));
  Controller controller(fleet.Options());
  ASSERT_TRUE(controller.Start().ok());
  ASSERT_TRUE(fleet.Settle(controller));
  uint64_t full = controller.counters().full_reconciles;
  const ResourceType& rsbs = *FindResource(kMulticlusterGroup, "RemoteServiceBinding");
  ApiServer& a = *fleet.servers["cluster-a"];
  std::optional<Node> rsb = a.Find(rsbs, "default", "reviews-rsb");
  ASSERT_TRUE(rsb);
  // A second service that cluster-b does not expose: no object to generate, one more entry in
  // the status, which says why it is not bound.
  Node details = Node::Mapping();
  details.Set("name", Node::String("details"));
  rsb->Find("spec")->Find("remote")->items()[0].Find("services")->Append(std::move(details));
  uint64_t before = fleet.MutatingRequests();
  uint64_t conflicts = fleet.Conflicts();
  a.Apply(rsbs, *rsb);  // not through the API: not counted
  ASSERT_TRUE(fleet.Settle(controller));
  EXPECT_EQ(controller.counters().full_reconciles, full) << "reconciled from what changed";
  EXPECT_EQ(fleet.Conflicts(), conflicts);
  EXPECT_EQ(fleet.MutatingRequests(), before + 1) << "the status, once";
  std::optional<Node> now = a.Find(rsbs, "default", "reviews-rsb");
  ASSERT_TRUE(now);
  const Node* entries = now->Find("status")->Find("services");
  ASSERT_NE(entries, nullptr);
  ASSERT_EQ(entries->items().size(), 2u);
  EXPECT_EQ(now->Find("status")->Find("observedGeneration")->text(), Meta(*now, "generation"));
  controller.Stop();
}

// The finalizer holds a binding being deleted until nothing it generated is left, then goes.
TEST(Controller, DeletingABindingCleansUpThroughItsFinalizer) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(3)));
  Controller controller(fleet.Options());
  ASSERT_TRUE(controller.Start().ok());
  ASSERT_TRUE(fleet.Settle(controller));
  const ResourceType& rsbs = *FindResource(kMulticlusterGroup, "RemoteServiceBinding");
  ApiServer& a = *fleet.servers["cluster-a"];
  auto generated_for_rsb = [&] {
    std::vector<std::pair<const ResourceType*, Node>> out;
    for (const ResourceType& t : WatchedResources()) {
      for (Node& o : a.List(t)) {
        const Node* notes = o.Find("metadata")->Find("annotations");
        const Node* owner = notes ? notes->Find("multicluster.istio.io/owner") : nullptr;
        if (Managed(o) && owner && owner->text() == "RemoteServiceBinding/default/reviews-rsb") {
          out.emplace_back(&t, std::move(o));
        }
      }
    }
    return out;
  };
  auto generated = generated_for_rsb();
  ASSERT_GE(generated.size(), 2u);
  // Another controller's finalizer holds one generated object back once it is deleted.
  auto& [held_type, held] = generated.front();
  auto hold = [&](std::vector<std::string> finalizers) {
    Node patch = Node::Mapping();
    Node meta = Node::Mapping();
    meta.Add("name", Node::String(Meta(held, "name")));
    meta.Add("namespace", Node::String(Meta(held, "namespace")));
    Node list = Node::Sequence();
    for (const std::string& f : finalizers) list.Append(Node::String(f));
    meta.Add("finalizers", std::move(list));
    patch.Add("metadata", std::move(meta));
    a.Apply(*held_type, patch);
  };
  hold({"example.com/hold"});
  ASSERT_TRUE(fleet.Settle(controller));

  a.Delete(rsbs, "default", "reviews-rsb");
  ASSERT_TRUE(fleet.Settle(controller));
  std::optional<Node> rsb = a.Find(rsbs, "default", "reviews-rsb");
  ASSERT_TRUE(rsb.has_value()) << "the binding went while an object it generated remains";
  EXPECT_FALSE(Meta(*rsb, "deletionTimestamp").empty());
  auto left = generated_for_rsb();
  ASSERT_EQ(left.size(), 1u) << "every other generated object is deleted";
  EXPECT_EQ(ObjectKey(left.front().second), ObjectKey(held));
  EXPECT_FALSE(Meta(left.front().second, "deletionTimestamp").empty());

  hold({});  // the other controller is done
  ASSERT_TRUE(fleet.Settle(controller));
  EXPECT_FALSE(a.Find(rsbs, "default", "reviews-rsb").has_value());
  EXPECT_TRUE(generated_for_rsb().empty());
}

TEST(Controller, NeverTouchesAUserObjectWithAGeneratedName) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(2)));
  // A user object where meshfed would put its acceptor Service: meshfed must leave it alone.
  fleet.servers["cluster-a"]->Apply(*FindResource("", "Service"), [] {
    Node o = Node::Mapping();
    o.Add("apiVersion", Node::String("v1"));
    o.Add("kind", Node::String("Service"));
    Node m = Node::Mapping();
    m.Add("name", Node::String("reviews"));
    m.Add("namespace", Node::String("default"));
    o.Add("metadata", std::move(m));
    Node spec = Node::Mapping();
    spec.Add("selector", Node::Mapping());
    o.Add("spec", std::move(spec));
    return o;
  }());
  Controller controller(fleet.Options());
  ASSERT_TRUE(controller.Start().ok());
  ASSERT_TRUE(fleet.Settle(controller));
  std::optional<Node> user =
      fleet.servers["cluster-a"]->Find(*FindResource("", "Service"), "default", "reviews");
  ASSERT_TRUE(user.has_value());
  EXPECT_FALSE(Managed(*user));
  // The binding says why it is not ready.
  std::optional<Node> rsb = fleet.servers["cluster-a"]->Find(
      *FindResource(kMulticlusterGroup, "RemoteServiceBinding"), "default", "reviews-rsb");
  ASSERT_TRUE(rsb.has_value());
  std::string status = CanonicalText(*rsb->Find("status"));
  EXPECT_NE(status.find("exists and is not managed by meshfed"), std::string::npos) << status;
}

TEST(Controller, AnUnreachableClusterDoesNotStopTheOthers) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(2)));
  Controller controller(fleet.Options());
  ASSERT_TRUE(controller.Start().ok());
  ASSERT_TRUE(fleet.Settle(controller));
  fleet.servers["cluster-c"]->Stop();          // partitioned
  ASSERT_TRUE(fleet.SetUserObjects(Step(3)));  // cluster-c's own objects cannot change meanwhile
  // cluster-a and cluster-b converge to step 3 although cluster-c is away.
  auto converged = [&] {
    CheckedFleet want = fleet.Render(Step(3));
    for (const ClusterOutput& out : want.translation.clusters) {
      if (out.cluster == "cluster-c") continue;
      for (const Node& o : out.objects) {
        std::optional<Node> live =
            fleet.servers[out.cluster]->Find(*TypeOf(o), Meta(o, "namespace"), Meta(o, "name"));
        if (!live || !Satisfies(*live, o)) return false;
      }
    }
    return true;
  };
  for (int i = 0; i < 600 && !converged(); ++i)
    controller.WaitForIdle(std::chrono::milliseconds(50));
  EXPECT_TRUE(converged());
  EXPECT_NE(controller.Metrics().find("meshfed_cluster_connected{cluster=\"cluster-c\"} 0"),
            std::string::npos)
      << controller.Metrics();
  // ... and in status: the MeshCluster says it is unreachable.
  auto connected = [&](const std::string& cluster) {
    std::optional<Node> mc = fleet.servers["fleet"]->Find(MeshClusterResource(), "", cluster);
    const Node* status = mc ? mc->Find("status") : nullptr;
    const Node* conditions = status ? status->Find("conditions") : nullptr;
    if (!conditions || conditions->items().empty()) return std::string("none");
    return fmt::format("{} {}", conditions->items()[0].Find("status")->text(),
                       conditions->items()[0].Find("reason")->text());
  };
  for (auto deadline = std::chrono::steady_clock::now() + kConverge;
       connected("cluster-c") != "False Unreachable" &&
       std::chrono::steady_clock::now() < deadline;) {
    controller.WaitForIdle(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(connected("cluster-c"), "False Unreachable");
  EXPECT_EQ(connected("cluster-a"), "True Connected");
  fleet.servers["cluster-c"]->Start();
  ASSERT_TRUE(fleet.Settle(controller));
  fleet.ExpectConverged(Step(3));
  EXPECT_EQ(connected("cluster-c"), "True Connected");
}

}  // namespace
}  // namespace meshfed::kube

namespace meshfed::kube {
namespace {

// ---- Faults ----

TEST(ControllerFaults, ApiServerRestartsAndExpiredVersions) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(2)));
  Controller controller(fleet.Options());
  ASSERT_TRUE(controller.Start().ok());
  ASSERT_TRUE(fleet.Settle(controller));
  // The donor's API server restarts (its watch cache starts over: every watch gets 410 and
  // relists) while the user moves on to step 3.
  fleet.servers["cluster-b"]->Restart();
  fleet.servers["cluster-a"]->Compact();
  ASSERT_TRUE(fleet.SetUserObjects(Step(3)));
  ASSERT_TRUE(fleet.Settle(controller));
  fleet.ExpectConverged(Step(3));
}

TEST(ControllerFaults, ServerErrorsAndSlowResponsesDuringAReconcile) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(2)));
  Controller controller(fleet.Options());
  ASSERT_TRUE(controller.Start().ok());
  ASSERT_TRUE(fleet.Settle(controller));
  fleet.servers["cluster-a"]->SetLatency(std::chrono::milliseconds(30));
  fleet.servers["cluster-b"]->FailNext(40, 500);  // writes and watches fail for a while
  ASSERT_TRUE(fleet.SetUserObjects(Step(4)));
  ASSERT_TRUE(fleet.Settle(controller));
  fleet.ExpectConverged(Step(4));
  fleet.servers["cluster-a"]->SetLatency(std::chrono::milliseconds(0));
}

TEST(ControllerFaults, StoppedMidWayThenRestartedConvergesWithoutOrphansOrDuplicates) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(4)));
  {
    // Every write to cluster-b fails: the first controller gets cluster-a half-way only, then
    // goes away (as a killed process would, leaving partial state behind).
    fleet.servers["cluster-b"]->FailNext(1'000'000, 503);
    Controller first(fleet.Options());
    ASSERT_TRUE(first.Start().ok());
    for (int i = 0; i < 400 && first.counters().writes == 0; ++i) {
      first.WaitForIdle(std::chrono::milliseconds(10));
    }
    first.Stop();
    fleet.servers["cluster-b"]->FailNext(0, 0);
  }
  // The user moves on meanwhile; a new controller converges to it.
  ASSERT_TRUE(fleet.SetUserObjects(Step(5)));
  Controller second(fleet.Options());
  ASSERT_TRUE(second.Start().ok());
  ASSERT_TRUE(fleet.Settle(second));
  fleet.ExpectConverged(Step(5));  // also: no orphan left from step 4
}

TEST(ControllerFaults, TwoReplicasNeverBothWrite) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(2)));
  ControllerOptions o = fleet.Options();
  o.leader_election = true;
  o.lease_namespace = "default";
  o.lease_duration = std::chrono::seconds(2);
  ControllerOptions o1 = o, o2 = o;
  o1.identity = "replica-1";
  o2.identity = "replica-2";
  auto first = std::make_unique<Controller>(o1);
  Controller second(o2);
  ASSERT_TRUE(first->Start().ok());
  ASSERT_TRUE(second.Start().ok());
  ASSERT_TRUE(fleet.Settle(*first));
  ASSERT_TRUE(fleet.Settle(second));
  fleet.ExpectConverged(Step(2));
  EXPECT_NE(first->leader(), second.leader()) << "exactly one holds the lease";
  Controller& leader = first->leader() ? *first : second;
  Controller& standby = first->leader() ? second : *first;
  EXPECT_EQ(standby.counters().writes, 0u) << "the standby never wrote";
  EXPECT_GT(leader.counters().writes, 0u);
  // The leader goes away (graceful: the lease is released); the standby takes over and carries
  // on with the next change.
  bool first_led = first->leader();
  if (first_led)
    first->Stop();
  else
    second.Stop();
  Controller& survivor = first_led ? second : *first;
  ASSERT_TRUE(fleet.SetUserObjects(Step(3)));
  ASSERT_TRUE(survivor.WaitForLeader(std::chrono::seconds(10)));
  ASSERT_TRUE(fleet.Settle(survivor));
  fleet.ExpectConverged(Step(3));
  std::optional<Node> lease = fleet.servers["fleet"]->Find(LeaseResource(), "default", "meshfed");
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(lease->Find("spec")->Find("holderIdentity")->text(),
            first_led ? "replica-2" : "replica-1");
}

// `t` (seconds since the epoch) as a Lease's times are written: RFC 3339 in UTC, microseconds.
std::string LeaseTime(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.000000Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// The Lease default/meshfed as another replica left it: held by `holder` ("" once released),
// renewed at `renewed`.
void SetLease(Fleet& fleet, const std::string& holder, int duration_seconds, std::time_t renewed,
              int transitions) {
  Node lease = Node::Mapping();
  Node meta = Node::Mapping();
  meta.Add("name", Node::String("meshfed"));
  meta.Add("namespace", Node::String("default"));
  lease.Add("metadata", std::move(meta));
  Node spec = Node::Mapping();
  spec.Add("holderIdentity", Node::String(holder));
  spec.Add("leaseDurationSeconds", Node::Int(duration_seconds));
  spec.Add("acquireTime", Node::String(LeaseTime(renewed)));
  spec.Add("renewTime", Node::String(LeaseTime(renewed)));
  spec.Add("leaseTransitions", Node::Int(transitions));
  lease.Add("spec", std::move(spec));
  fleet.servers["fleet"]->Apply(LeaseResource(), lease);
}

// A replica that elects its leader through the Lease default/meshfed, renewing every 2 s.
ControllerOptions Replica(Fleet& fleet, const std::string& identity) {
  ControllerOptions o = fleet.Options();
  o.leader_election = true;
  o.lease_namespace = "default";
  o.lease_duration = std::chrono::seconds(2);
  o.identity = identity;
  return o;
}

TEST(ControllerFaults, AStandbyTakesOverALeaseItsHolderStoppedRenewingOnlyOnceItExpires) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(2)));
  // A replica that crashed: it holds the lease, renewed just now, for three seconds.
  std::time_t now = std::time(nullptr);
  SetLease(fleet, "crashed-replica", 3, now, 4);
  Controller standby(Replica(fleet, "replica-2"));
  ASSERT_TRUE(standby.Start().ok());
  ASSERT_TRUE(standby.WaitForLeader(std::chrono::seconds(20)));
  std::optional<Node> taken = fleet.servers["fleet"]->Find(LeaseResource(), "default", "meshfed");
  ASSERT_TRUE(taken.has_value());
  const Node* ts = taken->Find("spec");
  EXPECT_EQ(ts->Find("holderIdentity")->text(), "replica-2");
  EXPECT_EQ(ts->Find("leaseTransitions")->text(), "5");
  EXPECT_GE(ts->Find("acquireTime")->text(), LeaseTime(now + 3))
      << "taken before the holder's lease expired";
  ASSERT_TRUE(fleet.Settle(standby));
  fleet.ExpectConverged(Step(2));
}

TEST(ControllerFaults, ALeaseItsHolderReleasedIsTakenWithoutWaitingForItToExpire) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(2)));
  // Released just now (holderIdentity emptied), with a duration far longer than the wait below.
  SetLease(fleet, "", 600, std::time(nullptr), 1);
  Controller controller(Replica(fleet, "replica-2"));
  ASSERT_TRUE(controller.Start().ok());
  EXPECT_TRUE(controller.WaitForLeader(std::chrono::seconds(30)));
}

TEST(ControllerFaults, StoppingLeavesALeaseAnotherReplicaHasTakenAlone) {
  Fleet fleet;
  ASSERT_TRUE(fleet.SetUserObjects(Step(2)));
  Controller controller(Replica(fleet, "replica-1"));
  ASSERT_TRUE(controller.Start().ok());
  ASSERT_TRUE(controller.WaitForLeader(std::chrono::seconds(10)));
  // Another replica has taken the lease (this one's renewals stalled); this one has not seen it
  // yet when it stops.
  std::optional<Node> lease = fleet.servers["fleet"]->Find(LeaseResource(), "default", "meshfed");
  ASSERT_TRUE(lease.has_value());
  Node taken = Node::Mapping();
  taken.Add("metadata", *lease->Find("metadata"));
  taken.Find("metadata")->Erase("managedFields");
  Node spec = *lease->Find("spec");
  spec.Set("holderIdentity", Node::String("replica-2"));
  spec.Set("leaseDurationSeconds", Node::Int(15));
  taken.Add("spec", std::move(spec));
  fleet.servers["fleet"]->Apply(LeaseResource(), taken);
  controller.Stop();
  lease = fleet.servers["fleet"]->Find(LeaseResource(), "default", "meshfed");
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(lease->Find("spec")->Find("holderIdentity")->text(), "replica-2");
  EXPECT_EQ(lease->Find("spec")->Find("leaseDurationSeconds")->text(), "15");
}

}  // namespace
}  // namespace meshfed::kube

namespace meshfed::kube {
namespace {

TEST(ControllerFaults, KilledMidWriteThenRestartedConvergesWithoutOrphans) {
  // A fleet big enough that the cold start takes many writes, written slowly.
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / fmt::format("meshfed-killed-{}", getpid());
  fs::remove_all(dir);
  GenFleetOptions gen;
  gen.out_dir = dir.string();
  gen.shape.clusters = 3;
  gen.shape.services = 40;
  gen.shape.bind_clusters = 2;
  std::ostringstream ignored;
  ASSERT_EQ(RunGenFleet(gen, ignored, ignored), 0);
  Fleet fleet({"cluster-00", "cluster-01", "cluster-02"});
  ASSERT_TRUE(fleet.SetUserObjects(dir.string()));
  for (auto& [name, s] : fleet.servers) s->SetLatency(std::chrono::milliseconds(2));
  uint64_t before = fleet.MutatingRequests();

  std::string kubeconfig = fleet.Kubeconfig();
  std::vector<std::string> args = {std::string(MESHFED_BINARY_DIR) + "/meshfed",
                                   "controller",
                                   "--fleet-context",
                                   "fleet",
                                   "--kubeconfig",
                                   kubeconfig,
                                   "--metrics-addr",
                                   "",
                                   "--leader-elect",
                                   "false"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  // SIGKILL once it has written some, but surely not all, of the cold start.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (fleet.MutatingRequests() < before + 40 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  uint64_t written = fleet.MutatingRequests() - before;
  EXPECT_GE(written, 40u);
  for (auto& [name, s] : fleet.servers) s->SetLatency(std::chrono::milliseconds(0));

  Controller controller(fleet.Options());
  ASSERT_TRUE(controller.Start().ok());
  ASSERT_TRUE(fleet.Settle(controller, std::chrono::seconds(120)));
  fleet.ExpectConverged(dir.string());
  EXPECT_GT(controller.counters().writes, 0u)
      << "the first process had not finished (" << written << " writes)";
}

}  // namespace
}  // namespace meshfed::kube
