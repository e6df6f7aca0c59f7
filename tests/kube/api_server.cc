#include "kube/api_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include "codec/emitter.h"
#include "codec/json_reader.h"
#include "codec/yaml_reader.h"
#include "core/model/text.h"

namespace meshfed::kube::testing {
namespace {

std::string Json(const Node& n) {
  std::string out;
  EmitJson(n, out, -1);
  return out;
}

// A request's body: JSON (what clients send) through the JSON reader, anything else as YAML; a null
// node when there is none, nothing when it is not one object.
std::optional<Node> ReadBody(const std::string& body) {
  Node input;
  if (body.empty()) return input;
  size_t first = body.find_first_not_of(" \t\r\n");
  std::string error;
  if (first != std::string::npos && body[first] == '{' && ReadJson(body, input, error) &&
      input.IsMapping()) {
    return input;
  }
  ReadResult r = ReadYamlStream(body, "request");
  if (!r.diagnostics.empty() || r.documents.size() != 1 || !r.documents[0].IsMapping()) {
    return std::nullopt;
  }
  return std::move(r.documents[0]);
}

std::string Str(const Node* map, std::string_view key) {
  const Node* v = map && map->IsMapping() ? map->Find(key) : nullptr;
  return v && v->IsScalar() ? std::string(v->text()) : std::string();
}

Node StatusObject(int code, const std::string& reason, const std::string& message) {
  Node s = Node::Mapping();
  s.Add("kind", Node::String("Status"));
  s.Add("apiVersion", Node::String("v1"));
  s.Add("metadata", Node::Mapping());
  s.Add("status", Node::String("Failure"));
  s.Add("message", Node::String(message));
  s.Add("reason", Node::String(reason));
  s.Add("code", Node::Int(code));
  return s;
}

std::string Now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// ---- Label selectors (k8s.io/apimachinery/pkg/labels) ----

struct Requirement {
  std::string key, op;  // =, !=, exists, !exists, in, notin
  std::vector<std::string> values;
};

std::optional<std::vector<Requirement>> ParseSelector(std::string_view s) {
  std::vector<Requirement> out;
  auto trim = [](std::string_view v) {
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    return std::string(v);
  };
  size_t i = 0;
  while (i < s.size()) {
    // A term ends at a comma outside parentheses.
    size_t depth = 0, j = i;
    for (; j < s.size(); ++j) {
      if (s[j] == '(') ++depth;
      if (s[j] == ')' && depth > 0) --depth;
      if (s[j] == ',' && depth == 0) break;
    }
    std::string term = trim(s.substr(i, j - i));
    i = j + 1;
    if (term.empty()) continue;
    Requirement r;
    if (size_t p = term.find(" notin "); p != std::string::npos) {
      r.key = trim(term.substr(0, p));
      r.op = "notin";
      term = trim(term.substr(p + 7));
    } else if (size_t q = term.find(" in "); q != std::string::npos) {
      r.key = trim(term.substr(0, q));
      r.op = "in";
      term = trim(term.substr(q + 4));
    } else if (size_t ne = term.find("!="); ne != std::string::npos) {
      r = {trim(term.substr(0, ne)), "!=", {trim(term.substr(ne + 2))}};
    } else if (size_t eq = term.find('='); eq != std::string::npos) {
      size_t skip = term.compare(eq, 2, "==") == 0 ? 2 : 1;
      r = {trim(term.substr(0, eq)), "=", {trim(term.substr(eq + skip))}};
    } else if (term.front() == '!') {
      r = {trim(term.substr(1)), "!exists", {}};
    } else {
      r = {term, "exists", {}};
    }
    if (r.op == "in" || r.op == "notin") {
      if (term.size() < 2 || term.front() != '(' || term.back() != ')') return std::nullopt;
      std::string_view list = std::string_view(term).substr(1, term.size() - 2);
      size_t k = 0;
      while (k <= list.size()) {
        size_t c = list.find(',', k);
        r.values.push_back(trim(list.substr(k, c == std::string_view::npos ? list.npos : c - k)));
        if (c == std::string_view::npos) break;
        k = c + 1;
      }
    }
    if (r.key.empty()) return std::nullopt;
    out.push_back(std::move(r));
  }
  return out;
}

bool Matches(const std::vector<Requirement>& selector, const Node& object) {
  const Node* labels = nullptr;
  if (const Node* meta = object.Find("metadata")) labels = meta->Find("labels");
  for (const Requirement& r : selector) {
    const Node* v = labels && labels->IsMapping() ? labels->Find(r.key) : nullptr;
    std::string value(v && v->IsScalar() ? v->text() : "");
    bool has = v != nullptr;
    bool ok = true;
    if (r.op == "=") ok = has && value == r.values[0];
    if (r.op == "!=") ok = !has || value != r.values[0];
    if (r.op == "exists") ok = has;
    if (r.op == "!exists") ok = !has;
    if (r.op == "in") ok = has && std::count(r.values.begin(), r.values.end(), value) > 0;
    if (r.op == "notin") ok = !has || std::count(r.values.begin(), r.values.end(), value) == 0;
    if (!ok) return false;
  }
  return true;
}

// ---- Server-side apply: field paths ----

using Path = std::vector<std::string>;

// Whether a manager can own the field at `p` (its keys from the top): on the status subresource
// only status; on the main resource anything but identity, versions, status and the metadata the
// server sets.
bool Ownable(const std::vector<std::string_view>& p, bool status_only) {
  if (status_only) return p[0] == "status";
  if (p[0] == "apiVersion" || p[0] == "kind" || p[0] == "status") return false;
  if (p[0] == "metadata" && p.size() >= 2) {
    return p[1] == "labels" || p[1] == "annotations" || p[1] == "finalizers" ||
           p[1] == "ownerReferences";
  }
  return true;
}

// Fields in name order, as structured-merge-diff serializes a field set (fieldpath.Set keeps its
// members sorted).
void AddFields(const Node& n, std::vector<std::string_view>& prefix, bool status_only, Node& into) {
  std::vector<const MapEntry*> sorted;
  for (const MapEntry& e : n.entries()) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(),
            [](const MapEntry* a, const MapEntry* b) { return a->key.view() < b->key.view(); });
  for (const MapEntry* e : sorted) {
    prefix.push_back(e->key.view());
    if (Ownable(prefix, status_only)) {
      std::string key = fmt::format("f:{}", e->key.view());
      if (e->value.IsMapping() && !e->value.entries().empty()) {
        Node sub = Node::Mapping();
        AddFields(e->value, prefix, status_only, sub);
        if (!sub.entries().empty()) into.Add(key, std::move(sub));
      } else {
        into.Add(key, Node::Mapping());
      }
    }
    prefix.pop_back();
  }
}

// The fields an applied configuration (or a written object) sets, as FieldsV1
// (k8s.io/apimachinery/pkg/apis/meta/v1: FieldsV1): a trie whose keys are "f:<field>" and whose
// leaves are {}. Leaves are scalars, lists and empty maps: lists are atomic here, so there are
// no "k:", "v:" or "i:" keys (kube-apiserver writes those for the items of lists whose schema
// gives them keys). The trie is shared: the entry and the object's managedFields hold one value.
Node FieldsOf(const Node& object, bool status_only) {
  Node fields = Node::Mapping();
  std::vector<std::string_view> prefix;
  AddFields(object, prefix, status_only, fields);
  return Node::Share(std::move(fields));
}

void AddLeaves(const Node& fields, std::string& prefix, std::set<std::string>& out) {
  for (const MapEntry& e : fields.entries()) {
    size_t size = prefix.size();
    prefix += e.key.view().substr(2);  // "f:"
    prefix += '\x1f';
    if (e.value.entries().empty()) {
      out.insert(prefix);
    } else {
      AddLeaves(e.value, prefix, out);
    }
    prefix.resize(size);
  }
}

// The leaves of a FieldsV1 trie, each path's keys joined by '\x1f': the form in which the
// ownership rules below compare, take and prune fields.
std::set<std::string> Leaves(const Node& fields) {
  std::set<std::string> out;
  std::string prefix;
  AddLeaves(fields, prefix, out);
  return out;
}

Path Split(const std::string& key) {
  Path p;
  size_t start = 0;
  while (start < key.size()) {
    size_t end = key.find('\x1f', start);
    p.push_back(key.substr(start, end - start));
    start = end + 1;
  }
  return p;
}

const Node* At(const Node& n, const Path& p) {
  const Node* cur = &n;
  for (const std::string& k : p) {
    if (!cur->IsMapping()) return nullptr;
    cur = cur->Find(k);
    if (!cur) return nullptr;
  }
  return cur;
}

void Erase(Node& n, const Path& p, size_t i = 0) {
  if (!n.IsMapping() || i >= p.size()) return;
  if (i + 1 == p.size()) {
    n.Erase(p[i]);
    return;
  }
  if (Node* child = n.Find(p[i])) {
    Erase(*child, p, i + 1);
    if (child->IsMapping() && child->entries().empty()) n.Erase(p[i]);
  }
}

void Overlay(Node& into, const Node& from) {
  if (!into.IsMapping() || !from.IsMapping()) {
    into = from;
    return;
  }
  for (const MapEntry& e : from.entries()) {
    Node* existing = into.Find(e.key);
    if (existing && existing->IsMapping() && e.value.IsMapping()) {
      Overlay(*existing, e.value);
    } else {
      into.Set(e.key, e.value);
    }
  }
}

// RFC 7386 JSON merge patch.
void MergePatch(Node& into, const Node& patch) {
  if (!patch.IsMapping()) {
    into = patch;
    return;
  }
  if (!into.IsMapping()) into = Node::Mapping();
  for (const MapEntry& e : patch.entries()) {
    if (e.value.IsNull()) {
      into.Erase(e.key);
    } else if (Node* existing = into.Find(e.key); existing && e.value.IsMapping()) {
      MergePatch(*existing, e.value);
    } else {
      Node v = Node::Mapping();
      if (e.value.IsMapping()) {
        MergePatch(v, e.value);
        into.Set(e.key, v);
      } else {
        into.Set(e.key, e.value);
      }
    }
  }
}

// Everything but metadata and status: what bumps metadata.generation.
bool SpecChanged(const Node& a, const Node& b) {
  auto strip = [](Node n) {
    n.Erase("metadata");
    n.Erase("status");
    return n;
  };
  return !(strip(a) == strip(b));
}

// What the server sets in metadata, whatever a write sends (managedFields: from its entries).
constexpr const char* kServerMetadata[] = {"name",
                                           "namespace",
                                           "uid",
                                           "creationTimestamp",
                                           "generation",
                                           "deletionTimestamp",
                                           "resourceVersion",
                                           "managedFields"};

// ---- metadata.managedFields (k8s.io/apimachinery/pkg/apis/meta/v1: ManagedFieldsEntry) ----

size_t EntryFor(std::vector<ManagedEntry>& entries, const std::string& manager,
                const std::string& operation, const std::string& subresource) {
  for (size_t i = 0; i < entries.size(); ++i) {
    const ManagedEntry& e = entries[i];
    if (e.manager == manager && e.operation == operation && e.subresource == subresource) return i;
  }
  entries.push_back(ManagedEntry{manager, operation, subresource, "", Node::Mapping()});
  return entries.size() - 1;
}

// The trie of a set of leaves (the inverse of Leaves), shared.
Node FieldsV1(const std::set<std::string>& leaves) {
  Node root = Node::Mapping();
  for (const std::string& leaf : leaves) {
    Node* at = &root;
    for (const std::string& key : Split(leaf)) {
      std::string f = "f:" + key;
      Node* next = at->Find(f);
      at = next ? next : &at->Set(f, Node::Mapping());
    }
  }
  return Node::Share(std::move(root));
}

// The entries in the order and with the fields a Go client reads (ManagedFieldsEntry's order).
void SetManagedFields(Node& object, const std::vector<ManagedEntry>& entries) {
  Node* meta = object.Find("metadata");
  if (entries.empty()) {
    meta->Erase("managedFields");
    return;
  }
  Node api_version = Node::String(Str(&object, "apiVersion"));
  Node list = Node::Sequence();
  for (const ManagedEntry& e : entries) {
    Node m = Node::Mapping();
    m.Add("manager", Node::String(e.manager));
    m.Add("operation", Node::String(e.operation));
    m.Add("apiVersion", api_version);
    m.Add("time", Node::String(e.time));
    m.Add("fieldsType", Node::String("FieldsV1"));
    m.Add("fieldsV1", e.fields);
    if (!e.subresource.empty()) m.Add("subresource", Node::String(e.subresource));
    list.Append(std::move(m));
  }
  meta->Set("managedFields", std::move(list));
}

// An update (POST, PUT, merge patch) owns the leaves it set or changed, and takes them from
// every other entry without a conflict: only apply checks for conflicts.
void TakeUpdated(std::vector<ManagedEntry>& entries, const std::string& manager,
                 const std::string& subresource, const Node* before, const Node& after,
                 const std::string& now) {
  Node fields = FieldsOf(after, subresource == "status");
  if (!before && entries.empty()) {  // a new object: every leaf it has is this manager's
    if (!std::as_const(fields).entries().empty()) {
      entries.push_back(ManagedEntry{manager, "Update", subresource, now, std::move(fields)});
    }
    return;
  }
  std::set<std::string> changed;
  for (const std::string& leaf : Leaves(fields)) {
    Path p = Split(leaf);
    const Node* old = before ? At(*before, p) : nullptr;
    if (!old || !(*old == *At(after, p))) changed.insert(leaf);
  }
  if (changed.empty()) return;
  for (ManagedEntry& e : entries) {
    std::set<std::string> owned = Leaves(e.fields);
    size_t had = owned.size();
    for (const std::string& leaf : changed) owned.erase(leaf);
    if (owned.size() != had) e.fields = FieldsV1(owned);
  }
  ManagedEntry& mine = entries[EntryFor(entries, manager, "Update", subresource)];
  std::set<std::string> owned = Leaves(mine.fields);
  owned.insert(changed.begin(), changed.end());
  mine.fields = FieldsV1(owned);
  mine.time = now;
}

// Fields the object no longer has as leaves are owned by nobody, and an entry left with no
// fields goes.
void Prune(std::vector<ManagedEntry>& entries, const Node& object) {
  for (ManagedEntry& e : entries) {
    std::set<std::string> owned = Leaves(e.fields);
    size_t erased = std::erase_if(owned, [&](const std::string& leaf) {
      const Node* n = At(object, Split(leaf));
      return !n || (n->IsMapping() && !n->entries().empty());
    });
    if (erased > 0) e.fields = FieldsV1(owned);
  }
  std::erase_if(entries, [](const ManagedEntry& e) { return e.fields.entries().empty(); });
}

const ResourceType* TypeFor(const std::string& group, const std::string& version,
                            const std::string& plural) {
  std::vector<const ResourceType*> all;
  for (const ResourceType& t : WatchedResources()) all.push_back(&t);
  all.push_back(&LeaseResource());
  all.push_back(&MeshClusterResource());
  for (const ResourceType* t : all) {
    if (t->group == group && t->version == version && t->plural == plural) return t;
  }
  return nullptr;
}

std::string Key(const ResourceType& t, const std::string& ns, const std::string& name) {
  return fmt::format("{}/{}/{}/{}", t.group, t.plural, t.namespaced ? ns : "", name);
}
std::string TypeKey(const ResourceType& t) { return t.group + "/" + t.plural; }

}  // namespace

