// Host names as Istio reads them (pilot/pkg/model/config.go ResolveShortnameToFQDN) and
// Kubernetes name rules (apimachinery validation: DNS-1123 label and subdomain).
#pragma once

#include <string>
#include <string_view>

namespace meshfed {

inline constexpr std::string_view kDefaultDomainSuffix = "cluster.local";

// `reviews` in namespace `default` -> `reviews.default.svc.cluster.local`. A name with any dot,
// "*", or an IP address is kept as is: Istio resolves short names in the namespace of the config
// object that names them, never the service's.
std::string ResolveShortName(std::string_view host, std::string_view config_namespace,
                             std::string_view domain_suffix = kDefaultDomainSuffix);
std::string ServiceFqdn(std::string_view name, std::string_view namespace_,
                        std::string_view domain_suffix = kDefaultDomainSuffix);

// A VirtualService's gateway reference as Istio resolves it (resolveGatewayName): `mesh` stays;
// `name` and `./name` mean the VS's namespace; `ns/name` stays; the legacy
// `name.ns.svc.cluster.local` means ns/name.
std::string ResolveGatewayReference(std::string_view ref, std::string_view vs_namespace);

// Istio host overlap (pkg/config/host/name.go Name.Matches): equal, "*", or a wildcard's suffix
// covering the other name (`*.foo.bar` and `*.bar` overlap).
bool HostsOverlap(std::string_view a, std::string_view b);

bool IsDns1123Label(std::string_view s);      // [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63
bool IsDns1123Subdomain(std::string_view s);  // dot-separated labels, at most 253
bool IsIpAddress(std::string_view s);

}  // namespace meshfed
