// A gateway proxy's servers on one port, as Istio merges them from every Gateway that selects the
// proxy, and whether Envoy takes the listener they make. Shared by the simulator (which routes
// through the servers) and the fleet analyzer MF2012 (which warns when a user's Gateway keeps out
// a server meshfed generates).
//
// Istio's source: pilot/pkg/model/gateway.go (MergeGateways, sanitizeServerHostNamespace,
// CheckDuplicates, canMergeProtocols, GetSNIHostsForServer), pkg/config/gateway (IsTLSServer,
// IsHTTPServer, IsPassThroughServer, IsHTTPSServerWithTLSTermination),
// pilot/pkg/model/push_context.go (a Gateway without a selector applies to every gateway).
// Servers' `bind` is not modelled: every server listens on the wildcard address.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/model/kinds.h"
#include "core/model/node.h"

namespace meshfed {

// Whether a workload with labels `have` is selected by `wanted` (every pair of `wanted` in `have`;
// an empty selector selects everything).
bool LabelsSubset(const Labels& wanted, const Labels& have);

// One server of a Gateway, as the merge reads it.
struct GatewayServer {
  const Gateway* gateway = nullptr;  // null for a server not in the fleet yet (one meshfed makes)
  const Node* node = nullptr;        // spec.servers[index]
  size_t index = 0;
  std::string protocol;       // port.protocol, lower-cased
  const Node* tls = nullptr;  // `tls`, when the server has it
  std::string tls_mode;       // tls.mode, as written ("" without `tls`)
  // Each host as Istio rewrites it (sanitizeServerHostNamespace): (namespace part, lower-cased
  // DNS part), "*" for any namespace, `.` resolved to the Gateway's; `*/*` leaves just ("*", "*").
  std::vector<std::pair<std::string, std::string>> hosts;

  bool Http() const { return IsHttpProtocol(protocol); }
  // An HTTPS server that terminates TLS (not PASSTHROUGH or AUTO_PASSTHROUGH): Istio gives it a
  // filter chain of its own, matched by SNI, with an HTTP connection manager.
  bool TerminatesHttps() const;
  // The server names of its filter chain (GetSNIHostsForServer: the hosts' DNS parts, each once,
  // sorted); empty when a host is `*`: the chain then matches any SNI (toFilterChainMatch).
  std::vector<std::string> SniNames() const;
  // A host as CheckDuplicates compares it: `h` for any namespace, else `<ns>/h`.
  std::string Written(size_t host) const;
};

// Reads spec.servers[index] of a Gateway in `gateway_namespace`; nullopt when the server is not on
// `port` or has no list of hosts (the schema reports those).
std::optional<GatewayServer> ReadGatewayServer(std::string_view gateway_namespace,
                                               const Node& server, size_t index, int port);

// The Gateways in `gateways` whose selector selects `labels`, oldest first (Istio merges them in
// that order: creation time, then name and namespace; CreatedBefore).
std::vector<const Gateway*> GatewaysSelecting(const std::list<Gateway>& gateways,
                                              const Labels& labels);

// The servers on one port, offered in merge order.
class GatewayPortServers {
 public:
  enum class Skip {
    kNone,
    // A server with `tls` that repeats a host an earlier server with `tls` has ("duplicate host
    // names"); the whole server goes, every host with it.
    kDuplicateHost,
    // The port is plaintext and the two servers are not both HTTP ("conflict with existing
    // server").
    kProtocolConflict,
    // The port is TLS and the server has no `tls` ("TLS server without TLS options").
    kWithoutTls,
  };
  // A server by its Gateway and index: the one that keeps a skipped server out (for a duplicate
  // host, the first server that named it, which may have been skipped itself).
  struct ServerRef {
    const Gateway* gateway = nullptr;
    size_t index = 0;
  };
  struct Verdict {
    Skip skip = Skip::kNone;
    ServerRef by;      // a skip: the server that causes it
    std::string host;  // kDuplicateHost: the host, as CheckDuplicates compares it
  };
  // Two kept servers whose filter chains match one SNI name: Envoy rejects the whole listener
  // ("multiple filter chains with the same matching rules are defined"). Istio's own check
  // compares hosts as written, so `h` and `<ns>/h` both get through it.
  struct Overlap {
    size_t first = 0;
    size_t second = 0;
    std::string sni;
  };

  // The first server on the port decides whether it is plaintext: unless the server has `tls` and
  // is not an HTTP server (gateway.IsTLSServer). Then a plaintext port keeps a server only when
  // both are HTTP (canMergeProtocols); a TLS port, only one with `tls`.
  Verdict Offer(GatewayServer server);
  // Offers each server of `g` on `port`, in order.
  void OfferGateway(const Gateway& g, int port);

  bool plaintext() const { return plaintext_; }
  const std::vector<GatewayServer>& servers() const { return servers_; }
  // The overlaps among the kept servers that terminate HTTPS on a TLS port, in merge order of
  // their later server: each pair once, with the first name they share. Other TLS servers (TLS
  // protocol, passthrough) make filter chains from their VirtualServices' routes, which are not
  // modelled here.
  std::vector<Overlap> Overlaps() const;

 private:
  bool plaintext_ = false;
  bool first_http_ = false;
  std::vector<GatewayServer> servers_;
  std::unordered_map<std::string, ServerRef> tls_hosts_;  // written host -> who named it first
};

}  // namespace meshfed