double EmulatorCpuSeconds() {
  double ticks = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name != kEmulatorThreadName) continue;
    std::ifstream stat_file(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    // proc(5): after "(comm)", state is field 3; utime and stime are fields 14 and 15.
    size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i >= 14) ticks += std::strtod(field.c_str(), nullptr);
    }
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct ApiServer::Call {
  const ResourceType* type = nullptr;
  std::string namespace_;
  std::string name;
  std::string subresource;
  std::map<std::string, std::string> query;
  std::string user_agent;
};

ApiServer::ApiServer(ServerOptions options) : options_(std::move(options)) {}

ApiServer::~ApiServer() { Stop(); }

void ApiServer::Start() {
  if (options_.tls) {
    BIO* b = BIO_new_mem_buf(options_.cert_pem.data(), static_cast<int>(options_.cert_pem.size()));
    X509* cert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    b = BIO_new_mem_buf(options_.key_pem.data(), static_cast<int>(options_.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
    BIO_free(b);
    X509_STORE* client_ca = nullptr;
    if (!options_.client_ca_pem.empty()) {
      client_ca = X509_STORE_new();
      b = BIO_new_mem_buf(options_.client_ca_pem.data(),
                          static_cast<int>(options_.client_ca_pem.size()));
      while (X509* ca = PEM_read_bio_X509(b, nullptr, nullptr, nullptr)) {
        X509_STORE_add_cert(client_ca, ca);
        X509_free(ca);
      }
      BIO_free(b);
    }
    server_ = std::make_unique<httplib::SSLServer>(cert, key, client_ca);
    X509_free(cert);
    EVP_PKEY_free(key);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  server_->new_task_queue = [] { return new httplib::ThreadPool(96); };
  // Idle keep-alive connections close soon, so that Stop() (a restart) does not wait for them.
  server_->set_keep_alive_timeout(1);
  // kube-apiserver (Go's net/http) serves any number of requests on a kept-alive connection;
  // httplib's default closes it after 5, which made every client reconnect that often.
  server_->set_keep_alive_max_count(std::numeric_limits<size_t>::max());
  server_->set_tcp_nodelay(true);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    Handle(&req, &res);
  };
  server_->Get(".*", handler);
  server_->Post(".*", handler);
  server_->Put(".*", handler);
  server_->Patch(".*", handler);
  server_->Delete(".*", handler);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
  }
  if (options_.port > 0) {
    port_ = options_.port;
    server_->bind_to_port("127.0.0.1", port_);
  } else {
    port_ = server_->bind_to_any_port("127.0.0.1");
    options_.port = port_;
  }
  thread_ = std::thread([this] {
    // Every thread of the server carries kEmulatorThreadName (EmulatorCpuSeconds): this one, and
    // the pool's that serve requests and watches, which it starts and which inherit its name
    // (Linux: a new thread starts with its creator's).
    pthread_setname_np(pthread_self(), kEmulatorThreadName);
    server_->listen_after_bind();
  });
  while (!server_->is_running()) std::this_thread::yield();
}

void ApiServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    NotifyWatches();
  }
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

