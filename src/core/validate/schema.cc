#include "core/validate/schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/model/kinds.h"
#include "core/model/text.h"

namespace meshfed {
namespace {

// ---- The schemas, transcribed from istio/api (networking/v1, security/v1) ----
//
// A field's type is written as: string | bool | int32 | uint32 | int64 | uint64 | double |
// duration | any | <Type> | [T] (list) | map<T> (string keys) | enum:A|B (a string from the set).
// A name ending in '!' is required. `oneof` groups list fields of which at most one may be set.

struct FieldSpec {
  const char* name;
  const char* type;
};
struct TypeSpec {
  const char* name;
  std::vector<FieldSpec> fields;
  std::vector<std::vector<const char*>> oneofs = {};
};

const std::vector<TypeSpec>& TypeSpecs() {
  static const std::vector<TypeSpec> kSpecs = {
      // networking.istio.io VirtualService
      {"VirtualService",
       {{"hosts", "[string]"},
        {"gateways", "[string]"},
        {"http", "[HTTPRoute]"},
        {"tls", "[TLSRoute]"},
        {"tcp", "[TCPRoute]"},
        {"exportTo", "[string]"}}},
      {"HTTPRoute",
       {{"name", "string"},
        {"match", "[HTTPMatchRequest]"},
        {"route", "[HTTPRouteDestination]"},
        {"redirect", "HTTPRedirect"},
        {"directResponse", "HTTPDirectResponse"},
        {"delegate", "Delegate"},
        {"rewrite", "HTTPRewrite"},
        {"timeout", "duration"},
        {"retries", "HTTPRetry"},
        {"fault", "HTTPFaultInjection"},
        {"mirror", "Destination"},
        {"mirrors", "[HTTPMirrorPolicy]"},
        {"mirrorPercent", "uint32"},
        {"mirrorPercentage", "Percent"},
        {"corsPolicy", "CorsPolicy"},
        {"headers", "Headers"}}},
      {"HTTPMatchRequest",
       {{"name", "string"},
        {"uri", "StringMatch"},
        {"scheme", "StringMatch"},
        {"method", "StringMatch"},
        {"authority", "StringMatch"},
        {"headers", "map<StringMatch>"},
        {"port", "uint32"},
        {"sourceLabels", "map<string>"},
        {"gateways", "[string]"},
        {"queryParams", "map<StringMatch>"},
        {"ignoreUriCase", "bool"},
        {"withoutHeaders", "map<StringMatch>"},
        {"sourceNamespace", "string"},
        {"statPrefix", "string"}}},
      {"StringMatch",
       {{"exact", "string"}, {"prefix", "string"}, {"regex", "string"}},
       {{"exact", "prefix", "regex"}}},
      {"HTTPRouteDestination",
       {{"destination!", "Destination"}, {"weight", "int32"}, {"headers", "Headers"}}},
      {"RouteDestination", {{"destination!", "Destination"}, {"weight", "int32"}}},
      {"Destination", {{"host!", "string"}, {"subset", "string"}, {"port", "PortSelector"}}},
      {"PortSelector", {{"number", "uint32"}}},
      {"Headers", {{"request", "HeaderOperations"}, {"response", "HeaderOperations"}}},
      {"HeaderOperations",
       {{"set", "map<string>"}, {"add", "map<string>"}, {"remove", "[string]"}}},
      {"HTTPRedirect",
       {{"uri", "string"},
        {"authority", "string"},
        {"port", "uint32"},
        {"derivePort", "enum:FROM_PROTOCOL_DEFAULT|FROM_REQUEST_PORT"},
        {"scheme", "string"},
        {"redirectCode", "uint32"}},
       {{"port", "derivePort"}}},
      {"HTTPDirectResponse", {{"status!", "uint32"}, {"body", "HTTPBody"}}},
      {"HTTPBody", {{"string", "string"}, {"bytes", "string"}}, {{"string", "bytes"}}},
      {"Delegate", {{"name", "string"}, {"namespace", "string"}}},
      {"HTTPRewrite",
       {{"uri", "string"}, {"authority", "string"}, {"uriRegexRewrite", "RegexRewrite"}}},
      {"RegexRewrite", {{"match", "string"}, {"rewrite", "string"}}},
      {"HTTPRetry",
       {{"attempts", "int32"},
        {"perTryTimeout", "duration"},
        {"retryOn", "string"},
        {"retryRemoteLocalities", "bool"},
        {"retryIgnorePreviousHosts", "bool"},
        {"backoff", "duration"}}},
      {"HTTPFaultInjection", {{"delay", "Delay"}, {"abort", "Abort"}}},
      {"Delay",
       {{"fixedDelay", "duration"},
        {"exponentialDelay", "duration"},
        {"percentage", "Percent"},
        {"percent", "int32"}},
       {{"fixedDelay", "exponentialDelay"}}},
      {"Abort",
       {{"httpStatus", "int32"},
        {"grpcStatus", "string"},
        {"http2Error", "string"},
        {"percentage", "Percent"}},
       {{"httpStatus", "grpcStatus", "http2Error"}}},
      {"Percent", {{"value", "double"}}},
      {"HTTPMirrorPolicy", {{"destination!", "Destination"}, {"percentage", "Percent"}}},
      {"CorsPolicy",
       {{"allowOrigin", "[string]"},
        {"allowOrigins", "[StringMatch]"},
        {"allowMethods", "[string]"},
        {"allowHeaders", "[string]"},
        {"exposeHeaders", "[string]"},
        {"maxAge", "duration"},
        {"allowCredentials", "bool"},
        {"unmatchedPreflights", "enum:UNSPECIFIED|FORWARD|IGNORE"}}},
      {"TLSRoute", {{"match!", "[TLSMatchAttributes]"}, {"route", "[RouteDestination]"}}},
      {"TLSMatchAttributes",
       {{"sniHosts!", "[string]"},
        {"destinationSubnets", "[string]"},
        {"port", "uint32"},
        {"sourceLabels", "map<string>"},
        {"gateways", "[string]"},
        {"sourceNamespace", "string"}}},
      {"TCPRoute", {{"match", "[L4MatchAttributes]"}, {"route", "[RouteDestination]"}}},
      {"L4MatchAttributes",
       {{"destinationSubnets", "[string]"},
        {"port", "uint32"},
        {"sourceSubnet", "string"},
        {"sourceLabels", "map<string>"},
        {"gateways", "[string]"},
        {"sourceNamespace", "string"}}},

      // networking.istio.io DestinationRule
      {"DestinationRule",
       {{"host!", "string"},
        {"trafficPolicy", "TrafficPolicy"},
        {"subsets", "[Subset]"},
        {"exportTo", "[string]"},
        {"workloadSelector", "WorkloadSelector"}}},
      {"WorkloadSelector", {{"matchLabels", "map<string>"}}},
      {"Subset",
       {{"name!", "string"}, {"labels", "map<string>"}, {"trafficPolicy", "TrafficPolicy"}}},
      {"TrafficPolicy",
       {{"loadBalancer", "LoadBalancerSettings"},
        {"connectionPool", "ConnectionPoolSettings"},
        {"outlierDetection", "OutlierDetection"},
        {"tls", "ClientTLSSettings"},
        {"portLevelSettings", "[PortTrafficPolicy]"},
        {"tunnel", "TunnelSettings"},
        {"proxyProtocol", "ProxyProtocol"}}},
      {"PortTrafficPolicy",
       {{"port", "PortSelector"},
        {"loadBalancer", "LoadBalancerSettings"},
        {"connectionPool", "ConnectionPoolSettings"},
        {"outlierDetection", "OutlierDetection"},
        {"tls", "ClientTLSSettings"}}},
      {"LoadBalancerSettings",
       {{"simple", "enum:UNSPECIFIED|RANDOM|PASSTHROUGH|ROUND_ROBIN|LEAST_REQUEST|LEAST_CONN"},
        {"consistentHash", "ConsistentHashLB"},
        {"localityLbSetting", "any"},
        {"warmupDurationSecs", "duration"},
        {"warmup", "any"}},
       {{"simple", "consistentHash"}}},
      {"ConsistentHashLB",
       {{"httpHeaderName", "string"},
        {"httpCookie", "HTTPCookie"},
        {"useSourceIp", "bool"},
        {"httpQueryParameterName", "string"},
        {"ringHash", "RingHash"},
        {"maglev", "MagLev"},
        {"minimumRingSize", "uint64"}},
       {{"httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName"},
        {"ringHash", "maglev"}}},
      {"HTTPCookie",
       // ttl 0s is a session cookie (the CRD checks only the syntax here).
       {{"name!", "string"}, {"path", "string"}, {"ttl", "duration0"}, {"attributes", "any"}}},
      {"RingHash", {{"minimumRingSize", "uint64"}}},
      {"MagLev", {{"tableSize", "uint64"}}},
      {"ConnectionPoolSettings", {{"tcp", "TCPSettings"}, {"http", "HTTPSettings"}}},
      {"TCPSettings",
       {{"maxConnections", "int32"},
        {"connectTimeout", "duration"},
        {"tcpKeepalive", "TcpKeepalive"},
        {"maxConnectionDuration", "duration"},
        {"idleTimeout", "duration"}}},
      {"TcpKeepalive", {{"probes", "uint32"}, {"time", "duration"}, {"interval", "duration"}}},
      {"HTTPSettings",
       {{"http1MaxPendingRequests", "int32"},
        {"http2MaxRequests", "int32"},
        {"maxRequestsPerConnection", "int32"},
        {"maxRetries", "int32"},
        {"idleTimeout", "duration"},
        {"h2UpgradePolicy", "enum:DEFAULT|DO_NOT_UPGRADE|UPGRADE"},
        {"useClientProtocol", "bool"},
        {"maxConcurrentStreams", "int32"}}},
      {"OutlierDetection",
       {{"splitExternalLocalOriginErrors", "bool"},
        {"consecutiveLocalOriginFailures", "uint32"},
        {"consecutiveGatewayErrors", "uint32"},
        {"consecutive5xxErrors", "uint32"},
        {"interval", "duration"},
        {"baseEjectionTime", "duration"},
        {"maxEjectionPercent", "int32"},
        {"minHealthPercent", "int32"},
        {"consecutiveErrors", "int32"}}},
      {"ClientTLSSettings",
       {{"mode", "enum:DISABLE|SIMPLE|MUTUAL|ISTIO_MUTUAL"},
        {"clientCertificate", "string"},
        {"privateKey", "string"},
        {"caCertificates", "string"},
        {"credentialName", "string"},
        {"subjectAltNames", "[string]"},
        {"sni", "string"},
        {"insecureSkipVerify", "bool"},
        {"caCrl", "string"}}},
      {"TunnelSettings",
       {{"protocol", "string"}, {"targetHost!", "string"}, {"targetPort!", "uint32"}}},
      {"ProxyProtocol", {{"version", "enum:V1|V2"}}},

      // networking.istio.io ServiceEntry
      {"ServiceEntry",
       {{"hosts!", "[string]"},
        {"addresses", "[string]"},
        {"ports", "[SEPort]"},
        {"location", "enum:MESH_EXTERNAL|MESH_INTERNAL"},
        {"resolution", "enum:NONE|STATIC|DNS|DNS_ROUND_ROBIN|DYNAMIC_DNS"},
        {"endpoints", "[WorkloadEntry]"},
        {"workloadSelector", "LabelSelector"},
        {"exportTo", "[string]"},
        {"subjectAltNames", "[string]"}}},
      {"LabelSelector", {{"labels", "map<string>"}}},
      {"SEPort",
       {{"number!", "uint32"},
        {"protocol", "string"},
        {"name!", "string"},
        {"targetPort", "uint32"}}},
      {"WorkloadEntry",
       {{"address", "string"},
        {"ports", "map<uint32>"},
        {"labels", "map<string>"},
        {"network", "string"},
        {"locality", "string"},
        {"weight", "uint32"},
        {"serviceAccount", "string"}}},

      // networking.istio.io Gateway
      {"Gateway", {{"servers!", "[Server]"}, {"selector", "map<string>"}}},
      {"Server",
       {{"port!", "Port"},
        {"bind", "string"},
        {"hosts!", "[string]"},
        {"tls", "ServerTLSSettings"},
        {"defaultEndpoint", "string"},
        {"name", "string"}}},
      {"Port",
       {{"number!", "uint32"},
        {"protocol!", "string"},
        {"name!", "string"},
        {"targetPort", "uint32"}}},
      {"ServerTLSSettings",
       {{"httpsRedirect", "bool"},
        {"mode", "enum:PASSTHROUGH|SIMPLE|MUTUAL|AUTO_PASSTHROUGH|ISTIO_MUTUAL|OPTIONAL_MUTUAL"},
        {"serverCertificate", "string"},
        {"privateKey", "string"},
        {"caCertificates", "string"},
        {"caCrl", "string"},
        {"credentialName", "string"},
        {"credentialNames", "[string]"},
        {"tlsCertificates", "[TLSCertificate]"},
        {"subjectAltNames", "[string]"},
        {"verifyCertificateSpki", "[string]"},
        {"verifyCertificateHash", "[string]"},
        {"minProtocolVersion", "enum:TLS_AUTO|TLSV1_0|TLSV1_1|TLSV1_2|TLSV1_3"},
        {"maxProtocolVersion", "enum:TLS_AUTO|TLSV1_0|TLSV1_1|TLSV1_2|TLSV1_3"},
        {"cipherSuites", "[string]"}}},
      {"TLSCertificate",
       {{"serverCertificate", "string"}, {"privateKey", "string"}, {"caCertificates", "string"}}},

      // security.istio.io AuthorizationPolicy
      {"AuthorizationPolicy",
       {{"selector", "WorkloadSelector"},
        {"targetRef", "PolicyTargetReference"},
        {"targetRefs", "[PolicyTargetReference]"},
        {"action", "enum:ALLOW|DENY|AUDIT|CUSTOM"},
        {"provider", "ExtensionProvider"},
        {"rules", "[Rule]"}}},
      {"PolicyTargetReference",
       {{"group", "string"}, {"kind!", "string"}, {"name!", "string"}, {"namespace", "string"}}},
      {"ExtensionProvider", {{"name", "string"}}},
      {"Rule", {{"from", "[RuleFrom]"}, {"to", "[RuleTo]"}, {"when", "[Condition]"}}},
      {"RuleFrom", {{"source", "Source"}}},
      {"RuleTo", {{"operation", "Operation"}}},
      {"Source",
       {{"principals", "[string]"},
        {"notPrincipals", "[string]"},
        {"requestPrincipals", "[string]"},
        {"notRequestPrincipals", "[string]"},
        {"namespaces", "[string]"},
        {"notNamespaces", "[string]"},
        {"ipBlocks", "[string]"},
        {"notIpBlocks", "[string]"},
        {"remoteIpBlocks", "[string]"},
        {"notRemoteIpBlocks", "[string]"},
        {"serviceAccounts", "[string]"},
        {"notServiceAccounts", "[string]"}}},
      {"Operation",
       {{"hosts", "[string]"},
        {"notHosts", "[string]"},
        {"ports", "[string]"},
        {"notPorts", "[string]"},
        {"methods", "[string]"},
        {"notMethods", "[string]"},
        {"paths", "[string]"},
        {"notPaths", "[string]"}}},
      {"Condition", {{"key!", "string"}, {"values", "[string]"}, {"notValues", "[string]"}}},

      // The Kubernetes envelope (ObjectMeta, apimachinery/pkg/apis/meta/v1).
      {"ObjectMeta",
       {{"name", "string"},
        {"generateName", "string"},
        {"namespace", "string"},
        {"selfLink", "string"},
        {"uid", "string"},
        {"resourceVersion", "string"},
        {"generation", "int64"},
        {"creationTimestamp", "any"},
        {"deletionTimestamp", "any"},
        {"deletionGracePeriodSeconds", "int64"},
        {"labels", "map<string>"},
        {"annotations", "map<string>"},
        {"ownerReferences", "[any]"},
        {"finalizers", "[string]"},
        {"managedFields", "[any]"}}},
  };
  return kSpecs;
}

// ---- The compiled form ----

struct Type;
struct Field {
  std::string name;
  bool required = false;
  const Type* type = nullptr;
};
struct Type {
  enum class Kind { String, Bool, Int, Double, Duration, Any, Enum, Object, List, Map };
  double min_seconds = 0.001;  // durations: the CRD's "greater than 1ms" rule, or 0
  Kind kind = Kind::Any;
  std::string name;  // objects: the type name
  int64_t min = 0, max = 0;
  std::vector<std::string> values;  // enums
  std::vector<Field> fields;        // objects, in declaration order
  std::unordered_map<std::string, size_t, TextHash, std::equal_to<>> field_index;
  std::vector<std::vector<std::string>> oneofs;
  const Type* element = nullptr;  // lists and maps
};

class Schemas {
 public:
  static const Schemas& Get() {
    static const Schemas kInstance;
    return kInstance;
  }
  const Type* Find(std::string_view name) const {
    auto it = named_.find(std::string(name));
    return it == named_.end() ? nullptr : it->second;
  }

