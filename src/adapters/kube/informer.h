// An informer: one resource type of one cluster kept in memory by list + watch (client-go's
// reflector): list, then watch from the list's resourceVersion; a watch that ends resumes from
// the last version seen (bookmarks included); 410 Gone relists; errors back off and retry.
// Every change to the cache calls `on_change` (the controller debounces).
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

#include "adapters/kube/client.h"

namespace meshfed::kube {

class Informer {
 public:
  Informer(Client& client, ResourceType type, std::function<void()> on_change,
           std::function<void(const std::string&)> log = nullptr,
           std::chrono::milliseconds max_backoff = std::chrono::milliseconds(10'000));
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start();
  void Stop();  // returns after the worker ended (the client's Stop() ends a watch in flight)

  bool synced() const { return synced_; }    // the first list completed
  bool healthy() const { return healthy_; }  // the last list or watch worked
  std::string last_error() const;
  // The cached objects are immutable and shared: a snapshot or a lookup copies no tree, and an
  // object a caller holds stays as it was when the cache later replaces it. Each is also a
  // shared value (Node::Share), so that a copy of the Node itself (the controller copies every
  // object into the fleet it translates) refers to the same tree instead of copying it.
  using Object = std::shared_ptr<const Node>;
  std::vector<Object> Snapshot() const;  // in key order
  // The object with this cache key ("namespace/name"); null if it is not in the cache.
  Object Get(const std::string& key) const;
  // True if some cached object satisfies `pred` (read in place, under the cache's lock).
  bool Any(const std::function<bool(const Node&)>& pred) const;
  // The cache keys changed (added, modified or deleted) since the last call: the controller's
  // incremental reconcile reads what changed instead of the whole cache.
  std::set<std::string> DrainChanges();
  const ResourceType& type() const { return type_; }
  uint64_t relists() const { return relists_; }
  // The last version seen (list, event or bookmark) whose change has been signalled.
  std::string resource_version() const;

 private:
  void Run();
  bool List();
  void Apply(WatchEvent&& e);
  void Wait(std::chrono::milliseconds d);

  Client& client_;
  ResourceType type_;
  std::function<void()> on_change_;
  std::function<void(const std::string&)> log_;
  std::chrono::milliseconds max_backoff_;
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  std::map<std::string, Object> cache_;  // namespace/name
  std::set<std::string> changed_;        // keys changed since DrainChanges
  std::string resource_version_;         // where a watch resumes
  std::string observed_version_;         // published only after on_change_ ran for it
  std::string last_error_;
  std::atomic<bool> synced_{false};
  std::atomic<bool> healthy_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> relists_{0};
  std::thread thread_;
};

}  // namespace meshfed::kube