void ApiServer::Restart() {
  Stop();
  Compact();
  Start();
}

std::string ApiServer::url() const {
  return fmt::format("{}://127.0.0.1:{}", options_.tls ? "https" : "http", port_);
}

void ApiServer::SetToken(std::string token) {
  std::lock_guard<std::mutex> lock(token_mutex_);
  options_.token = std::move(token);
}

bool ApiServer::Authorized(const void* request) const {
  std::lock_guard<std::mutex> lock(token_mutex_);  // not mutex_: every request asks
  if (options_.token.empty()) return true;
  const auto& req = *static_cast<const httplib::Request*>(request);
  return req.get_header_value("Authorization") == "Bearer " + options_.token;
}

void ApiServer::NotifyWatches() {
  for (auto& [plural, changed] : watch_changed_) changed.notify_all();
}

ApiServer::Version ApiServer::Record(const std::string& plural, const std::string& type,
                                     Version version) {
  type_versions_[plural] = rv_;
  history_.push_back(Event{rv_, plural, type, version});
  while (history_.size() > options_.history) {
    oldest_rv_ = history_.front().rv;
    dropped_rv_[history_.front().plural] = history_.front().rv;
    history_.pop_front();
  }
  // Only this type's watchers have something to send; they are woken once the mutex is released
  // (UnlockAndWake), so that they do not wake only to wait for it.
  if (auto it = watch_changed_.find(plural); it != watch_changed_.end()) {
    if (std::find(to_wake_.begin(), to_wake_.end(), &it->second) == to_wake_.end()) {
      to_wake_.push_back(&it->second);
    }
  }
  return version;
}

