// The Kubernetes client against the in-process API server: the wire protocol, API conventions,
// retries and TLS, each as a user of the client would notice it.
#include "adapters/kube/client.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "adapters/kube/informer.h"
#include "codec/json_reader.h"
#include "codec/yaml_reader.h"
#include "core/model/text.h"
#include "kube/api_server.h"

namespace meshfed::kube {
namespace {

using testing::ApiServer;
using testing::ServerOptions;

const ResourceType& Services() { return *FindResource("", "Service"); }
const ResourceType& VirtualServices() {
  return *FindResource("networking.istio.io", "VirtualService");
}
const ResourceType& Seps() {
  return *FindResource("multicluster.istio.io", "ServiceExpositionPolicy");
}

Node Yaml(const std::string& text) {
  ReadResult r = ReadYamlStream(text, "test.yaml");
  EXPECT_TRUE(r.diagnostics.empty());
  return r.documents.at(0);
}

std::string Field(const Node& n, std::initializer_list<std::string_view> path) {
  const Node* cur = &n;
  for (std::string_view k : path) {
    cur = cur && cur->IsMapping() ? cur->Find(k) : nullptr;
  }
  return cur && cur->IsScalar() ? std::string(cur->text()) : std::string();
}

Node Service(const std::string& name, const std::string& app) {
  return Yaml(fmt::format(R"(apiVersion: v1
kind: Service
metadata: {{name: {}, namespace: default, labels: {{app: {}}}}}
spec: {{ports: [{{port: 9080, name: http}}]}})",
                          name, app));
}

// Waits recorded, not slept: the client's backoff and Retry-After are observable.
struct Sleeps {
  std::vector<std::chrono::milliseconds> waits;
  std::mutex mutex;
  std::function<void(std::chrono::milliseconds)> Fn() {
    return [this](std::chrono::milliseconds d) {
      std::lock_guard<std::mutex> lock(mutex);
      waits.push_back(d);
    };
  }
};

std::unique_ptr<Client> Connect(const ApiServer& server, ClientOptions options = {},
                                RestConfig config = {}) {
  config.context = "test";
  config.server = server.url();
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Create(config, options);
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(*c) : nullptr;
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { server.Start(); }
  ApiServer server;
  Sleeps sleeps;
  ClientOptions Options() {
    ClientOptions o;
    o.sleep = sleeps.Fn();
    return o;
  }
};

TEST_F(ClientTest, ListFollowsContinueTokensAndSelectors) {
  for (int i = 0; i < 7; ++i) {
    server.Apply(Services(), Service(fmt::format("svc-{}", i), i % 2 ? "odd" : "even"));
  }
  auto client = Connect(server, Options());
  absl::StatusOr<ListResult> all = client->List(Services(), "default", "", 3);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->items.size(), 7u);
  EXPECT_EQ(Field(all->items[6], {"metadata", "name"}), "svc-6");
  EXPECT_EQ(Field(all->items[0], {"kind"}), "Service") << "list items get their kind back";
  EXPECT_EQ(all->resource_version, server.resource_version());
  EXPECT_GE(server.requests(), 3u) << "three pages";
  absl::StatusOr<ListResult> odd = client->List(Services(), "", "app=odd");
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->items.size(), 3u);
  absl::StatusOr<ListResult> in = client->List(Services(), "", "app in (odd,even),app!=even");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(in->items.size(), 3u);
}

TEST_F(ClientTest, ApiErrorsMapToStatusCodes) {
  auto client = Connect(server, Options());
  absl::StatusOr<Node> missing = client->Get(Services(), "default", "nope");
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  EXPECT_NE(missing.status().message().find("services \"nope\" not found"), std::string::npos);
  ASSERT_TRUE(client->Create(Services(), Service("a", "x")).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(client->Create(Services(), Service("a", "x")).status()));
}

TEST_F(ClientTest, ServerSideApplyOwnsFieldsAndSkipsNoOps) {
  auto client = Connect(server, Options());
  Node vs = Yaml(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default, labels: {app.kubernetes.io/managed-by: meshfed}}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews, subset: v1}}]}])");
  absl::StatusOr<Node> created = client->Apply(VirtualServices(), vs);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(Field(*created, {"metadata", "generation"}), "1");
  std::string rv = Field(*created, {"metadata", "resourceVersion"});
  // The same apply again changes nothing: no new version, no watch event.
  absl::StatusOr<Node> again = client->Apply(VirtualServices(), vs);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Field(*again, {"metadata", "resourceVersion"}), rv);
  // A user adds a label; meshfed's next apply keeps it (fields are owned per manager).
  Node user = Yaml(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default, labels: {team: shop}})");
  server.Apply(VirtualServices(), user);
  vs.Find("spec")->Set("hosts", Yaml("[reviews, reviews.default.svc.cluster.local]"));
  absl::StatusOr<Node> changed = client->Apply(VirtualServices(), vs);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(Field(*changed, {"metadata", "labels", "team"}), "shop");
  EXPECT_EQ(Field(*changed, {"metadata", "generation"}), "2");
  // A field meshfed stops applying is removed.
  vs.Find("metadata")->Find("labels")->Erase("app.kubernetes.io/managed-by");
  absl::StatusOr<Node> dropped = client->Apply(VirtualServices(), vs);
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(Field(*dropped, {"metadata", "labels", "app.kubernetes.io/managed-by"}), "");
}

