// An in-process Kubernetes API server for tests: the real wire protocol (HTTP/1.1, JSON, chunked
// watch streams) on loopback, with the API conventions meshfed relies on, and faults on demand.
//
// What it implements, as kube-apiserver does (k8s.io/apiserver, API conventions):
// - paths /api/v1/... and /apis/<group>/<version>/..., namespaced and cluster-scoped, for the
//   kinds it is told about (as if their CRDs were installed);
// - GET (one object or a list with limit/continue and labelSelector), POST (409 AlreadyExists),
//   PUT (optimistic concurrency on metadata.resourceVersion: 409 Conflict), PATCH with
//   application/apply-patch+yaml (server-side apply: field ownership per manager, 409 on a
//   conflict unless force=true; lists are atomic) and application/merge-patch+json, DELETE with
//   preconditions (uid, resourceVersion);
// - metadata.managedFields on every object it returns: one entry per manager, operation (Apply,
//   or Update for POST, PUT and merge patches, whose manager is fieldManager or the User-Agent up
//   to its first '/') and subresource, its fields as FieldsV1, and its time, which changes only
//   when that manager's write changed the object or its fields;
// - metadata: uid, resourceVersion (one counter for the server), generation (bumped when
//   anything but metadata and status changes), creationTimestamp; finalizers and
//   deletionTimestamp (DELETE of an object with finalizers only marks it; removing the last
//   finalizer deletes it);
// - the /status subresource (writes to the main resource keep status; writes to /status change
//   only status);
// - watch=true with resourceVersion (ADDED events for everything when it is empty or "0"),
//   allowWatchBookmarks (BOOKMARK events), timeoutSeconds, labelSelector, and a 410 Expired
//   ERROR event when the version is older than the history kept;
// - an optional bearer token (401 without it) and TLS (with client certificates).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/kube/resources.h"
#include "core/model/node.h"

namespace httplib {
class Server;
}

namespace meshfed::kube::testing {

struct ServerOptions {
  std::string token;     // required bearer token; empty: no authentication
  bool tls = false;      // serve HTTPS with cert_pem/key_pem
  std::string cert_pem;  // server certificate and key (PEM)
  std::string key_pem;
  std::string client_ca_pem;  // when set, client certificates signed by it are required
  size_t history = 10000;     // watch events kept; older resourceVersions get 410
  int port = 0;               // 0: any free port
};

// The name of every thread of an emulated API server (Linux: at most 15 characters).
inline constexpr char kEmulatorThreadName[] = "kube-emulator";
// The CPU time, user and system, that the emulated API servers' threads of this process have used
// so far (their threads live until the server stops), from /proc/self/task.
double EmulatorCpuSeconds();

// One entry of an object's metadata.managedFields, as the emulator keeps it.
struct ManagedEntry {
  std::string manager, operation, subresource, time;
  Node fields;  // the leaves it owns, as FieldsV1 (shared with the object's managedFields)
};

class ApiServer {
 public:
  explicit ApiServer(ServerOptions options = {});
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  void Start();
  // Closes the listener and every connection; the data stays (etcd survives a restart).
  void Stop();
  // Stop, then Start on the same port, with the watch history gone (as after a restart of
  // kube-apiserver: its watch cache starts at the current version).
  void Restart();
  // The bearer token required from now on (a rotated service-account token).
  void SetToken(std::string token);
  std::string url() const;
  int port() const { return port_; }

  // ---- The store, as a test sees it ----
  std::optional<Node> Find(const ResourceType& type, const std::string& namespace_,
                           const std::string& name) const;
  std::vector<Node> List(const ResourceType& type) const;
  // Writes as a user would (kubectl apply --server-side with manager "kubectl"): creates or
  // replaces the object.
  void Apply(const ResourceType& type, const Node& object);
  // Deletes as a user would (honouring finalizers).
  void Delete(const ResourceType& type, const std::string& namespace_, const std::string& name);

  // ---- Faults ----
  // The next `count` requests (watches included) fail with `status` (and Retry-After when
  // `retry_after_seconds` >= 0) before anything happens.
  void FailNext(int count, int status, int retry_after_seconds = -1);
  // The time the server stamps (creationTimestamp, deletionTimestamp, managedFields' times),
  // RFC 3339 in seconds; unset: the wall clock.
  void SetClock(std::function<std::string()> now);
  // Every request is answered `latency` late.
  void SetLatency(std::chrono::milliseconds latency);
  // The next writes (POST, PUT, PATCH, DELETE) wait until `count` of them are in progress at
  // once, or until the first has waited `timeout` (then none waits any more): whether a client
  // writes in parallel shows in most_writes_at_once() without relying on timing.
  void GatherWrites(int count, std::chrono::milliseconds timeout);
  // Ends every open watch stream abruptly (the connection drops).
  void DropWatches();
  // Forgets the watch history: watches from any earlier version get 410 Expired.
  void Compact();