void ApiServer::UnlockAndWake(std::unique_lock<std::mutex>& lock) {
  std::vector<std::condition_variable*> wake;
  wake.swap(to_wake_);
  lock.unlock();
  // Safe after the unlock: the events were added with the mutex held, and a watcher checks for
  // them with it held before it waits. The variables live as long as the server.
  for (std::condition_variable* changed : wake) changed->notify_all();
}

ApiServer::Version ApiServer::Insert(const std::string& key, const std::string& plural,
                                     Node object) {
  ++rv_;
  Node* meta = object.Find("metadata");
  meta->Set("resourceVersion", Node::String(std::to_string(rv_)));
  // Kept without the room its lists and mappings grew into (the server's metadata, added one
  // field at a time): the benchmark's emulators hold every object of a large fleet.
  meshfed::Compact(object);
  Stored& s = objects_[key];
  s.object = std::make_shared<const Node>(std::move(object));
  return Record(plural, "ADDED", s.object);
}

ApiServer::Version ApiServer::Modify(const std::string&, const std::string& plural, Stored& s,
                                     Node next) {
  ++rv_;
  next.Find("metadata")->Set("resourceVersion", Node::String(std::to_string(rv_)));
  meshfed::Compact(next);  // as Insert
  s.object = std::make_shared<const Node>(std::move(next));
  return Record(plural, "MODIFIED", s.object);
}

void ApiServer::Remove(const std::string& key, const std::string& plural) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return;
  ++rv_;
  Node object = *it->second.object;
  objects_.erase(it);
  object.Find("metadata")->Set("resourceVersion", Node::String(std::to_string(rv_)));
  Record(plural, "DELETED", std::make_shared<const Node>(std::move(object)));
}

