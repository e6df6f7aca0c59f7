#include "core/model/gateway_servers.h"

#include <algorithm>
#include <map>

#include "core/model/object.h"
#include "core/model/text.h"

namespace meshfed {

bool LabelsSubset(const Labels& wanted, const Labels& have) {
  return std::all_of(wanted.begin(), wanted.end(), [&](const auto& kv) {
    auto it = have.find(kv.first);
    return it != have.end() && it->second == kv.second;
  });
}

bool GatewayServer::TerminatesHttps() const {
  return protocol == "https" && tls != nullptr && tls_mode != "PASSTHROUGH" &&
         tls_mode != "AUTO_PASSTHROUGH";
}

std::vector<std::string> GatewayServer::SniNames() const {
  std::vector<std::string> names;
  for (const auto& [ns, dns] : hosts) {
    if (dns == "*") return {};
    names.push_back(dns);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string GatewayServer::Written(size_t host) const {
  const auto& [ns, dns] = hosts[host];
  return ns == "*" ? dns : ns + "/" + dns;
}

std::optional<GatewayServer> ReadGatewayServer(std::string_view gateway_namespace,
                                               const Node& server, size_t index, int port) {
  if (!server.IsMapping()) return std::nullopt;
  const Node* p = server.Find("port");
  const Node* hosts = server.Find("hosts");
  if (!p || !p->IsMapping() || ParseIntOr(ScalarText(p->Find("number")), -1) != port || !hosts ||
      !hosts->IsSequence()) {
    return std::nullopt;
  }
  GatewayServer s;
  s.node = &server;
  s.index = index;
  s.protocol = ToLower(ScalarText(p->Find("protocol")));
  const Node* tls = server.Find("tls");
  s.tls = tls;
  if (tls && tls->IsMapping()) s.tls_mode = std::string(ScalarText(tls->Find("mode")));
  for (const Node& h : hosts->items()) {
    std::string_view t = h.text();
    size_t slash = t.find('/');
    std::string ns(slash == std::string_view::npos ? "*" : t.substr(0, slash));
    if (ns == ".") ns = gateway_namespace;
    std::string dns = ToLower(slash == std::string_view::npos ? t : t.substr(slash + 1));
    // `*/*` stands for every host: the server's hosts become just `*`.
    if (slash != std::string_view::npos && ns == "*" && dns == "*") {
      s.hosts = {{"*", "*"}};
      break;
    }
    s.hosts.emplace_back(std::move(ns), std::move(dns));
  }
  return s;
}

std::vector<const Gateway*> GatewaysSelecting(const std::list<Gateway>& gateways,
                                              const Labels& labels) {
  std::vector<const Gateway*> out;
  for (const Gateway& g : gateways) {
    if (LabelsSubset(g.selector, labels)) out.push_back(&g);
  }
  std::sort(out.begin(), out.end(), [](const Gateway* a, const Gateway* b) {
    return CreatedBefore(*a->object, *b->object);
  });
  return out;
}

GatewayPortServers::Verdict GatewayPortServers::Offer(GatewayServer server) {
  Verdict v;
  const ServerRef self{server.gateway, server.index};
  if (server.tls) {
    std::vector<std::string> written;
    written.reserve(server.hosts.size());
    for (size_t i = 0; i < server.hosts.size(); ++i) written.push_back(server.Written(i));
    for (const std::string& w : written) {
      if (auto it = tls_hosts_.find(w); it != tls_hosts_.end()) {
        v.skip = Skip::kDuplicateHost;
        v.by = it->second;
        v.host = w;
        return v;
      }
    }
    // Known from now on, even if the server is skipped below (CheckDuplicates comes first).
    for (std::string& w : written) tls_hosts_.emplace(std::move(w), self);
  }
  const bool http = server.Http();
  if (servers_.empty()) {
    plaintext_ = !(server.tls && !http);  // !gateway.IsTLSServer
    first_http_ = http;
  } else if (plaintext_ ? !(first_http_ && http) : !server.tls) {
    v.skip = plaintext_ ? Skip::kProtocolConflict : Skip::kWithoutTls;
    v.by = {servers_.front().gateway, servers_.front().index};
    return v;
  }
  servers_.push_back(std::move(server));
  return v;
}

void GatewayPortServers::OfferGateway(const Gateway& g, int port) {
  const Node* spec = g.object->spec();
  const Node* servers = spec && spec->IsMapping() ? spec->Find("servers") : nullptr;
  if (!servers || !servers->IsSequence()) return;
  const std::vector<Node>& items = servers->items();
  for (size_t i = 0; i < items.size(); ++i) {
    std::optional<GatewayServer> s = ReadGatewayServer(g.object->namespace_, items[i], i, port);
    if (!s) continue;
    s->gateway = &g;
    Offer(std::move(*s));
  }
}

std::vector<GatewayPortServers::Overlap> GatewayPortServers::Overlaps() const {
  // A plaintext port has no such server: its first server has no `tls` or is HTTP, and then only
  // HTTP servers join it.
  std::vector<Overlap> out;
  // Server name -> the servers whose filter chains match it so far; "" for chains that match any
  // SNI (two such chains conflict as well).
  std::map<std::string, std::vector<size_t>, std::less<>> by_name;
  for (size_t i = 0; i < servers_.size(); ++i) {
    const GatewayServer& s = servers_[i];
    if (!s.TerminatesHttps()) continue;
    std::vector<std::string> names = s.SniNames();
    if (names.empty()) names.emplace_back();
    const size_t first_of_server = out.size();
    for (std::string& name : names) {
      std::vector<size_t>& earlier = by_name[name];
      for (size_t j : earlier) {
        bool seen = std::any_of(out.begin() + static_cast<std::ptrdiff_t>(first_of_server),
                                out.end(), [&](const Overlap& o) { return o.first == j; });
        if (!seen) out.push_back(Overlap{j, i, name.empty() ? "*" : name});
      }
      earlier.push_back(i);
    }
  }
  return out;
}

}  // namespace meshfed
