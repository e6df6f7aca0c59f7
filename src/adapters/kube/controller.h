// `meshfed controller`: keeps every member cluster's generated objects and every SEP/RSB status
// what `render` says they should be, through the Kubernetes API (craft A2: level-triggered, one
// root reconcile over the whole fleet, deterministic names, state checked not calls counted).
//
// - The fleet cluster (--fleet-context) holds the MeshClusters; each names the kubeconfig
//   context of its member cluster. Informers (list + watch) per member cluster for every kind
//   the translator reads, generated objects included.
// - Any change, debounced (quiet period, bounded delay), runs one reconcile: a snapshot of all
//   caches through the same pipeline as `render` (CheckFleet), then per reachable cluster the
//   plan of sync/plan.h carried out by server-side apply (field manager `meshfed`) and deletes
//   with a uid precondition; SEP/RSB status through /status; finalizers on SEP/RSB so that a
//   deletion removes what it generated in every cluster before the object goes.
// - A cluster that cannot be reached is skipped (and said so in metrics and logs); the others
//   go on. Input errors stop all writes until they are fixed (nothing half-applied).
// - Leader election on a coordination.k8s.io/v1 Lease in the fleet cluster: only the holder
//   writes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/kube/client.h"
#include "adapters/kube/informer.h"
#include "core/sync/plan.h"
#include "core/translate/translator.h"

namespace meshfed::kube {

inline constexpr std::string_view kFinalizer = "multicluster.istio.io/cleanup";

// One JSON object per line: {"ts": ..., "level": ..., "msg": ..., fields...}.
class JsonLog {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;
  explicit JsonLog(std::function<void(const std::string&)> sink);
  void Info(const std::string& msg, const Fields& fields = {});
  void Warn(const std::string& msg, const Fields& fields = {});
  void Error(const std::string& msg, const Fields& fields = {});

