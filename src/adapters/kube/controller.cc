#include "adapters/kube/controller.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <iostream>
#include <thread>

#include "codec/emitter.h"
#include "core/model/object.h"
#include "core/model/text.h"
#include "core/sync/plan.h"
#include "core/translate/names.h"
#include "core/translate/translator.h"
#include "core/validate/validate.h"

namespace meshfed::kube {
namespace {

std::string JsonString(const std::string& s) {
  std::string out;
  EmitJson(Node::String(s), out, -1);
  return out;
}

std::string Rfc3339(std::chrono::system_clock::time_point t, bool micro) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!micro) return std::string(buf) + "Z";
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() %
            1'000'000;
  return fmt::format("{}.{:06d}Z", buf, us);
}

std::optional<std::chrono::system_clock::time_point> ParseTime(const std::string& s) {
  std::tm tm{};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  auto t = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (*rest == '.') {
    ++rest;
    int64_t frac = 0, scale = 1'000'000;
    while (*rest >= '0' && *rest <= '9') {
      if (scale > 1) {
        scale /= 10;
        frac += (*rest - '0') * scale;
      }
      ++rest;
    }
    t += std::chrono::microseconds(frac);
  }
  return t;
}

bool HasFinalizer(const Node& o) {
  const Node* meta = o.Find("metadata");
  const Node* f = meta ? meta->Find("finalizers") : nullptr;
  if (!f || !f->IsSequence()) return false;
  for (const Node& item : f->items()) {
    if (item.IsScalar() && item.text() == kFinalizer) return true;
  }
  return false;
}

bool Deleting(const Node& o) { return !ScalarAt(&o, "metadata", "deletionTimestamp").empty(); }

std::string OwnerCacheKey(const Node& o) {
  return std::string(ScalarAt(&o, "metadata", "namespace")) + "/" +
         std::string(ScalarAt(&o, "metadata", "name"));
}

// Runs work(0) ... work(n - 1) on up to `workers` threads, each taking the next index as soon as
// it is done with one: a slow item holds up only its own thread.
void InParallel(size_t n, size_t workers, const std::function<void(size_t)>& work) {
  workers = std::min(workers, n);
  if (workers <= 1) {
    for (size_t i = 0; i < n; ++i) work(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (size_t t = 0; t < workers; ++t) {
    threads.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) work(i);
    });
  }
  for (std::thread& t : threads) t.join();
}

// Requests in flight at once, over all member clusters: writes wait on the network and the API
// servers, not on this process's CPU.
constexpr size_t kWriters = 16;

// Threads for work on this process's CPU alone (planning).
size_t Cores() { return std::max<size_t>(1, std::thread::hardware_concurrency()); }

const ResourceType* TypeOf(const Node& object) {
  std::string api_version(ScalarAt(&object, "apiVersion"));
  size_t slash = api_version.find('/');
  std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  return FindResource(group, ScalarAt(&object, "kind"));
}

}  // namespace

// ---- JSON logs ----

JsonLog::JsonLog(std::function<void(const std::string&)> sink) : sink_(std::move(sink)) {
  if (!sink_) sink_ = [](const std::string& line) { std::cerr << line << std::flush; };
}
void JsonLog::Info(const std::string& msg, const Fields& f) { Write("info", msg, f); }
void JsonLog::Warn(const std::string& msg, const Fields& f) { Write("warn", msg, f); }
void JsonLog::Error(const std::string& msg, const Fields& f) { Write("error", msg, f); }
void JsonLog::Write(const char* level, const std::string& msg, const Fields& fields) {
  std::string line = fmt::format("{{\"ts\":{},\"level\":\"{}\",\"msg\":{}",
                                 JsonString(Rfc3339(std::chrono::system_clock::now(), true)), level,
                                 JsonString(msg));
  for (const auto& [k, v] : fields) line += fmt::format(",{}:{}", JsonString(k), JsonString(v));
  line += "}\n";
  std::lock_guard<std::mutex> lock(mutex_);
  sink_(line);
}

// ---- Members ----

struct Controller::Member {
  std::string name;
  std::string context;
  std::unique_ptr<Client> client;
  std::vector<std::unique_ptr<Informer>> informers;
  std::string error;  // why it could not be connected

  bool Synced() const {
    if (!client) return false;
    for (const auto& i : informers) {
      if (!i->synced()) return false;
    }
    return true;
  }
  bool Healthy() const {
    if (!client) return false;
    for (const auto& i : informers) {
      if (!i->healthy()) return false;
    }
    return true;
  }
  Informer* For(std::string_view group, std::string_view kind) const {
    for (const auto& i : informers) {
      if (i->type().group == group && i->type().kind == kind) return i.get();
    }
    return nullptr;
  }
  void Stop() {
    if (client) client->Stop();
    for (auto& i : informers) i->Stop();
  }
};

Controller::Controller(ControllerOptions options)
    : options_(std::move(options)), log_(options_.log_sink) {
  if (options_.identity.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    options_.identity = fmt::format("{}-{}", host, getpid());
  }
}

Controller::~Controller() { Stop(); }

std::string Controller::Now() const {
  return options_.now ? options_.now() : Rfc3339(std::chrono::system_clock::now(), false);
}

absl::Status Controller::Start() {
  absl::StatusOr<RestConfig> config = options_.resolve(options_.fleet_context);
  if (!config.ok()) return config.status();
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(*config, options_.client_options);
  if (!client.ok()) return client.status();
  fleet_client_ = std::move(*client);
  log_.Info("starting", {{"fleet", config->Describe()}, {"identity", options_.identity}});
  mesh_clusters_ = std::make_unique<Informer>(
      *fleet_client_, MeshClusterResource(), [this] { OnChange(); },
      [this](const std::string& m) {
        log_.Warn(m, {{"cluster", "fleet"}});
      });
  mesh_clusters_->Start();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  reconcile_thread_ = std::thread([this] { ReconcileLoop(); });
  if (options_.leader_election) {
    lease_thread_ = std::thread([this] { LeaseLoop(); });
  } else {
    leader_ = true;
  }
  return absl::OkStatus();
}