std::pair<int, ApiServer::Answer> ApiServer::Mutate(
    const Call& call, const std::string& method, const std::string& content_type, Node input,
    const std::map<std::string, std::string>& query) {
  const ResourceType& type = *call.type;
  std::string plural = TypeKey(type);
  std::string name = call.name.empty() ? Str(input.Find("metadata"), "name") : call.name;
  if (name.empty()) return {422, StatusObject(422, "Invalid", "metadata.name: Required value")};
  std::string key = Key(type, call.namespace_, name);
  auto it = objects_.find(key);
  bool status = call.subresource == "status";
  std::string now = clock_ ? clock_() : Now();
  std::string subresource = status ? "status" : "";
  // An update's manager: fieldManager, or the User-Agent up to its first '/'
  // (k8s.io/apiserver/pkg/endpoints/handlers: managerOrUserAgent).
  std::string update_manager = query.count("fieldManager")
                                   ? query.at("fieldManager")
                                   : call.user_agent.substr(0, call.user_agent.find('/'));
  auto normalize_new = [&](Node object) {
    object.Set("apiVersion", Node::String(type.ApiVersion()));
    object.Set("kind", Node::String(type.kind));
    Node* meta = object.Find("metadata");
    if (!meta || !meta->IsMapping()) meta = &object.Set("metadata", Node::Mapping());
    meta->Set("name", Node::String(name));
    if (type.namespaced) meta->Set("namespace", Node::String(call.namespace_));
    meta->Set("uid", Node::String(fmt::format("6d1e7a10-0000-4000-8000-{:012d}", ++uid_)));
    meta->Set("creationTimestamp", Node::String(now));
    meta->Set("generation", Node::Int(1));
    meta->Erase("deletionTimestamp");
    object.Erase("status");
    return object;
  };

  if (method == "POST") {
    if (it != objects_.end()) {
      return {409, StatusObject(409, "AlreadyExists",
                                fmt::format("{} \"{}\" already exists", type.plural, name))};
    }
    Node object = normalize_new(std::move(input));
    std::vector<ManagedEntry> managed;
    TakeUpdated(managed, update_manager, "", nullptr, object, now);
    SetManagedFields(object, managed);
    Version created = Insert(key, plural, std::move(object));
    objects_[key].managed = std::move(managed);
    return {201, std::move(created)};
  }
  if (method == "DELETE") {
    if (it == objects_.end()) {
      return {404,
              StatusObject(404, "NotFound", fmt::format("{} \"{}\" not found", type.plural, name))};
    }
    const Node* pre = input.IsMapping() ? input.Find("preconditions") : nullptr;
    const Node* meta = it->second.object->Find("metadata");
    if (!Str(pre, "uid").empty() && Str(pre, "uid") != Str(meta, "uid")) {
      return {409, StatusObject(409, "Conflict",
                                fmt::format("Precondition failed: UID in precondition: {}, UID in "
                                            "object meta: {}",
                                            Str(pre, "uid"), Str(meta, "uid")))};
    }
    if (!Str(pre, "resourceVersion").empty() &&
        Str(pre, "resourceVersion") != Str(meta, "resourceVersion")) {
      return {409,
              StatusObject(409, "Conflict",
                           fmt::format("Precondition failed: ResourceVersion in precondition: "
                                       "{}, ResourceVersion in object meta: {}",
                                       Str(pre, "resourceVersion"), Str(meta, "resourceVersion")))};
    }
    const Node* finalizers = meta->Find("finalizers");
    if (finalizers && finalizers->IsSequence() && !finalizers->items().empty()) {
      if (Str(meta, "deletionTimestamp").empty()) {
        Node next = *it->second.object;
        next.Find("metadata")->Set("deletionTimestamp", Node::String(now));
        Modify(key, plural, it->second, std::move(next));
      }
      return {200, it->second.object};
    }
    Version gone = it->second.object;
    Remove(key, plural);
    return {200, gone};
  }
  if (method == "PUT") {
    if (it == objects_.end()) {
      return {404,
              StatusObject(404, "NotFound", fmt::format("{} \"{}\" not found", type.plural, name))};
    }
    Stored& s = it->second;
    std::string want_rv = Str(input.Find("metadata"), "resourceVersion");
    if (!want_rv.empty() && want_rv != Str(s.object->Find("metadata"), "resourceVersion")) {
      return {409,
              StatusObject(409, "Conflict",
                           fmt::format("Operation cannot be fulfilled on {} \"{}\": the object "
                                       "has been modified; please apply your changes to the "
                                       "latest version and try again",
                                       type.plural, name))};
    }
    Node next = *s.object;
    if (status) {
      if (const Node* st = input.Find("status")) {
        next.Set("status", *st);
      } else {
        next.Erase("status");
      }
    } else {
      Node keep_meta = *s.object->Find("metadata");
      next = input;
      next.Set("apiVersion", Node::String(type.ApiVersion()));
      next.Set("kind", Node::String(type.kind));
      Node* meta = next.Find("metadata");
      if (!meta || !meta->IsMapping()) meta = &next.Set("metadata", Node::Mapping());
      for (const char* system : kServerMetadata) {
        if (const Node* v = keep_meta.Find(system)) {
          meta->Set(system, *v);
        } else {
          meta->Erase(system);
        }
      }
      if (const Node* st = s.object->Find("status")) {
        next.Set("status", *st);
      } else {
        next.Erase("status");
      }
    }
    TakeUpdated(s.managed, update_manager, subresource, s.object.get(), next, now);
    Prune(s.managed, next);
    return {200, Commit(key, plural, s, std::move(next))};
  }
  if (method == "PATCH") {
    bool apply = content_type.find("application/apply-patch") == 0;
    bool merge = content_type.find("application/merge-patch+json") == 0;
    if (!apply && !merge) {
      return {415, StatusObject(415, "UnsupportedMediaType",
                                fmt::format("the body of the request was in an unknown format - "
                                            "accepted media types include: "
                                            "application/apply-patch+yaml, "
                                            "application/merge-patch+json (got {})",
                                            content_type))};
    }
    if (merge) {
      if (it == objects_.end()) {
        return {404, StatusObject(404, "NotFound",
                                  fmt::format("{} \"{}\" not found", type.plural, name))};
      }
      Node next = *it->second.object;
      Node patch = input;
      if (status) {
        Node only = Node::Mapping();
        if (const Node* st = patch.Find("status")) only.Set("status", *st);
        patch = only;
      } else {
        patch.Erase("status");
        if (Node* meta = patch.Find("metadata")) {
          for (const char* system : kServerMetadata) meta->Erase(system);
        }
      }
      MergePatch(next, patch);
      TakeUpdated(it->second.managed, update_manager, subresource, it->second.object.get(), next,
                  now);
      Prune(it->second.managed, next);
      return {200, Commit(key, plural, it->second, std::move(next))};
    }
    // Server-side apply.
    std::string manager = query.count("fieldManager") ? query.at("fieldManager") : "";
    if (manager.empty()) {
      return {422, StatusObject(422, "Invalid",
                                "PATCH with application/apply-patch+yaml needs fieldManager")};
    }
    bool force = query.count("force") && query.at("force") == "true";
    if (Str(&input, "apiVersion") != type.ApiVersion() || Str(&input, "kind") != type.kind) {
      return {400, StatusObject(400, "BadRequest",
                                fmt::format("apply: apiVersion and kind must be {} {}",
                                            type.ApiVersion(), type.kind))};
    }
    Node fields = FieldsOf(input, status);
    if (it == objects_.end()) {
      if (status) {
        return {404, StatusObject(404, "NotFound",
                                  fmt::format("{} \"{}\" not found", type.plural, name))};
      }
      Node object = normalize_new(std::move(input));
      std::vector<ManagedEntry> managed{ManagedEntry{manager, "Apply", "", now, std::move(fields)}};
      SetManagedFields(object, managed);
      Version created = Insert(key, plural, std::move(object));
      objects_[key].managed = std::move(managed);
      return {201, std::move(created)};
    }
    Stored& s = it->second;
    std::set<std::string> leaves = Leaves(fields);
    std::vector<std::set<std::string>> owned;  // each entry's leaves
    for (const ManagedEntry& e : s.managed) owned.push_back(Leaves(e.fields));
    // Another manager's field set to another value is a conflict; a field set to the same value
    // is owned by both (sigs.k8s.io/structured-merge-diff: shared ownership).
    std::vector<std::pair<size_t, std::string>> conflicting;  // entry, leaf
    std::vector<std::string> conflicts;
    for (size_t i = 0; i < s.managed.size(); ++i) {
      const ManagedEntry& other = s.managed[i];
      if (other.manager == manager) continue;
      for (const std::string& leaf : leaves) {
        if (!owned[i].count(leaf)) continue;
        Path p = Split(leaf);
        const Node* current = At(*s.object, p);
        const Node* wanted = At(input, p);
        if (current && wanted && !(*current == *wanted)) {
          std::string dotted;
          for (const std::string& part : p) dotted += (dotted.empty() ? "" : ".") + part;
          conflicts.push_back(fmt::format("conflict with \"{}\": .{}", other.manager, dotted));
          conflicting.emplace_back(i, leaf);
        }
      }
    }
    if (!conflicts.empty() && !force) {
      return {409, StatusObject(409, "Conflict",
                                fmt::format("Apply failed with {} conflict(s): {}",
                                            conflicts.size(), fmt::join(conflicts, "; ")))};
    }
    for (const auto& [i, leaf] : conflicting) {  // forced
      owned[i].erase(leaf);
      s.managed[i].fields = FieldsV1(owned[i]);
    }
    size_t mine = EntryFor(s.managed, manager, "Apply", subresource);
    owned.resize(s.managed.size());
    Node next = *s.object;
    for (const std::string& old_leaf : owned[mine]) {
      if (leaves.count(old_leaf)) continue;
      bool others = false;
      for (size_t i = 0; i < s.managed.size(); ++i) {
        if (i != mine && owned[i].count(old_leaf)) others = true;
      }
      if (!others) Erase(next, Split(old_leaf));
    }
    Node overlay = input;
    if (status) {
      Node only = Node::Mapping();
      if (const Node* st = input.Find("status")) only.Set("status", *st);
      overlay = only;
    } else {
      overlay.Erase("status");
      if (Node* meta = overlay.Find("metadata")) {
        for (const char* system : kServerMetadata) meta->Erase(system);
      }
    }
    Overlay(next, overlay);
    // The entry's time moves only when this apply changed the object or what it owns.
    if (!(next == *s.object) || owned[mine] != leaves) s.managed[mine].time = now;
    s.managed[mine].fields = std::move(fields);
    Prune(s.managed, next);
    return {200, Commit(key, plural, s, std::move(next))};
  }
  return {405, StatusObject(405, "MethodNotAllowed", method + " is not supported here")};
}