 private:
  Schemas() {
    for (const TypeSpec& spec : TypeSpecs()) {
      auto t = std::make_unique<Type>();
      t->kind = Type::Kind::Object;
      t->name = spec.name;
      named_[spec.name] = t.get();
      owned_.push_back(std::move(t));
    }
    for (const TypeSpec& spec : TypeSpecs()) {
      Type* t = named_.at(spec.name);
      for (const FieldSpec& f : spec.fields) {
        std::string name = f.name;
        bool required = !name.empty() && name.back() == '!';
        if (required) name.pop_back();
        t->field_index[name] = t->fields.size();
        t->fields.push_back(Field{name, required, Parse(f.type)});
      }
      for (const auto& group : spec.oneofs) t->oneofs.emplace_back(group.begin(), group.end());
    }
  }

  const Type* Parse(std::string_view s) {
    if (auto it = named_.find(std::string(s)); it != named_.end()) return it->second;
    auto t = std::make_unique<Type>();
    if (s.front() == '[') {
      t->kind = Type::Kind::List;
      t->element = Parse(s.substr(1, s.size() - 2));
    } else if (s.substr(0, 4) == "map<") {
      t->kind = Type::Kind::Map;
      t->element = Parse(s.substr(4, s.size() - 5));
    } else if (s.substr(0, 5) == "enum:") {
      t->kind = Type::Kind::Enum;
      std::string_view rest = s.substr(5);
      while (!rest.empty()) {
        size_t bar = rest.find('|');
        t->values.emplace_back(rest.substr(0, bar));
        rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
      }
    } else if (s == "string") {
      t->kind = Type::Kind::String;
    } else if (s == "bool") {
      t->kind = Type::Kind::Bool;
    } else if (s == "double") {
      t->kind = Type::Kind::Double;
    } else if (s == "duration" || s == "duration0") {
      t->kind = Type::Kind::Duration;
      if (s == "duration0") t->min_seconds = 0;
    } else if (s == "any") {
      t->kind = Type::Kind::Any;
    } else {
      t->kind = Type::Kind::Int;
      if (s == "int32") {
        t->min = std::numeric_limits<int32_t>::min();
        t->max = std::numeric_limits<int32_t>::max();
      } else if (s == "uint32") {
        t->max = std::numeric_limits<uint32_t>::max();
      } else if (s == "uint64") {
        t->max = std::numeric_limits<int64_t>::max();
      } else {  // int64
        t->min = std::numeric_limits<int64_t>::min();
        t->max = std::numeric_limits<int64_t>::max();
      }
    }
    named_[std::string(s)] = t.get();
    owned_.push_back(std::move(t));
    return owned_.back().get();
  }

