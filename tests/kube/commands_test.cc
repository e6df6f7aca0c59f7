// `meshfed diff` and `meshfed controller` as a user runs them: against emulated API servers,
// through a kubeconfig file, the controller as a separate process stopped by SIGTERM.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/fleet_dir_store.h"
#include "adapters/kube/controller.h"
#include "cli/diff_command.h"
#include "core/sync/plan.h"
#include "kube/api_server.h"
#include "kube/fleet_harness.h"

extern char** environ;

namespace meshfed::kube {
namespace {

namespace fs = std::filesystem;
using testing::ApiServer;

// The fleet and three members, holding `dir`'s user objects.
struct Clusters : testing::FleetHarness {
  void Load(const std::string& dir) { ASSERT_TRUE(SetUserObjects(dir)); }
  ResolveContext Resolver() { return Options().resolve; }
};

const std::string kStep2 = std::string(MESHFED_SOURCE_DIR) + "/examples/bookinfo/step2";

TEST(DiffCommand, ShowsWhatTheControllerWouldWriteAndWritesNothing) {
  Clusters clusters;
  clusters.Load(kStep2);
  uint64_t writes_before = 0;
  for (auto& [n, s] : clusters.servers) writes_before += s->mutating_requests();
  DiffOptions o;
  o.fleet_context = "fleet";
  o.resolve = clusters.Resolver();
  std::ostringstream out, err;
  EXPECT_EQ(RunDiff(o, out, err), 1) << err.str();
  std::string text = out.str();
  EXPECT_NE(
      text.find("# cluster-b: create networking.istio.io/Gateway/istio-system/meshfed-reviews-"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("--- /dev/null\n+++ cluster-a//Service/default/reviews\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("+  labels:\n+    app.kubernetes.io/managed-by: meshfed\n"),
            std::string::npos);
  EXPECT_NE(text.find("# cluster-b: status of ServiceExpositionPolicy default/reviews-sep"),
            std::string::npos);
  EXPECT_NE(err.str().find("to create"), std::string::npos);
  uint64_t writes_after = 0;
  for (auto& [n, s] : clusters.servers) writes_after += s->mutating_requests();
  EXPECT_EQ(writes_after, writes_before) << "diff changes nothing";

  // After the controller has run, there is nothing left to do; a changed generated object shows
  // as an update of exactly what changed.
  ControllerOptions co;
  co.fleet_context = "fleet";
  co.resolve = clusters.Resolver();
  co.leader_election = false;
  co.debounce = std::chrono::milliseconds(10);
  co.log_sink = [](const std::string&) {};
  Controller controller(co);
  ASSERT_TRUE(controller.Start().ok());
  for (int i = 0; i < 1000; ++i) {
    if (controller.WaitForIdle(std::chrono::milliseconds(20))) {
      std::ostringstream o2, e2;
      if (RunDiff(o, o2, e2) == 0) break;
    }
  }
  controller.Stop();
  std::ostringstream clean, clean_err;
  EXPECT_EQ(RunDiff(o, clean, clean_err), 0) << clean.str() << clean_err.str();
  EXPECT_EQ(clean.str(), "");

  ApiServer& a = *clusters.servers["cluster-a"];
  std::optional<Node> se = [&]() -> std::optional<Node> {
    for (const Node& x : a.List(*FindResource("networking.istio.io", "ServiceEntry"))) return x;
    return std::nullopt;
  }();
  ASSERT_TRUE(se.has_value());
  Node edited = *se;
  edited.Find("spec")->Set("hosts", Node::Sequence());  // someone edits it by hand
  edited.Find("spec")->Find("hosts")->Append(Node::String("tampered.example.com"));
  a.Apply(*FindResource("networking.istio.io", "ServiceEntry"), edited);
  std::ostringstream drift, drift_err;
  EXPECT_EQ(RunDiff(o, drift, drift_err), 1);
  EXPECT_NE(drift.str().find("(the live object drifted from what meshfed applied)"),
            std::string::npos)
      << drift.str();
  EXPECT_NE(drift.str().find("-  - tampered.example.com\n+  - reviews.default.meshfed.internal\n"),
            std::string::npos)
      << drift.str();
}

int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  close(s);
  return ntohs(addr.sin_port);
}

TEST(ControllerCommand, ServesHealthAndMetricsAndStopsOnSigterm) {
  Clusters clusters;
  clusters.Load(kStep2);
  std::string kubeconfig = clusters.Kubeconfig();
  int port = FreePort();
  std::string binary = fs::path(MESHFED_BINARY_DIR) / "meshfed";
  std::vector<std::string> args = {binary,
                                   "controller",
                                   "--fleet-context",
                                   "fleet",
                                   "--kubeconfig",
                                   kubeconfig,
                                   "--metrics-addr",
                                   fmt::format("127.0.0.1:{}", port),
                                   "--lease-namespace",
                                   "default"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  fs::path log = fs::temp_directory_path() / fmt::format("meshfed-controller-{}.log", getpid());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  struct Reaper {  // never leave the process behind, whatever the test's outcome
    pid_t pid;
    ~Reaper() {
      if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  } reaper{pid};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);

  httplib::Client http("127.0.0.1", port);
  http.set_connection_timeout(1, 0);
  bool ready = false;
  while (!ready && std::chrono::steady_clock::now() < deadline) {
    auto res = http.Get("/readyz");
    ready = res && res->status == 200;
    if (!ready) std::this_thread::yield();
  }
  ASSERT_TRUE(ready) << "the controller never became ready";
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  // It holds the lease and reconciles: wait for the generated Gateway in cluster-b.
  const ResourceType& gateways = *FindResource("networking.istio.io", "Gateway");
  bool written = false;
  while (!written && std::chrono::steady_clock::now() < deadline) {
    written = !clusters.servers["cluster-b"]->List(gateways).empty();
    if (!written) std::this_thread::yield();
  }
  EXPECT_TRUE(written);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("# TYPE meshfed_reconciles_total counter"), std::string::npos);
  EXPECT_NE(metrics->body.find("meshfed_leader 1"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("meshfed_cluster_connected{cluster=\"cluster-b\"} 1"),
            std::string::npos);
  std::optional<Node> lease =
      clusters.servers["fleet"]->Find(LeaseResource(), "default", "meshfed");
  ASSERT_TRUE(lease.has_value());
  EXPECT_NE(lease->Find("spec")->Find("holderIdentity")->text(), "");

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  reaper.pid = 0;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  lease = clusters.servers["fleet"]->Find(LeaseResource(), "default", "meshfed");
  EXPECT_EQ(lease->Find("spec")->Find("holderIdentity")->text(), "") << "released on SIGTERM";
  std::ifstream in(log);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first.rfind("{\"ts\":", 0), 0u) << "JSON logs: " << first;
  in.close();
  if (!::testing::Test::HasFailure()) fs::remove(log);  // kept for the reader of a failure
}

}  // namespace
}  // namespace meshfed::kube