TEST_F(ClientTest, ApplyConflictsWithAnotherManagerUnlessForced) {
  auto client = Connect(server, Options());
  server.Apply(Services(), Service("reviews", "user-owned"));
  Node mine = Service("reviews", "meshfed-says");
  absl::StatusOr<Node> refused = client->Apply(Services(), mine, /*force=*/false);
  EXPECT_TRUE(absl::IsAborted(refused.status())) << refused.status();
  EXPECT_NE(refused.status().message().find("conflict with \"kubectl\": .metadata.labels.app"),
            std::string::npos)
      << refused.status();
  absl::StatusOr<Node> forced = client->Apply(Services(), mine, /*force=*/true);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(Field(*forced, {"metadata", "labels", "app"}), "meshfed-says");
}

TEST_F(ClientTest, StatusSubresourceIsSeparate) {
  auto client = Connect(server, Options());
  Node sep = Yaml(R"(apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: s, namespace: default}
spec: {exposed: [{name: reviews, clusters: [cluster-a]}]}
status: {observedGeneration: 7})");
  server.Apply(Seps(), sep);
  EXPECT_EQ(Field(*server.Find(Seps(), "default", "s"), {"status", "observedGeneration"}), "")
      << "status is not written through the main resource";
  Node status = Yaml(R"(apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: s, namespace: default}
status: {observedGeneration: 1, conditions: [{type: Ready, status: "True"}]})");
  absl::StatusOr<Node> written = client->ApplyStatus(Seps(), status);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(Field(*written, {"status", "observedGeneration"}), "1");
  EXPECT_EQ(Field(*written, {"metadata", "generation"}), "1") << "status writes keep generation";
  EXPECT_EQ(Field(*written, {"spec", "exposed"}), "") << "(a list, not a scalar)";
  EXPECT_TRUE(written->Find("spec")->Find("exposed")->IsSequence());
}

// The metadata.managedFields entry of `manager`'s `operation` through `subresource`, or null.
const Node* ManagedBy(const Node& object, std::string_view manager, std::string_view operation,
                      std::string_view subresource = "") {
  const Node* entries = object.Find("metadata")->Find("managedFields");
  if (!entries || !entries->IsSequence()) return nullptr;
  for (const Node& e : entries->items()) {
    if (Field(e, {"manager"}) == manager && Field(e, {"operation"}) == operation &&
        Field(e, {"subresource"}) == subresource) {
      return &e;
    }
  }
  return nullptr;
}

// That entry's time and fields ("(none)" and null when there is no such entry).
std::string ManagedTime(const Node& object, std::string_view manager, std::string_view operation,
                        std::string_view subresource = "") {
  const Node* e = ManagedBy(object, manager, operation, subresource);
  return e ? Field(*e, {"time"}) : "(none)";
}
Node ManagedFieldsV1(const Node& object, std::string_view manager, std::string_view operation,
                     std::string_view subresource = "") {
  const Node* e = ManagedBy(object, manager, operation, subresource);
  return e && e->Find("fieldsV1") ? *e->Find("fieldsV1") : Node();
}