  std::unordered_map<std::string, Type*> named_;
  std::vector<std::unique_ptr<Type>> owned_;
};

// Where the checker is, as a chain of steps on its stack ("spec", "http", [0], "route"), written
// out ("spec.http[0].route") only for a diagnostic: a large fleet has millions of fields, and
// almost all of them are fine.
class Path {
 public:
  explicit Path(std::string_view root) : key_(root) {}
  Path(const Path& parent, std::string_view key) : parent_(&parent), key_(key) {}
  Path(const Path& parent, size_t index) : parent_(&parent), index_(index) {}

  std::string str() const {
    std::string out;
    AppendTo(out);
    return out;
  }

 private:
  static constexpr size_t kKey = static_cast<size_t>(-1);
  void AppendTo(std::string& out) const {
    if (parent_ != nullptr) parent_->AppendTo(out);
    if (index_ != kKey) {
      fmt::format_to(std::back_inserter(out), "[{}]", index_);
      return;
    }
    if (!out.empty()) out += '.';
    out += key_;
  }

  const Path* parent_ = nullptr;
  std::string_view key_;
  size_t index_ = kKey;
};

class Checker {
 public:
  Checker(const Object& o, const std::string& cluster, Diagnostics& d)
      : object_(o), cluster_(cluster), diagnostics_(d) {}