 private:
  void Write(const char* level, const std::string& msg, const Fields& fields);
  std::mutex mutex_;
  std::function<void(const std::string&)> sink_;
};

struct ControllerOptions {
  std::string fleet_context;
  // Resolves a kubeconfig context (the fleet's, or a MeshCluster's spec.kubeconfig.context,
  // defaulting to the cluster's name) to a connection.
  std::function<absl::StatusOr<RestConfig>(const std::string& context)> resolve;
  ClientOptions client_options;
  std::chrono::milliseconds debounce{100};                 // quiet period before a reconcile
  std::chrono::milliseconds max_delay{1000};               // a reconcile starts at most this late
  std::chrono::milliseconds resync{300'000};               // and at least this often
  std::chrono::milliseconds informer_max_backoff{10'000};  // between failed lists/watches
  bool leader_election = true;
  std::string lease_namespace = "meshfed-system";
  std::string lease_name = "meshfed";
  std::string identity;  // this replica (default: host name and pid)
  std::chrono::seconds lease_duration{15};
  std::function<void(const std::string&)> log_sink;  // default: stderr
  std::function<std::string()> now;                  // RFC 3339 (default: the clock)
};

class Controller {
 public:
  explicit Controller(ControllerOptions options);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Connects to the fleet cluster and starts the informers, the reconcile loop and (with leader
  // election) the lease loop. Fails only when the fleet cluster cannot be configured.
  absl::Status Start();
  // Graceful: stops watches and loops, releases the lease.
  void Stop();

  // Blocks until the controller is idle: every informer synced, a reconcile finished after the
  // last change it saw, and that reconcile wrote nothing. False on timeout. (For tests and for
  // `/readyz`-style waiting; nothing sleeps.)
  bool WaitForIdle(std::chrono::milliseconds timeout);

  // The resourceVersion each informer has seen, by "cluster/group/plural" ("fleet/..." for the
  // MeshClusters): tests wait until these reach what the servers hold.
  std::map<std::string, std::string> ObservedVersions() const;

  bool leader() const { return leader_; }
  // Blocks until this replica holds the lease (false on timeout).
  bool WaitForLeader(std::chrono::milliseconds timeout);
  bool ready() const;
  std::string Metrics() const;  // Prometheus text exposition format

  struct Counters {
    uint64_t reconciles = 0;
    uint64_t full_reconciles = 0;  // of `reconciles`: those that read the whole fleet
    uint64_t reconcile_errors = 0;
    uint64_t writes = 0;  // applies, status writes, deletes, finalizer updates
    uint64_t conflicts = 0;
  };
  Counters counters() const;

 private:
  struct Member;
  void OnChange();
  void ReconcileLoop();
  bool UserObjectAt(const std::string& cluster, const ResourceType& type,
                    const std::string& namespace_, const std::string& name) const;
  void LeaseLoop();
  bool TryAcquireOrRenew();
  void ReleaseLease();
  struct Pass;
  struct Timing {
    // checked: read, validated and translated; validated (full reconciles): before translating;
    // planned: what to write is known
    std::chrono::steady_clock::time_point snapshot, validated, checked, planned;
  };
  void Reconcile();
  void FullReconcile(const std::vector<Node>& mesh, Pass& pass, Timing& timing);
  void IncrementalReconcile(const std::vector<Node>& mesh, Pass& pass, Timing& timing);
  bool Expected(const std::string& key, const std::string& expectation, Pass& pass);
  void Written(const std::string& key, std::string expectation, Pass& pass);
  void ForgetExpectations(const Pass& pass, bool all);
  void WritePlans(std::vector<std::pair<Member*, ClusterPlan>>& plans, Pass& pass);
  // A status to write through /status, and the expectation it leaves until the cache shows it.
  struct StatusWrite {
    Client* client = nullptr;
    const ResourceType* type = nullptr;
    std::string namespace_, name;
    Node status;
    std::string key, expectation;
  };
  // The write of `status`, unless the same write is still in flight.
  std::optional<StatusWrite> PlanStatus(Client& client, const ResourceType& type,
                                        const std::string& namespace_, const std::string& name,
                                        Node status, const std::string& key, Pass& pass);
  // The status the translation wants on an SEP/RSB, if it needs a write.
  std::optional<StatusWrite> PlanOwnerStatus(Member& m, const StatusOutput& s, Pass& pass);
  // Carries the writes out, those of different clients (clusters) in parallel.
  void WriteStatuses(std::vector<StatusWrite>& writes, Pass& pass);
  void WriteMemberConditions(const std::vector<Node>& mesh, Pass& pass);
  void SyncFinalizer(Member& m, const Node& owner, Pass& pass);
  bool Remaining(const Member& m, const std::string& owner) const;
  void SyncMembers(const std::vector<Node>& mesh_clusters);
  std::string Now() const;

  ControllerOptions options_;
  JsonLog log_;
  std::unique_ptr<Client> fleet_client_;
  std::unique_ptr<Informer> mesh_clusters_;
  std::map<std::string, std::unique_ptr<Member>> members_;  // by cluster name
  mutable std::mutex members_mutex_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  uint64_t change_generation_ = 0;
  uint64_t reconciled_generation_ = 0;
  bool last_reconcile_wrote_ = true;
  // After a failed write or a skipped cluster: a retry, backing off (controller-runtime's
  // rate-limited requeue).
  bool retry_scheduled_ = false;
  std::chrono::steady_clock::time_point retry_at_;
  std::chrono::milliseconds retry_backoff_{100};
  bool stopping_ = false;
  std::chrono::steady_clock::time_point first_pending_;
  std::chrono::steady_clock::time_point last_change_;
  bool pending_ = false;

  std::atomic<bool> leader_{false};
  std::thread reconcile_thread_;
  std::thread lease_thread_;
  std::string lease_resource_version_;

  // Writes in flight: what was last applied per object, until the caches show it.
  std::map<std::string, std::string> expected_;

  // Kept between reconciles (reconcile thread only): the translator over the fleet as last
  // read, what it generates per cluster (by ObjectKey), input errors by object, SEPs/RSBs
  // being deleted (cluster, namespace/name). A full reconcile rebuilds them; one is due at the
  // start, after MeshClusters change, after a failure or input errors, while a member is not
  // synced or healthy, and every `resync`.
  std::unique_ptr<IncrementalTranslator> engine_;
  std::map<std::string, std::map<std::string, Node>> desired_;
  std::map<std::string, std::vector<std::string>> input_errors_;
  std::set<std::pair<std::string, std::string>> deleting_owners_;
  std::string mesh_text_;
  bool need_full_ = true;
  std::chrono::steady_clock::time_point last_full_;
  uint64_t next_order_ = 0;

  mutable std::mutex counters_mutex_;
  Counters counters_;
  std::map<std::string, std::chrono::duration<double>> apply_seconds_;  // by cluster
  std::map<std::string, uint64_t> apply_count_;
};

}  // namespace meshfed::kube