void Controller::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && !reconcile_thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (lease_thread_.joinable()) lease_thread_.join();
  if (reconcile_thread_.joinable()) reconcile_thread_.join();
  if (leader_ && options_.leader_election) ReleaseLease();
  leader_ = false;
  if (fleet_client_) fleet_client_->Stop();
  if (mesh_clusters_) mesh_clusters_->Stop();
  std::lock_guard<std::mutex> lock(members_mutex_);
  for (auto& [name, m] : members_) m->Stop();
  members_.clear();
  log_.Info("stopped");
}

void Controller::OnChange() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    ++change_generation_;
    if (!pending_) {
      pending_ = true;
      first_pending_ = now;
    }
    last_change_ = now;
  }
  cv_.notify_all();
}

bool Controller::WaitForIdle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] {
    if (pending_ || reconciled_generation_ != change_generation_ || last_reconcile_wrote_) {
      return false;
    }
    return ready();
  });
}

bool Controller::WaitForLeader(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] { return leader_.load(); });
}

bool Controller::ready() const {
  if (!mesh_clusters_ || !mesh_clusters_->synced()) return false;
  std::lock_guard<std::mutex> lock(members_mutex_);
  if (members_.empty()) return !mesh_clusters_->Snapshot().size();
  for (const auto& [name, m] : members_) {
    if (!m->Synced()) return false;
  }
  return true;
}

void Controller::ReconcileLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (!pending_) {
      auto wake = retry_scheduled_ ? retry_at_ : std::chrono::steady_clock::now() + options_.resync;
      if (cv_.wait_until(lock, wake) == std::cv_status::timeout && !stopping_ && !pending_) {
        pending_ = true;  // a retry, or the periodic resync
        retry_scheduled_ = false;
        first_pending_ = last_change_ = std::chrono::steady_clock::now() - options_.max_delay;
      }
      continue;
    }
    auto due = std::min(last_change_ + options_.debounce, first_pending_ + options_.max_delay);
    if (std::chrono::steady_clock::now() < due) {
      cv_.wait_until(lock, due);
      continue;
    }
    uint64_t generation = change_generation_;
    pending_ = false;
    lock.unlock();
    Reconcile();
    lock.lock();
    reconciled_generation_ = generation;
    cv_.notify_all();
  }
}

void Controller::SyncMembers(const std::vector<Node>& mesh_clusters) {
  std::map<std::string, std::string> wanted;  // name -> context
  for (const Node& mc : mesh_clusters) {
    std::string name(ScalarAt(&mc, "metadata", "name"));
    const Node* spec = mc.Find("spec");
    std::string context(ScalarAt(spec ? spec->Find("kubeconfig") : nullptr, "context"));
    wanted[name] = context.empty() ? name : context;
  }
  std::lock_guard<std::mutex> lock(members_mutex_);
  for (auto it = members_.begin(); it != members_.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end() || w->second != it->second->context) {
      log_.Info("member cluster removed", {{"cluster", it->first}});
      it->second->Stop();
      it = members_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [name, context] : wanted) {
    if (members_.count(name) && members_[name]->client) continue;
    auto m = std::make_unique<Member>();
    m->name = name;
    m->context = context;
    absl::StatusOr<RestConfig> config = options_.resolve(context);
    absl::StatusOr<std::unique_ptr<Client>> client =
        config.ok() ? Client::Create(*config, options_.client_options)
                    : absl::StatusOr<std::unique_ptr<Client>>(config.status());
    if (!client.ok()) {
      m->error = std::string(client.status().message());
      log_.Error("cannot connect to a member cluster", {{"cluster", name}, {"error", m->error}});
      members_[name] = std::move(m);
      continue;
    }
    m->client = std::move(*client);
    for (const ResourceType& t : WatchedResources()) {
      m->informers.push_back(std::make_unique<Informer>(
          *m->client, t, [this] { OnChange(); },
          [this, cluster = name](const std::string& msg) {
            log_.Warn(msg, {{"cluster", cluster}});
          }));
    }
    for (auto& i : m->informers) i->Start();
    log_.Info("member cluster connected", {{"cluster", name}, {"server", config->server}});
    members_[name] = std::move(m);
  }
}

// What one reconcile did: writes and failures, and the write expectations it looked at.
struct Controller::Pass {
  uint64_t writes = 0;
  uint64_t failures = 0;  // failed writes and clusters skipped: the reconcile must run again
  std::set<std::string> still_expected;  // written; the watch has not shown it yet
  std::set<std::string> considered;      // expectations this pass decided about
};