  void Report(const char* code, Position pos, std::string field, std::string message) {
    if (pos.line == 0) pos = object_.position;
    diagnostics_.push_back(Diagnostic{Severity::Error, code, object_.file, pos,
                                      object_.Ref(cluster_), std::move(field), std::move(message)});
  }
  void Report(const char* code, Position pos, const Path& field, std::string message) {
    Report(code, pos, field.str(), std::move(message));
  }

  void Check(const Node& n, const Type& t, const Path& field) {
    if (n.IsNull()) return;  // null is "not set", as for the API server
    switch (t.kind) {
      case Type::Kind::Any:
        return;
      case Type::Kind::String:
        if (!n.IsString()) WrongType(n, field, "a string");
        return;
      case Type::Kind::Bool:
        if (!n.IsScalar() || n.scalar_type() != ScalarType::Bool) WrongType(n, field, "a boolean");
        return;
      case Type::Kind::Double:
        if (!n.IsScalar() ||
            (n.scalar_type() != ScalarType::Int && n.scalar_type() != ScalarType::Float)) {
          WrongType(n, field, "a number");
        }
        return;
      case Type::Kind::Int:
        CheckInt(n, t, field);
        return;
      case Type::Kind::Duration:
        CheckDuration(n, t, field);
        return;
      case Type::Kind::Enum:
        CheckEnum(n, t, field);
        return;
      case Type::Kind::List:
        if (!n.IsSequence()) {
          WrongType(n, field, "a list");
          return;
        }
        for (size_t i = 0; i < n.items().size(); ++i) {
          Check(n.items()[i], *t.element, Path(field, i));
        }
        return;
      case Type::Kind::Map:
        if (!n.IsMapping()) {
          WrongType(n, field, "a mapping");
          return;
        }
        for (const MapEntry& e : n.entries()) {
          // Kubernetes rejects null map values for string maps; other maps read null as empty.
          if (e.value.IsNull() && t.element->kind == Type::Kind::String) {
            WrongType(e.value, Path(field, e.key), "a string");
            continue;
          }
          Check(e.value, *t.element, Path(field, e.key));
        }
        return;
      case Type::Kind::Object:
        CheckObject(n, t, field);
        return;
    }
  }

