// A fleet of emulated API servers (one "fleet" cluster holding the MeshClusters, and members),
// with what tests and benchmarks need: user objects from a fleet directory, controller options
// pointing at the servers, and waiting until a controller has acted on everything written.
#pragma once

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "adapters/fleet_dir_store.h"
#include "adapters/kube/controller.h"
#include "core/sync/plan.h"
#include "core/validate/validate.h"
#include "kube/api_server.h"

namespace meshfed::kube::testing {

inline constexpr std::chrono::seconds kConverge{30};

inline std::string Meta(const Node& o, std::string_view key) {
  const Node* m = o.Find("metadata");
  const Node* v = m ? m->Find(key) : nullptr;
  return v && v->IsScalar() ? std::string(v->text()) : std::string();
}
using ::meshfed::Managed;  // core/sync/plan.h

inline const ResourceType* TypeOf(const Node& o) {
  std::string api(o.Find("apiVersion")->text());
  size_t slash = api.find('/');
  return FindResource(slash == std::string::npos ? "" : api.substr(0, slash),
                      o.Find("kind")->text());
}

class FleetHarness {
 public:
  explicit FleetHarness(std::vector<std::string> members = {"cluster-a", "cluster-b",
                                                            "cluster-c"}) {
    members.push_back("fleet");
    for (const std::string& name : members) {
      servers[name] = std::make_unique<ApiServer>();
      servers[name]->Start();
    }
  }

  FleetHarness(const FleetHarness&) = delete;
  FleetHarness& operator=(const FleetHarness&) = delete;
  ~FleetHarness() {
    std::error_code ignored;  // a test that wrote no kubeconfig has none to remove
    if (!kubeconfig_.empty()) std::filesystem::remove(kubeconfig_, ignored);
  }

  // A kubeconfig file with one context per server, named after it; removed with the harness.
  std::string Kubeconfig() {
    kubeconfig_ = std::filesystem::temp_directory_path() /
                  fmt::format("meshfed-controller-test-kubeconfig-{}", getpid());
    std::ofstream out(kubeconfig_);
    out << "apiVersion: v1\nkind: Config\nclusters:\n";
    for (const auto& [name, s] : servers) {
      out << fmt::format("- name: {}\n  cluster: {{server: \"{}\"}}\n", name, s->url());
    }
    out << "contexts:\n";
    for (const auto& [name, s] : servers) {
      out << fmt::format("- name: {}\n  context: {{cluster: {}}}\n", name, name);
    }
    return kubeconfig_.string();
  }

  ControllerOptions Options(std::vector<std::string>* log = nullptr) {
    ControllerOptions o;
    o.fleet_context = "fleet";
    o.resolve = [this](const std::string& context) -> absl::StatusOr<RestConfig> {
      auto it = servers.find(context);
      if (it == servers.end()) return absl::NotFoundError("no context " + context);
      RestConfig c;
      c.context = context;
      c.server = it->second->url();
      return c;
    };
    o.debounce = std::chrono::milliseconds(20);
    o.max_delay = std::chrono::milliseconds(200);
    o.now = [] { return std::string("2026-11-26T12:00:00Z"); };
    o.log_sink = [log](const std::string& line) {
      if (log) log->push_back(line);
    };
    o.leader_election = false;
    o.informer_max_backoff = std::chrono::milliseconds(400);
    o.client_options.sleep = [](std::chrono::milliseconds) {};  // retries without waiting
    return o;
  }

  // Makes the clusters hold the user objects of a fleet directory (as kubectl apply and delete
  // would), leaving meshfed's objects alone.
  bool SetUserObjects(const std::string& dir) {
    Diagnostics d;
    absl::StatusOr<FleetSource> source = ReadFleetDirectory(dir, d);
    if (!source.ok()) return false;
    for (const Object& mc : source->mesh_clusters) {
      servers["fleet"]->Apply(MeshClusterResource(), mc.root);
    }
    for (auto& [cluster, server] : servers) {
      if (cluster == "fleet") continue;
      ApiServer& s = *server;
      std::set<std::string> wanted;
      for (const Object& o : source->cluster_objects[cluster]) {
        const ResourceType* t = TypeOf(o.root);
        if (!t) continue;  // kinds the controller does not read (none in the examples)
        s.Apply(*t, o.root);
        wanted.insert(fmt::format("{}/{}/{}/{}", o.group, o.kind, o.namespace_, o.name));
      }
      for (const ResourceType& t : WatchedResources()) {
        for (const Node& live : s.List(t)) {
          if (!Managed(live) && !wanted.count(ObjectKey(live)) && t.kind != "Namespace") {
            s.Delete(t, Meta(live, "namespace"), Meta(live, "name"));
          }
        }
      }
    }
    return true;
  }

  // What render says each cluster should hold, and the SEP/RSB statuses.
  CheckedFleet Render(const std::string& dir) {
    Diagnostics d;
    absl::StatusOr<FleetSource> source = ReadFleetDirectory(dir, d);
    return CheckFleet(source.ok() ? std::move(*source) : FleetSource{}, d);
  }

  // Every informer has seen the last change of its type in its cluster, and then the controller
  // went idle: it has acted on everything written so far.
  bool Settle(Controller& c, std::chrono::milliseconds timeout = kConverge) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::map<std::string, std::string> seen = c.ObservedVersions();
      bool caught_up = !seen.empty();
      for (const auto& [name, server] : servers) {
        std::vector<const ResourceType*> types;
        if (name == "fleet") {
          types.push_back(&MeshClusterResource());
        } else {
          for (const ResourceType& t : WatchedResources()) types.push_back(&t);
        }
        for (const ResourceType* t : types) {
          if (!server->port()) continue;
          auto it = seen.find(name + "/" + t->group + "/" + t->plural);
          uint64_t have = it == seen.end() ? 0 : std::strtoull(it->second.c_str(), nullptr, 10);
          if (have < server->TypeVersion(*t)) caught_up = false;
        }
      }
      if (caught_up && c.WaitForIdle(std::chrono::milliseconds(0))) return true;
      c.WaitForIdle(std::chrono::milliseconds(20));
    }
    return false;
  }

  uint64_t MutatingRequests() {
    uint64_t n = 0;
    for (auto& [name, s] : servers) n += s->mutating_requests();
    return n;
  }

  uint64_t Conflicts() {
    uint64_t n = 0;
    for (auto& [name, s] : servers) n += s->conflicts();
    return n;
  }

  std::map<std::string, std::unique_ptr<ApiServer>> servers;

 private:
  std::filesystem::path kubeconfig_;
};

}  // namespace meshfed::kube::testing