void Controller::Reconcile() {
  auto started = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(counters_mutex_);
    ++counters_.reconciles;
  }
  Pass pass;
  auto finish = [&] {
    if (pass.failures > 0) need_full_ = true;
    std::lock_guard<std::mutex> lock(mutex_);
    last_reconcile_wrote_ = pass.writes > 0 || pass.failures > 0;
    if (pass.failures > 0) {
      retry_scheduled_ = true;
      retry_at_ = std::chrono::steady_clock::now() + retry_backoff_;
      retry_backoff_ = std::min(retry_backoff_ * 2, std::chrono::milliseconds(10'000));
    } else {
      retry_scheduled_ = false;
      retry_backoff_ = std::chrono::milliseconds(100);
    }
  };
  if (!mesh_clusters_->synced()) {
    finish();
    return;
  }
  std::vector<Node> mesh;
  for (const Informer::Object& mc : mesh_clusters_->Snapshot()) mesh.push_back(*mc);
  // What the translation and the members read of the MeshClusters: names and specs. Their
  // status (the Connected condition this controller writes) and versions are not inputs.
  std::string mesh_text;
  for (const Node& mc : mesh) {
    mesh_text += ScalarAt(&mc, "metadata", "name");
    mesh_text += '\n';
    if (const Node* spec = mc.Find("spec")) mesh_text += CanonicalText(*spec);
    mesh_text += '\n';
  }
  if (mesh_text != mesh_text_) need_full_ = true;
  SyncMembers(mesh);
  bool full =
      need_full_ || !engine_ || std::chrono::steady_clock::now() - last_full_ >= options_.resync;
  {
    std::lock_guard<std::mutex> lock(members_mutex_);
    for (const auto& [name, m] : members_) {
      if (!m->Synced() || !m->Healthy()) full = true;
    }
  }
  const char* mode = full ? "full" : "incremental";
  Timing timing;
  if (full) {
    mesh_text_ = std::move(mesh_text);
    need_full_ = false;
    {
      std::lock_guard<std::mutex> lock(counters_mutex_);
      ++counters_.full_reconciles;
    }
    FullReconcile(mesh, pass, timing);
  } else {
    IncrementalReconcile(mesh, pass, timing);
  }
  if (std::getenv("MESHFED_TIMING")) {  // phases of a reconcile, for docs/performance.md
    auto now = std::chrono::steady_clock::now();
    auto ms = [](auto a, auto b) {
      return std::chrono::duration<double, std::milli>(b - a).count();
    };
    if (timing.snapshot == std::chrono::steady_clock::time_point{}) timing.snapshot = started;
    if (timing.checked == std::chrono::steady_clock::time_point{}) timing.checked = timing.snapshot;
    std::string split;  // of a full reconcile's check: reading and validating, translating
    if (timing.validated != std::chrono::steady_clock::time_point{}) {
      split =
          fmt::format(" (read and validate {:.0f}, translate {:.0f})",
                      ms(timing.snapshot, timing.validated), ms(timing.validated, timing.checked));
    }
    if (timing.planned == std::chrono::steady_clock::time_point{}) timing.planned = timing.checked;
    std::fprintf(stderr,
                 "reconcile (%s): snapshot %.0f ms, check %.0f ms%s, plan %.0f ms, write %.0f ms; "
                 "%llu writes, %llu failures\n",
                 mode, ms(started, timing.snapshot), ms(timing.snapshot, timing.checked),
                 split.c_str(), ms(timing.checked, timing.planned), ms(timing.planned, now),
                 static_cast<unsigned long long>(pass.writes),
                 static_cast<unsigned long long>(pass.failures));
  }
  {
    std::lock_guard<std::mutex> lock(counters_mutex_);
    counters_.writes += pass.writes;
  }
  if (pass.writes > 0) {
    log_.Info(
        "reconciled",
        {{"mode", mode},
         {"writes", std::to_string(pass.writes)},
         {"seconds",
          fmt::format(
              "{:.3f}",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count())}});
  }
  finish();
}

void Controller::ForgetExpectations(const Pass& pass, bool all) {
  // Expectations the caches have caught up with are done.
  for (auto it = expected_.begin(); it != expected_.end();) {
    bool decided = all || pass.considered.count(it->first);
    it = decided && !pass.still_expected.count(it->first) ? expected_.erase(it) : std::next(it);
  }
}

bool Controller::Expected(const std::string& key, const std::string& expectation, Pass& pass) {
  pass.considered.insert(key);
  auto it = expected_.find(key);
  if (it == expected_.end() || it->second != expectation) return false;
  pass.still_expected.insert(key);
  return true;
}

void Controller::Written(const std::string& key, std::string expectation, Pass& pass) {
  pass.considered.insert(key);
  expected_[key] = std::move(expectation);
  pass.still_expected.insert(key);
}

// Carries out the plans, kWriters writes at a time (below: how they are shared out).
void Controller::WritePlans(std::vector<std::pair<Member*, ClusterPlan>>& plans, Pass& pass) {
  struct Work {
    Member* member = nullptr;
    std::vector<const Change*> changes;
    std::vector<std::string> keys, expectations;
    std::vector<char> written;  // by change: set by the one thread that wrote it
    const ResourceType* Type(size_t i) const {
      const Change& c = *changes[i];
      return TypeOf(c.kind == Change::Kind::Delete ? c.live : c.desired);
    }
  };
  std::vector<Work> work;
  for (auto& [member, plan] : plans) {
    Member& m = *member;
    Work w;
    w.member = &m;
    for (const Change& c : plan.changes) {
      std::string key = m.name + "|" + c.key;
      if (c.kind == Change::Kind::Conflict) {
        std::lock_guard<std::mutex> lock(counters_mutex_);
        ++counters_.conflicts;
        continue;
      }
      if (!TypeOf(c.kind == Change::Kind::Delete ? c.live : c.desired)) continue;
      std::string expectation = c.kind == Change::Kind::Delete ? "deleted" : c.applied_hash;
      if (Expected(key, expectation, pass)) continue;
      w.changes.push_back(&c);
      w.keys.push_back(std::move(key));
      w.expectations.push_back(std::move(expectation));
    }
    w.written.assign(w.changes.size(), 0);
    if (!w.changes.empty()) work.push_back(std::move(w));
  }
  // The writers take runs of one cluster's writes from one queue, the clusters in turn. There
  // are twice as many runs as writers, so that a cluster with many writes is written over
  // several connections at once (a fleet of a few large clusters) while most clusters have one
  // writer at a time, and writers are busy until close to the last write. The order of one
  // cluster's writes does not matter: each is of its own object.
  struct Run {
    Work* work;
    size_t begin, end;
  };
  std::vector<Run> runs;
  if (!work.empty()) {
    size_t per_cluster = (2 * kWriters + work.size() - 1) / work.size();
    for (size_t r = 0; r < per_cluster; ++r) {
      for (Work& w : work) {
        size_t n = w.changes.size(), size = (n + per_cluster - 1) / per_cluster;
        size_t begin = std::min(n, r * size), end = std::min(n, begin + size);
        if (begin < end) runs.push_back({&w, begin, end});
      }
    }
  }
  auto write = [&](Work* w, size_t i) {
    Member& m = *w->member;
    const Change& c = *w->changes[i];
    const ResourceType& type = *w->Type(i);
    auto t0 = std::chrono::steady_clock::now();
    absl::Status s;
    if (c.kind == Change::Kind::Delete) {
      s = m.client->Delete(type, std::string(ScalarAt(&c.live, "metadata", "namespace")),
                           std::string(ScalarAt(&c.live, "metadata", "name")),
                           {std::string(ScalarAt(&c.live, "metadata", "uid")), ""});
      if (absl::IsNotFound(s)) s = absl::OkStatus();
    } else {
      s = m.client->ApplyUnread(type, c.ToApply());  // made here, freed once sent
    }
    {
      std::lock_guard<std::mutex> lock(counters_mutex_);
      apply_seconds_[m.name] += std::chrono::steady_clock::now() - t0;
      ++apply_count_[m.name];
      if (!s.ok()) ++counters_.reconcile_errors;
    }
    if (!s.ok()) {
      log_.Error("write failed",
                 {{"cluster", m.name}, {"object", c.key}, {"error", std::string(s.message())}});
      return;
    }
    w->written[i] = 1;
    log_.Info(c.kind == Change::Kind::Delete ? "deleted" : "applied",
              {{"cluster", m.name}, {"object", c.key}, {"reason", c.reason}});
  };
  InParallel(runs.size(), kWriters, [&](size_t r) {
    for (size_t i = runs[r].begin; i < runs[r].end; ++i) write(runs[r].work, i);
  });
  for (const Work& w : work) {
    for (size_t i = 0; i < w.changes.size(); ++i) {
      if (!w.written[i]) {
        ++pass.failures;
        continue;
      }
      ++pass.writes;
      Written(w.keys[i], w.expectations[i], pass);
    }
  }
}

std::optional<Controller::StatusWrite> Controller::PlanStatus(Client& client,
                                                              const ResourceType& type,
                                                              const std::string& namespace_,
                                                              const std::string& name, Node status,
                                                              const std::string& key, Pass& pass) {
  std::string expectation = CanonicalText(status);
  if (Expected(key, expectation, pass)) return std::nullopt;
  return StatusWrite{
      &client, &type, namespace_, name, std::move(status), key, std::move(expectation)};
}

std::optional<Controller::StatusWrite> Controller::PlanOwnerStatus(Member& m, const StatusOutput& s,
                                                                   Pass& pass) {
  const Node* meta = s.object.Find("metadata");
  const ResourceType* type = TypeOf(s.object);
  Informer* informer = type ? m.For(type->group, type->kind) : nullptr;
  if (!informer || !s.object.Find("status")) return std::nullopt;
  Informer::Object live_object = informer->Get(std::string(ScalarAt(meta, "namespace")) + "/" +
                                               std::string(ScalarAt(meta, "name")));
  if (!live_object || Deleting(*live_object)) return std::nullopt;
  std::optional<Node> status = StatusToWrite(*s.object.Find("status"), *live_object, Now());
  std::string key = fmt::format("{}|status|{}/{}/{}", m.name, type->kind,
                                ScalarAt(meta, "namespace"), ScalarAt(meta, "name"));
  if (!status) {
    pass.considered.insert(key);
    return std::nullopt;
  }
  return PlanStatus(*m.client, *type, std::string(ScalarAt(meta, "namespace")),
                    std::string(ScalarAt(meta, "name")), std::move(*status), key, pass);
}

// An SEP's or RSB's status lists every entry (an RSB binding a thousand services, a thousand),
// and the API server takes a while over each: one cluster's statuses do not wait for another's.
void Controller::WriteStatuses(std::vector<StatusWrite>& writes, Pass& pass) {
  std::vector<std::vector<StatusWrite*>> by_client;
  std::map<Client*, size_t> index;
  for (StatusWrite& w : writes) {
    auto [it, added] = index.try_emplace(w.client, by_client.size());
    if (added) by_client.emplace_back();
    by_client[it->second].push_back(&w);
  }
  std::vector<absl::Status> results(writes.size());
  InParallel(by_client.size(), kWriters, [&](size_t c) {
    for (StatusWrite* w : by_client[c]) {
      Node object = Node::Mapping();
      object.Add("apiVersion", Node::String(w->type->ApiVersion()));
      object.Add("kind", Node::String(w->type->kind));
      Node md = Node::Mapping();
      md.Add("name", Node::String(w->name));
      if (!w->namespace_.empty()) md.Add("namespace", Node::String(w->namespace_));
      object.Add("metadata", std::move(md));
      object.Add("status", std::move(w->status));
      results[static_cast<size_t>(w - writes.data())] =
          w->client->ApplyStatusUnread(*w->type, object);
    }
  });
  for (size_t i = 0; i < writes.size(); ++i) {
    if (!results[i].ok()) {
      ++pass.failures;
      log_.Error("status write failed",
                 {{"object", writes[i].key}, {"error", std::string(results[i].message())}});
      continue;
    }
    ++pass.writes;
    Written(writes[i].key, std::move(writes[i].expectation), pass);
  }
}

// Each member's connection, on its MeshCluster in the fleet cluster (condition Connected).
void Controller::WriteMemberConditions(const std::vector<Node>& mesh, Pass& pass) {
  std::vector<StatusWrite> writes;
  for (const Node& mc : mesh) {
    std::string name(ScalarAt(&mc, "metadata", "name"));
    auto mit = members_.find(name);
    if (mit == members_.end()) continue;
    const Member& m = *mit->second;
    std::string reason = "Connected", message = "every watch works";
    bool connected = m.Healthy();
    if (!m.client) {
      reason = "NotConfigured";
      message = m.error;
    } else if (!connected) {
      reason = "Unreachable";
      for (const auto& i : m.informers) {
        if (!i->healthy() && message == "every watch works") message = i->last_error();
      }
    }
    Node condition = Node::Mapping();
    condition.Add("type", Node::String("Connected"));
    condition.Add("status", Node::String(connected ? "True" : "False"));
    condition.Add("reason", Node::String(reason));
    condition.Add("message", Node::String(message));
    Node desired = Node::Mapping();
    Node conditions = Node::Sequence();
    conditions.Append(std::move(condition));
    desired.Add("conditions", std::move(conditions));
    std::optional<Node> status = StatusToWrite(desired, mc, Now());
    std::string key = "fleet|status|MeshCluster/" + name;
    if (!status) {
      pass.considered.insert(key);
      continue;
    }
    if (auto w = PlanStatus(*fleet_client_, MeshClusterResource(), "", name, std::move(*status),
                            key, pass)) {
      writes.push_back(std::move(*w));
    }
  }
  WriteStatuses(writes, pass);
}

// The finalizer of an SEP/RSB: added to every one; removed from one being deleted once nothing
// it generated is left in its cluster's caches.
void Controller::SyncFinalizer(Member& m, const Node& o, Pass& pass) {
  const std::string& cluster = m.name;
  const ResourceType* type = TypeOf(o);
  if (!type) return;
  bool deleting = Deleting(o);
  bool has = HasFinalizer(o);
  std::string key =
      fmt::format("{}|finalizer|{}/{}/{}", cluster, type->kind,
                  ScalarAt(&o, "metadata", "namespace"), ScalarAt(&o, "metadata", "name"));
  if (deleting != has) {
    pass.considered.insert(key);
    return;
  }
  if (deleting &&
      Remaining(m, fmt::format("{}/{}/{}", type->kind, ScalarAt(&o, "metadata", "namespace"),
                               ScalarAt(&o, "metadata", "name")))) {
    pass.considered.insert(key);
    return;
  }
  auto without_ours = [&](Node object) {
    Node* meta = object.Find("metadata");
    Node finalizers = Node::Sequence();
    if (const Node* f = meta->Find("finalizers"); f && f->IsSequence()) {
      for (const Node& item : f->items()) {
        if (!(item.IsScalar() && item.text() == kFinalizer)) finalizers.Append(item);
      }
    }
    if (!deleting) finalizers.Append(Node::String(kFinalizer));
    meta->Set("finalizers", std::move(finalizers));
    object.Erase("status");
    return object;
  };
  std::string expectation = deleting ? "removed" : "added";
  if (Expected(key, expectation, pass)) return;
  absl::Status w = m.client->UpdateUnread(*type, without_ours(o));
  if (absl::IsAborted(w)) {
    // The cache is behind: read the object and try once more on its latest version (as
    // client-go's RetryOnConflict), rather than waiting for the watch. The update is recomputed
    // from the latest object, never the stale one (a PUT of a stale copy would undo whatever
    // changed meanwhile).
    absl::StatusOr<Node> latest =
        m.client->Get(*type, std::string(ScalarAt(&o, "metadata", "namespace")),
                      std::string(ScalarAt(&o, "metadata", "name")));
    if (latest.ok() && HasFinalizer(*latest) == deleting) {
      w = m.client->UpdateUnread(*type, without_ours(*latest));
    } else if (latest.ok()) {
      w = absl::OkStatus();  // already as wanted; the watch has not shown it yet
    }
  }
  if (w.ok() || absl::IsNotFound(w)) {
    ++pass.writes;
    Written(key, expectation, pass);
  } else {
    ++pass.failures;  // a conflict (409): the next reconcile sees the new version
    if (absl::IsAborted(w)) {
      log_.Warn("finalizer update conflict; retrying",
                {{"cluster", cluster}, {"object", key}, {"error", std::string(w.message())}});
    } else {
      log_.Error("finalizer update failed",
                 {{"cluster", cluster}, {"object", key}, {"error", std::string(w.message())}});
    }
  }
}

// The error diagnostics of `diagnostics`, by object ("cluster|Kind|namespace|name").
static std::map<std::string, std::vector<std::string>> ErrorsByObject(
    const Diagnostics& diagnostics) {
  std::map<std::string, std::vector<std::string>> out;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity != Severity::Error) continue;
    out[fmt::format("{}|{}|{}|{}", d.object.cluster, d.object.kind, d.object.namespace_,
                    d.object.name)]
        .push_back(d.Format());
  }
  return out;
}

