#include "adapters/kube/informer.h"

#include <fmt/format.h>

#include <utility>

#include "core/model/text.h"

namespace meshfed::kube {
namespace {

std::string CacheKey(const Node& object) {
  return std::string(ScalarAt(&object, "metadata", "namespace")) + "/" +
         std::string(ScalarAt(&object, "metadata", "name"));
}

// An object as the cache holds it (the client has left out its metadata.managedFields).
Informer::Object Cached(Node object) {
  return std::make_shared<const Node>(Node::Share(std::move(object)));
}

}  // namespace

Informer::Informer(Client& client, ResourceType type, std::function<void()> on_change,
                   std::function<void(const std::string&)> log,
                   std::chrono::milliseconds max_backoff)
    : client_(client),
      type_(std::move(type)),
      on_change_(std::move(on_change)),
      log_(std::move(log)),
      max_backoff_(max_backoff) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  stopping_ = true;
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string Informer::last_error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_error_;
}

std::string Informer::resource_version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return observed_version_;
}

std::vector<Informer::Object> Informer::Snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Object> out;
  out.reserve(cache_.size());
  for (const auto& [key, object] : cache_) out.push_back(object);
  return out;
}

Informer::Object Informer::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return nullptr;
  return it->second;
}

bool Informer::Any(const std::function<bool(const Node&)>& pred) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [key, object] : cache_) {
    if (pred(*object)) return true;
  }
  return false;
}

std::set<std::string> Informer::DrainChanges() {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::exchange(changed_, {});
}

void Informer::Wait(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mutex_);
  stop_cv_.wait_for(lock, d, [this] { return stopping_.load(); });
}

bool Informer::List() {
  absl::StatusOr<ListResult> list = client_.List(type_, "");
  if (!list.ok()) {
    std::lock_guard<std::mutex> lock(mutex_);
    last_error_ = std::string(list.status().message());
    healthy_ = false;
    return false;
  }
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::map<std::string, Object> fresh;
    for (Node& item : list->items) {
      std::string key = CacheKey(item);
      fresh.emplace(std::move(key), Cached(std::move(item)));
    }
    for (const auto& [key, object] : fresh) {
      auto it = cache_.find(key);
      if (it == cache_.end() || !(*it->second == *object)) {
        changed = true;
        changed_.insert(key);
      }
    }
    for (const auto& [key, object] : cache_) {
      if (!fresh.count(key)) {
        changed = true;
        changed_.insert(key);
      }
    }
    cache_ = std::move(fresh);
    resource_version_ = list->resource_version;
    last_error_.clear();
    healthy_ = true;
  }
  ++relists_;
  bool first = !synced_;
  synced_ = true;
  if ((changed || first) && on_change_) on_change_();
  std::lock_guard<std::mutex> lock(mutex_);
  observed_version_ = resource_version_;
  return true;
}

void Informer::Apply(WatchEvent&& e) {
  std::string rv(ScalarAt(&e.object, "metadata", "resourceVersion"));
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!rv.empty()) resource_version_ = rv;
    if (e.type == "ADDED" || e.type == "MODIFIED") {
      Node& object = e.object;
      if (!object.Find("kind")) {
        object.Set("apiVersion", Node::String(type_.ApiVersion()));
        object.Set("kind", Node::String(type_.kind));
      }
      std::string key = CacheKey(object);
      Object& slot = cache_[key];
      changed = !slot || !(*slot == object);
      if (changed) {
        slot = Cached(std::move(object));
        changed_.insert(std::move(key));
      }
    } else if (e.type == "DELETED") {
      std::string key = CacheKey(e.object);
      changed = cache_.erase(key) > 0;
      if (changed) changed_.insert(std::move(key));
    }
    healthy_ = true;
  }
  if (changed && on_change_) on_change_();
  std::lock_guard<std::mutex> lock(mutex_);
  if (!rv.empty()) observed_version_ = rv;
}

void Informer::Run() {
  std::chrono::milliseconds backoff{100};
  bool need_list = true;
  while (!stopping_) {
    if (need_list) {
      if (!List()) {
        if (log_) log_(fmt::format("list {}: {}", type_.plural, last_error()));
        Wait(backoff);
        backoff = std::min(backoff * 2, max_backoff_);
        continue;
      }
      need_list = false;
      backoff = std::chrono::milliseconds(100);
    }
    WatchOptions options;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      options.resource_version = resource_version_;
    }
    options.timeout_seconds = 300;
    absl::Status s = client_.Watch(type_, "", options, [this](WatchEvent&& e) {
      if (stopping_) return false;
      Apply(std::move(e));
      return true;
    });
    if (stopping_ || absl::IsCancelled(s)) break;
    if (absl::IsOutOfRange(s)) {
      need_list = true;  // 410 Gone: the version is too old; relist
      continue;
    }
    if (!s.ok()) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        last_error_ = std::string(s.message());
      }
      healthy_ = false;
      if (log_) log_(fmt::format("watch {}: {}", type_.plural, std::string(s.message())));
      Wait(backoff);
      backoff = std::min(backoff * 2, max_backoff_);
      continue;
    }
    backoff = std::chrono::milliseconds(100);  // a normal end: resume from the last version
  }
}

}  // namespace meshfed::kube