  // ---- Observations ----
  uint64_t mutating_requests() const;  // POST, PUT, PATCH, DELETE answered 2xx
  uint64_t conflicts() const;          // writes answered 409 Conflict
  uint64_t requests() const;
  int open_watches() const;
  int most_writes_at_once() const;  // writes in progress at the same time, at most, so far
  std::string resource_version() const;
  // The version of the last change to objects of `type` (0 when none).
  uint64_t TypeVersion(const ResourceType& type) const;

 private:
  // An object as one version left it: stored, kept in the history, and sent as the write's
  // answer and in watch events, without copies and after the mutex is released. A change makes
  // a new version; none is changed in place.
  using Version = std::shared_ptr<const Node>;
  struct Stored {
    Version object;
    std::vector<ManagedEntry>
        managed;  // in the order they were first made, as the object shows them
  };
  struct Event {
    uint64_t rv;
    std::string plural;  // group/plural
    std::string type;
    Version object;
  };
  // What a request is answered with: a status object, or a version of the object.
  struct Answer {
    Answer(Node status) : body(std::make_shared<const Node>(std::move(status))) {}  // NOLINT
    Answer(Version version) : body(std::move(version)) {}                           // NOLINT
    Version body;
  };
  struct Call;
  void Handle(const void* request, void* response);
  void HandleWatch(const Call& call, void* response);
  bool Authorized(const void* request) const;
  // Mutations, with mutex_ held; they append events (Record).
  Version Insert(const std::string& key, const std::string& plural, Node object);
  // `next` becomes the stored version, with a new resourceVersion.
  Version Modify(const std::string& key, const std::string& plural, Stored& s, Node next);
  void Remove(const std::string& key, const std::string& plural);
  void NotifyWatches();  // every watch, with mutex_ held
  // Adds the event to the history; its type's watchers are woken by UnlockAndWake.
  Version Record(const std::string& plural, const std::string& type, Version object);
  // Releases mutex_, then wakes the watchers of the types changed while it was held. Every
  // holder of the mutex that may have made a change releases it so.
  void UnlockAndWake(std::unique_lock<std::mutex>& lock);
  // `next` has its managedFields set from `s.managed` (which the caller has brought up to date).
  Answer Commit(const std::string& key, const std::string& plural, Stored& s, Node next);
  // `input` is the request's body, already read (null when there is none).
  std::pair<int, Answer> Mutate(const Call& call, const std::string& method,
                                const std::string& content_type, Node input,
                                const std::map<std::string, std::string>& query);

  ServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  mutable std::mutex token_mutex_;  // options_.token (SetToken)
  // Per group/plural, for its watchers (map nodes stay put: a watch keeps a pointer).
  std::map<std::string, std::condition_variable> watch_changed_;
  std::vector<std::condition_variable*> to_wake_;  // by Record, for UnlockAndWake
  std::map<std::string, Stored> objects_;          // group/plural/namespace/name
  std::map<std::string, uint64_t> type_versions_;  // group/plural -> last change
  std::deque<Event> history_;
  std::map<std::string, uint64_t> dropped_rv_;  // group/plural -> its newest event dropped
  uint64_t rv_ = 100;
  uint64_t oldest_rv_ = 100;  // watches from before this get 410
  uint64_t uid_ = 0;
  uint64_t mutating_ = 0;
  uint64_t conflicts_ = 0;
  uint64_t requests_ = 0;
  int open_watches_ = 0;
  uint64_t drop_generation_ = 0;
  int fail_count_ = 0;
  int fail_status_ = 0;
  int fail_retry_after_ = -1;
  std::chrono::milliseconds latency_{0};
  // GatherWrites and most_writes_at_once, under their own mutex.
  mutable std::mutex writes_mutex_;
  std::condition_variable writes_changed_;
  int writes_in_progress_ = 0;
  int most_writes_at_once_ = 0;
  int gather_count_ = 0;
  std::chrono::milliseconds gather_timeout_{0};
  std::function<std::string()> clock_;
  bool stopping_ = false;
};

// Self-signed test PKI: a CA, a server certificate for 127.0.0.1/localhost, a client certificate
// (CN meshfed-test), all PEM.
struct TestPki {
  std::string ca_pem, server_cert_pem, server_key_pem, client_cert_pem, client_key_pem;
};
TestPki MakeTestPki();

}  // namespace meshfed::kube::testing