// Every cache, through the translator from scratch; the translator is kept for the incremental
// reconciles that follow. Plans every cluster in full.
void Controller::FullReconcile(const std::vector<Node>& mesh, Pass& pass, Timing& timing) {
  engine_.reset();
  desired_.clear();
  input_errors_.clear();
  // A snapshot of every cache, as a fleet source. Until every member has been read once, no
  // write is safe: a cluster whose objects are unknown would look like one without any.
  FleetSource source;
  Diagnostics read;
  next_order_ = 0;
  AppendObjects(mesh, "fleet/meshclusters", next_order_, source.mesh_clusters, read);
  // cluster -> objects of generated kinds
  std::map<std::string, std::vector<const Node*>> live;
  std::vector<std::pair<std::string, Informer::Object>> owners;  // SEPs, RSBs (cluster, object)
  std::vector<Informer::Object> held;                            // what `live` points into
  {
    std::lock_guard<std::mutex> lock(members_mutex_);
    // Nothing is copied until every member is ready: at a cold start the others are still
    // listing, and copies made now would be thrown away (and slow their lists down).
    std::vector<std::string> not_ready;
    for (const auto& [name, m] : members_) {
      if (!m->Synced()) not_ready.push_back(name);
    }
    if (!not_ready.empty()) {
      log_.Info("waiting for member clusters",
                {{"clusters", fmt::format("{}", fmt::join(not_ready, ","))}});
      need_full_ = true;
      return;
    }
    for (const auto& [name, m] : members_) {
      std::vector<Node> objects;
      for (const auto& informer : m->informers) {
        informer->DrainChanges();  // all of it is read now
        for (Informer::Object& o : informer->Snapshot()) {
          bool owner_kind = informer->type().group == kMulticlusterGroup;
          if (owner_kind) owners.emplace_back(name, o);
          // A shared value: the copy refers to the cache's tree (Informer::Object).
          if (!OwnerBeingDeleted(informer->type(), *o)) objects.push_back(*o);
          if (GeneratedKind(informer->type())) {
            live[name].push_back(o.get());
            held.push_back(std::move(o));
          }
        }
      }
      AppendObjects(std::move(objects), name + " (live)", next_order_, source.cluster_objects[name],
                    read);
    }
  }
  timing.snapshot = std::chrono::steady_clock::now();
  // The checks of every command (CheckFleet) but the fleet analyzers, whose findings are
  // warnings the controller has no use for: reading, the Istio schema and webhook rules.
  Fleet fleet = BuildFleet(std::move(source), read);
  ValidateObjects(fleet, read);
  if (HasErrors(read)) {
    SortDiagnostics(read);
    size_t n = 0;
    for (const Diagnostic& d : read) {
      if (d.severity == Severity::Error && n++ < 20) log_.Error(d.Format());
    }
    log_.Error("input errors: nothing is written until they are fixed",
               {{"errors", std::to_string(n)}});
    std::lock_guard<std::mutex> lock(counters_mutex_);
    ++counters_.reconcile_errors;
    need_full_ = true;
    return;
  }
  timing.validated = std::chrono::steady_clock::now();
  engine_ = std::make_unique<IncrementalTranslator>(std::move(fleet));
  Translation translation = engine_->Current();
  timing.checked = std::chrono::steady_clock::now();
  last_full_ = timing.checked;
  if (!leader_) {
    need_full_ = true;  // a new leader starts with a full reconcile
    engine_.reset();
    return;
  }

  std::unique_lock<std::mutex> members_lock(members_mutex_);
  std::vector<std::pair<Member*, ClusterPlan>> plans;
  struct ToPlan {
    ClusterOutput* out;
    const std::vector<const Node*>* live;
    std::map<std::string, Node>* desired;
  };
  std::vector<ToPlan> to_plan;
  static const std::vector<const Node*> kNone;
  for (ClusterOutput& out : translation.clusters) {
    auto mit = members_.find(out.cluster);
    if (mit == members_.end()) continue;
    Member& m = *mit->second;
    if (!m.Healthy()) {
      log_.Warn("cluster unreachable: not written this time", {{"cluster", m.name}});
      ++pass.failures;
      continue;
    }
    auto lit = live.find(out.cluster);
    plans.emplace_back(&m, ClusterPlan());
    to_plan.push_back({&out, lit == live.end() ? &kNone : &lit->second, &desired_[out.cluster]});
  }
  // Each cluster's plan is its own (PlanCluster reads only its arguments).
  InParallel(to_plan.size(), Cores(), [&](size_t i) {
    ToPlan& p = to_plan[i];
    std::vector<const Node*> desired_objects;
    desired_objects.reserve(p.out->objects.size());
    for (const Node& o : p.out->objects) desired_objects.push_back(&o);
    plans[i].second = PlanCluster(desired_objects, *p.live);
    for (Node& o : p.out->objects) {
      std::string key = ObjectKey(o);
      p.desired->emplace(std::move(key), std::move(o));
    }
  });
  timing.planned = std::chrono::steady_clock::now();
  WritePlans(plans, pass);
  // Finalizers before statuses: a finalizer is an update of the cached version, which a status
  // written first would have made stale (a conflict, then a read and a second update).
  for (const auto& [cluster, o] : owners) {
    auto mit = members_.find(cluster);
    if (mit == members_.end() || !mit->second->Healthy()) continue;
    if (Deleting(*o)) deleting_owners_.insert({cluster, OwnerCacheKey(*o)});
    SyncFinalizer(*mit->second, *o, pass);
  }
  std::vector<StatusWrite> statuses;
  for (const StatusOutput& s : translation.statuses) {
    auto mit = members_.find(s.cluster);
    if (mit == members_.end() || !mit->second->Healthy()) continue;
    if (auto w = PlanOwnerStatus(*mit->second, s, pass)) statuses.push_back(std::move(*w));
  }
  WriteStatuses(statuses, pass);
  WriteMemberConditions(mesh, pass);
  members_lock.unlock();
  ForgetExpectations(pass, /*all=*/true);
}