  void CheckObject(const Node& n, const Type& t, const Path& field) {
    if (!n.IsMapping()) {
      WrongType(n, field, "a mapping");
      return;
    }
    for (const MapEntry& e : n.entries()) {
      auto it = t.field_index.find(e.key.view());
      if (it == t.field_index.end()) {
        Report(code::kUnknownField, e.key_position, Path(field, e.key),
               UnknownFieldMessage(e.key.str(), t));
        continue;
      }
      Check(e.value, *t.fields[it->second].type, Path(field, e.key));
    }
    for (const Field& f : t.fields) {
      if (!f.required) continue;
      const Node* v = n.Find(f.name);
      if (v == nullptr || v->IsNull()) {
        Report(code::kMissingField, n.position(), Path(field, f.name),
               fmt::format("required field `{}` is missing", f.name));
      }
    }
    for (const auto& group : t.oneofs) {
      std::vector<std::string> set;
      for (const std::string& name : group) {
        const Node* v = n.Find(name);
        if (v != nullptr && !v->IsNull()) set.push_back(name);
      }
      if (set.size() > 1) {
        Report(code::kInvalidValue, n.position(), field,
               fmt::format("only one of {} may be set, found {}", fmt::join(group, ", "),
                           fmt::join(set, " and ")));
      }
    }
  }

