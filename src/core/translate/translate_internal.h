// Shared between the translator's passes; not part of the public interface.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/model/fleet.h"
#include "core/translate/translator.h"

namespace meshfed::internal {

struct BoundBy {
  std::string cluster;
  std::string namespace_;
  std::string binding;
  std::string local_name;
};

// One exposed name of a donor: the result of one spec.exposed[] entry.
struct Exposure {
  const Cluster* donor = nullptr;
  const ServiceExpositionPolicy* policy = nullptr;
  const ExposedEntry* entry = nullptr;
  std::string namespace_;
  std::string exposed_name;
  std::string host;    // the exposed FQDN
  std::string target;  // what it routes with, e.g. "VirtualService default/reviews"
  std::vector<int> ports;
  std::vector<std::string> allowed_clusters;  // known member clusters allowed to bind
  bool generated = false;                     // gateway config was generated: callers can reach it
  bool ready = false;
  bool conflict = false;
  std::string reason;
  std::string message;
  std::vector<BoundBy> bound_by;
};

struct PortMapping {
  int local_port = 0;
  int exposed_port = 0;
};

// One spec.remote[].services[] entry of a binding.
struct Binding {
  const Cluster* acceptor = nullptr;
  const RemoteServiceBinding* policy = nullptr;
  const RemoteEntry* remote = nullptr;
  const BoundService* service = nullptr;
  std::string local_name;
  std::string donor_namespace;
  Exposure* exposure = nullptr;
  std::vector<PortMapping> ports;
  bool ready = false;
  bool conflict = false;
  std::string reason;
  std::string message;
};

struct Context {
  const Fleet& fleet;
  Translation& out;
  std::map<std::string, std::vector<Node>> generated;  // by cluster
  std::vector<Exposure> exposures;
  std::unordered_map<std::string, Exposure*> exposure_index;  // donor/namespace/name, in effect
  std::vector<Binding> bindings;

  Exposure* FindExposure(std::string_view donor, std::string_view namespace_,
                         std::string_view exposed_name) const;
  // True (and nothing is added) when a user object, not managed by meshfed, already holds one of
  // these objects' identities in `cluster`; `who` then names it.
  bool CollidesWithUserObject(const Cluster& cluster, const std::vector<Node>& objects,
                              std::string& who) const;
};

void TranslateDonors(Context& ctx);
void TranslateAcceptors(Context& ctx);
void BuildStatuses(Context& ctx);

// Helpers shared by the passes.
Node StringList(const std::vector<std::string>& values);
Node PortNode(int number);

}  // namespace meshfed::internal
