// Finding duplicate keys while a mapping is read: the mapping's own linear Find while it is
// small, a hash set once it is large. A file may hold a mapping of many thousand keys (a big
// ConfigMap): a linear search per key made reading it quadratic (50,000 keys: seconds).
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/model/node.h"

namespace meshfed {

class KeySet {
 public:
  // True when `key` is not yet a key of `mapping` (nor inserted here since): it counts as one
  // from now on. Call before the entry is added.
  bool Insert(const Node& mapping, std::string_view key) { return Insert(mapping.entries(), key); }
  // The same, for a mapping's entries gathered apart from it.
  bool Insert(const std::vector<MapEntry>& entries, std::string_view key) {
    if (entries.size() < kLinear) {
      return std::none_of(entries.begin(), entries.end(),
                          [key](const MapEntry& e) { return e.key == key; });
    }
    if (keys_.empty()) {
      for (const MapEntry& e : entries) keys_.insert(e.key.str());
    }
    return keys_.emplace(key).second;
  }
  // The mapping's entries changed other than through Insert (merged keys): look again.
  void Reset() { keys_.clear(); }

 private:
  static constexpr size_t kLinear = 16;
  std::unordered_set<std::string> keys_;
};

}  // namespace meshfed
