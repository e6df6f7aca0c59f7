// A Kubernetes API client: list (paginated), watch (streamed), get, server-side apply, the
// /status subresource, delete with preconditions. Requests are rate limited (token bucket) and
// retried with exponential backoff on connection errors, 429 and 5xx, honouring Retry-After.
// Objects are meshfed Nodes (JSON read by the same reader as files).
//
// Errors are absl::Status with the HTTP status mapped as client-go's apierrors would be read:
// 404 NotFound, 409 AlreadyExists (reason AlreadyExists) or Aborted (Conflict), 410 OutOfRange
// (Gone: the resourceVersion is too old), 401 Unauthenticated, 403 PermissionDenied,
// 400/422 InvalidArgument, 429 ResourceExhausted, 5xx and connection errors Unavailable.
// Credentials never appear in messages.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adapters/kube/kubeconfig.h"
#include "adapters/kube/resources.h"
#include "core/model/node.h"

namespace httplib {
class ClientImpl;
}

namespace meshfed::kube {

inline constexpr std::string_view kFieldManager = "meshfed";

struct ClientOptions {
  double qps = 50;  // sustained requests per second (0 = unlimited)
  int burst = 100;
  int max_attempts = 6;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{10'000};
  std::chrono::seconds request_timeout{30};
  std::chrono::seconds connect_timeout{5};
  std::string user_agent = "meshfed/0.1.0";
  // Idle connections kept for the next requests (Go's http.Transport: MaxIdleConnsPerHost).
  // As many as requests made at once: more would be opened and closed again for every burst.
  size_t idle_connections = 16;
  // How the client waits (backoff, Retry-After, rate limit); tests record instead of sleeping.
  std::function<void(std::chrono::milliseconds)> sleep;
  // The time, for how long a token read from a file is kept; tests move it forward.
  std::function<std::chrono::steady_clock::time_point()> now;
};

struct ListResult {
  std::vector<Node> items;
  std::string resource_version;  // of the list: where a watch resumes
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  Node object;
};

struct WatchOptions {
  std::string resource_version;
  std::string label_selector;
  int timeout_seconds = 300;
  bool bookmarks = true;
};

struct Preconditions {
  std::string uid;
  std::string resource_version;
};

// Counters a controller exports as metrics.
struct ClientStats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> throttled{0};  // 429 answers
  std::atomic<uint64_t> errors{0};     // requests that failed after retries
};

// Objects the client hands out (answers, list items, watch events) come without
// metadata.managedFields: server-side apply's record of who set which field, about as large as
// the fields themselves, which nothing in meshfed reads; an update sent without it keeps the
// server's. client-go's informers drop it the same way (cache.TransformStripManagedFields).
class Client {
 public:
  static absl::StatusOr<std::unique_ptr<Client>> Create(RestConfig config,
                                                        ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Every item, following `continue` tokens (`limit` per page); on 410 (the continue token
  // expired) the list starts over, as client-go's pager does.
  absl::StatusOr<ListResult> List(const ResourceType& type, const std::string& namespace_,
                                  const std::string& label_selector = "", int limit = 500);
  absl::StatusOr<Node> Get(const ResourceType& type, const std::string& namespace_,
                           const std::string& name);
  // Server-side apply (PATCH application/apply-patch+yaml, fieldManager=meshfed). `force`
  // takes over fields another manager owns instead of answering 409.
  absl::StatusOr<Node> Apply(const ResourceType& type, const Node& object, bool force = true);
  // The same on the /status subresource: only `status` is written.
  absl::StatusOr<Node> ApplyStatus(const ResourceType& type, const Node& object, bool force = true);
  absl::StatusOr<Node> Create(const ResourceType& type, const Node& object);
  // PUT with the object's metadata.resourceVersion: 409 Aborted when it changed meanwhile.
  absl::StatusOr<Node> Update(const ResourceType& type, const Node& object);
  // The same writes for a caller that does not read the answer (the controller's): its status is
  // checked, its body (the whole object) is not parsed.
  absl::Status ApplyUnread(const ResourceType& type, const Node& object, bool force = true);
  absl::Status ApplyStatusUnread(const ResourceType& type, const Node& object, bool force = true);
  absl::Status UpdateUnread(const ResourceType& type, const Node& object);
  absl::Status Delete(const ResourceType& type, const std::string& namespace_,
                      const std::string& name, const Preconditions& preconditions = {});
  // Streams events to `on_event` until the server closes the stream (a normal end: resume with
  // the last resourceVersion seen), `on_event` returns false, or Stop(). An ERROR event with
  // code 410 returns OutOfRange: the caller relists.
  absl::Status Watch(const ResourceType& type, const std::string& namespace_,
                     const WatchOptions& options,
                     const std::function<bool(WatchEvent&&)>& on_event);
  // Ends every watch in flight and makes later calls fail fast (shutdown).
  void Stop();

  const RestConfig& config() const { return config_; }
  const ClientStats& stats() const { return stats_; }

 private:
  struct Response {
    int status = 0;
    std::string body;
    std::string retry_after;
  };
  Client(RestConfig config, ClientOptions options);
  absl::Status Init();
  std::unique_ptr<httplib::ClientImpl> NewConnection(bool streaming);
  std::unique_ptr<httplib::ClientImpl> Acquire();
  void Release(std::unique_ptr<httplib::ClientImpl> c);
  absl::StatusOr<std::string> BearerToken();
  void Throttle();
  // One request with retries; `ok` is an HTTP status considered success.
  absl::StatusOr<Response> Do(const std::string& method, const std::string& path,
                              const std::string& body, const std::string& content_type);
  // The answer's object; with `read` false, an empty Node once the status is checked.
  absl::StatusOr<Node> DoObject(const std::string& method, const std::string& path,
                                const std::string& body, const std::string& content_type,
                                bool read = true);
  // Server-side apply of `object` ("" or "/status").
  absl::StatusOr<Node> ApplyAt(const ResourceType& type, const Node& object,
                               std::string_view subresource, bool force, bool read);

  RestConfig config_;
  ClientOptions options_;
  std::string scheme_, host_;
  int port_ = 0;
  std::string base_path_;
  struct Tls;
  std::unique_ptr<Tls> tls_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<httplib::ClientImpl>> pool_;
  std::mutex watch_mutex_;
  std::vector<httplib::ClientImpl*> watches_;
  std::atomic<bool> stopped_{false};
  std::mutex rate_mutex_;
  double tokens_ = 0;
  std::chrono::steady_clock::time_point last_refill_;
  std::mutex token_mutex_;
  std::string exec_token_;
  std::chrono::system_clock::time_point exec_token_expiry_;
  std::string file_token_;  // config_.token_file's content, as read at file_token_read_
  std::optional<std::chrono::steady_clock::time_point> file_token_read_;
  ClientStats stats_;
};

// Maps an HTTP status and a Kubernetes Status body to an absl::Status (see the file comment).
absl::Status StatusFromHttp(int http_status, const std::string& body, const std::string& what);

// Parses a JSON body into a Node (the file reader, without positions that matter).
absl::StatusOr<Node> ParseJson(const std::string& body, const std::string& what);

}  // namespace meshfed::kube