// kube-apiserver returns metadata.managedFields with every object: one entry per manager,
// operation and subresource, each with the fields it owns (FieldsV1) and the time its manager
// last changed them. The controller benchmark reads what a real API server sends only if the
// emulator does the same.
TEST_F(ClientTest, ObjectsCarryManagedFieldsPerManagerOperationAndSubresource) {
  std::string now = "2026-11-27T10:00:01Z";
  server.SetClock([&] { return now; });
  Node sep = Yaml(R"(apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: s, namespace: default, labels: {team: shop}}
spec: {exposed: [{name: reviews, clusters: [cluster-a]}]})");
  server.Apply(Seps(), sep);  // as kubectl apply --server-side
  now = "2026-11-27T10:00:02Z";
  auto client = Connect(server, Options());
  ASSERT_TRUE(client
                  ->ApplyStatus(Seps(), Yaml(R"(apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: s, namespace: default}
status: {observedGeneration: 1, conditions: [{type: Ready, status: "True"}]})"))
                  .ok());
  now = "2026-11-27T10:00:03Z";
  Node with_finalizer = *client->Get(Seps(), "default", "s");
  with_finalizer.Find("metadata")->Set("finalizers", Yaml("[multicluster.istio.io/cleanup]"));
  ASSERT_TRUE(client->Update(Seps(), with_finalizer).ok());  // PUT: an update
  // As stored (the client leaves managedFields out of what it reads).
  std::optional<Node> updated = server.Find(Seps(), "default", "s");

  const Node* user = ManagedBy(*updated, "kubectl", "Apply");
  const Node* status = ManagedBy(*updated, "meshfed", "Apply", "status");
  // No fieldManager on a PUT: the manager is the User-Agent ("meshfed/0.1.0") up to its '/'.
  const Node* finalizer = ManagedBy(*updated, "meshfed", "Update");
  ASSERT_TRUE(user && status && finalizer) << Field(*updated, {"metadata", "name"});
  EXPECT_EQ(updated->Find("metadata")->Find("managedFields")->items().size(), 3u);
  EXPECT_EQ(*user->Find("fieldsV1"), Yaml("{f:metadata: {f:labels: {f:team: {}}}, "
                                          "f:spec: {f:exposed: {}}}"))
      << "lists are atomic: the list is the leaf";
  EXPECT_EQ(*status->Find("fieldsV1"),
            Yaml("{f:status: {f:conditions: {}, f:observedGeneration: {}}}"));
  EXPECT_EQ(*finalizer->Find("fieldsV1"), Yaml("{f:metadata: {f:finalizers: {}}}"));
  EXPECT_EQ(Field(*user, {"apiVersion"}), "multicluster.istio.io/v1alpha1");
  EXPECT_EQ(Field(*user, {"fieldsType"}), "FieldsV1");
  EXPECT_EQ(Field(*user, {"time"}), "2026-11-27T10:00:01Z");
  EXPECT_EQ(Field(*status, {"time"}), "2026-11-27T10:00:02Z");
  EXPECT_EQ(Field(*finalizer, {"time"}), "2026-11-27T10:00:03Z");

  // The same apply again changes nothing, its entry's time included.
  now = "2026-11-27T10:00:04Z";
  server.Apply(Seps(), sep);
  Node same = *server.Find(Seps(), "default", "s");
  EXPECT_EQ(Field(same, {"metadata", "resourceVersion"}),
            Field(*updated, {"metadata", "resourceVersion"}));
  EXPECT_EQ(ManagedTime(same, "kubectl", "Apply"), "2026-11-27T10:00:01Z");

  // A changed apply moves its own entry's time only, and leaves what others own: the status
  // (its own entry, on the status subresource) and the finalizer.
  now = "2026-11-27T10:00:05Z";
  sep.Find("spec")->Set("exposed", Yaml("[{name: reviews, clusters: [cluster-a, cluster-b]}]"));
  server.Apply(Seps(), sep);
  Node changed = *server.Find(Seps(), "default", "s");
  EXPECT_EQ(ManagedTime(changed, "kubectl", "Apply"), "2026-11-27T10:00:05Z");
  EXPECT_EQ(ManagedTime(changed, "meshfed", "Apply", "status"), "2026-11-27T10:00:02Z");
  EXPECT_EQ(ManagedTime(changed, "meshfed", "Update"), "2026-11-27T10:00:03Z");
  EXPECT_EQ(Field(changed, {"status", "observedGeneration"}), "1");
  EXPECT_EQ(changed.Find("metadata")->Find("finalizers")->items().size(), 1u);

  // The same manager applying the main resource has a second entry; its status stays.
  ASSERT_TRUE(client
                  ->Apply(Seps(), Yaml(R"(apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: s, namespace: default, labels: {meshfed: seen}})"))
                  .ok());
  std::optional<Node> labelled = server.Find(Seps(), "default", "s");
  EXPECT_EQ(Field(*labelled, {"status", "observedGeneration"}), "1");
  EXPECT_EQ(ManagedFieldsV1(*labelled, "meshfed", "Apply"),
            Yaml("{f:metadata: {f:labels: {f:meshfed: {}}}}"));
  EXPECT_TRUE(ManagedBy(*labelled, "meshfed", "Apply", "status"));
}

// Server-side apply's ownership (sigs.k8s.io/structured-merge-diff): a field two managers set to
// the same value is owned by both, so it stays when one of them stops applying it; a forced apply
// takes only the fields that conflicted.
TEST_F(ClientTest, AppliersShareFieldsOfTheSameValueAndForceTakesOnlyConflicts) {
  server.Apply(Services(), Yaml(R"(apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default, labels: {app: reviews, team: shop}}
spec: {ports: [{port: 9080, name: http}]})"));
  auto client = Connect(server, Options());
  ASSERT_TRUE(client
                  ->Apply(Services(), Yaml(R"(apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default, labels: {app: meshfed-says, team: shop}})"),
                          /*force=*/true)
                  .ok());
  std::optional<Node> forced = server.Find(Services(), "default", "reviews");
  EXPECT_EQ(ManagedFieldsV1(*forced, "kubectl", "Apply"),
            Yaml("{f:metadata: {f:labels: {f:team: {}}}, f:spec: {f:ports: {}}}"))
      << "kubectl lost app (a conflict, forced) and kept team (the same value)";
  EXPECT_EQ(ManagedFieldsV1(*forced, "meshfed", "Apply"),
            Yaml("{f:metadata: {f:labels: {f:app: {}, f:team: {}}}}"));
  // kubectl stops applying team; meshfed still owns it, so it stays.
  server.Apply(Services(), Yaml(R"(apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {ports: [{port: 9080, name: http}]})"));
  Node after = *server.Find(Services(), "default", "reviews");
  EXPECT_EQ(Field(after, {"metadata", "labels", "team"}), "shop");
  EXPECT_EQ(Field(after, {"metadata", "labels", "app"}), "meshfed-says");
  EXPECT_EQ(ManagedFieldsV1(after, "kubectl", "Apply"), Yaml("{f:spec: {f:ports: {}}}"));
}

TEST_F(ClientTest, OptimisticConcurrencyAndDeletePreconditions) {
  auto client = Connect(server, Options());
  absl::StatusOr<Node> created = client->Create(Services(), Service("a", "x"));
  ASSERT_TRUE(created.ok());
  Node stale = *created;
  server.Apply(Services(), Service("a", "changed"));
  absl::StatusOr<Node> update = client->Update(Services(), stale);
  EXPECT_TRUE(absl::IsAborted(update.status())) << update.status();
  EXPECT_NE(update.status().message().find("the object has been modified"), std::string::npos);

  absl::Status wrong_uid = client->Delete(Services(), "default", "a", {"not-the-uid", ""});
  EXPECT_TRUE(absl::IsAborted(wrong_uid)) << wrong_uid;
  EXPECT_TRUE(server.Find(Services(), "default", "a").has_value());
  std::string uid = Field(*created, {"metadata", "uid"});
  EXPECT_TRUE(client->Delete(Services(), "default", "a", {uid, ""}).ok());
  EXPECT_FALSE(server.Find(Services(), "default", "a").has_value());
  EXPECT_TRUE(absl::IsNotFound(client->Delete(Services(), "default", "a")));
}

TEST_F(ClientTest, FinalizersHoldDeletionUntilRemoved) {
  auto client = Connect(server, Options());
  Node sep = Yaml(R"(apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: s, namespace: default, finalizers: [multicluster.istio.io/cleanup]}
spec: {exposed: [{name: reviews, clusters: [cluster-a]}]})");
  ASSERT_TRUE(client->Apply(Seps(), sep).ok());
  ASSERT_TRUE(client->Delete(Seps(), "default", "s").ok());
  std::optional<Node> marked = server.Find(Seps(), "default", "s");
  ASSERT_TRUE(marked.has_value());
  EXPECT_NE(Field(*marked, {"metadata", "deletionTimestamp"}), "");
  sep.Find("metadata")->Set("finalizers", Node::Sequence());
  ASSERT_TRUE(client->Apply(Seps(), sep).ok());
  EXPECT_FALSE(server.Find(Seps(), "default", "s").has_value()) << "the last finalizer went";
}

TEST_F(ClientTest, WatchStreamsEventsAndResumes) {
  auto client = Connect(server, Options());
  server.Apply(Services(), Service("before", "x"));
  std::vector<std::string> seen;
  std::string last_rv;
  std::atomic<bool> streaming{false};
  std::thread writer([&] {
    // Writes happen once the watch has delivered its initial state; the stream then delivers
    // them in order.
    while (!streaming) std::this_thread::yield();
    server.Apply(Services(), Service("a", "x"));
    server.Apply(Services(), Service("a", "y"));
    server.Delete(Services(), "default", "a");
  });
  absl::Status s = client->Watch(Services(), "default", {"", "", 30, true}, [&](WatchEvent&& e) {
    if (e.type == "BOOKMARK") return true;
    seen.push_back(e.type + " " + Field(e.object, {"metadata", "name"}));
    last_rv = Field(e.object, {"metadata", "resourceVersion"});
    streaming = true;
    return seen.size() < 4;
  });
  writer.join();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED before", "ADDED a", "MODIFIED a", "DELETED a"}));

  // Resuming from the last version seen gets only what came after.
  server.Apply(Services(), Service("b", "x"));
  std::vector<std::string> resumed;
  s = client->Watch(Services(), "default", {last_rv, "", 30, false}, [&](WatchEvent&& e) {
    resumed.push_back(e.type + " " + Field(e.object, {"metadata", "name"}));
    return false;
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(resumed, std::vector<std::string>{"ADDED b"});

  // After compaction that version is gone: 410, and the caller must relist.
  server.Compact();
  s = client->Watch(Services(), "default", {last_rv, "", 30, false},
                    [&](WatchEvent&&) { return true; });
  EXPECT_TRUE(absl::IsOutOfRange(s)) << s;
  EXPECT_NE(s.message().find("410"), std::string::npos);
}

// kube-apiserver keeps one watch cache per resource: writes to other kinds, however many, do not
// expire a watch that is keeping up.
TEST(ClientWatch, OtherKindsDoNotExpireAWatch) {
  ServerOptions options;
  options.history = 3;
  ApiServer server(options);
  server.Start();
  auto client = Connect(server);
  server.Apply(Services(), Service("before", "x"));
  std::vector<std::string> seen;
  std::atomic<bool> streaming{false};
  std::thread writer([&] {
    while (!streaming) std::this_thread::yield();
    for (int i = 0; i < 8; ++i) {
      server.Apply(VirtualServices(), Yaml(fmt::format(R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: vs-{}, namespace: default}}
spec: {{hosts: [reviews]}})",
                                                       i)));
    }
    server.Apply(Services(), Service("after", "x"));
  });
  absl::Status s = client->Watch(Services(), "default", {"", "", 30, false}, [&](WatchEvent&& e) {
    seen.push_back(e.type + " " + Field(e.object, {"metadata", "name"}));
    streaming = true;
    return seen.size() < 2;
  });
  writer.join();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED before", "ADDED after"}));
}

TEST_F(ClientTest, DroppedWatchEndsAndStopEndsWatches) {
  auto client = Connect(server, Options());
  std::thread dropper([&] {
    while (server.open_watches() == 0) std::this_thread::yield();
    server.DropWatches();
  });
  absl::Status s =
      client->Watch(Services(), "", {"", "", 60, false}, [&](WatchEvent&&) { return true; });
  dropper.join();
  // A connection that breaks (no final chunk) is not the server ending the watch: Unavailable,
  // so the informer resumes from its last version rather than counting a normal end.
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;

  std::thread stopper([&] {
    while (server.open_watches() == 0) std::this_thread::yield();
    client->Stop();
  });
  s = client->Watch(Services(), "", {"", "", 60, false}, [&](WatchEvent&&) { return true; });
  stopper.join();
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_TRUE(absl::IsCancelled(client->Get(Services(), "default", "x").status()));
}

TEST_F(ClientTest, RetriesServerErrorsAndHonoursRetryAfter) {
  auto client = Connect(server, Options());
  server.Apply(Services(), Service("a", "x"));
  server.FailNext(2, 500);
  absl::StatusOr<Node> got = client->Get(Services(), "default", "a");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(client->stats().retries, 2u);
  ASSERT_EQ(sleeps.waits.size(), 2u);
  EXPECT_LE(sleeps.waits[0], std::chrono::milliseconds(100));
  EXPECT_LE(sleeps.waits[1], std::chrono::milliseconds(200)) << "exponential, with jitter";

  // "storage is (re)initializing": 429 with Retry-After, as just after a CRD is established.
  sleeps.waits.clear();
  server.FailNext(1, 429, 3);
  ASSERT_TRUE(client->Get(Services(), "default", "a").ok());
  EXPECT_EQ(sleeps.waits, std::vector<std::chrono::milliseconds>{std::chrono::seconds(3)});
  EXPECT_EQ(client->stats().throttled, 1u);

  // A Retry-After beyond a minute is waited for a minute.
  sleeps.waits.clear();
  server.FailNext(1, 429, 120);
  ASSERT_TRUE(client->Get(Services(), "default", "a").ok());
  EXPECT_EQ(sleeps.waits, std::vector<std::chrono::milliseconds>{std::chrono::seconds(60)});

  // Bad gateway and gateway timeout are retried as well (a load balancer in front).
  for (int status : {502, 504}) {
    uint64_t retries = client->stats().retries;
    server.FailNext(1, status);
    EXPECT_TRUE(client->Get(Services(), "default", "a").ok()) << status;
    EXPECT_EQ(client->stats().retries, retries + 1) << status;
  }

  server.FailNext(100, 503);
  absl::StatusOr<Node> failed = client->Get(Services(), "default", "a");
  EXPECT_TRUE(absl::IsUnavailable(failed.status())) << failed.status();
  server.FailNext(0, 0);
}

TEST_F(ClientTest, BackoffDoublesUpToItsCapWithJitter) {
  ClientOptions o = Options();
  o.max_attempts = 6;
  o.initial_backoff = std::chrono::milliseconds(100);
  o.max_backoff = std::chrono::milliseconds(400);
  auto client = Connect(server, o);
  server.Apply(Services(), Service("a", "x"));
  server.FailNext(5, 503);
  ASSERT_TRUE(client->Get(Services(), "default", "a").ok());
  ASSERT_EQ(sleeps.waits.size(), 5u);
  // Each wait is drawn from [backoff / 2, backoff]; the backoff doubles from 100 ms to 400 ms.
  const int64_t backoff[] = {100, 200, 400, 400, 400};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_GE(sleeps.waits[i].count(), backoff[i] / 2) << "wait " << i;
    EXPECT_LE(sleeps.waits[i].count(), backoff[i]) << "wait " << i;
  }
}

