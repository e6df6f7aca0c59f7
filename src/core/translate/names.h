// Deterministic, collision-free names and the ownership metadata on every generated object.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/model/node.h"
#include "core/model/object.h"

namespace meshfed {

inline constexpr std::string_view kOwnerKindLabel = "multicluster.istio.io/owner-kind";
inline constexpr std::string_view kOwnerNamespaceLabel = "multicluster.istio.io/owner-namespace";
inline constexpr std::string_view kOwnerNameLabel = "multicluster.istio.io/owner-name";
inline constexpr std::string_view kOwnerAnnotation = "multicluster.istio.io/owner";
inline constexpr std::string_view kExposedHostAnnotation = "multicluster.istio.io/exposed-host";
// On a generated gateway VirtualService: the donor VirtualService its routes were compiled from.
inline constexpr std::string_view kRoutesFromAnnotation = "multicluster.istio.io/routes-from";
inline constexpr std::string_view kClusterAnnotation = "multicluster.istio.io/cluster";
// Acceptor -> donor gateway: which exposed port a request is for, when an exposure has several.
inline constexpr std::string_view kPortHeader = "x-meshfed-port";
// Host of the acceptor-side ServiceEntry that stands for the donors' federation gateways.
inline constexpr std::string_view kInternalDomain = "meshfed.internal";
// A bound name's internal host, `<local name>.<namespace>.meshfed.internal`: the acceptor's
// ServiceEntry for the donor's gateways, which the fleet analyzers recognise too.
std::string InternalHost(std::string_view local_name, std::string_view namespace_);

// 32-bit FNV-1a of the parts joined by '/', as 8 hex digits.
std::string ShortHash(const std::vector<std::string_view>& parts);

// "meshfed-<parts joined by '-'>-<hash of the parts>", cut to a DNS label (63 characters). The
// hash makes the name collision-free: `a-b`+`c` and `a`+`b-c` read alike but hash differently.
std::string GeneratedName(const std::vector<std::string_view>& parts);

// A label value (at most 63 characters): the value itself, or a cut prefix plus its hash.
std::string LabelValue(std::string_view value);

// The labels of every object generated for `owner` (a SEP or RSB), shared (Node::Share): the
// objects that hold copies of it hold one value.
Node OwnerLabels(const Object& owner);

// An annotation's key (one of the k...Annotation constants) and value.
using Annotation = std::pair<std::string_view, std::string_view>;

// metadata for a generated object owned by `owner` (a SEP or RSB), with `labels` (OwnerLabels of
// the owner, made once for all its objects). The annotations' keys are constants (the
// k...Annotation above): the tree refers to them (Key::Static). The annotations are shared
// (Node::Share), as the labels are, so copies of the metadata share both.
Node GeneratedMetadata(const std::string& name, const std::string& namespace_, const Object& owner,
                       const Node& labels, std::span<const Annotation> annotations);

// Starts an object: apiVersion, kind, metadata.
Node NewObject(std::string_view api_version, std::string_view kind, Node metadata);

}  // namespace meshfed