// True when the translator's fleet holds a user's object (not meshfed's) with this identity.
bool Controller::UserObjectAt(const std::string& cluster, const ResourceType& type,
                              const std::string& namespace_, const std::string& name) const {
  const Cluster* c = engine_->fleet().Find(cluster);
  const Object* o = c ? c->FindObject(type.group, type.kind, namespace_, name) : nullptr;
  return o && !o->ManagedByMeshfed();
}

// What changed since the last reconcile, through the kept translator: only the objects that
// changed are read, only what depends on them is translated again, and only the generated
// objects that changed (or whose live copies changed) are planned.
void Controller::IncrementalReconcile(const std::vector<Node>& mesh, Pass& pass, Timing& timing) {
  std::vector<ObjectChange> changes;
  std::map<std::string, std::set<std::string>> live_changed;  // cluster -> ObjectKey
  struct Owner {
    Member* member;
    Informer* informer;
    std::string key;  // namespace/name
  };
  std::vector<Owner> owners;  // SEPs/RSBs whose live copy changed
  Diagnostics found;
  std::unique_lock<std::mutex> members_lock(members_mutex_);
  for (const auto& [name, m] : members_) {
    for (const auto& informer : m->informers) {
      const ResourceType& type = informer->type();
      bool owner_kind = type.group == kMulticlusterGroup;
      for (const std::string& key : informer->DrainChanges()) {
        size_t slash = key.find('/');
        std::string ns = key.substr(0, slash), object_name = key.substr(slash + 1);
        if (GeneratedKind(type)) {
          live_changed[name].insert(
              fmt::format("{}/{}/{}/{}", type.group, type.kind, ns, object_name));
        }
        if (owner_kind) owners.push_back({m.get(), informer.get(), key});
        Informer::Object now = informer->Get(key);
        if (now && OwnerBeingDeleted(type, *now)) now = nullptr;
        // What meshfed generated is output, not input: while neither this version nor the one
        // the translator holds is a user's object, the translation cannot change (typically
        // our own writes coming back). Such changes are only planned.
        if (GeneratedKind(type) && (!now || Managed(*now)) &&
            !UserObjectAt(name, type, ns, object_name)) {
          continue;
        }
        ObjectChange change;
        change.cluster = name;
        if (now) {
          std::vector<Object> read;
          AppendObjects({*now}, name + " (live)", next_order_, read, found);
          if (read.empty()) continue;
          change.object = std::move(read.front());
        } else {
          change.removed = true;
          change.object.group = type.group;
          change.object.kind = type.kind;
          change.object.namespace_ = ns;
          change.object.name = object_name;
        }
        changes.push_back(std::move(change));
      }
    }
  }
  timing.snapshot = std::chrono::steady_clock::now();
  // Input errors by object: those of the changed objects replace what they had.
  for (const ObjectChange& c : changes) {
    input_errors_.erase(
        fmt::format("{}|{}|{}|{}", c.cluster, c.object.kind, c.object.namespace_, c.object.name));
    if (!c.removed) ValidateObject(c.object, c.cluster, found);
  }
  TranslationDelta delta = engine_->Apply(std::move(changes), found);
  for (auto& [object, errors] : ErrorsByObject(found)) input_errors_[object] = std::move(errors);
  timing.checked = std::chrono::steady_clock::now();
  if (!input_errors_.empty()) {
    size_t n = 0;
    for (const auto& [object, errors] : input_errors_) {
      for (const std::string& e : errors) {
        if (n++ < 20) log_.Error(e);
      }
    }
    log_.Error("input errors: nothing is written until they are fixed",
               {{"errors", std::to_string(n)}});
    std::lock_guard<std::mutex> lock(counters_mutex_);
    ++counters_.reconcile_errors;
    need_full_ = true;  // once fixed, everything held back is written
    return;
  }
  if (!leader_) {
    need_full_ = true;
    return;
  }

  // The generated objects to plan: those the translation changed, and those whose live copy
  // changed (a write of ours coming back, or someone else's edit).
  std::map<std::string, std::set<std::string>> keys = std::move(live_changed);
  for (auto& [cluster, o] : delta.applied) {
    std::string key = ObjectKey(o);
    keys[cluster].insert(key);
    desired_[cluster][key] = std::move(o);
  }
  for (const auto& [cluster, o] : delta.removed) {
    std::string key = ObjectKey(o);
    keys[cluster].insert(key);
    desired_[cluster].erase(key);
  }
  std::vector<std::pair<Member*, ClusterPlan>> plans;
  struct ToPlan {
    std::vector<const Node*> desired, live_objects;
    std::vector<Informer::Object> live;  // what live_objects points into
  };
  std::vector<ToPlan> to_plan;
  for (const auto& [cluster, cluster_keys] : keys) {
    auto mit = members_.find(cluster);
    if (mit == members_.end()) continue;
    Member& m = *mit->second;
    ToPlan p;
    p.live.reserve(cluster_keys.size());
    const auto& wanted = desired_[cluster];
    for (const std::string& key : cluster_keys) {
      // Decided here, whether or not it needs a write: an expectation left from an earlier write
      // is done once the cache shows it (or it would hide a later drift back to the old value).
      pass.considered.insert(m.name + "|" + key);
      if (auto it = wanted.find(key); it != wanted.end()) p.desired.push_back(&it->second);
      // group/kind/namespace/name; the cache's key is namespace/name.
      size_t a = key.find('/'), b = key.find('/', a + 1);
      Informer* informer = m.For(key.substr(0, a), key.substr(a + 1, b - a - 1));
      if (!informer) continue;
      if (Informer::Object o = informer->Get(key.substr(b + 1))) p.live.push_back(std::move(o));
    }
    for (const Informer::Object& o : p.live) p.live_objects.push_back(o.get());
    plans.emplace_back(&m, ClusterPlan());
    to_plan.push_back(std::move(p));
  }
  InParallel(to_plan.size(), Cores(), [&](size_t i) {
    plans[i].second = PlanCluster(to_plan[i].desired, to_plan[i].live_objects);
  });
  timing.planned = std::chrono::steady_clock::now();
  WritePlans(plans, pass);

  // Statuses: those the translation changed, and those of SEPs/RSBs whose live copy changed;
  // written after the finalizers (as in FullReconcile).
  std::vector<std::pair<Member*, const StatusOutput*>> owner_statuses;
  for (const StatusOutput* s : delta.statuses) {
    auto mit = members_.find(s->cluster);
    if (mit != members_.end()) owner_statuses.emplace_back(mit->second.get(), s);
  }
  for (const Owner& owner : owners) {
    Informer::Object o = owner.informer->Get(owner.key);
    if (!o) continue;
    Member& m = *owner.member;
    const ResourceType& type = owner.informer->type();
    if (const StatusOutput* status =
            engine_->Status(m.name, fmt::format("{}/{}/{}/{}", type.group, type.kind,
                                                ScalarAt(&*o, "metadata", "namespace"),
                                                ScalarAt(&*o, "metadata", "name")))) {
      owner_statuses.emplace_back(&m, status);
    }
    if (Deleting(*o)) deleting_owners_.insert({m.name, owner.key});
    SyncFinalizer(m, *o, pass);
  }
  // SEPs/RSBs being deleted: their finalizer goes once the last generated object is gone.
  for (auto it = deleting_owners_.begin(); it != deleting_owners_.end();) {
    auto mit = members_.find(it->first);
    Informer::Object o;
    if (mit != members_.end()) {
      for (const auto& informer : mit->second->informers) {
        if (informer->type().group != kMulticlusterGroup) continue;
        if (auto found_here = informer->Get(it->second); found_here && Deleting(*found_here)) {
          o = std::move(found_here);
        }
      }
    }
    if (!o) {
      it = deleting_owners_.erase(it);
      continue;
    }
    Member& m = *mit->second;
    SyncFinalizer(m, *o, pass);
    ++it;
  }
  // An SEP/RSB can be in both lists: its status is written once.
  std::vector<StatusWrite> statuses;
  std::set<std::string> planned;
  for (const auto& [m, s] : owner_statuses) {
    std::optional<StatusWrite> w = PlanOwnerStatus(*m, *s, pass);
    if (w && planned.insert(w->key).second) statuses.push_back(std::move(*w));
  }
  WriteStatuses(statuses, pass);
  WriteMemberConditions(mesh, pass);
  members_lock.unlock();
  ForgetExpectations(pass, /*all=*/false);
}