TEST_F(ClientTest, RateLimitWaitsBeyondTheBurst) {
  ClientOptions o = Options();
  o.qps = 10;
  o.burst = 2;
  auto client = Connect(server, o);
  for (int i = 0; i < 4; ++i) (void)client->Get(Services(), "default", "x");
  ASSERT_GE(sleeps.waits.size(), 1u) << "two requests in the burst, then waits";
  EXPECT_GE(sleeps.waits.back(), std::chrono::milliseconds(50));
}

TEST(ClientAuth, BearerTokensFromAFileAndAnExecPlugin) {
  ServerOptions so;
  so.token = "s3cret";
  ApiServer server(so);
  server.Start();
  RestConfig none;
  auto anonymous = Connect(server, {}, none);
  EXPECT_TRUE(absl::IsUnauthenticated(anonymous->Get(Services(), "default", "x").status()));

  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "meshfed-client-auth";
  fs::create_directories(dir);
  std::ofstream(dir / "token") << "s3cret\n";
  RestConfig file;
  file.token_file = (dir / "token").string();
  auto with_file = Connect(server, {}, file);
  EXPECT_TRUE(absl::IsNotFound(with_file->Get(Services(), "default", "x").status()))
      << "authenticated: the object is simply not there";
  EXPECT_EQ(with_file->config().Describe().find("s3cret"), std::string::npos);

  std::ofstream(dir / "plugin.sh")
      << "#!/bin/sh\n"
         "case \"$KUBERNETES_EXEC_INFO\" in *ExecCredential*) ;; *) exit 3;; esac\n"
         "echo '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": "
         "\"ExecCredential\", \"status\": {\"token\": \"'$TOKEN'\"}}'\n";
  fs::permissions(dir / "plugin.sh", fs::perms::owner_all);
  RestConfig exec;
  exec.exec = ExecPlugin{"client.authentication.k8s.io/v1",
                         (dir / "plugin.sh").string(),
                         {},
                         {{"TOKEN", "s3cret"}},
                         false};
  auto with_exec = Connect(server, {}, exec);
  EXPECT_TRUE(absl::IsNotFound(with_exec->Get(Services(), "default", "x").status()));
}

