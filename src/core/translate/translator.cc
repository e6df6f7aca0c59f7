#include "core/translate/translator.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "core/model/text.h"
#include "core/translate/translate_internal.h"

namespace meshfed {
namespace internal {

Node StringList(const std::vector<std::string>& values) {
  Node list = Node::Sequence();
  for (const std::string& v : values) list.Append(Node::String(v));
  return list;
}

Node PortNode(int number) {
  Node port = Node::Mapping();
  port.Set("number", Node::Int(number));
  return port;
}

Exposure* Context::FindExposure(std::string_view donor, std::string_view namespace_,
                                std::string_view exposed_name) const {
  auto it = exposure_index.find(fmt::format("{}/{}/{}", donor, namespace_, exposed_name));
  return it == exposure_index.end() ? nullptr : it->second;
}

bool Context::CollidesWithUserObject(const Cluster& cluster, const std::vector<Node>& objects,
                                     std::string& who) const {
  for (const Node& o : objects) {
    std::string api_version = ScalarText(o.Find("apiVersion"));
    std::string group = api_version.find('/') == std::string::npos
                            ? std::string()
                            : api_version.substr(0, api_version.find('/'));
    std::string kind = ScalarText(o.Find("kind"));
    const Node* meta = o.Find("metadata");
    std::string ns = ScalarText(meta->Find("namespace"));
    std::string name = ScalarText(meta->Find("name"));
    const Object* existing = cluster.FindObject(group, kind, ns, name);
    if (existing && !existing->ManagedByMeshfed()) {
      who = fmt::format("{} {}/{} ({}:{}:{})", kind, ns, name, existing->file,
                        existing->position.line, existing->position.column);
      return true;
    }
  }
  return false;
}

}  // namespace internal

namespace {

std::tuple<std::string, std::string, std::string> SortKey(const Node& o) {
  const Node* meta = o.Find("metadata");
  return {ScalarText(o.Find("kind")), ScalarText(meta->Find("namespace")),
          ScalarText(meta->Find("name"))};
}

}  // namespace

Translation Translate(const Fleet& fleet) {
  Translation out;
  internal::Context ctx{fleet, out, {}, {}, {}, {}};
  internal::TranslateDonors(ctx);
  for (internal::Exposure& e : ctx.exposures) {
    if (e.conflict) continue;
    ctx.exposure_index.emplace(fmt::format("{}/{}/{}", e.donor->name, e.namespace_, e.exposed_name),
                               &e);
  }
  internal::TranslateAcceptors(ctx);
  internal::BuildStatuses(ctx);
  for (const Cluster& c : fleet.clusters) {
    ClusterOutput co{c.name, {}};
    std::vector<Node>& generated = ctx.generated[c.name];
    // Sort by (kind, namespace, name), computing each key once.
    std::vector<std::pair<std::tuple<std::string, std::string, std::string>, size_t>> order;
    order.reserve(generated.size());
    for (size_t i = 0; i < generated.size(); ++i) order.emplace_back(SortKey(generated[i]), i);
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    co.objects.reserve(generated.size());
    for (const auto& [key, i] : order) co.objects.push_back(std::move(generated[i]));
    out.clusters.push_back(std::move(co));
  }
  std::stable_sort(out.statuses.begin(), out.statuses.end(),
                   [](const StatusOutput& a, const StatusOutput& b) {
                     return std::make_tuple(a.cluster, SortKey(a.object)) <
                            std::make_tuple(b.cluster, SortKey(b.object));
                   });
  return out;
}

}  // namespace meshfed