ApiServer::Answer ApiServer::Commit(const std::string& key, const std::string& plural, Stored& s,
                                    Node next) {
  SetManagedFields(next, s.managed);
  if (next == *s.object) return s.object;  // a no-op write changes nothing, not even the version
  if (SpecChanged(*s.object, next)) {
    const Node* meta = s.object->Find("metadata");
    int64_t generation = ParseIntOr(Str(meta, "generation"), 1);
    next.Find("metadata")->Set("generation", Node::Int(generation + 1));
  }
  const Node* meta = next.Find("metadata");
  const Node* finalizers = meta->Find("finalizers");
  bool finalized = !finalizers || !finalizers->IsSequence() || finalizers->items().empty();
  if (!Str(meta, "deletionTimestamp").empty() && finalized) {
    s.object = std::make_shared<const Node>(std::move(next));
    Version gone = s.object;
    Remove(key, plural);
    return gone;
  }
  return Modify(key, plural, s, std::move(next));
}

void ApiServer::Handle(const void* request, void* response) {
  const auto& req = *static_cast<const httplib::Request*>(request);
  auto& res = *static_cast<httplib::Response*>(response);
  auto reply = [&](int code, const Node& body) {
    res.status = code;
    res.set_content(Json(body), "application/json");
  };
  std::chrono::milliseconds latency;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_;
    latency = latency_;
    if (fail_count_ > 0) {
      --fail_count_;
      res.status = fail_status_;
      if (fail_retry_after_ >= 0) res.set_header("Retry-After", std::to_string(fail_retry_after_));
      std::string reason = fail_status_ == 429 ? "TooManyRequests" : "InternalError";
      std::string message =
          fail_status_ == 429 ? "storage is (re)initializing" : "an injected failure";
      res.set_content(Json(StatusObject(fail_status_, reason, message)), "application/json");
      return;
    }
  }
  if (latency.count() > 0) std::this_thread::sleep_for(latency);
  // A write in progress, from here to the answer (GatherWrites).
  struct InProgress {
    ApiServer* server = nullptr;
    ~InProgress() {
      if (!server) return;
      std::lock_guard<std::mutex> lock(server->writes_mutex_);
      --server->writes_in_progress_;
    }
  } in_progress;
  if (req.method != "GET") {
    std::unique_lock<std::mutex> lock(writes_mutex_);
    in_progress.server = this;
    most_writes_at_once_ = std::max(most_writes_at_once_, ++writes_in_progress_);
    writes_changed_.notify_all();
    if (gather_count_ > 0 && !writes_changed_.wait_for(lock, gather_timeout_, [&] {
          return most_writes_at_once_ >= gather_count_;
        })) {
      gather_count_ = 0;  // not gathered in time: nothing waits any more
      writes_changed_.notify_all();
    }
  }
  if (!Authorized(request)) {
    reply(401, StatusObject(401, "Unauthorized", "Unauthorized"));
    return;
  }
  // Parse /api/v1/... or /apis/<group>/<version>/...
  std::vector<std::string> seg;
  {
    std::string_view p = req.path;
    size_t i = 0;
    while (i < p.size()) {
      size_t j = p.find('/', i);
      if (j == std::string_view::npos) j = p.size();
      if (j > i) seg.emplace_back(p.substr(i, j - i));
      i = j + 1;
    }
  }
  std::string group, version;
  size_t at = 0;
  if (seg.size() >= 2 && seg[0] == "api") {
    version = seg[1];
    at = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    group = seg[1];
    version = seg[2];
    at = 3;
  } else {
    reply(404, StatusObject(404, "NotFound", "the server could not find the requested resource"));
    return;
  }
  Call call;
  std::vector<std::string> rest(seg.begin() + static_cast<std::ptrdiff_t>(at), seg.end());
  std::string plural;
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    call.namespace_ = rest[1];
    plural = rest[2];
    if (rest.size() >= 4) call.name = rest[3];
    if (rest.size() >= 5) call.subresource = rest[4];
  } else if (!rest.empty()) {
    plural = rest[0];
    if (rest.size() >= 2) call.name = rest[1];
    if (rest.size() >= 3) call.subresource = rest[2];
  }
  call.type = TypeFor(group, version, plural);
  if (!call.type || (!call.subresource.empty() && call.subresource != "status")) {
    reply(404, StatusObject(404, "NotFound", "the server could not find the requested resource"));
    return;
  }
  for (const auto& [k, v] : req.params) call.query[k] = v;
  call.user_agent = req.get_header_value("User-Agent");
  const ResourceType& type = *call.type;
  if (!type.namespaced) call.namespace_.clear();
  if (type.namespaced && call.namespace_.empty() && req.method != "GET") {
    reply(404, StatusObject(404, "NotFound", "a namespaced resource needs a namespace"));
    return;
  }

  if (req.method == "GET" && call.name.empty() && call.query.count("watch") &&
      (call.query["watch"] == "true" || call.query["watch"] == "1")) {
    HandleWatch(call, response);
    return;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  if (req.method == "GET" && !call.name.empty()) {
    auto it = objects_.find(Key(type, call.namespace_, call.name));
    if (it == objects_.end()) {
      lock.unlock();
      reply(404, StatusObject(404, "NotFound",
                              fmt::format("{} \"{}\" not found", type.plural, call.name)));
      return;
    }
    Version found = it->second.object;
    lock.unlock();
    reply(200, *found);
    return;
  }
  if (req.method == "GET") {
    std::optional<std::vector<Requirement>> selector =
        ParseSelector(call.query.count("labelSelector") ? call.query["labelSelector"] : "");
    if (!selector) {
      lock.unlock();
      reply(400, StatusObject(400, "BadRequest", "unable to parse requirement"));
      return;
    }
    size_t limit = static_cast<size_t>(
        std::max(0, ParseIntOr(call.query.count("limit") ? call.query["limit"] : "0", 0)));
    std::string from;
    if (call.query.count("continue")) {
      const std::string& token = call.query["continue"];
      size_t colon = token.find(':');
      uint64_t token_rv = std::stoull(token.substr(0, colon));
      if (token_rv < oldest_rv_) {
        lock.unlock();
        reply(410, StatusObject(410, "Expired",
                                "The provided continue parameter is too old to display a "
                                "consistent list result. You can start a new list without the "
                                "continue parameter."));
        return;
      }
      from = token.substr(colon + 1);
    }
    std::string prefix =
        fmt::format("{}/{}/{}", type.group, type.plural,
                    type.namespaced && !call.namespace_.empty() ? call.namespace_ + "/" : "");
    std::vector<Version> items;  // written after the mutex is released, without copies
    std::string last;
    bool more = false;
    for (auto it = from.empty() ? objects_.lower_bound(prefix) : objects_.upper_bound(from);
         it != objects_.end() && it->first.rfind(prefix, 0) == 0; ++it) {
      if (!Matches(*selector, *it->second.object)) continue;
      if (limit > 0 && items.size() == limit) {
        more = true;
        break;
      }
      items.push_back(it->second.object);
      last = it->first;
    }
    Node list = Node::Mapping();
    list.Add("apiVersion", Node::String(type.ApiVersion()));
    list.Add("kind", Node::String(type.kind + "List"));
    Node meta = Node::Mapping();
    meta.Add("resourceVersion", Node::String(std::to_string(rv_)));
    if (more) meta.Add("continue", Node::String(fmt::format("{}:{}", rv_, last)));
    list.Add("metadata", std::move(meta));
    lock.unlock();
    std::string body = Json(list);
    body.pop_back();  // the list's closing brace: the items follow
    body += ",\"items\":[";
    bool builtin = type.group.empty() || type.group == "apps";
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) body += ',';
      if (!builtin) {
        EmitJson(*items[i], body, -1);
        continue;
      }
      body += '{';  // built-in lists leave apiVersion and kind out of their items
      bool first = true;
      for (const MapEntry& e : items[i]->entries()) {
        if (e.key == "apiVersion" || e.key == "kind") continue;
        if (!first) body += ',';
        first = false;
        EmitJson(Node::String(e.key.str()), body, -1);
        body += ':';
        EmitJson(e.value, body, -1);
      }
      body += '}';
    }
    body += "]}";
    res.status = 200;
    res.set_content(body, "application/json");
    return;
  }
  lock.unlock();
  // The body is read before the mutex is taken again: other requests and watches go on meanwhile.
  std::optional<Node> input = ReadBody(req.body);
  if (!input) {
    reply(400, StatusObject(400, "BadRequest", "the body is not one JSON or YAML object"));
    return;
  }
  lock.lock();
  auto [code, answer] =
      Mutate(call, req.method, req.get_header_value("Content-Type"), std::move(*input), call.query);
  if (code < 300) ++mutating_;
  if (code == 409) ++conflicts_;
  UnlockAndWake(lock);
  reply(code, *answer.body);
}