// A token file is read at most once a minute (client-go's cached file token source): a request
// does not open the file each time. A 401 reads it again at once, so a rotated token is picked
// up without waiting for the minute.
TEST(ClientAuth, ATokenFileIsReadOnceAMinuteAndAgainAfterA401) {
  ServerOptions so;
  so.token = "first";
  ApiServer server(so);
  server.Start();
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / fmt::format("meshfed-token-file-{}", getpid());
  fs::create_directories(dir);
  const fs::path file = dir / "token";
  std::ofstream(file) << "first\n";
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  ClientOptions options;
  options.now = [&now] { return now; };
  options.sleep = [](std::chrono::milliseconds) {};
  RestConfig config;
  config.token_file = file.string();
  auto client = Connect(server, options, config);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(absl::IsNotFound(client->Get(Services(), "default", "x").status()));

  fs::remove(file);
  now += std::chrono::seconds(59);
  EXPECT_TRUE(absl::IsNotFound(client->Get(Services(), "default", "x").status()))
      << "within the minute the token read before is used: the file is not opened";
  now += std::chrono::seconds(1);
  absl::Status gone = client->Get(Services(), "default", "x").status();
  EXPECT_TRUE(absl::IsFailedPrecondition(gone)) << gone;
  EXPECT_NE(gone.message().find("cannot read the token file"), std::string::npos) << gone;

  std::ofstream(file) << "first\n";
  EXPECT_TRUE(absl::IsNotFound(client->Get(Services(), "default", "x").status()))
      << "a failed read is not kept: the file is read again";

  // Rotation before the client's minute is up: the old token gets 401, the file is read again.
  std::ofstream(file) << "second\n";
  server.SetToken("second");
  EXPECT_TRUE(absl::IsNotFound(client->Get(Services(), "default", "x").status()))
      << "the 401 made the client read the file again and retry";
  fs::remove_all(dir);
}