// True if a generated object of `owner` ("Kind/namespace/name") is left in the member's caches.
bool Controller::Remaining(const Member& m, const std::string& owner) const {
  for (const auto& informer : m.informers) {
    if (!GeneratedKind(informer->type())) continue;
    if (informer->Any([&](const Node& g) {
          const Node* gm = g.Find("metadata");
          return ScalarAt(gm ? gm->Find("annotations") : nullptr, kOwnerAnnotation) == owner;
        })) {
      return true;
    }
  }
  return false;
}

std::map<std::string, std::string> Controller::ObservedVersions() const {
  std::map<std::string, std::string> out;
  if (mesh_clusters_) {
    const ResourceType& t = mesh_clusters_->type();
    out["fleet/" + t.group + "/" + t.plural] = mesh_clusters_->resource_version();
  }
  std::lock_guard<std::mutex> lock(members_mutex_);
  for (const auto& [name, m] : members_) {
    for (const auto& i : m->informers) {
      out[name + "/" + i->type().group + "/" + i->type().plural] = i->resource_version();
    }
  }
  return out;
}

// ---- Leader election (coordination.k8s.io/v1 Lease, client-go's leaderelection) ----

bool Controller::TryAcquireOrRenew() {
  const ResourceType& lease = LeaseResource();
  auto now = std::chrono::system_clock::now();
  absl::StatusOr<Node> current =
      fleet_client_->Get(lease, options_.lease_namespace, options_.lease_name);
  Node spec = Node::Mapping();
  spec.Add("holderIdentity", Node::String(options_.identity));
  spec.Add("leaseDurationSeconds", Node::Int(options_.lease_duration.count()));
  if (absl::IsNotFound(current.status())) {
    spec.Add("acquireTime", Node::String(Rfc3339(now, true)));
    spec.Add("renewTime", Node::String(Rfc3339(now, true)));
    spec.Add("leaseTransitions", Node::Int(0));
    Node object = Node::Mapping();
    object.Add("apiVersion", Node::String(lease.ApiVersion()));
    object.Add("kind", Node::String(lease.kind));
    Node meta = Node::Mapping();
    meta.Add("name", Node::String(options_.lease_name));
    meta.Add("namespace", Node::String(options_.lease_namespace));
    object.Add("metadata", std::move(meta));
    object.Add("spec", std::move(spec));
    return fleet_client_->Create(lease, object).ok();
  }
  if (!current.ok()) return false;
  const Node* cs = current->Find("spec");
  std::string holder(ScalarAt(cs, "holderIdentity"));
  int duration = ParseIntOr(ScalarAt(cs, "leaseDurationSeconds"), 15);
  std::optional<std::chrono::system_clock::time_point> renewed =
      ParseTime(std::string(ScalarAt(cs, "renewTime")));
  bool held_by_other = !holder.empty() && holder != options_.identity && renewed &&
                       *renewed + std::chrono::seconds(duration) > now;
  if (held_by_other) return false;
  Node updated = *current;
  Node* us = updated.Find("spec");
  if (!us || !us->IsMapping()) us = &updated.Set("spec", Node::Mapping());
  if (holder != options_.identity) {
    us->Set("acquireTime", Node::String(Rfc3339(now, true)));
    us->Set("leaseTransitions", Node::Int(ParseIntOr(ScalarAt(cs, "leaseTransitions"), 0) + 1));
  }
  us->Set("holderIdentity", Node::String(options_.identity));
  us->Set("leaseDurationSeconds", Node::Int(options_.lease_duration.count()));
  us->Set("renewTime", Node::String(Rfc3339(now, true)));
  return fleet_client_->Update(lease, updated).ok();  // 409: someone else renewed first
}