 private:
  static std::string UnknownFieldMessage(const std::string& key, const Type& t) {
    std::vector<std::string> names;
    for (const Field& f : t.fields) names.push_back(f.name);
    std::string best = ClosestName(key, names);
    if (!best.empty()) return fmt::format("unknown field `{}`; did you mean `{}`?", key, best);
    return fmt::format("unknown field `{}`; known fields here: {}", key, fmt::join(names, ", "));
  }

  void WrongType(const Node& n, const Path& field, std::string_view expected) {
    std::string found(n.TypeName());
    // The same wording as the typed-view readers (kinds.cc), so one problem found by both reads
    // as one diagnostic.
    if (n.IsScalar() && expected != "a list" && expected != "a mapping") {
      found += fmt::format(" `{}`", n.text());
      if (expected == "a string") found += " (quote it to make it a string)";
    }
    Report(code::kWrongType, n.position(), field,
           fmt::format("expected {}, found {}", expected, found));
  }

  void CheckInt(const Node& n, const Type& t, const Path& field) {
    if (!n.IsScalar() || n.scalar_type() != ScalarType::Int) {
      WrongType(n, field, "an integer");
      return;
    }
    std::string_view text = n.text();
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || value < t.min || value > t.max) {
      // Octal/hex spellings (YAML 1.1 `0o17`, `0x1f`) also land here unless from_chars read them;
      // they are rare enough in Istio config to ask for plain decimal.
      Report(code::kInvalidValue, n.position(), field,
             fmt::format("`{}` is out of range: expected a decimal integer in {}..{}", n.text(),
                         t.min, t.max));
    }
  }