TEST(ClientTls, VerifiesTheServerAndPresentsClientCertificates) {
  testing::TestPki pki = testing::MakeTestPki();
  ServerOptions so;
  so.tls = true;
  so.cert_pem = pki.server_cert_pem;
  so.key_pem = pki.server_key_pem;
  so.client_ca_pem = pki.ca_pem;
  ApiServer server(so);
  server.Start();
  ASSERT_EQ(server.url().rfind("https://", 0), 0u);

  RestConfig trusted;
  trusted.ca_pem = pki.ca_pem;
  trusted.client_cert_pem = pki.client_cert_pem;
  trusted.client_key_pem = pki.client_key_pem;
  auto good = Connect(server, {}, trusted);
  EXPECT_TRUE(absl::IsNotFound(good->Get(Services(), "default", "x").status()));

  ClientOptions once;
  once.max_attempts = 1;
  RestConfig untrusted = trusted;
  untrusted.ca_pem.clear();  // system roots do not know the test CA
  auto bad = Connect(server, once, untrusted);
  EXPECT_TRUE(absl::IsUnavailable(bad->Get(Services(), "default", "x").status()))
      << "verification is on by default";

  RestConfig insecure = untrusted;
  insecure.insecure_skip_tls_verify = true;
  auto skip = Connect(server, once, insecure);
  EXPECT_TRUE(absl::IsNotFound(skip->Get(Services(), "default", "x").status()));

  RestConfig no_cert;
  no_cert.ca_pem = pki.ca_pem;
  auto anonymous = Connect(server, once, no_cert);
  EXPECT_FALSE(anonymous->Get(Services(), "default", "x").ok())
      << "the server requires a client certificate";
}

