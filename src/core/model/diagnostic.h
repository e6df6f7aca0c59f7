// User-configuration problems are values, collected rather than thrown (cel-cpp's two-tier model).
// Operational failures (a file that cannot be read) are absl::Status at the adapter boundary.
#pragma once

#include <string>
#include <vector>

#include "core/model/node.h"

namespace meshfed {

enum class Severity { Error, Warning, Info };

// Stable codes; docs/diagnostics.md explains each with an example and a fix.
namespace code {
inline constexpr const char* kYamlSyntax = "MF1001";
inline constexpr const char* kInputLimit = "MF1002";
inline constexpr const char* kDuplicateKey = "MF1003";
inline constexpr const char* kNotAnObject = "MF1004";
inline constexpr const char* kWrongType = "MF1010";
inline constexpr const char* kMissingField = "MF1011";
inline constexpr const char* kUnknownField = "MF1012";
inline constexpr const char* kInvalidValue = "MF1013";
inline constexpr const char* kObjectReplaced = "MF1020";
inline constexpr const char* kFleetLayout = "MF1021";
inline constexpr const char* kUnknownCluster = "MF2001";
inline constexpr const char* kExposedNameNotFound = "MF2002";
inline constexpr const char* kExposureConflict = "MF2003";
inline constexpr const char* kBindingProblem = "MF2004";
inline constexpr const char* kOwnershipConflict = "MF2005";
inline constexpr const char* kRouteNotCarried = "MF2006";
inline constexpr const char* kSubsetNotFound = "MF2007";
inline constexpr const char* kSharedTrustDomain = "MF2008";
inline constexpr const char* kLocalNameShadowed = "MF2009";
inline constexpr const char* kRoutesToBoundName = "MF2010";
inline constexpr const char* kRoutesToInternalHost = "MF2011";
inline constexpr const char* kFederationServerKeptOut = "MF2012";
// Istio's analyzer codes (pkg/config/analysis/msg/messages.yaml), for the analyzers meshfed runs.
inline constexpr const char* kReferencedResourceNotFound = "IST0101";
inline constexpr const char* kConflictingMeshGatewayHosts = "IST0109";
inline constexpr const char* kDestinationPortSelectorRequired = "IST0112";
inline constexpr const char* kHostNotFoundInGateway = "IST0132";
inline constexpr const char* kSubsetSelectsNoPods = "IST0173";
inline constexpr const char* kUnknownDestinationRuleHost = "IST0174";
}  // namespace code

// Names the object a diagnostic is about, as "kind namespace/name in cluster".
struct ObjectRef {
  std::string cluster;
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string Describe() const;
};

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string code;
  std::string file;  // empty when not from a file
  Position position;
  ObjectRef object;
  std::string field;  // e.g. spec.exposed[1].clusters[0]
  std::string message;

  // "file:line:column: error MF1010: message" (the form compilers and editors understand).
  std::string Format() const;
};

using Diagnostics = std::vector<Diagnostic>;

bool HasErrors(const Diagnostics& diagnostics);
std::string_view SeverityName(Severity s);

}  // namespace meshfed
