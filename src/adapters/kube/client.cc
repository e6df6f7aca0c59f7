#include "adapters/kube/client.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "codec/emitter.h"
#include "codec/json_reader.h"
#include "codec/yaml_reader.h"
#include "core/model/text.h"

extern char** environ;

namespace meshfed::kube {
namespace {

std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string EmitJsonText(const Node& n) {
  std::string out;
  EmitJson(n, out, -1);
  return out;
}

// PEM helpers. Each returns owned OpenSSL objects (or nullptr).
X509_STORE* StoreFromPem(const std::string& pem) {
  X509_STORE* store = X509_STORE_new();
  if (!store) return nullptr;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  BIO_free(bio);
  if (added == 0) {
    X509_STORE_free(store);
    return nullptr;
  }
  return store;
}

struct ExecResult {
  std::string token;
  std::string cert_pem, key_pem;
  std::chrono::system_clock::time_point expiry = std::chrono::system_clock::time_point::max();
};

// Runs an exec credential plugin (client-go's exec authenticator): the command with its args and
// env plus KUBERNETES_EXEC_INFO, stdout read as an ExecCredential.
absl::StatusOr<ExecResult> RunExecPlugin(const ExecPlugin& plugin, const RestConfig& config) {
  std::string api_version =
      plugin.api_version.empty() ? "client.authentication.k8s.io/v1" : plugin.api_version;
  Node info = Node::Mapping();
  info.Add("apiVersion", Node::String(api_version));
  info.Add("kind", Node::String("ExecCredential"));
  Node spec = Node::Mapping();
  spec.Add("interactive", Node::Bool(false));
  if (plugin.provide_cluster_info) {
    Node cluster = Node::Mapping();
    cluster.Add("server", Node::String(config.server));
    if (!config.ca_pem.empty()) {
      cluster.Add("certificate-authority-data", Node::String(absl::Base64Escape(config.ca_pem)));
    }
    spec.Add("cluster", std::move(cluster));
  }
  info.Add("spec", std::move(spec));

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const auto& [k, v] : plugin.env) env_strings.push_back(k + "=" + v);
  env_strings.push_back("KUBERNETES_EXEC_INFO=" + EmitJsonText(info));
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = {plugin.command};
  argv_strings.insert(argv_strings.end(), plugin.args.begin(), plugin.args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out_pipe[2];
  if (pipe(out_pipe) != 0) return absl::InternalError("exec plugin: cannot create a pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out_pipe[0]);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    return absl::FailedPreconditionError(fmt::format("exec plugin `{}` could not be started: {}",
                                                     plugin.command, std::strerror(rc)));
  }
  std::string output;
  char buf[4096];
  ssize_t n;
  while ((n = read(out_pipe[0], buf, sizeof buf)) > 0) {
    output.append(buf, static_cast<size_t>(n));
    if (output.size() > (1 << 20)) break;
  }
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::FailedPreconditionError(fmt::format("exec plugin `{}` failed (exit status {})",
                                                     plugin.command,
                                                     WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  }
  ReadResult r = ReadYamlStream(output, "exec-credential.json");
  if (!r.diagnostics.empty() || r.documents.empty()) {
    return absl::InvalidArgumentError(
        fmt::format("exec plugin `{}` did not print an ExecCredential", plugin.command));
  }
  const Node* st = r.documents[0].Find("status");
  ExecResult result;
  result.token = ScalarAt(st, "token");
  result.cert_pem = ScalarAt(st, "clientCertificateData");
  result.key_pem = ScalarAt(st, "clientKeyData");
  std::string expiry(ScalarAt(st, "expirationTimestamp"));
  if (!expiry.empty()) {
    std::tm tm{};
    if (strptime(expiry.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
      result.expiry = std::chrono::system_clock::from_time_t(timegm(&tm));
    }
  }
  if (result.token.empty() && result.cert_pem.empty()) {
    return absl::InvalidArgumentError(fmt::format(
        "exec plugin `{}` returned neither a token nor a client certificate", plugin.command));
  }
  return result;
}

}  // namespace

struct Client::Tls {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  ~Tls() {
    if (cert) X509_free(cert);
    if (key) EVP_PKEY_free(key);
  }
};

absl::Status StatusFromHttp(int http_status, const std::string& body, const std::string& what) {
  if (http_status >= 200 && http_status < 300) return absl::OkStatus();
  // A Kubernetes Status object says why; fall back to the HTTP status.
  std::string reason, message;
  ReadResult r = ReadYamlStream(body, "status.json");
  if (r.diagnostics.empty() && !r.documents.empty() && r.documents[0].IsMapping()) {
    reason = ScalarAt(&r.documents[0], "reason");
    message = ScalarAt(&r.documents[0], "message");
  }
  std::string text =
      fmt::format("{}: HTTP {}{}{}", what, http_status, reason.empty() ? "" : " " + reason,
                  message.empty() ? "" : ": " + message);
  switch (http_status) {
    case 400:
    case 422:
      return absl::InvalidArgumentError(text);
    case 401:
      return absl::UnauthenticatedError(text);
    case 403:
      return absl::PermissionDeniedError(text);
    case 404:
      return absl::NotFoundError(text);
    case 409:
      return reason == "AlreadyExists" ? absl::AlreadyExistsError(text) : absl::AbortedError(text);
    case 410:
      return absl::OutOfRangeError(text);
    case 429:
      return absl::ResourceExhaustedError(text);
    default:
      return http_status >= 500 ? absl::UnavailableError(text) : absl::UnknownError(text);
  }
}

absl::StatusOr<Node> ParseJson(const std::string& body, const std::string& what) {
  Node out;
  std::string error;
  // Nothing in meshfed reads metadata.managedFields (see JsonOptions): not built.
  if (!ReadJson(body, out, error, JsonOptions{.drop_managed_fields = true})) {
    return absl::DataLossError(
        fmt::format("{}: the API server's answer is not one JSON object ({})", what, error));
  }
  return out;
}

Client::Client(RestConfig config, ClientOptions options)
    : config_(std::move(config)), options_(std::move(options)) {
  if (!options_.sleep) {
    options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  }
  if (!options_.now) options_.now = [] { return std::chrono::steady_clock::now(); };
  tokens_ = options_.burst;
  last_refill_ = std::chrono::steady_clock::now();
}

Client::~Client() { Stop(); }

absl::StatusOr<std::unique_ptr<Client>> Client::Create(RestConfig config, ClientOptions options) {
  std::unique_ptr<Client> c(new Client(std::move(config), std::move(options)));
  if (absl::Status s = c->Init(); !s.ok()) return s;
  return c;
}

absl::Status Client::Init() {
  std::string server = config_.server;
  size_t scheme_end = server.find("://");
  if (scheme_end == std::string::npos) {
    return absl::InvalidArgumentError(
        fmt::format("server `{}` is not a URL (https://host:port)", server));
  }
  scheme_ = server.substr(0, scheme_end);
  if (scheme_ != "https" && scheme_ != "http") {
    return absl::InvalidArgumentError(fmt::format("server `{}`: only https and http", server));
  }
  std::string rest = server.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  base_path_ = slash == std::string::npos ? "" : rest.substr(slash);
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
  port_ = scheme_ == "https" ? 443 : 80;
  if (!authority.empty() && authority.front() == '[') {  // [ipv6]:port
    size_t close = authority.find(']');
    host_ = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      port_ = ParseIntOr(authority.substr(close + 2), -1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string::npos) {
    host_ = authority.substr(0, colon);
    port_ = ParseIntOr(authority.substr(colon + 1), -1);
  } else {
    host_ = authority;
  }
  if (host_.empty() || port_ <= 0 || port_ > 65535) {
    return absl::InvalidArgumentError(fmt::format("server `{}`: bad host or port", server));
  }
  tls_ = std::make_unique<Tls>();
  std::string cert_pem = config_.client_cert_pem;
  std::string key_pem = config_.client_key_pem;
  if (config_.exec) {
    absl::StatusOr<ExecResult> r = RunExecPlugin(*config_.exec, config_);
    if (!r.ok()) return r.status();
    exec_token_ = r->token;
    exec_token_expiry_ = r->expiry;
    if (!r->cert_pem.empty()) {
      cert_pem = r->cert_pem;
      key_pem = r->key_pem;
    }
  }
  if (!cert_pem.empty()) {
    if (scheme_ != "https") {
      return absl::InvalidArgumentError("client certificates need an https server");
    }
    BIO* b = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
    tls_->cert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    b = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    tls_->key = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    if (!tls_->cert || !tls_->key) {
      return absl::InvalidArgumentError(
          fmt::format("{}: the client certificate or key is not valid PEM", config_.context));
    }
  }
  if (!config_.ca_pem.empty()) {
    X509_STORE* store = StoreFromPem(config_.ca_pem);
    if (!store) {
      return absl::InvalidArgumentError(
          fmt::format("{}: the certificate authority is not valid PEM", config_.context));
    }
    X509_STORE_free(store);
  }
  return absl::OkStatus();
}

std::unique_ptr<httplib::ClientImpl> Client::NewConnection(bool streaming) {
  std::unique_ptr<httplib::ClientImpl> c;
  if (scheme_ == "https") {
    std::unique_ptr<httplib::SSLClient> ssl =
        tls_->cert ? std::make_unique<httplib::SSLClient>(host_, port_, tls_->cert, tls_->key)
                   : std::make_unique<httplib::SSLClient>(host_, port_);
    if (!config_.ca_pem.empty()) ssl->set_ca_cert_store(StoreFromPem(config_.ca_pem));
    ssl->enable_server_certificate_verification(!config_.insecure_skip_tls_verify);
    c = std::move(ssl);
  } else {
    c = std::make_unique<httplib::ClientImpl>(host_, port_);
  }
  c->set_connection_timeout(options_.connect_timeout.count(), 0);
  c->set_read_timeout(streaming ? 24 * 3600 : options_.request_timeout.count(), 0);
  c->set_write_timeout(options_.request_timeout.count(), 0);
  c->set_keep_alive(!streaming);
  // Requests go out as header and body writes: without TCP_NODELAY, Nagle's algorithm and the
  // peer's delayed ACK hold each one ~40 ms.
  c->set_tcp_nodelay(true);
  return c;
}

std::unique_ptr<httplib::ClientImpl> Client::Acquire() {
  std::lock_guard<std::mutex> lock(pool_mutex_);
  if (!pool_.empty()) {
    auto c = std::move(pool_.back());
    pool_.pop_back();
    return c;
  }
  return NewConnection(false);
}

void Client::Release(std::unique_ptr<httplib::ClientImpl> c) {
  std::lock_guard<std::mutex> lock(pool_mutex_);
  if (pool_.size() < options_.idle_connections) pool_.push_back(std::move(c));
}

absl::StatusOr<std::string> Client::BearerToken() {
  if (config_.exec) {
    std::lock_guard<std::mutex> lock(token_mutex_);
    if (exec_token_.empty() ||
        std::chrono::system_clock::now() + std::chrono::seconds(10) >= exec_token_expiry_) {
      absl::StatusOr<ExecResult> r = RunExecPlugin(*config_.exec, config_);
      if (!r.ok()) return r.status();
      exec_token_ = r->token;
      exec_token_expiry_ = r->expiry;
    }
    return exec_token_;
  }
  if (!config_.token_file.empty()) {
    // Projected service-account tokens rotate, so the file is read again, but at most once a
    // minute, and at once after a 401 (Do): what client-go does (transport/token_source.go,
    // NewCachedFileTokenSource, reset by its round tripper on 401). Reading it for every
    // request cost each request an open, reads and a close.
    std::lock_guard<std::mutex> lock(token_mutex_);
    const auto now = options_.now();
    if (file_token_read_ && now - *file_token_read_ < std::chrono::minutes(1)) return file_token_;
    std::ifstream in(config_.token_file);
    if (!in) {
      return absl::FailedPreconditionError(
          fmt::format("{}: cannot read the token file {}", config_.context, config_.token_file));
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string t = ss.str();
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    file_token_ = t;
    file_token_read_ = now;
    return t;
  }
  return config_.token;
}

void Client::Throttle() {
  if (options_.qps <= 0) return;
  std::chrono::milliseconds wait{0};
  {
    std::lock_guard<std::mutex> lock(rate_mutex_);
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - last_refill_).count();
    last_refill_ = now;
    tokens_ = std::min<double>(options_.burst, tokens_ + elapsed * options_.qps);
    tokens_ -= 1;
    if (tokens_ < 0) {
      wait = std::chrono::milliseconds(
          static_cast<int64_t>(std::ceil(-tokens_ / options_.qps * 1000)));
    }
  }
  if (wait.count() > 0) options_.sleep(wait);
}

absl::StatusOr<Client::Response> Client::Do(const std::string& method, const std::string& path,
                                            const std::string& body,
                                            const std::string& content_type) {
  std::string what = fmt::format("{} {}", method, path);
  std::chrono::milliseconds backoff = options_.initial_backoff;
  bool refreshed = false;
  absl::Status last = absl::UnavailableError(what + ": no attempt made");
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (stopped_) return absl::CancelledError(what + ": the client is stopped");
    Throttle();
    absl::StatusOr<std::string> token = BearerToken();
    if (!token.ok()) return token.status();
    httplib::Request req;
    req.method = method;
    req.path = base_path_ + path;
    req.headers = {{"Accept", "application/json"}, {"User-Agent", options_.user_agent}};
    if (!token->empty()) req.headers.emplace("Authorization", "Bearer " + *token);
    if (!content_type.empty()) {
      req.headers.emplace("Content-Type", content_type);
      req.body = body;
    }
    ++stats_.requests;
    auto conn = Acquire();
    httplib::Result result = conn->send(req);
    std::chrono::milliseconds wait = backoff;
    if (!result) {
      last = absl::UnavailableError(
          fmt::format("{}: {} ({})", what, httplib::to_string(result.error()), config_.server));
    } else {
      Response r{result->status, std::move(result->body), result->get_header_value("Retry-After")};
      Release(std::move(conn));
      if (r.status == 401 && (config_.exec || !config_.token_file.empty()) && !refreshed) {
        std::lock_guard<std::mutex> lock(token_mutex_);
        exec_token_.clear();
        file_token_read_.reset();
        refreshed = true;
        continue;
      }
      bool retry = r.status == 429 || r.status == 500 || r.status == 502 || r.status == 503 ||
                   r.status == 504;
      if (!retry) return r;
      if (r.status == 429) ++stats_.throttled;
      last = StatusFromHttp(r.status, r.body, what);
      if (int seconds = ParseIntOr(r.retry_after, -1); seconds >= 0) {
        wait = std::chrono::seconds(std::min(seconds, 60));
      }
    }
    if (attempt == options_.max_attempts) break;
    ++stats_.retries;
    // Full jitter on the exponential part; Retry-After is honoured as given.
    if (wait == backoff) {
      // Seeded once per thread: most requests are never retried, and seeding is not free.
      thread_local std::mt19937 jitter(std::random_device{}());
      wait = std::chrono::milliseconds(
          std::uniform_int_distribution<int64_t>(backoff.count() / 2, backoff.count())(jitter));
      backoff = std::min(backoff * 2, options_.max_backoff);
    }
    options_.sleep(wait);
  }
  ++stats_.errors;
  return last;
}

absl::StatusOr<Node> Client::DoObject(const std::string& method, const std::string& path,
                                      const std::string& body, const std::string& content_type,
                                      bool read) {
  absl::StatusOr<Response> r = Do(method, path, body, content_type);
  if (!r.ok()) return r.status();
  std::string what = fmt::format("{} {}", method, path);
  if (absl::Status s = StatusFromHttp(r->status, r->body, what); !s.ok()) return s;
  if (!read) return Node();
  return ParseJson(r->body, what);
}

absl::StatusOr<ListResult> Client::List(const ResourceType& type, const std::string& namespace_,
                                        const std::string& label_selector, int limit) {
  for (int restart = 0; restart < 3; ++restart) {
    ListResult out;
    std::string next;
    bool expired = false;
    do {
      std::string path = fmt::format("{}?limit={}", type.CollectionPath(namespace_), limit);
      if (!label_selector.empty()) path += "&labelSelector=" + UrlEncode(label_selector);
      if (!next.empty()) path += "&continue=" + UrlEncode(next);
      absl::StatusOr<Node> page = DoObject("GET", path, "", "");
      if (!page.ok()) {
        if (absl::IsOutOfRange(page.status()) && !next.empty()) {
          expired = true;  // the continue token expired: list again from the start
          break;
        }
        return page.status();
      }
      const Node* meta = page->Find("metadata");
      next = ScalarAt(meta, "continue");
      out.resource_version = ScalarAt(meta, "resourceVersion");
      if (Node* items = page->Find("items"); items && items->IsSequence()) {
        for (Node& item : items->items()) {
          // Items of a list omit apiVersion/kind; put them back, as client-go does.
          if (item.IsMapping() && !item.Find("kind")) {
            item.Set("apiVersion", Node::String(type.ApiVersion()));
            item.Set("kind", Node::String(type.kind));
          }
          out.items.push_back(std::move(item));
        }
      }
    } while (!next.empty());
    if (!expired) return out;
  }
  return absl::OutOfRangeError(fmt::format("listing {}: the list kept expiring", type.plural));
}

absl::StatusOr<Node> Client::Get(const ResourceType& type, const std::string& namespace_,
                                 const std::string& name) {
  return DoObject("GET", type.ObjectPath(namespace_, name), "", "");
}

absl::StatusOr<Node> Client::Apply(const ResourceType& type, const Node& object, bool force) {
  return ApplyAt(type, object, "", force, /*read=*/true);
}

absl::StatusOr<Node> Client::ApplyStatus(const ResourceType& type, const Node& object, bool force) {
  return ApplyAt(type, object, "/status", force, /*read=*/true);
}

absl::Status Client::ApplyUnread(const ResourceType& type, const Node& object, bool force) {
  return ApplyAt(type, object, "", force, /*read=*/false).status();
}

absl::Status Client::ApplyStatusUnread(const ResourceType& type, const Node& object, bool force) {
  return ApplyAt(type, object, "/status", force, /*read=*/false).status();
}

absl::StatusOr<Node> Client::ApplyAt(const ResourceType& type, const Node& object,
                                     std::string_view subresource, bool force, bool read) {
  const Node* meta = object.Find("metadata");
  std::string path =
      fmt::format("{}{}?fieldManager={}{}",
                  type.ObjectPath(ScalarAt(meta, "namespace"), ScalarAt(meta, "name")), subresource,
                  kFieldManager, force ? "&force=true" : "");
  return DoObject("PATCH", path, EmitJsonText(object), "application/apply-patch+yaml", read);
}

absl::StatusOr<Node> Client::Create(const ResourceType& type, const Node& object) {
  const Node* meta = object.Find("metadata");
  return DoObject("POST", type.CollectionPath(ScalarAt(meta, "namespace")), EmitJsonText(object),
                  "application/json");
}

absl::StatusOr<Node> Client::Update(const ResourceType& type, const Node& object) {
  const Node* meta = object.Find("metadata");
  return DoObject("PUT", type.ObjectPath(ScalarAt(meta, "namespace"), ScalarAt(meta, "name")),
                  EmitJsonText(object), "application/json");
}

absl::Status Client::UpdateUnread(const ResourceType& type, const Node& object) {
  const Node* meta = object.Find("metadata");
  return DoObject("PUT", type.ObjectPath(ScalarAt(meta, "namespace"), ScalarAt(meta, "name")),
                  EmitJsonText(object), "application/json", /*read=*/false)
      .status();
}

absl::Status Client::Delete(const ResourceType& type, const std::string& namespace_,
                            const std::string& name, const Preconditions& preconditions) {
  Node options = Node::Mapping();
  options.Add("apiVersion", Node::String("v1"));
  options.Add("kind", Node::String("DeleteOptions"));
  options.Add("propagationPolicy", Node::String("Background"));
  if (!preconditions.uid.empty() || !preconditions.resource_version.empty()) {
    Node p = Node::Mapping();
    if (!preconditions.uid.empty()) p.Add("uid", Node::String(preconditions.uid));
    if (!preconditions.resource_version.empty()) {
      p.Add("resourceVersion", Node::String(preconditions.resource_version));
    }
    options.Add("preconditions", std::move(p));
  }
  std::string path = type.ObjectPath(namespace_, name);
  absl::StatusOr<Response> r = Do("DELETE", path, EmitJsonText(options), "application/json");
  if (!r.ok()) return r.status();
  return StatusFromHttp(r->status, r->body, "DELETE " + path);
}

absl::Status Client::Watch(const ResourceType& type, const std::string& namespace_,
                           const WatchOptions& options,
                           const std::function<bool(WatchEvent&&)>& on_event) {
  if (stopped_) return absl::CancelledError("the client is stopped");
  std::string path = fmt::format("{}?watch=true&timeoutSeconds={}", type.CollectionPath(namespace_),
                                 options.timeout_seconds);
  if (!options.resource_version.empty()) {
    path += "&resourceVersion=" + UrlEncode(options.resource_version);
  }
  if (options.bookmarks) path += "&allowWatchBookmarks=true";
  if (!options.label_selector.empty()) {
    path += "&labelSelector=" + UrlEncode(options.label_selector);
  }
  Throttle();
  absl::StatusOr<std::string> token = BearerToken();
  if (!token.ok()) return token.status();
  std::unique_ptr<httplib::ClientImpl> conn = NewConnection(true);
  {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    watches_.push_back(conn.get());
  }
  int status = 0;
  std::string buffer, error_body;
  absl::Status outcome = absl::OkStatus();
  httplib::Request req;
  req.method = "GET";
  req.path = base_path_ + path;
  req.headers = {{"Accept", "application/json"}, {"User-Agent", options_.user_agent}};
  if (!token->empty()) req.headers.emplace("Authorization", "Bearer " + *token);
  req.response_handler = [&](const httplib::Response& res) {
    status = res.status;
    return true;
  };
  req.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
    if (status != 200) {
      error_body.append(data, length);
      return error_body.size() < (1 << 20);
    }
    buffer.append(data, length);
    size_t start = 0;
    while (true) {
      size_t nl = buffer.find('\n', start);
      if (nl == std::string::npos) break;
      std::string line = buffer.substr(start, nl - start);
      start = nl + 1;
      if (line.find_first_not_of(" \r\t") == std::string::npos) continue;
      absl::StatusOr<Node> event = ParseJson(line, "watch event");
      if (!event.ok()) {
        outcome = event.status();
        return false;
      }
      WatchEvent e;
      e.type = ScalarAt(&*event, "type");
      if (Node* obj = event->Find("object")) e.object = std::move(*obj);
      if (e.type == "ERROR") {
        int code = ParseIntOr(ScalarAt(&e.object, "code"), 500);
        outcome = StatusFromHttp(code, EmitJsonText(e.object), "watch " + type.plural);
        return false;
      }
      if (!on_event(std::move(e))) return false;
    }
    buffer.erase(0, start);
    return buffer.size() < (64u << 20);
  };
  ++stats_.requests;
  httplib::Result result = conn->send(req);
  {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    watches_.erase(std::remove(watches_.begin(), watches_.end(), conn.get()), watches_.end());
  }
  if (!outcome.ok()) return outcome;
  if (status != 0 && status != 200)
    return StatusFromHttp(status, error_body, "watch " + type.plural);
  if (stopped_) return absl::CancelledError("watch " + type.plural + ": stopped");
  if (!result && result.error() != httplib::Error::Canceled) {
    return absl::UnavailableError(
        fmt::format("watch {}: {}", type.plural, httplib::to_string(result.error())));
  }
  return absl::OkStatus();
}

void Client::Stop() {
  stopped_ = true;
  std::lock_guard<std::mutex> lock(watch_mutex_);
  for (httplib::ClientImpl* c : watches_) c->stop();
}

}  // namespace meshfed::kube
