// Controller convergence against emulated API servers on loopback (issue 6):
//   build/tests/meshfed_controller_bench [--clusters N] [--services S] [--changes K]
//                                        [--latency MS]
// (--latency: every request answered MS late, as by API servers across a network.)
// - cold start: from a fleet with user objects only to every cluster converged (objects and
//   statuses), with the number of writes;
// - one change: a donor VirtualService edited, until the controller has acted on it (its
//   informers saw the edit and it went idle after writing the new gateway routes), K times,
//   percentiles;
// - the controller's heap in use when idle (all of it, less what remains once it is destroyed);
// - a second start with nothing changed: the writes it makes (should be 0).
// Every API server is an in-process emulator (tests/kube/api_server.h): the figures include its
// own cost, which a real API server does not share with the controller's process; the cold
// start's CPU time is therefore given for each side.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "adapters/heap_prefault.h"
#include "cli/gen_fleet_command.h"
#include "kube/fleet_harness.h"

using namespace meshfed;
using namespace meshfed::kube;

namespace {

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU time, user and system, of every thread of this process so far (ended ones included).
double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

double PeakRssMiB() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  // As `meshfed controller` does (src/cli/main.cc): the heap's growth made resident in bulk.
  meshfed::PrefaultHeapGrowth();
  FleetShape shape;
  shape.clusters = 20;
  shape.services = 100;
  int changes = 20;
  int latency_ms = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (flag == "--clusters") shape.clusters = value;
    if (flag == "--services") shape.services = value;
    if (flag == "--changes") changes = value;
    if (flag == "--latency") latency_ms = value;
  }
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / fmt::format("meshfed-controller-bench-{}", getpid());
  fs::remove_all(dir);
  GenFleetOptions gen;
  gen.out_dir = dir.string();
  gen.shape = shape;
  std::ostringstream ignored;
  if (RunGenFleet(gen, ignored, std::cerr) != 0) return 1;
  std::vector<std::string> members;
  for (int c = 0; c < shape.clusters; ++c) members.push_back(fmt::format("cluster-{:02d}", c));
  testing::FleetHarness fleet(members);
  if (!fleet.SetUserObjects(dir.string())) return 1;
  for (auto& [name, s] : fleet.servers) s->SetLatency(std::chrono::milliseconds(latency_ms));
  size_t user_objects = 0;
  for (const ResourceType& t : WatchedResources()) {
    for (auto& [name, s] : fleet.servers) user_objects += s->List(t).size();
  }

  ControllerOptions options = fleet.Options();
  // Problems the controller logs (failed writes) are worth seeing in a benchmark.
  options.log_sink = [](const std::string& line) {
    if (line.find("\"level\":\"info\"") == std::string::npos) std::cerr << line;
  };
  uint64_t before = fleet.MutatingRequests();
  HeapUse loaded = CurrentHeapUse();  // the emulators with the user objects, no controller yet
  double cpu0 = ProcessCpuSeconds(), emulators0 = testing::EmulatorCpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  auto controller = std::make_unique<Controller>(options);
  if (!controller->Start().ok() || !fleet.Settle(*controller, std::chrono::seconds(900))) {
    std::cerr << "cold start did not converge\n";
    return 1;
  }
  auto t1 = std::chrono::steady_clock::now();
  uint64_t cold_writes = fleet.MutatingRequests() - before;
  double emulators_cpu = testing::EmulatorCpuSeconds() - emulators0;
  double controller_cpu = ProcessCpuSeconds() - cpu0 - emulators_cpu;
  HeapUse settled = CurrentHeapUse();
  auto mib = [](size_t bytes) { return static_cast<double>(bytes) / (1 << 20); };
  std::cout << fmt::format(
      "cold start: {} clusters x {} services, {} user objects{}: converged in {:.2f} s with {} "
      "writes ({:.0f} writes/s); peak RSS {:.0f} MiB (controller and emulators); heap MiB in "
      "use/obtained: emulators loaded {:.0f}/{:.0f}, converged {:.0f}/{:.0f}\n",
      shape.clusters, shape.services, user_objects,
      latency_ms ? fmt::format(", every request {} ms late", latency_ms) : "", Seconds(t0, t1),
      cold_writes, cold_writes / Seconds(t0, t1), PeakRssMiB(), mib(loaded.allocated),
      mib(loaded.obtained), mib(settled.allocated), mib(settled.obtained));
  // The two cores are shared: the emulators' CPU time is what real API servers would spend on
  // their own machines; the rest is the controller's (and the benchmark's waiting, a little).
  std::cout << fmt::format(
      "  CPU time during the cold start: controller {:.2f} s, emulated API servers {:.2f} s\n",
      controller_cpu, emulators_cpu);

  // One change at a time: the weights of a VirtualService cluster-00 exposes, until the
  // controller has written the new gateway routes.
  testing::ApiServer& donor = *fleet.servers["cluster-00"];
  const ResourceType& vss = *FindResource("networking.istio.io", "VirtualService");
  // The first name cluster-00 exposes (not a donation alias), and its VirtualService.
  std::optional<Node> vs;
  for (const Node& sep : donor.List(*FindResource(kMulticlusterGroup, "ServiceExpositionPolicy"))) {
    for (const Node& entry : sep.Find("spec")->Find("exposed")->items()) {
      if (vs || entry.Find("alias") || entry.Find("subset")) continue;
      // One whose last rule splits traffic by weight between two destinations.
      std::optional<Node> candidate =
          donor.Find(vss, "default", std::string(entry.Find("name")->text()));
      const Node* http = candidate ? candidate->Find("spec")->Find("http") : nullptr;
      const Node* route =
          http && !http->items().empty() ? http->items().back().Find("route") : nullptr;
      if (route && route->items().size() == 2) vs = std::move(candidate);
    }
  }
  if (!vs) {
    std::cerr << "cluster-00 exposes no service with a weighted VirtualService\n";
    return 1;
  }
  // The donor's generated gateway VirtualService compiled from it: found once, then read alone
  // while a change is awaited (listing every VirtualService of the donor at each poll cost more
  // than the controller's whole reconcile, and held the emulator's lock meanwhile).
  std::string generated_namespace, generated_name;
  for (const Node& g : donor.List(vss)) {
    if (!testing::Managed(g)) continue;
    const Node* from =
        g.Find("metadata")->Find("annotations")->Find("multicluster.istio.io/routes-from");
    if (from && from->text() == "VirtualService default/" + testing::Meta(*vs, "name")) {
      generated_namespace = testing::Meta(g, "namespace");
      generated_name = testing::Meta(g, "name");
    }
  }
  if (generated_name.empty()) {
    std::cerr << "cluster-00 has no gateway VirtualService compiled from the one edited\n";
    return 1;
  }
  std::vector<double> latencies, settles;
  for (int i = 0; i < changes; ++i) {
    Node edited = *vs;
    Node* http = edited.Find("spec")->Find("http");
    Node& last = http->items().back();
    Node* routes = last.Find("route");
    int w = 50 + (i % 2 ? 10 : 20);  // alternate, so each change is a change
    routes->items()[0].Set("weight", Node::Int(w));
    routes->items()[1].Set("weight", Node::Int(100 - w));
    uint64_t writes_before = fleet.MutatingRequests();
    // Converged: the donor's generated gateway VirtualService carries the new weights.
    auto converged = [&] {
      std::optional<Node> g = donor.Find(vss, generated_namespace, generated_name);
      if (!g) return false;
      const Node& rule = g->Find("spec")->Find("http")->items().back();
      return rule.Find("route")->items()[0].Find("weight")->text() == std::to_string(w);
    };
    auto start = std::chrono::steady_clock::now();
    donor.Apply(vss, edited);
    while (!converged()) {
      if (std::chrono::steady_clock::now() - start > std::chrono::seconds(60)) {
        std::cerr << "a change did not converge\n";
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // a benchmark, polling
    }
    auto end = std::chrono::steady_clock::now();
    auto settle_start = std::chrono::steady_clock::now();
    if (!fleet.Settle(*controller, std::chrono::seconds(600))) {
      std::cerr << "the controller did not settle after a change\n";
      return 1;
    }
    // The user's edit goes to the store directly; what is counted is the controller's writes.
    if (fleet.MutatingRequests() == writes_before) {
      std::cerr << "the change wrote nothing: the benchmark would measure nothing\n";
      return 1;
    }
    latencies.push_back(Seconds(start, end) * 1000);
    settles.push_back(Seconds(settle_start, std::chrono::steady_clock::now()) * 1000);
  }
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies[std::min(latencies.size() - 1,
                              static_cast<size_t>(p * static_cast<double>(latencies.size())))];
  };
  std::cout << fmt::format(
      "one change (a donor VirtualService): its generated routes written in the donor after "
      "p50 {:.0f} ms, p99 {:.0f} ms, max {:.0f} ms over {} changes (debounce {} ms)\n",
      pct(0.5), pct(0.99), latencies.back(), latencies.size(), options.debounce.count());
  std::sort(settles.begin(), settles.end());
  std::cout << fmt::format(
      "  then idle (its own writes seen back, nothing left to do) after a further "
      "{:.0f} ms median\n",
      settles[settles.size() / 2]);

  // The controller's own heap when idle: what the heap holds less what remains once it is gone
  // (the emulators' objects and the benchmark's). Its RSS is at least this, and as much as its
  // largest reconcile needed: the heap keeps what it obtains (adapters/heap_prefault.h).
  HeapUse idle = CurrentHeapUse();
  controller->Stop();
  controller.reset();
  HeapUse without = CurrentHeapUse();
  std::cout << fmt::format(
      "the controller's heap in use when idle: {:.0f} MiB (the emulators' and the benchmark's: "
      "{:.0f} MiB)\n",
      mib(idle.allocated - std::min(idle.allocated, without.allocated)), mib(without.allocated));
  uint64_t before_second = fleet.MutatingRequests();
  auto t2 = std::chrono::steady_clock::now();
  Controller second(options);
  if (!second.Start().ok() || !fleet.Settle(second, std::chrono::seconds(900))) {
    std::cerr << "second start did not settle\n";
    return 1;
  }
  auto t3 = std::chrono::steady_clock::now();
  std::cout << fmt::format("second start, nothing changed: settled in {:.2f} s, {} writes\n",
                           Seconds(t2, t3), fleet.MutatingRequests() - before_second);
  second.Stop();
  fs::remove_all(dir);
  return 0;
}