void Controller::ReleaseLease() {
  const ResourceType& lease = LeaseResource();
  absl::StatusOr<Node> current =
      fleet_client_->Get(lease, options_.lease_namespace, options_.lease_name);
  if (!current.ok() || ScalarAt(current->Find("spec"), "holderIdentity") != options_.identity)
    return;
  Node updated = *current;
  updated.Find("spec")->Set("holderIdentity", Node::String(""));
  updated.Find("spec")->Set("leaseDurationSeconds", Node::Int(1));
  (void)fleet_client_->Update(lease, updated);
  log_.Info("lease released", {{"identity", options_.identity}});
}

void Controller::LeaseLoop() {
  auto retry = std::max<std::chrono::milliseconds>(options_.lease_duration / 5,
                                                   std::chrono::milliseconds(200));
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    bool now_leader = TryAcquireOrRenew();
    bool was = leader_.exchange(now_leader);
    if (now_leader != was) {
      log_.Info(now_leader ? "became the leader" : "lost the lease",
                {{"identity", options_.identity}});
      if (now_leader) OnChange();
    }
    lock.lock();
    cv_.wait_for(lock, retry, [this] { return stopping_; });
  }
}

// ---- Metrics ----

Controller::Counters Controller::counters() const {
  std::lock_guard<std::mutex> lock(counters_mutex_);
  return counters_;
}