// The informer's objects are shared values: the controller copies every one of them into the
// fleet it translates at each full reconcile, and a copy must cost a reference, not a tree. And
// they come without metadata.managedFields, which API servers send with every object that
// server-side apply or kubectl manage, and which nothing in meshfed reads: the client leaves it
// out of everything it reads.
TEST_F(ClientTest, AnInformerCachesSharedValuesWithoutManagedFields) {
  auto client = Connect(server, Options());
  ASSERT_TRUE(client->Create(Services(), Service("reviews", "reviews")).ok());
  ASSERT_TRUE(ManagedBy(*server.Find(Services(), "default", "reviews"), "meshfed", "Update"))
      << "a create is an update by the client's User-Agent";
  EXPECT_EQ(client->Get(Services(), "default", "reviews")->Find("metadata")->Find("managedFields"),
            nullptr)
      << "the client leaves managedFields out of what it reads";
  std::mutex mutex;
  std::condition_variable changed;
  Informer informer(*client, Services(), [&] {
    std::lock_guard<std::mutex> lock(mutex);
    changed.notify_all();
  });
  auto cached = [&](const std::string& key) {  // waits for it to be cached
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(30),
                            [&] { return informer.Get(key) != nullptr; });
  };
  informer.Start();
  ASSERT_TRUE(cached("default/reviews"));
  // This one arrives through the watch.
  ASSERT_TRUE(client->Create(Services(), Service("ratings", "ratings")).ok());
  ASSERT_TRUE(cached("default/ratings"));
  for (const char* key : {"default/reviews", "default/ratings"}) {
    Informer::Object o = informer.Get(key);
    ASSERT_TRUE(o->IsShared()) << key;
    Node copy = *o;
    EXPECT_EQ(copy.shared_value(), o->shared_value()) << key;
    EXPECT_EQ(Field(copy, {"metadata", "name"}), std::string(key).substr(8));
    EXPECT_EQ(o->Find("metadata")->Find("managedFields"), nullptr) << key;
    EXPECT_EQ(Field(*o, {"metadata", "labels", "app"}), std::string(key).substr(8));
  }
  informer.Stop();
}

// The controller benchmark tells the emulators' CPU time from the controller's by their threads'
// name: the server's threads carry it, and EmulatorCpuSeconds counts what such threads use.
TEST_F(ClientTest, TheEmulatorNamesItsThreadsAndCountsTheirCpuTime) {
  auto named_threads = [] {
    int n = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      if (name == testing::kEmulatorThreadName) ++n;
    }
    return n;
  };
  // Start() returns once the listener runs, and it names itself first.
  EXPECT_GE(named_threads(), 1) << "the listener";
  auto client = Connect(server, Options());
  ASSERT_TRUE(client->Create(Services(), Service("reviews", "reviews")).ok());
  // A request is served by a thread of the pool the listener starts (all at once, before it
  // accepts) and whose threads take its name. How many of them existed when the count above was
  // taken is a race, so only this is certain: the listener and a thread that served the request.
  EXPECT_GE(named_threads(), 2) << "and the thread that served the request";

  // A thread of that name that burns CPU is counted, until it has used a tenth of a second.
  double start = testing::EmulatorCpuSeconds();
  std::atomic<bool> counted = false;
  std::thread busy([&] {
    pthread_setname_np(pthread_self(), testing::kEmulatorThreadName);
    volatile uint64_t sink = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      for (int i = 0; i < 1000000; ++i) sink = sink + static_cast<uint64_t>(i);
      if (testing::EmulatorCpuSeconds() - start >= 0.1) {
        counted = true;
        break;
      }
    }
  });
  busy.join();
  EXPECT_TRUE(counted);
}