void ApiServer::HandleWatch(const Call& call, void* response) {
  auto& res = *static_cast<httplib::Response*>(response);
  struct State {
    bool started = false;
    uint64_t last_rv = 0;
    std::chrono::steady_clock::time_point deadline;
    uint64_t drop_generation = 0;
    std::vector<Requirement> selector;
    bool bookmarks = false;
  };
  auto state = std::make_shared<State>();
  auto query = call.query;
  const ResourceType type = *call.type;
  std::string ns = call.namespace_;
  std::optional<std::vector<Requirement>> selector =
      ParseSelector(query.count("labelSelector") ? query["labelSelector"] : "");
  if (!selector) {
    res.status = 400;
    res.set_content(Json(StatusObject(400, "BadRequest", "unable to parse requirement")),
                    "application/json");
    return;
  }
  state->selector = *selector;
  state->bookmarks = query.count("allowWatchBookmarks") && query["allowWatchBookmarks"] == "true";
  int timeout = ParseIntOr(query.count("timeoutSeconds") ? query["timeoutSeconds"] : "", 1800);
  state->deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
  std::string rv_param = query.count("resourceVersion") ? query["resourceVersion"] : "";
  std::string plural = TypeKey(type);
  auto matches = [type, ns, state](const Node& object) {
    if (type.namespaced && !ns.empty()) {
      const Node* meta = object.Find("metadata");
      if (Str(meta, "namespace") != ns) return false;
    }
    return Matches(state->selector, object);
  };
  // {"type":...,"object":...} written around the object, which is not copied.
  auto line = [](const std::string& event_type, const Node& object) {
    std::string out = "{\"type\":\"" + event_type + "\",\"object\":";
    EmitJson(object, out, -1);
    out += "}\n";
    return out;
  };
  std::condition_variable* changed = nullptr;  // this type's: other types' writes do not wake it
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++open_watches_;
    state->drop_generation = drop_generation_;
    changed = &watch_changed_[plural];
  }
  res.status = 200;
  res.set_chunked_content_provider(
      "application/json",
      [this, state, rv_param, plural, matches, line, type, changed](size_t,
                                                                    httplib::DataSink& sink) {
        std::string out;
        std::unique_lock<std::mutex> lock(mutex_);
        if (!state->started) {
          state->started = true;
          if (rv_param.empty() || rv_param == "0") {
            std::string prefix = fmt::format("{}/{}/", type.group, type.plural);
            for (auto it = objects_.lower_bound(prefix);
                 it != objects_.end() && it->first.rfind(prefix, 0) == 0; ++it) {
              if (matches(*it->second.object)) out += line("ADDED", *it->second.object);
            }
            state->last_rv = rv_;
          } else {
            uint64_t from = std::strtoull(rv_param.c_str(), nullptr, 10);
            if (from < oldest_rv_) {
              lock.unlock();
              std::string gone = line(
                  "ERROR",
                  StatusObject(410, "Expired",
                               fmt::format("too old resource version: {} ({})", from, oldest_rv_)));
              sink.write(gone.data(), gone.size());
              sink.done();
              return true;
            }
            state->last_rv = from;
          }
        }
        bool timed_out = false;
        while (out.empty()) {
          if (stopping_ || drop_generation_ != state->drop_generation) {
            return false;  // the connection drops
          }
          // A watcher that fell behind the history kept (events of its type it has not been
          // sent were dropped) gets 410 Expired, as from kube-apiserver's watch cache (one per
          // type): it must relist.
          auto dropped = dropped_rv_.find(plural);
          if (dropped != dropped_rv_.end() && state->last_rv < dropped->second) {
            uint64_t newest_dropped = dropped->second;
            lock.unlock();
            std::string gone =
                line("ERROR", StatusObject(410, "Expired",
                                           fmt::format("too old resource version: {} ({})",
                                                       state->last_rv, newest_dropped)));
            sink.write(gone.data(), gone.size());
            sink.done();
            return true;
          }
          // History is in version order: start after the last version sent. The versions are
          // filtered and written with the mutex released.
          auto first = std::upper_bound(history_.begin(), history_.end(), state->last_rv,
                                        [](uint64_t rv, const Event& e) { return rv < e.rv; });
          std::vector<std::pair<std::string, Version>> pending;
          for (auto it = first; it != history_.end(); ++it) {
            if (it->plural == plural) pending.emplace_back(it->type, it->object);
          }
          if (!history_.empty()) state->last_rv = std::max(state->last_rv, history_.back().rv);
          if (!pending.empty()) {
            lock.unlock();
            for (const auto& [event_type, object] : pending) {
              if (matches(*object)) out += line(event_type, *object);
            }
            if (!out.empty()) return sink.write(out.data(), out.size());
            lock.lock();
            continue;
          }
          if (std::chrono::steady_clock::now() >= state->deadline) {
            lock.unlock();
            sink.done();
            return true;
          }
          // A bookmark only after a quiet second, and only for versions already scanned: every
          // event up to its version has been sent (a bookmark must never skip an event).
          if (timed_out && state->bookmarks) {
            Node bookmark = Node::Mapping();
            bookmark.Add("apiVersion", Node::String(type.ApiVersion()));
            bookmark.Add("kind", Node::String(type.kind));
            Node meta = Node::Mapping();
            meta.Add("resourceVersion", Node::String(std::to_string(state->last_rv)));
            bookmark.Add("metadata", std::move(meta));
            out = line("BOOKMARK", bookmark);
            break;
          }
          timed_out = changed->wait_for(lock, std::chrono::seconds(1)) == std::cv_status::timeout;
        }
        lock.unlock();
        return sink.write(out.data(), out.size());
      },
      [this](bool) {
        std::lock_guard<std::mutex> lock(mutex_);
        --open_watches_;
      });
}