  void CheckDuration(const Node& n, const Type& t, const Path& field) {
    if (!n.IsString()) {
      WrongType(n, field, "a duration such as \"10s\" or \"1.5s\"");
      return;
    }
    double seconds = 0;
    // The CRDs' CEL rule for VirtualService and DestinationRule durations.
    if (!ParseGoDuration(n.text(), seconds) || seconds < t.min_seconds) {
      Report(code::kInvalidValue, n.position(), field,
             fmt::format("`{}`: must be a valid duration{} (such as 10s, 1.5s, 300ms)", n.text(),
                         t.min_seconds > 0 ? " greater than 1ms" : ""));
    }
  }

  void CheckEnum(const Node& n, const Type& t, const Path& field) {
    if (!n.IsString()) {
      WrongType(n, field, "a string");
      return;
    }
    if (std::find(t.values.begin(), t.values.end(), n.text()) == t.values.end()) {
      Report(code::kInvalidValue, n.position(), field,
             fmt::format("unsupported value `{}`: supported values: {}", n.text(),
                         fmt::join(t.values, ", ")));
    }
  }

  const Object& object_;
  const std::string& cluster_;
  Diagnostics& diagnostics_;
};

const Type* SpecTypeFor(const Object& o) {
  if (o.group == kNetworkingGroup) {
    if (o.kind == "VirtualService" || o.kind == "DestinationRule" || o.kind == "ServiceEntry" ||
        o.kind == "Gateway") {
      return Schemas::Get().Find(o.kind);
    }
  }
  if (o.group == kSecurityGroup && o.kind == "AuthorizationPolicy") {
    return Schemas::Get().Find(o.kind);
  }
  return nullptr;
}

}  // namespace

