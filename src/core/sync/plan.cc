#include "core/sync/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/model/object.h"
#include "core/model/text.h"

namespace meshfed {
namespace {

std::string Annotation(const Node& object, std::string_view key) {
  const Node* meta = object.Find("metadata");
  return std::string(ScalarAt(meta ? meta->Find("annotations") : nullptr, key));
}

}  // namespace

std::string HashOf(const Node& desired) { return fmt::format("{:016x}", CanonicalHash(desired)); }

bool Managed(const Node& object) {
  const Node* meta = object.Find("metadata");
  return ScalarAt(meta ? meta->Find("labels") : nullptr, kManagedByLabel) == kManagedByValue;
}

std::string ObjectKey(const Node& object) {
  std::string key;
  AppendObjectKey(object, key);
  return key;
}

size_t ClusterPlan::Writes() const {
  return static_cast<size_t>(std::count_if(changes.begin(), changes.end(), [](const Change& c) {
    return c.kind != Change::Kind::Conflict;
  }));
}

bool Satisfies(const Node& live, const Node& desired) {
  switch (desired.kind()) {
    case Node::Kind::Null:
      return live.IsNull();
    case Node::Kind::Scalar:
      return live.IsScalar() && live.text() == desired.text() &&
             live.scalar_type() == desired.scalar_type();
    case Node::Kind::Sequence:
      if (!live.IsSequence() || live.items().size() != desired.items().size()) return false;
      for (size_t i = 0; i < desired.items().size(); ++i) {
        if (!Satisfies(live.items()[i], desired.items()[i])) return false;
      }
      return true;
    case Node::Kind::Mapping:
      if (!live.IsMapping()) return false;
      for (const MapEntry& e : desired.entries()) {
        const Node* other = live.Find(e.key);
        if (e.value.IsNull()) {
          if (other && !other->IsNull()) return false;
          continue;
        }
        if (!other || !Satisfies(*other, e.value)) return false;
      }
      return true;
  }
  return false;
}

namespace {
Node WithHash(const Node& desired, std::string_view hash) {
  Node out = desired;
  Node* meta = out.Find("metadata");
  if (!meta || !meta->IsMapping()) meta = &out.Set("metadata", Node::Mapping());
  Node* annotations = meta->Find("annotations");
  if (!annotations || !annotations->IsMapping()) {
    annotations = &meta->Set("annotations", Node::Mapping());
  }
  annotations->Set(kAppliedHashAnnotation, Node::String(hash));
  return out;
}
}  // namespace

Node WithAppliedHash(const Node& desired) { return WithHash(desired, HashOf(desired)); }

Node Change::ToApply() const { return WithHash(desired, applied_hash); }

ClusterPlan PlanCluster(const std::vector<Node>& desired, const std::vector<Node>& live) {
  auto pointers = [](const std::vector<Node>& nodes) {
    std::vector<const Node*> out;
    out.reserve(nodes.size());
    for (const Node& n : nodes) out.push_back(&n);
    return out;
  };
  return PlanCluster(pointers(desired), pointers(live));
}

ClusterPlan PlanCluster(const std::vector<const Node*>& desired,
                        const std::vector<const Node*>& live) {
  ClusterPlan plan;
  std::map<std::string, const Node*> live_by_key;
  for (const Node* o : live) live_by_key[ObjectKey(*o)] = o;
  std::map<std::string, const Node*> desired_by_key;
  for (const Node* o : desired) desired_by_key[ObjectKey(*o)] = o;
  for (const auto& [key, want] : desired_by_key) {
    auto it = live_by_key.find(key);
    if (it == live_by_key.end()) {
      plan.changes.push_back({Change::Kind::Create, key, *want, Node(), "absent", HashOf(*want)});
      continue;
    }
    const Node& have = *it->second;
    if (!Managed(have)) {
      plan.changes.push_back({Change::Kind::Conflict, key, *want, have,
                              "exists and is not managed by meshfed; meshfed never overwrites it",
                              ""});
      continue;
    }
    // The common case, nothing to do, copies nothing: compare the hash, then the fields.
    std::string reason;
    std::string hash = HashOf(*want);
    if (Annotation(have, kAppliedHashAnnotation) != hash) {
      reason = "the generated configuration changed";
    } else if (!Satisfies(have, *want)) {
      reason = "the live object drifted from what meshfed applied";
    }
    if (reason.empty()) {
      ++plan.unchanged;
    } else {
      plan.changes.push_back({Change::Kind::Update, key, *want, have, reason, std::move(hash)});
    }
  }
  for (const auto& [key, have] : live_by_key) {
    if (Managed(*have) && !desired_by_key.count(key)) {
      plan.changes.push_back({Change::Kind::Delete, key, Node(), *have, "no longer generated", ""});
    }
  }
  std::sort(plan.changes.begin(), plan.changes.end(),
            [](const Change& a, const Change& b) { return a.key < b.key; });
  return plan;
}

std::optional<Node> StatusToWrite(const Node& desired_status, const Node& live_object,
                                  const std::string& now) {
  const Node* meta = live_object.Find("metadata");
  const Node* live_status = live_object.Find("status");
  Node status = Node::Mapping();
  std::string_view generation = ScalarAt(meta, "generation");
  status.Add("observedGeneration", Node::Int(ParseIntOr(generation, 0)));
  for (const MapEntry& e : desired_status.entries()) {
    if (e.key == "observedGeneration") continue;
    if (e.key != "conditions" || !e.value.IsSequence()) {
      status.Add(e.key, e.value);
      continue;
    }
    Node conditions = Node::Sequence();
    const Node* live_conditions = live_status ? live_status->Find("conditions") : nullptr;
    for (const Node& c : e.value.items()) {
      Node condition = c;
      std::string since = now;
      if (live_conditions && live_conditions->IsSequence()) {
        for (const Node& lc : live_conditions->items()) {
          if (ScalarAt(&lc, "type") == ScalarAt(&c, "type") &&
              ScalarAt(&lc, "status") == ScalarAt(&c, "status") &&
              !ScalarAt(&lc, "lastTransitionTime").empty()) {
            since = ScalarAt(&lc, "lastTransitionTime");
          }
        }
      }
      condition.Set("lastTransitionTime", Node::String(since));
      conditions.Append(std::move(condition));
    }
    status.Add("conditions", std::move(conditions));
  }
  if (live_status && SameValue(*live_status, status)) return std::nullopt;
  return status;
}

std::string UnifiedDiff(const std::string& before, const std::string& after,
                        const std::string& before_name, const std::string& after_name) {
  if (before == after) return "";
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      if (nl == std::string::npos) nl = text.size();
      out.push_back(text.substr(start, nl - start));
      start = nl + 1;
    }
    return out;
  };
  std::vector<std::string> a = lines(before), b = lines(after);
  // Longest common subsequence table (objects are small: a few hundred lines at most).
  std::vector<std::vector<uint32_t>> lcs(a.size() + 1, std::vector<uint32_t>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  struct Line {
    char op;  // ' ', '-', '+'
    size_t ai, bi;
  };
  std::vector<Line> script;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      script.push_back({' ', i++, j++});
    } else if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
      script.push_back({'-', i++, j});  // deletions before insertions, as diff(1) prints them
    } else {
      script.push_back({'+', i, j++});
    }
  }
  std::string out = fmt::format("--- {}\n+++ {}\n", before_name, after_name);
  constexpr size_t kContext = 3;
  size_t k = 0;
  while (k < script.size()) {
    if (script[k].op == ' ') {
      ++k;
      continue;
    }
    size_t start = k >= kContext ? k - kContext : 0;
    // One hunk while changes are within twice the context of each other.
    size_t last_change = k;
    for (size_t m = k; m < script.size(); ++m) {
      if (script[m].op != ' ') {
        last_change = m;
      } else if (m - last_change > 2 * kContext) {
        break;
      }
    }
    size_t end = std::min(script.size() - 1, last_change + kContext);
    size_t a_start = script[start].ai, b_start = script[start].bi;
    size_t a_count = 0, b_count = 0;
    std::string body;
    for (size_t m = start; m <= end; ++m) {
      const Line& l = script[m];
      if (l.op != '+') ++a_count;
      if (l.op != '-') ++b_count;
      body += l.op;
      body += l.op == '+' ? b[l.bi] : a[l.ai];
      body += '\n';
    }
    out += fmt::format("@@ -{},{} +{},{} @@\n", a_count ? a_start + 1 : a_start, a_count,
                       b_count ? b_start + 1 : b_start, b_count);
    out += body;
    k = end + 1;
  }
  return out;
}

}  // namespace meshfed