std::optional<Node> ApiServer::Find(const ResourceType& type, const std::string& namespace_,
                                    const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = objects_.find(Key(type, namespace_, name));
  if (it == objects_.end()) return std::nullopt;
  return *it->second.object;
}

std::vector<Node> ApiServer::List(const ResourceType& type) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Node> out;
  std::string prefix = fmt::format("{}/{}/", type.group, type.plural);
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.rfind(prefix, 0) == 0; ++it) {
    out.push_back(*it->second.object);
  }
  return out;
}

void ApiServer::Apply(const ResourceType& type, const Node& object) {
  std::unique_lock<std::mutex> lock(mutex_);
  Call call;
  call.type = &type;
  const Node* meta = object.Find("metadata");
  call.namespace_ = type.namespaced ? Str(meta, "namespace") : "";
  if (type.namespaced && call.namespace_.empty()) call.namespace_ = "default";
  call.name = Str(meta, "name");
  Node copy = object;
  copy.Set("apiVersion", Node::String(type.ApiVersion()));
  copy.Set("kind", Node::String(type.kind));
  // Through JSON, as kubectl sends it: the server keeps JSON's values (`yes` becomes true).
  Mutate(call, "PATCH", "application/apply-patch+yaml", *ReadBody(Json(copy)),
         {{"fieldManager", "kubectl"}, {"force", "true"}});
  UnlockAndWake(lock);
}

void ApiServer::Delete(const ResourceType& type, const std::string& namespace_,
                       const std::string& name) {
  std::unique_lock<std::mutex> lock(mutex_);
  Call call;
  call.type = &type;
  call.namespace_ = type.namespaced ? namespace_ : "";
  call.name = name;
  Mutate(call, "DELETE", "", Node(), {});
  UnlockAndWake(lock);
}

void ApiServer::FailNext(int count, int status, int retry_after_seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  fail_count_ = count;
  fail_status_ = status;
  fail_retry_after_ = retry_after_seconds;
}

void ApiServer::SetClock(std::function<std::string()> now) {
  std::lock_guard<std::mutex> lock(mutex_);
  clock_ = std::move(now);
}

void ApiServer::GatherWrites(int count, std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> lock(writes_mutex_);
  gather_count_ = count;
  gather_timeout_ = timeout;
}

int ApiServer::most_writes_at_once() const {
  std::lock_guard<std::mutex> lock(writes_mutex_);
  return most_writes_at_once_;
}

void ApiServer::SetLatency(std::chrono::milliseconds latency) {
  std::lock_guard<std::mutex> lock(mutex_);
  latency_ = latency;
}

void ApiServer::DropWatches() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++drop_generation_;
    NotifyWatches();
  }
}

void ApiServer::Compact() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const Event& e : history_) dropped_rv_[e.plural] = e.rv;
    history_.clear();
    oldest_rv_ = rv_;
    NotifyWatches();
  }
}

uint64_t ApiServer::mutating_requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return mutating_;
}
uint64_t ApiServer::conflicts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return conflicts_;
}
uint64_t ApiServer::requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}
int ApiServer::open_watches() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return open_watches_;
}
uint64_t ApiServer::TypeVersion(const ResourceType& type) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = type_versions_.find(TypeKey(type));
  return it == type_versions_.end() ? 0 : it->second;
}

std::string ApiServer::resource_version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::to_string(rv_);
}

// ---- Test PKI ----

namespace {

EVP_PKEY* NewKey() {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr);
  EVP_PKEY* key = nullptr;
  EVP_PKEY_keygen_init(ctx);
  EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1);
  EVP_PKEY_keygen(ctx, &key);
  EVP_PKEY_CTX_free(ctx);
  return key;
}

X509* NewCert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key, bool ca,
              const std::string& san, long serial) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 365);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
  auto add = [&](int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    if (ext) {
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
  };
  add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (ca) add(NID_key_usage, "critical,keyCertSign,cRLSign");
  if (!san.empty()) add(NID_subject_alt_name, san.c_str());
  X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256());
  return cert;
}

std::string CertPem(X509* cert) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, cert);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

std::string KeyPem(EVP_PKEY* key) {
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(b);
  return out;
}

}  // namespace

TestPki MakeTestPki() {
  TestPki pki;
  EVP_PKEY* ca_key = NewKey();
  X509* ca = NewCert(ca_key, "meshfed-test-ca", nullptr, nullptr, true, "", 1);
  EVP_PKEY* server_key = NewKey();
  X509* server =
      NewCert(server_key, "127.0.0.1", ca, ca_key, false, "IP:127.0.0.1,DNS:localhost", 2);
  EVP_PKEY* client_key = NewKey();
  X509* client = NewCert(client_key, "meshfed-test", ca, ca_key, false, "", 3);
  pki.ca_pem = CertPem(ca);
  pki.server_cert_pem = CertPem(server);
  pki.server_key_pem = KeyPem(server_key);
  pki.client_cert_pem = CertPem(client);
  pki.client_key_pem = KeyPem(client_key);
  for (X509* c : {ca, server, client}) X509_free(c);
  for (EVP_PKEY* k : {ca_key, server_key, client_key}) EVP_PKEY_free(k);
  return pki;
}

}  // namespace meshfed::kube::testing