bool ParseGoDuration(std::string_view text, double& seconds) {
  // time.ParseDuration: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, or "0".
  seconds = 0;
  if (text == "0") return true;
  bool negative = false;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return false;
  while (!text.empty()) {
    size_t digits = 0;
    while (digits < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
      ++digits;
    }
    std::string_view number = text.substr(0, digits);
    if (number.empty() || number == "." || std::count(number.begin(), number.end(), '.') > 1) {
      return false;
    }
    double value = 0;
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() && !(number.back() == '.' || number.front() == '.')) return false;
    if (ptr != number.data() + number.size()) {
      // "1." and ".5" are valid Go durations; from_chars reads them too, but be explicit.
      std::string padded(number);
      if (padded.front() == '.') padded.insert(padded.begin(), '0');
      if (padded.back() == '.') padded.push_back('0');
      auto [p2, e2] = std::from_chars(padded.data(), padded.data() + padded.size(), value);
      if (e2 != std::errc() || p2 != padded.data() + padded.size()) return false;
    }
    text.remove_prefix(digits);
    size_t unit_length = 0;
    while (unit_length < text.size() &&
           !std::isdigit(static_cast<unsigned char>(text[unit_length])) &&
           text[unit_length] != '.') {
      ++unit_length;
    }
    std::string_view unit = text.substr(0, unit_length);
    double scale = 0;
    if (unit == "ns") {
      scale = 1e-9;
    } else if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs") {
      scale = 1e-6;
    } else if (unit == "ms") {
      scale = 1e-3;
    } else if (unit == "s") {
      scale = 1;
    } else if (unit == "m") {
      scale = 60;
    } else if (unit == "h") {
      scale = 3600;
    } else {
      return false;  // a missing or unknown unit
    }
    seconds += value * scale;
    text.remove_prefix(unit_length);
  }
  if (!std::isfinite(seconds)) return false;
  if (negative) seconds = -seconds;
  return true;
}

bool HasIstioSchema(const Object& o) { return SpecTypeFor(o) != nullptr; }

void CheckIstioSchema(const Object& o, const std::string& cluster, Diagnostics& diagnostics) {
  const Type* spec_type = SpecTypeFor(o);
  if (spec_type == nullptr) return;
  Checker checker(o, cluster, diagnostics);
  for (const MapEntry& e : o.root.entries()) {
    if (e.key == "apiVersion" || e.key == "kind" || e.key == "status") continue;
    if (e.key == "metadata") {
      checker.Check(e.value, *Schemas::Get().Find("ObjectMeta"), Path("metadata"));
    } else if (e.key == "spec") {
      checker.Check(e.value, *spec_type, Path("spec"));
    } else {
      checker.Report(code::kUnknownField, e.key_position, e.key.str(),
                     fmt::format("unknown field `{}`; known fields here: apiVersion, kind, "
                                 "metadata, spec, status",
                                 e.key));
    }
  }
  const Node* spec = o.spec();
  if ((spec == nullptr || spec->IsNull()) &&
      (o.kind == "ServiceEntry" || o.kind == "Gateway" || o.kind == "DestinationRule")) {
    checker.Report(code::kMissingField, o.position, "spec", "required field `spec` is missing");
  }
}

}  // namespace meshfed