// The emulator stands in for kube-apiserver, which (Go's net/http) serves any number of requests
// on one kept-alive connection; httplib's default closed it after five, and the controller
// benchmark then paid a reconnect every fifth write that a real API server does not charge.
// What the emulator sends of an object, whoever asks: a write's answer, its watch event (from
// the oldest kept to the newest) and a list, written from the stored version without a copy.
// Built-in lists leave apiVersion and kind out of their items, as kube-apiserver does; custom
// resources' lists keep them.
TEST_F(ClientTest, AnswersEventsAndListsShowTheStoredObject) {
  auto client = Connect(server, Options());
  std::string from = server.resource_version();
  const int kWrites = 150;
  std::map<std::string, Node> answers;
  for (int i = 0; i < kWrites; ++i) {
    absl::StatusOr<Node> answer =
        client->Apply(Services(), Service(fmt::format("svc-{:03d}", i), "x"));
    ASSERT_TRUE(answer.ok()) << answer.status();
    answers[fmt::format("svc-{:03d}", i)] = *answer;
  }
  for (auto& [name, answer] : answers) {
    std::optional<Node> stored = server.Find(Services(), "default", name);
    ASSERT_TRUE(stored.has_value());
    stored->Find("metadata")->Erase("managedFields");  // the client leaves them out
    EXPECT_EQ(answer, *stored) << name;
  }
  std::map<std::string, Node> events;
  absl::Status watched =
      client->Watch(Services(), "default", {from, "", 30, false}, [&](WatchEvent&& e) {
        events[Field(e.object, {"metadata", "name"})] = std::move(e.object);
        return events.size() < static_cast<size_t>(kWrites);
      });
  ASSERT_TRUE(watched.ok()) << watched;
  EXPECT_EQ(events, answers) << "events from the oldest to the newest are the written objects";

  absl::StatusOr<ListResult> list = client->List(Services(), "default", "", 0);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->items.size(), answers.size());
  for (const Node& item : list->items) {
    EXPECT_EQ(Field(item, {"kind"}), "Service");
    Node listed = item, answer = answers[Field(item, {"metadata", "name"})];
    for (Node* n : {&listed, &answer}) {  // the client puts them back after the other fields
      n->Erase("apiVersion");
      n->Erase("kind");
    }
    EXPECT_EQ(listed, answer);
  }
  httplib::Client http("127.0.0.1", server.port());
  auto services = http.Get("/api/v1/namespaces/default/services");
  ASSERT_TRUE(services && services->status == 200);
  Node raw;
  std::string error;
  ASSERT_TRUE(ReadJson(services->body, raw, error)) << error;
  EXPECT_EQ(Field(raw, {"kind"}), "ServiceList");
  ASSERT_EQ(raw.Find("items")->items().size(), answers.size());
  for (const Node& item : raw.Find("items")->items()) {
    EXPECT_EQ(item.Find("kind"), nullptr) << "a built-in list's items have no kind";
    EXPECT_EQ(item.Find("apiVersion"), nullptr);
    EXPECT_NE(item.Find("spec"), nullptr);
  }
  ASSERT_TRUE(client
                  ->Apply(Seps(), Yaml(R"(apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: s, namespace: default}
spec: {exposed: [{name: reviews, clusters: [cluster-a]}]})"))
                  .ok());
  auto seps =
      http.Get("/apis/multicluster.istio.io/v1alpha1/namespaces/default/serviceexpositionpolicies");
  ASSERT_TRUE(seps && seps->status == 200);
  ASSERT_TRUE(ReadJson(seps->body, raw, error)) << error;
  ASSERT_EQ(raw.Find("items")->items().size(), 1u);
  EXPECT_EQ(Field(raw.Find("items")->items()[0], {"kind"}), "ServiceExpositionPolicy");
}

TEST(ApiServerEmulator, ServesManyRequestsOnOneConnection) {
  ApiServer server;
  server.Start();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string pending;  // bytes read past the previous answer
  auto answer = [&]() -> std::string {
    size_t head_end;
    char buffer[4096];
    while ((head_end = pending.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = read(fd, buffer, sizeof buffer);
      if (n <= 0) return "";  // closed
      pending.append(buffer, static_cast<size_t>(n));
    }
    std::string head = pending.substr(0, head_end + 4);
    std::string lower = ToLower(std::string(head));
    size_t at = lower.find("content-length:");
    size_t length = at == std::string::npos ? 0 : std::stoul(lower.substr(at + 15));
    while (pending.size() < head.size() + length) {
      ssize_t n = read(fd, buffer, sizeof buffer);
      if (n <= 0) return "";
      pending.append(buffer, static_cast<size_t>(n));
    }
    pending.erase(0, head.size() + length);
    return lower;
  };
  const std::string request =
      "GET /api/v1/namespaces/default/services HTTP/1.1\r\nHost: localhost\r\n"
      "Connection: keep-alive\r\n\r\n";
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    std::string head = answer();
    ASSERT_FALSE(head.empty()) << "the connection closed after " << i << " requests";
    EXPECT_EQ(head.rfind("http/1.1 200", 0), 0u) << head;
    EXPECT_EQ(head.find("connection: close"), std::string::npos)
        << "request " << i + 1 << " was told the connection closes";
  }
  close(fd);
}

}  // namespace
}  // namespace meshfed::kube