std::string Controller::Metrics() const {
  Counters c = counters();
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, const std::string& body) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{}", name, help, name, type, body);
  };
  metric("meshfed_reconciles_total", "counter", "Reconciles run.",
         fmt::format("meshfed_reconciles_total {}\n", c.reconciles));
  metric("meshfed_full_reconciles_total", "counter",
         "Reconciles that read and planned the whole fleet (the others: only what changed).",
         fmt::format("meshfed_full_reconciles_total {}\n", c.full_reconciles));
  metric("meshfed_reconcile_errors_total", "counter",
         "Reconciles that met input errors or failed writes.",
         fmt::format("meshfed_reconcile_errors_total {}\n", c.reconcile_errors));
  metric("meshfed_writes_total", "counter", "Objects applied, deleted or status-written.",
         fmt::format("meshfed_writes_total {}\n", c.writes));
  metric("meshfed_conflicts_total", "counter",
         "Generated objects not written because a user object has the name.",
         fmt::format("meshfed_conflicts_total {}\n", c.conflicts));
  uint64_t depth;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    depth = change_generation_ - reconciled_generation_;
  }
  metric("meshfed_queue_depth", "gauge", "Changes seen since the last reconcile started.",
         fmt::format("meshfed_queue_depth {}\n", depth));
  metric("meshfed_leader", "gauge", "1 when this replica holds the lease.",
         fmt::format("meshfed_leader {}\n", leader_ ? 1 : 0));
  std::string connected, requests, retries, seconds, count;
  {
    std::lock_guard<std::mutex> lock(members_mutex_);
    for (const auto& [name, m] : members_) {
      connected += fmt::format("meshfed_cluster_connected{{cluster=\"{}\"}} {}\n", name,
                               m->Healthy() ? 1 : 0);
      if (m->client) {
        requests += fmt::format("meshfed_api_requests_total{{cluster=\"{}\"}} {}\n", name,
                                m->client->stats().requests.load());
        retries += fmt::format("meshfed_api_retries_total{{cluster=\"{}\"}} {}\n", name,
                               m->client->stats().retries.load());
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(counters_mutex_);
    for (const auto& [name, d] : apply_seconds_) {
      seconds +=
          fmt::format("meshfed_apply_seconds_sum{{cluster=\"{}\"}} {:.6f}\n", name, d.count());
      count += fmt::format("meshfed_apply_seconds_count{{cluster=\"{}\"}} {}\n", name,
                           apply_count_.at(name));
    }
  }
  metric("meshfed_cluster_connected", "gauge", "1 when the member cluster's watches work.",
         connected);
  metric("meshfed_api_requests_total", "counter", "API requests per member cluster.", requests);
  metric("meshfed_api_retries_total", "counter", "API requests retried per member cluster.",
         retries);
  metric("meshfed_apply_seconds", "summary", "Time spent writing to each member cluster.",
         seconds + count);
  return out;
}

}  // namespace meshfed::kube
