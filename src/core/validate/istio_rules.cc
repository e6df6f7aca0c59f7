#include "core/validate/istio_rules.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/model/hosts.h"
#include "core/model/kinds.h"
#include "core/model/text.h"
#include "core/validate/go_quote.h"
#include "core/validate/schema.h"

// Sources (istio/istio): pkg/config/validation/validation.go, virtualservice.go,
// agent/validation.go; pkg/config/labels/instance.go; pkg/config/visibility; pkg/config/protocol.
// The message texts are Istio's; `%q` (a Go-quoted string) is GoQuote (core/validate/go_quote.h).

namespace meshfed {
namespace {

// Go's %v / %f for a float64: the shortest representation ('g'), and six decimals.
std::string GoFloat(double v) { return fmt::format("{}", v); }
std::string GoFixed(double v) { return fmt::format("{:.6f}", v); }

// ---- Primitives (pkg/config/labels, agent/validation.go) ----

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// labels.IsDNS1123Label: [a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?, at most 63 (case-insensitive,
// unlike Kubernetes object names).
bool IsIstioDnsLabel(std::string_view s) {
  if (s.empty() || s.size() > 63 || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '-'; });
}

// labels.IsWildcardDNS1123Label: a label, or `*`, `*foo`, `*-foo`.
bool IsWildcardDnsLabel(std::string_view s) {
  if (s.size() > 63) return false;
  if (IsIstioDnsLabel(s)) return true;
  if (s == "*") return true;
  if (s.front() != '*') return false;
  std::string_view rest = s.substr(1);
  if (!rest.empty() && rest.front() == '-') rest.remove_prefix(1);
  return IsIstioDnsLabel(rest);
}

bool AllDigits(std::string_view s) {
  // strconv.Atoi also accepts a sign.
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) s.remove_prefix(1);
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::string> CheckDns1123Preconditions(std::string_view name) {
  if (name.size() > 255) return fmt::format("domain name {} too long (max 255)", GoQuote(name));
  if (name.empty()) return "empty domain name not allowed";
  return std::nullopt;
}

std::optional<std::string> ValidateDns1123Labels(std::string_view domain) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dot = domain.find('.', start);
    parts.push_back(
        domain.substr(start, dot == std::string_view::npos ? domain.npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (AllDigits(parts.back())) {
    return fmt::format("domain name {} invalid (top level domain {} cannot be all-numeric)",
                       GoQuote(domain), GoQuote(parts.back()));
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i + 1 == parts.size() && parts[i].empty()) return std::nullopt;  // `istio.io.`
    if (!IsIstioDnsLabel(parts[i])) {
      return fmt::format("domain name {} invalid (label {} invalid)", GoQuote(domain),
                         GoQuote(parts[i]));
    }
  }
  return std::nullopt;
}

std::optional<std::string> ValidateWildcardDomain(std::string_view domain) {
  if (auto e = CheckDns1123Preconditions(domain)) return e;
  size_t dot = domain.find('.');
  std::string_view first = domain.substr(0, dot);
  if (!IsWildcardDnsLabel(first)) {
    return fmt::format("domain name {} invalid (label {} invalid)", GoQuote(domain),
                       GoQuote(first));
  }
  if (dot != std::string_view::npos) return ValidateDns1123Labels(domain.substr(dot + 1));
  return std::nullopt;
}

std::optional<std::string> ValidateFqdn(std::string_view name) {
  if (auto e = CheckDns1123Preconditions(name)) return e;
  return ValidateDns1123Labels(name);
}

std::optional<std::string> ValidatePartialWildcard(std::string_view host) {
  if (host.find('*') != std::string_view::npos && host.size() != 1 && host.substr(0, 2) != "*.") {
    return fmt::format("partial wildcard {} not allowed", GoQuote(host));
  }
  return std::nullopt;
}

std::optional<std::string> ValidatePort(int64_t port) {
  if (port < 1 || port > 65535) {
    return fmt::format("port number {} must be in the range 1..65535", port);
  }
  return std::nullopt;
}

// RFC 7230 token (golang.org/x/net/http/httpguts.ValidHeaderFieldName).
bool IsHeaderToken(std::string_view s) {
  if (s.empty()) return false;
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || kExtra.find(c) != std::string_view::npos; });
}

// Kubernetes qualified names for label keys, label values (labels/instance.go).
bool IsQualifiedName(std::string_view s) {
  if (s.empty() || s.size() > 63 || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}
bool IsLabelValue(std::string_view s) { return s.empty() || IsQualifiedName(s); }
bool IsLowerDnsSubdomain(std::string_view s) { return IsDns1123Subdomain(s); }

// pkg/config/protocol.Parse; "" stands for "unsupported".
std::string ParseProtocol(std::string_view p) {
  static constexpr std::string_view kKnown[] = {"TCP",  "UDP",        "GRPC",  "GRPC-WEB",
                                                "HTTP", "HTTP_PROXY", "HTTP2", "HTTPS",
                                                "TLS",  "MONGO",      "REDIS", "MYSQL"};
  std::string upper(p);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  for (std::string_view k : kKnown) {
    if (upper == k) return upper;
  }
  return "";
}
bool ProtocolIsTls(const std::string& p) { return p == "HTTPS" || p == "TLS"; }

// security.IsValidCipherSuite: BoringSSL's cipher names without PSK, or anything not starting
// with a letter or digit (an expression such as `-X` or `+Y`), or "" and "ALL". Go tests the
// first byte as a rune: a byte of 0x80 and above is a Latin-1 character.
bool IsValidCipherSuite(std::string_view cs) {
  static constexpr std::string_view kValid[] = {"ECDHE-ECDSA-AES128-GCM-SHA256",
                                                "ECDHE-RSA-AES128-GCM-SHA256",
                                                "ECDHE-ECDSA-AES256-GCM-SHA384",
                                                "ECDHE-RSA-AES256-GCM-SHA384",
                                                "ECDHE-ECDSA-CHACHA20-POLY1305",
                                                "ECDHE-RSA-CHACHA20-POLY1305",
                                                "ECDHE-ECDSA-AES128-SHA",
                                                "ECDHE-RSA-AES128-SHA",
                                                "ECDHE-ECDSA-AES256-SHA",
                                                "ECDHE-RSA-AES256-SHA",
                                                "AES128-GCM-SHA256",
                                                "AES256-GCM-SHA384",
                                                "AES128-SHA",
                                                "AES256-SHA",
                                                "DES-CBC3-SHA"};
  if (cs.empty() || cs == "ALL") return true;
  auto b = static_cast<unsigned char>(cs[0]);
  // unicode.IsLetter and IsNumber for U+0080..U+00FF: ª ² ³ µ ¹ º ¼-¾ and À-ÿ but × and ÷.
  bool latin1_alnum = b == 0xAA || b == 0xB2 || b == 0xB3 || b == 0xB5 || b == 0xB9 || b == 0xBA ||
                      (b >= 0xBC && b <= 0xBE) || (b >= 0xC0 && b != 0xD7 && b != 0xF7);
  if (b < 0x80 ? !IsAlnum(static_cast<char>(b)) : !latin1_alnum) return true;
  return std::find(std::begin(kValid), std::end(kValid), cs) != std::end(kValid);
}

bool IsHttpStatusWithText(int64_t code) {
  static const std::set<int64_t> kCodes = {
      100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301,
      302, 303, 304, 305, 306, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408,
      409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426,
      428, 429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511};
  return kCodes.count(code) > 0;
}

// ---- Reading values that the schema layer already type-checked ----

const Node* Field(const Node* n, std::string_view key) {
  if (n == nullptr || !n->IsMapping()) return nullptr;
  const Node* v = n->Find(key);
  return v && !v->IsNull() ? v : nullptr;
}
bool Has(const Node* n, std::string_view key) { return Field(n, key) != nullptr; }
std::string Str(const Node* n, std::string_view key) {
  const Node* v = Field(n, key);
  return v && v->IsString() ? std::string(v->text()) : std::string();
}
std::optional<int64_t> Int(const Node* n, std::string_view key) {
  const Node* v = Field(n, key);
  if (!v || !v->IsScalar() || v->scalar_type() != ScalarType::Int) return std::nullopt;
  std::string_view t = v->text();
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || ptr != t.data() + t.size()) return std::nullopt;
  return value;
}
std::optional<double> Double(const Node* n, std::string_view key) {
  const Node* v = Field(n, key);
  if (!v || !v->IsScalar() ||
      (v->scalar_type() != ScalarType::Int && v->scalar_type() != ScalarType::Float)) {
    return std::nullopt;
  }
  double d = ParseDoubleOr(v->text(), std::nan(""));
  return std::isnan(d) ? std::nullopt : std::optional<double>(d);
}
const std::vector<Node>& Items(const Node* n, std::string_view key) {
  static const std::vector<Node> kNone;
  const Node* v = Field(n, key);
  return v && v->IsSequence() ? v->items() : kNone;
}
const std::vector<MapEntry>& Entries(const Node* n, std::string_view key) {
  static const std::vector<MapEntry> kNone;
  const Node* v = Field(n, key);
  return v && v->IsMapping() ? v->entries() : kNone;
}
size_t Count(const Node* n, std::string_view key) {
  const Node* v = Field(n, key);
  if (!v) return 0;
  if (v->IsSequence()) return v->items().size();
  if (v->IsMapping()) return v->entries().size();
  return 1;
}
std::string Text(const Node& n) {
  return std::string(n.IsScalar() ? n.text() : std::string_view());
}
Position Pos(const Node* n) { return n ? n->position() : Position{}; }

// A canonical form of a value, for "same match" comparisons (Istio compares JSON encodings).
// `skip`: an entry of `n` left out, as if erased.
void Canonical(const Node& n, std::string& out, const MapEntry* skip = nullptr) {
  switch (n.kind()) {
    case Node::Kind::Null:
      out += "null";
      return;
    case Node::Kind::Scalar:
      AppendGoQuote(out, n.text());
      return;
    case Node::Kind::Sequence:
      out += '[';
      for (const Node& i : n.items()) {
        Canonical(i, out);
        out += ',';
      }
      out += ']';
      return;
    case Node::Kind::Mapping: {
      std::vector<const MapEntry*> sorted;
      for (const MapEntry& e : n.entries()) {
        if (!e.value.IsNull() && &e != skip) sorted.push_back(&e);
      }
      std::sort(sorted.begin(), sorted.end(),
                [](const MapEntry* a, const MapEntry* b) { return a->key < b->key; });
      out += '{';
      for (const MapEntry* e : sorted) {
        AppendGoQuote(out, e->key);
        out += ':';
        Canonical(e->value, out);
        out += ',';
      }
      out += '}';
      return;
    }
  }
}

class Rules {
 public:
  Rules(const Object& o, const std::string& cluster, Diagnostics& d)
      : object_(o), cluster_(cluster), diagnostics_(d) {}

  void Report(Severity severity, const char* code, const Node* at, const std::string& field,
              std::string message) {
    Position pos = Pos(at);
    if (pos.line == 0) pos = object_.position;
    diagnostics_.push_back(Diagnostic{severity, code, object_.file, pos, object_.Ref(cluster_),
                                      field, std::move(message)});
  }
  void Error(const Node* at, const std::string& field, std::string message) {
    Report(Severity::Error, code::kIstioSchemaError, at, field, std::move(message));
  }
  void ErrorIf(const Node* at, const std::string& field,
               const std::optional<std::string>& message) {
    if (message) Error(at, field, *message);
  }
  void Warning(const Node* at, const std::string& field, std::string message) {
    Report(Severity::Warning, code::kIstioSchemaWarning, at, field, std::move(message));
  }
  // Runs `check` on `r`'s `key`, with the field path `f`.`key`, when `r` has that key: the path
  // is built only then (an HTTP route has eight such parts, and most are absent).
  template <typename Check>
  void Part(const Node* r, const std::string& f, std::string_view key, Check check) {
    const Node* n = Field(r, key);
    if (n == nullptr) return;
    std::string path;
    path.reserve(f.size() + 1 + key.size());
    path.append(f).append(".").append(key);
    (this->*check)(n, path);
  }

  // ---- Shared pieces ----

  void Labels(const Node* map, const std::string& field) {
    if (!map || !map->IsMapping()) return;
    for (const MapEntry& e : map->entries()) {
      std::string f = field + "." + e.key;
      std::string_view key = e.key;
      std::string_view name = key;
      size_t slash = key.find('/');
      bool bad = false;
      if (slash != std::string_view::npos) {
        std::string_view prefix = key.substr(0, slash);
        name = key.substr(slash + 1);
        if (name.find('/') != std::string_view::npos) {
          bad = true;
        } else if (prefix.size() > 253) {
          Error(&e.value, f,
                fmt::format("invalid tag key: {} (DNS prefix is too long)", GoQuote(key)));
          continue;
        } else if (!IsLowerDnsSubdomain(prefix)) {
          bad = true;
        }
      }
      if (bad) {
        Error(&e.value, f, fmt::format("invalid tag key: {}", GoQuote(key)));
      } else if (name.size() > 63) {
        Error(&e.value, f, fmt::format("invalid tag key: {} (name is too long)", GoQuote(key)));
      } else if (!IsQualifiedName(name)) {
        Error(&e.value, f, fmt::format("invalid tag key: {}", GoQuote(key)));
      }
      if (e.value.IsScalar() && !IsLabelValue(e.value.text())) {
        Error(&e.value, f, fmt::format("invalid tag value: {}", GoQuote(e.value.text())));
      }
    }
  }

  void ExportTo(const Node* spec, bool is_service_entry, bool dr_with_selector) {
    const std::vector<Node>& items = Items(spec, "exportTo");
    if (items.empty()) return;
    const std::string& ns = object_.namespace_;
    std::set<std::string> seen;
    for (size_t i = 0; i < items.size(); ++i) {
      std::string e = Text(items[i]);
      std::string f = ConcatText("spec.exportTo[", i, "]");
      std::string key = e == "." ? ns : e;
      if (seen.count(key)) {
        Error(&items[i], f,
              key != e
                  ? fmt::format("duplicate entries in exportTo: . and current namespace {}", ns)
                  : fmt::format("duplicate entries in exportTo for entry {}", e));
        continue;
      }
      if (is_service_entry && e == "~") {
        seen.insert(key);
      } else if (key == "~") {
        Error(&items[i], f, "exportTo ~ (none) is not allowed for Istio configuration objects");
      } else if (key != "*" && key != "." && !IsIstioDnsLabel(key)) {
        Error(&items[i], f, "only .,*, or a valid DNS 1123 label is allowed as exportTo entry");
      } else {
        seen.insert(key);
      }
    }
    const Node* at = Field(spec, "exportTo");
    if (dr_with_selector && !seen.empty()) {
      if (seen.count(ns)) {
        if (seen.size() > 1) {
          Error(at, "spec.exportTo",
                "destination rule with workload selector cannot have multiple entries in "
                "exportTo");
        }
      } else {
        Error(at, "spec.exportTo",
              "destination rule with workload selector cannot have exportTo beyond current "
              "namespace");
      }
    }
    if (seen.count("*") && items.size() > 1) {
      Error(at, "spec.exportTo",
            "cannot have both public (*) and non-public exportTo values for a resource");
    }
    if (seen.count("~") && items.size() > 1) {
      Error(at, "spec.exportTo", "cannot export service entry to no one (~) and someone");
    }
  }

  // validateGatewayNames, including its early return after the first name without a slash.
  void GatewayNames(const Node* list_node, const std::string& field) {
    if (!list_node || !list_node->IsSequence()) return;
    for (size_t i = 0; i < list_node->items().size(); ++i) {
      const Node& g = list_node->items()[i];
      std::string name = Text(g);
      std::string f = ConcatText(field, "[", i, "]");
      size_t slash = name.find('/');
      if (slash == std::string::npos) {
        if (name.find('.') != std::string::npos) {
          size_t dot = name.find('.');
          size_t dot2 = name.find('.', dot + 1);
          std::string ns =
              name.substr(dot + 1, dot2 == std::string::npos ? name.npos : dot2 - dot - 1);
          Warning(&g, f,
                  fmt::format("using legacy gatewayName format {}; prefer the <namespace>/<name> "
                              "format: {}",
                              GoQuote(name), GoQuote(ns + "/" + name.substr(0, dot))));
        }
        ErrorIf(&g, f, ValidateFqdn(name));
        return;
      }
      std::string ns = name.substr(0, slash), gw = name.substr(slash + 1);
      if (ns.empty() || gw.empty()) {
        Error(&g, f, "config namespace and gateway name cannot be empty");
      }
      if (!IsIstioDnsLabel(ns)) {
        Error(&g, f, fmt::format("invalid value for namespace: {}", GoQuote(ns)));
      }
      if (!IsIstioDnsLabel(gw)) {
        Error(&g, f, fmt::format("invalid value for gateway name: {}", GoQuote(gw)));
      }
    }
  }

  void StringMatch(const Node* sm, const std::string& field, std::string_view where,
                   bool allow_empty_prefix) {
    if (!sm || !sm->IsMapping()) return;
    if (const Node* prefix = Field(sm, "prefix");
        prefix && Text(*prefix).empty() && !allow_empty_prefix) {
      Error(prefix, field + ".prefix",
            fmt::format("{}: prefix string match should not be empty", GoQuote(where)));
    }
    if (const Node* regex = Field(sm, "regex")) {
      Regex(regex, field + ".regex", where, true);
    }
  }

  void Regex(const Node* regex, const std::string& field, std::string_view where,
             bool empty_is_error) {
    std::string re = Text(*regex);
    if (re.empty()) {
      if (empty_is_error) {
        Error(regex, field,
              fmt::format("{}: regex string match should not be empty", GoQuote(where)));
      }
      return;
    }
    if (re.size() > 1024) {
      Error(regex, field,
            fmt::format("{}: regex is too large, max length allowed is 1024", GoQuote(where)));
      return;
    }
    re2::RE2::Options options;
    options.set_log_errors(false);
    re2::RE2 compiled(re, options);
    if (!compiled.ok()) {
      Error(regex, field,
            fmt::format("{}: error parsing regexp: {}; Istio uses RE2 style regex-based match "
                        "(https://github.com/google/re2/wiki/Syntax)",
                        GoQuote(where), compiled.error()));
    }
  }

  void HeaderName(const Node* at, const std::string& field, std::string_view name,
                  bool allow_pseudo) {
    if (name.empty()) {
      Error(at, field, "header name cannot be empty");
      return;
    }
    if (allow_pseudo && (name == ":method" || name == ":scheme" || name == ":authority" ||
                         name == ":path" || name == ":status")) {
      return;
    }
    if (allow_pseudo && name.substr(0, 21) == "@request.auth.claims.") return;
    if (!IsHeaderToken(name)) {
      Error(at, field, fmt::format("header name {} is not a valid header name", name));
    }
  }

  // ValidateHTTPHeaderOperationName, and ValidateHTTPHeaderWithAuthorityOperationName for request
  // set/add, where `:authority` and `Host` may be set (validateAuthorityRewrite then checks it
  // is set at most once).
  void HeaderOperations(const Node* ops, const std::string& field) {
    if (!ops) return;
    for (const char* part : {"request", "response"}) {
      const Node* p = Field(ops, part);
      if (!p) continue;
      std::string pf = ConcatText(field, ".", part);
      bool request = std::string_view(part) == "request";
      auto check = [&](std::string_view name, const Node* at, const std::string& f,
                       bool authority_allowed) {
        if (name.empty()) {
          Error(at, f, "header name cannot be empty");
          return;
        }
        std::string lower = ToLower(name);  // isAuthorityHeader: strings.EqualFold
        if (authority_allowed && (lower == ":authority" || lower == "host")) return;
        if (lower == "host") {
          Error(at, f, fmt::format("invalid header {}: cannot set Host header", GoQuote(name)));
        } else if (name.front() == ':') {
          Error(at, f,
                fmt::format("invalid header {}: header cannot have \":\" prefix", GoQuote(name)));
        }
        // Unlike a match's header names, Istio does not check these against the token syntax
        // (ValidateHTTPHeaderWithAuthorityOperationName, ValidateHTTPHeaderOperationName).
      };
      for (const char* op : {"set", "add"}) {
        for (const MapEntry& e : Entries(p, op)) {
          check(e.key, &e.value, ConcatText(pf, ".", op, ".", e.key), request);
        }
      }
      const std::vector<Node>& remove = Items(p, "remove");
      for (size_t i = 0; i < remove.size(); ++i) {
        check(Text(remove[i]), &remove[i], ConcatText(pf, ".remove[", i, "]"), false);
      }
    }
  }

  void Destination(const Node* d, const std::string& field) {
    DestinationAt(d, [&field](std::string_view more) { return field + std::string(more); });
  }
  // `field_of(".host")` is the path of the destination's host: written only for a diagnostic.
  template <typename FieldOf>
  void DestinationAt(const Node* d, const FieldOf& field_of) {
    if (!d) return;
    const Node* host = Field(d, "host");
    if (host) {
      std::string h = Text(*host);
      if (h == "*") {
        Error(host, field_of(".host"), fmt::format("invalid destination host {}", h));
      } else if (std::optional<std::string> error = ValidateWildcardDomain(h)) {
        Error(host, field_of(".host"), *error);
      }
    }
    if (const Node* subset = Field(d, "subset"); subset && !IsIstioDnsLabel(Text(*subset))) {
      Error(subset, field_of(".subset"),
            Text(*subset).empty() ? std::string("subset name cannot be empty")
                                  : fmt::format("subset name is invalid: {}", Text(*subset)));
    }
    if (const Node* port = Field(d, "port")) {
      if (auto n = Int(port, "number")) {
        if (std::optional<std::string> error = ValidatePort(*n)) {
          Error(Field(port, "number"), field_of(".port.number"), *error);
        }
      }
    }
  }

  void Percentage(const Node* percentage, const std::string& field) {
    if (auto v = Double(percentage, "value")) {
      if (*v < 0 || *v > 100 || (*v > 0 && *v < 0.0001)) {
        Error(
            Field(percentage, "value"), field + ".value",
            fmt::format("percentage {} is neither 0.0, nor in range [0.0001, 100.0]", GoFloat(*v)));
      }
    }
  }

  // ---- VirtualService ----

  void VirtualService() {
    const Node* spec = object_.spec();
    const Node* gateways = Field(spec, "gateways");
    size_t host_count = Count(spec, "hosts");
    if (host_count == 0) {
      if (Count(spec, "gateways")) {
        Error(gateways, "spec.gateways",
              "delegate virtual service must have no gateways specified");
      }
      if (Count(spec, "tls")) {
        Error(Field(spec, "tls"), "spec.tls",
              "delegate virtual service must have no tls route specified");
      }
      if (Count(spec, "tcp")) {
        Error(Field(spec, "tcp"), "spec.tcp",
              "delegate virtual service must have no tcp route specified");
      }
    }
    bool applies_to_mesh = true;
    bool applies_to_gateway = false;
    if (Count(spec, "gateways")) {
      GatewayNames(gateways, "spec.gateways");
      applies_to_gateway = true;
      for (const Node& g : Items(spec, "gateways")) {
        if (Text(g) == "mesh") applies_to_gateway = false;
      }
      applies_to_mesh = !applies_to_gateway;
    }
    if (!applies_to_gateway) {
      const std::vector<Node>& http = Items(spec, "http");
      for (size_t i = 0; i < http.size(); ++i) {
        const std::vector<Node>& match = Items(&http[i], "match");
        for (size_t j = 0; j < match.size(); ++j) {
          for (const char* where : {"headers", "withoutHeaders"}) {
            for (const MapEntry& e : Entries(&match[j], where)) {
              if (std::string_view(e.key).substr(0, 21) == "@request.auth.claims.") {
                Error(&e.value, fmt::format("spec.http[{}].match[{}].{}.{}", i, j, where, e.key),
                      fmt::format("JWT claim based routing (key: {}) is only supported for "
                                  "gateway, found no gateways: [{}]",
                                  e.key, fmt::join(StringsOf(gateways), " ")));
              }
            }
          }
        }
      }
    }
    bool all_hosts_valid = true;
    std::vector<std::string> host_names;
    for (size_t i = 0; i < Items(spec, "hosts").size(); ++i) {
      const Node& h = Items(spec, "hosts")[i];
      std::string name = Text(h);
      host_names.push_back(name);
      std::string f = ConcatText("spec.hosts[", i, "]");
      std::optional<std::string> err;
      if (applies_to_gateway && name.substr(0, 9) == "outbound_") {
        err = std::nullopt;  // the SNI form outbound_.<port>_._.<host>, accepted for gateways
      } else {
        err = ValidateWildcardDomain(name);
      }
      if (err) {
        if (!IsIpAddress(name)) {
          ErrorIf(&h, f, err);
          all_hosts_valid = false;
        }
      } else if (applies_to_mesh && name == "*") {
        Error(&h, f,
              "wildcard host * is not allowed for virtual services bound to the mesh gateway");
        all_hosts_valid = false;
      }
    }
    if (all_hosts_valid) {
      for (size_t i = 0; i < host_names.size(); ++i) {
        for (size_t j = i + 1; j < host_names.size(); ++j) {
          if (HostsOverlap(host_names[i], host_names[j])) {
            Error(&Items(spec, "hosts")[j], fmt::format("spec.hosts[{}]", j),
                  fmt::format("duplicate hosts in virtual service: {} & {}", host_names[i],
                              host_names[j]));
          }
        }
      }
    }
    if (!Count(spec, "http") && !Count(spec, "tcp") && !Count(spec, "tls")) {
      Error(spec, "spec", "http, tcp or tls must be provided in virtual service");
    }
    const std::vector<Node>& http = Items(spec, "http");
    for (size_t i = 0; i < http.size(); ++i) {
      std::string f = ConcatText("spec.http[", i, "]");
      if (http[i].IsNull()) {
        Error(&http[i], f, "http route may not be null");
        continue;
      }
      HttpRoute(&http[i], f, host_count == 0);
    }
    const std::vector<Node>& tls = Items(spec, "tls");
    for (size_t i = 0; i < tls.size(); ++i) {
      TlsRoute(&tls[i], ConcatText("spec.tls[", i, "]"), host_names, applies_to_gateway);
    }
    const std::vector<Node>& tcp = Items(spec, "tcp");
    for (size_t i = 0; i < tcp.size(); ++i) TcpRoute(&tcp[i], ConcatText("spec.tcp[", i, "]"));
    ExportTo(spec, false, false);
    UnreachableRules(http, "http", true);
    UnreachableRules(tcp, "tcp", false);
    UnreachableRules(tls, "tls", false);
  }

  static std::vector<std::string> StringsOf(const Node* list) {
    std::vector<std::string> out;
    if (list && list->IsSequence()) {
      for (const Node& n : list->items()) out.push_back(Text(n));
    }
    return out;
  }

  void HttpRoute(const Node* r, const std::string& f, bool delegate) {
    std::string name = Str(r, "name");
    if (delegate) {
      if (Has(r, "delegate")) {
        Error(Field(r, "delegate"), f + ".delegate", "delegate HTTP route cannot contain delegate");
      }
    } else if (Has(r, "delegate")) {
      if (Has(r, "redirect")) {
        Error(Field(r, "redirect"), f + ".redirect",
              fmt::format("root HTTP route {} must not specify redirect", name));
      }
      if (Has(r, "route")) {
        Error(Field(r, "route"), f + ".route",
              fmt::format("root HTTP route {} must not specify route", name));
      }
      HttpMatches(r, f);
      return;
    }
    // validateHTTPRouteConflict
    if (Has(r, "mirror") && Count(r, "mirrors")) {
      Error(Field(r, "mirrors"), f + ".mirrors",
            "HTTP route cannot contain both mirror and mirrors");
    }
    bool route = Count(r, "route") > 0;
    if (Has(r, "redirect")) {
      const Node* at = Field(r, "redirect");
      if (route) Error(at, f, "HTTP route cannot contain both route and redirect");
      if (Has(r, "fault")) Error(at, f, "HTTP route cannot contain both fault and redirect");
      if (Has(r, "rewrite"))
        Error(at, f, "HTTP route rule cannot contain both rewrite and redirect");
      if (Has(r, "directResponse")) {
        Error(at, f, "HTTP route rule cannot contain both direct_response and redirect");
      }
    } else if (!route && !Has(r, "directResponse") && !Has(r, "delegate")) {
      Error(r, f, "HTTP route, redirect or direct_response is required");
    }
    if (Has(r, "directResponse")) {
      const Node* at = Field(r, "directResponse");
      if (route) Error(at, f, "HTTP route cannot contain both route and direct_response");
      if (Has(r, "fault")) Error(at, f, "HTTP route cannot contain both fault and direct_response");
      if (Has(r, "rewrite")) {
        Error(at, f, "HTTP route rule cannot contain both rewrite and direct_response");
      }
    }
    HttpMatches(r, f);
    Part(r, f, "headers", &Rules::HeaderOperations);
    Part(r, f, "corsPolicy", &Rules::Cors);
    Part(r, f, "fault", &Rules::Fault);
    if (auto mp = Int(r, "mirrorPercent")) {
      if (*mp > 100) {
        Error(Field(r, "mirrorPercent"), f + ".mirrorPercent",
              fmt::format("mirror_percent must have a max value of 100 (it has {})", *mp));
      }
      Warning(Field(r, "mirrorPercent"), f + ".mirrorPercent",
              "using deprecated setting \"mirrorPercent\", use \"mirrorPercentage\" instead");
    }
    if (auto v = Double(Field(r, "mirrorPercentage"), "value")) {
      const Node* at = Field(Field(r, "mirrorPercentage"), "value");
      if (*v > 100) {
        Error(
            at, f + ".mirrorPercentage.value",
            fmt::format("mirror_percentage must have a max value of 100 (it has {})", GoFixed(*v)));
      }
      if (*v < 0) {
        Error(at, f + ".mirrorPercentage.value",
              fmt::format("mirror_percentage must have a min value of 0 (it has {})", GoFixed(*v)));
      }
    }
    Part(r, f, "mirror", &Rules::Destination);
    const std::vector<Node>& mirrors = Items(r, "mirrors");
    for (size_t i = 0; i < mirrors.size(); ++i) {
      std::string mf = ConcatText(f, ".mirrors[", i, "]");
      if (mirrors[i].IsNull()) {
        Error(&mirrors[i], mf, "mirror cannot be null");
        continue;
      }
      if (!Has(&mirrors[i], "destination")) {
        Error(&mirrors[i], mf, "destination is required for mirrors");
      }
      Destination(Field(&mirrors[i], "destination"), mf + ".destination");
      if (auto v = Double(Field(&mirrors[i], "percentage"), "value")) {
        const Node* at = Field(Field(&mirrors[i], "percentage"), "value");
        if (*v > 100) {
          Error(at, mf + ".percentage.value",
                fmt::format("mirror percentage must have a max value of 100 (it has {})",
                            GoFixed(*v)));
        }
        if (*v < 0) {
          Error(
              at, mf + ".percentage.value",
              fmt::format("mirror percentage must have a min value of 0 (it has {})", GoFixed(*v)));
        }
      }
    }
    Part(r, f, "redirect", &Rules::Redirect);
    Part(r, f, "directResponse", &Rules::DirectResponse);
    Part(r, f, "retries", &Rules::Retries);
    Part(r, f, "rewrite", &Rules::Rewrite);
    AuthorityRewrite(r, f);
    RouteDestinations(r, f);
    MsPrecision(Field(r, "timeout"), f + ".timeout");
  }

  void HttpMatches(const Node* r, const std::string& f) {
    const std::vector<Node>& matches = Items(r, "match");
    for (size_t j = 0; j < matches.size(); ++j) {
      const Node* m = &matches[j];
      std::string mf = ConcatText(f, ".match[", j, "]");
      if (!m->IsMapping()) continue;
      for (const MapEntry& e : Entries(m, "headers")) {
        std::string hf = mf + ".headers." + e.key;
        if (e.value.IsNull()) {
          Error(&e.value, hf, fmt::format("header match {} cannot be null", e.key));
          continue;
        }
        HeaderName(&e.value, hf, e.key, true);
        StringMatch(&e.value, hf, "headers", false);
      }
      for (const MapEntry& e : Entries(m, "withoutHeaders")) {
        std::string hf = mf + ".withoutHeaders." + e.key;
        HeaderName(&e.value, hf, e.key, true);
        if (Str(&e.value, "regex") != "*") StringMatch(&e.value, hf, "withoutHeaders", false);
      }
      StringMatch(Field(m, "uri"), mf + ".uri", "uri", true);
      StringMatch(Field(m, "scheme"), mf + ".scheme", "scheme", false);
      StringMatch(Field(m, "method"), mf + ".method", "method", false);
      StringMatch(Field(m, "authority"), mf + ".authority", "authority", false);
      for (const MapEntry& e : Entries(m, "queryParams")) {
        StringMatch(&e.value, mf + ".queryParams." + e.key, "queryParams", false);
      }
      if (auto port = Int(m, "port"); port && *port != 0) {
        ErrorIf(Field(m, "port"), mf + ".port", ValidatePort(*port));
      }
      Labels(Field(m, "sourceLabels"), mf + ".sourceLabels");
      GatewayNames(Field(m, "gateways"), mf + ".gateways");
      if (const Node* sns = Field(m, "sourceNamespace"); sns && !IsIstioDnsLabel(Text(*sns))) {
        Error(sns, mf + ".sourceNamespace",
              fmt::format("sourceNamespace match {} is invalid", Text(*sns)));
      }
    }
  }

  // agent.ValidateDuration beyond what the CRD's schema checks (more than 1ms, schema.cc):
  // whole milliseconds.
  void MsPrecision(const Node* d, const std::string& field) {
    double seconds = 0;
    if (!d || !ParseGoDuration(Text(*d), seconds)) return;
    long long ns = std::llround(seconds * 1e9);
    if (ns >= 1'000'000 && ns % 1'000'000 != 0) {
      Error(d, field, "only durations to ms precision are supported");
    }
  }

  void Cors(const Node* c, const std::string& f) {
    if (!c) return;
    const std::vector<Node>& origins = Items(c, "allowOrigins");
    for (size_t i = 0; i < origins.size(); ++i) {
      std::string of = ConcatText(f, ".allowOrigins[", i, "]");
      const Node* o = &origins[i];
      std::string match = Str(o, "exact") + Str(o, "prefix") + Str(o, "regex");
      if (match.empty()) {
        Error(o, of, fmt::format("'{}' is not a valid match type for CORS allow origins", match));
        continue;
      }
      StringMatch(o, of, "corsPolicy.allowOrigins", false);
    }
    static constexpr std::string_view kMethods[] = {
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*"};
    const std::vector<Node>& methods = Items(c, "allowMethods");
    for (size_t i = 0; i < methods.size(); ++i) {
      std::string m = Text(methods[i]);
      if (std::find(std::begin(kMethods), std::end(kMethods), m) == std::end(kMethods)) {
        Error(&methods[i], fmt::format("{}.allowMethods[{}]", f, i),
              fmt::format("{} is not a supported HTTP method", GoQuote(m)));
      }
    }
    for (const char* list : {"allowHeaders", "exposeHeaders"}) {
      const std::vector<Node>& headers = Items(c, list);
      for (size_t i = 0; i < headers.size(); ++i) {
        HeaderName(&headers[i], ConcatText(f, ".", list, "[", i, "]"), Text(headers[i]), false);
      }
    }
    if (const Node* max_age = Field(c, "maxAge")) {
      MsPrecision(max_age, f + ".maxAge");
      double seconds = 0;
      if (ParseGoDuration(Text(*max_age), seconds) && seconds != std::floor(seconds)) {
        Error(max_age, f + ".maxAge", "max_age duration is accurate only to seconds precision");
      }
    }
  }

  void Fault(const Node* fault, const std::string& f) {
    if (!fault) return;
    const Node* abort = Field(fault, "abort");
    const Node* delay = Field(fault, "delay");
    if (!abort && !delay) {
      Error(fault, f, "HTTP fault injection must have an abort and/or a delay");
    }
    if (abort) {
      std::string af = f + ".abort";
      Percentage(Field(abort, "percentage"), af + ".percentage");
      if (const Node* grpc = Field(abort, "grpcStatus")) {
        static constexpr std::string_view kCodes[] = {"OK",
                                                      "CANCELLED",
                                                      "UNKNOWN",
                                                      "INVALID_ARGUMENT",
                                                      "DEADLINE_EXCEEDED",
                                                      "NOT_FOUND",
                                                      "ALREADY_EXISTS",
                                                      "PERMISSION_DENIED",
                                                      "RESOURCE_EXHAUSTED",
                                                      "FAILED_PRECONDITION",
                                                      "ABORTED",
                                                      "OUT_OF_RANGE",
                                                      "UNIMPLEMENTED",
                                                      "INTERNAL",
                                                      "UNAVAILABLE",
                                                      "DATA_LOSS",
                                                      "UNAUTHENTICATED"};
        std::string g = Text(*grpc);
        if (std::find(std::begin(kCodes), std::end(kCodes), g) == std::end(kCodes)) {
          Error(grpc, af + ".grpcStatus",
                fmt::format("gRPC status {} is not supported. See "
                            "https://github.com/grpc/grpc/blob/master/doc/statuscodes.md for a "
                            "list of supported codes, for example 'NOT_FOUND'",
                            GoQuote(g)));
        }
      } else if (Has(abort, "http2Error")) {
        Error(Field(abort, "http2Error"), af + ".http2Error",
              "HTTP/2 abort fault injection not supported yet");
      } else if (auto status = Int(abort, "httpStatus")) {
        if (*status < 200 || *status > 600) {
          Error(Field(abort, "httpStatus"), af + ".httpStatus",
                fmt::format("HTTP status {} is not in range 200-599", *status));
        }
      } else if (!Has(abort, "httpStatus")) {
        Warning(abort, af, "abort configured, but error type not set");
      }
    }
    if (delay) {
      std::string df = f + ".delay";
      Percentage(Field(delay, "percentage"), df + ".percentage");
      // The deprecated `percent` is not checked any more (validateHTTPFaultInjectionDelay).
      MsPrecision(Field(delay, "fixedDelay"), df + ".fixedDelay");
      MsPrecision(Field(delay, "exponentialDelay"), df + ".exponentialDelay");
      if (Has(delay, "exponentialDelay")) {
        Error(Field(delay, "exponentialDelay"), df + ".exponentialDelay",
              "exponentialDelay not supported yet");
      }
    }
  }

  // validateHTTPRedirect returns its first error only.
  void Redirect(const Node* r, const std::string& f) {
    if (!r) return;
    auto code = Int(r, "redirectCode");
    if (code && *code >= 300 && *code <= 399 && *code != 301 && *code != 302 && *code != 303 &&
        *code != 307 && *code != 308) {
      // Istio's webhook accepts it, but istiod logs "Redirect Code %d is not yet supported"
      // and emits a route without an action, which Envoy rejects (istio-semantics 3.6).
      Report(Severity::Error, code::kInvalidValue, Field(r, "redirectCode"), f + ".redirectCode",
             fmt::format("redirect code {} passes Istio's validation, but istiod supports only "
                         "301, 302, 303, 307 and 308: it would generate a route without an "
                         "action, which Envoy rejects",
                         *code));
    }
    if (Str(r, "uri").empty() && Str(r, "authority").empty() && !Has(r, "port") &&
        !Has(r, "derivePort") && Str(r, "scheme").empty()) {
      Error(r, f, "redirect must specify URI, authority, scheme, or port");
      return;
    }
    if (code && *code != 0 && (*code < 300 || *code > 399)) {
      Error(Field(r, "redirectCode"), f + ".redirectCode",
            fmt::format("{} is not a valid redirect code, must be 3xx", *code));
      return;
    }
    if (const Node* scheme = Field(r, "scheme");
        scheme && Text(*scheme) != "http" && Text(*scheme) != "https" && !Text(*scheme).empty()) {
      Error(scheme, f + ".scheme", "invalid redirect scheme, must be \"http\" or \"https\"");
      return;
    }
    if (auto port = Int(r, "port"); port && *port > 0) {
      ErrorIf(Field(r, "port"), f + ".port", ValidatePort(*port));
    }
  }

  void DirectResponse(const Node* d, const std::string& f) {
    if (!d) return;
    if (const Node* body = Field(d, "body")) {
      size_t size = Str(body, "string").size() + Str(body, "bytes").size() * 3 / 4;
      if (size > 1024 * 1024) {
        Error(body, f + ".body",
              "large direct_responses may impact control plane performance, must be less than "
              "1MB");
      } else if (size > 100 * 1024) {
        Warning(body, f + ".body", "large direct_responses may impact control plane performance");
      }
    }
    // validateHTTPStatus, shared with fault aborts: 600 passes, whatever the message says.
    if (auto status = Int(d, "status"); status && (*status < 200 || *status > 600)) {
      Error(Field(d, "status"), f + ".status",
            fmt::format("HTTP status {} is not in range 200-599", *status));
    }
  }

  void Retries(const Node* r, const std::string& f) {
    if (!r) return;
    int64_t attempts = Int(r, "attempts").value_or(0);
    if (attempts < 0) Error(Field(r, "attempts"), f + ".attempts", "attempts cannot be negative");
    if (attempts == 0 && (Has(r, "perTryTimeout") || !Str(r, "retryOn").empty() ||
                          Has(r, "retryRemoteLocalities"))) {
      Error(r, f, "http retry policy configured when attempts are set to 0 (disabled)");
    }
    MsPrecision(Field(r, "perTryTimeout"), f + ".perTryTimeout");
    if (const Node* on = Field(r, "retryOn"); on && !Text(*on).empty()) {
      static constexpr std::string_view kPolicies[] = {"5xx",
                                                       "gateway-error",
                                                       "reset",
                                                       "reset-before-request",
                                                       "connect-failure",
                                                       "retriable-4xx",
                                                       "refused-stream",
                                                       "retriable-status-codes",
                                                       "retriable-headers",
                                                       "envoy-ratelimited",
                                                       "http3-post-connect-failure",
                                                       "cancelled",
                                                       "deadline-exceeded",
                                                       "internal",
                                                       "resource-exhausted",
                                                       "unavailable"};
      std::string_view rest = on->text();
      while (true) {
        size_t comma = rest.find(',');
        std::string_view policy = rest.substr(0, comma);
        int code = ParseIntOr(policy, 0);
        if (!IsHttpStatusWithText(code) &&
            std::find(std::begin(kPolicies), std::end(kPolicies), policy) == std::end(kPolicies)) {
          Error(on, f + ".retryOn",
                fmt::format("{} is not a valid retryOn policy", GoQuote(policy)));
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
    MsPrecision(Field(r, "backoff"), f + ".backoff");
  }

  void Rewrite(const Node* r, const std::string& f) {
    if (!r) return;
    const Node* regex_rewrite = Field(r, "uriRegexRewrite");
    if (!Str(r, "uri").empty() && regex_rewrite) {
      Error(r, f, "rewrite may only contain one of URI or UriRegexRewrite");
    }
    if (Str(r, "uri").empty() && !regex_rewrite && Str(r, "authority").empty()) {
      Error(r, f,
            "rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of "
            "URI or UriRegexRewrite may be specified");
    }
    if (regex_rewrite) {
      if (Str(regex_rewrite, "match").empty() || Str(regex_rewrite, "rewrite").empty()) {
        Error(regex_rewrite, f + ".uriRegexRewrite",
              "UriRegexRewrite requires both Rewrite and Match fields to be specified");
      } else {
        re2::RE2::Options options;
        options.set_log_errors(false);
        re2::RE2 compiled(Str(regex_rewrite, "match"), options);
        if (!compiled.ok()) {
          Error(Field(regex_rewrite, "match"), f + ".uriRegexRewrite.match",
                fmt::format("UriRegexRewrite has errors: \"HTTPRewrite.UriRegexRewrite.Match\": "
                            "error parsing regexp: {}",
                            compiled.error()));
        }
      }
    }
  }

  // validateAuthorityRewrite: rewrite.authority and request set/add of :authority or Host, at
  // most one of them.
  void AuthorityRewrite(const Node* r, const std::string& f) {
    std::string current = Str(Field(r, "rewrite"), "authority");
    const Node* request = Field(Field(r, "headers"), "request");
    for (const char* op : {"set", "add"}) {
      for (const MapEntry& e : Entries(request, op)) {
        std::string key = ToLower(e.key);  // isAuthorityHeader: strings.EqualFold
        if (key != ":authority" && key != "host") continue;
        if (!current.empty()) {
          Error(&e.value, fmt::format("{}.headers.request.{}.{}", f, op, e.key),
                fmt::format("authority header cannot be set multiple times: have {}, attempting "
                            "to set {}",
                            GoQuote(current), GoQuote(Text(e.value))));
          return;
        }
        current = Text(e.value);
      }
    }
  }

  void TlsRoute(const Node* r, const std::string& f, const std::vector<std::string>& hosts,
                bool gateway) {
    if (!r || r->IsNull()) return;
    const std::vector<Node>& matches = Items(r, "match");
    if (matches.empty()) Error(r, f, "TLS route must have at least one match condition");
    for (size_t i = 0; i < matches.size(); ++i) {
      const Node* m = &matches[i];
      std::string mf = ConcatText(f, ".match[", i, "]");
      if (m->IsNull()) {
        Error(m, mf, "TLS match may not be null");
        continue;
      }
      const std::vector<Node>& sni = Items(m, "sniHosts");
      if (sni.empty()) Error(m, mf, "TLS match must have at least one SNI host");
      for (size_t k = 0; k < sni.size(); ++k) {
        std::string s = Text(sni[k]);
        std::string sf = ConcatText(mf, ".sniHosts[", k, "]");
        std::optional<std::string> err =
            gateway && s.substr(0, 9) == "outbound_" ? std::nullopt : ValidateWildcardDomain(s);
        if (err) {
          if (IsIpAddress(s)) {
            Warning(&sni[k], sf,
                    fmt::format("using an IP address ({}) goes against SNI spec and most clients "
                                "do not support this",
                                GoQuote(s)));
          } else {
            ErrorIf(&sni[k], sf, err);
          }
          continue;
        }
        bool subset = std::any_of(hosts.begin(), hosts.end(),
                                  [&](const std::string& h) { return HostSubsetOf(s, h); });
        if (!subset) {
          Error(&sni[k], sf,
                fmt::format("SNI host {} is not a compatible subset of any of the virtual service "
                            "hosts: [{}]",
                            GoQuote(s), fmt::join(hosts, ", ")));
        }
      }
      L4Match(m, mf);
    }
    if (Items(r, "route").empty()) Error(r, f, "TLS route is required");
    RouteDestinations(r, f);
  }

  // host.Name.SubsetOf: equal, or `a` within the wildcard `b`.
  static bool HostSubsetOf(std::string_view a, std::string_view b) {
    if (a == b || b == "*") return true;
    if (b.empty() || b.front() != '*') return false;
    std::string_view suffix = b.substr(1);
    std::string_view a_tail = !a.empty() && a.front() == '*' ? a.substr(1) : a;
    return a_tail.size() >= suffix.size() && a_tail.substr(a_tail.size() - suffix.size()) == suffix;
  }

  void L4Match(const Node* m, const std::string& mf) {
    const std::vector<Node>& subnets = Items(m, "destinationSubnets");
    for (size_t i = 0; i < subnets.size(); ++i) {
      ErrorIf(&subnets[i], fmt::format("{}.destinationSubnets[{}]", mf, i),
              IpSubnet(Text(subnets[i])));
    }
    if (auto port = Int(m, "port"); port && *port != 0) {
      ErrorIf(Field(m, "port"), mf + ".port", ValidatePort(*port));
    }
    Labels(Field(m, "sourceLabels"), mf + ".sourceLabels");
    GatewayNames(Field(m, "gateways"), mf + ".gateways");
  }

  static std::optional<std::string> IpSubnet(const std::string& s) {
    size_t slash = s.find('/');
    if (slash == std::string::npos) {
      if (!IsIpAddress(s)) return fmt::format("{} is not a valid IP", s);
      return std::nullopt;
    }
    std::string ip = s.substr(0, slash);
    std::string bits = s.substr(slash + 1);
    int max = ip.find(':') != std::string::npos ? 128 : 32;
    int n = ParseIntOr(bits, -1);
    if (!IsIpAddress(ip) || n < 0 || n > max || !AllDigits(bits)) {
      return fmt::format("{} is not a valid CIDR block", s);
    }
    return std::nullopt;
  }

  void TcpRoute(const Node* r, const std::string& f) {
    if (!r || r->IsNull()) return;
    const std::vector<Node>& matches = Items(r, "match");
    for (size_t i = 0; i < matches.size(); ++i) {
      std::string mf = ConcatText(f, ".match[", i, "]");
      if (matches[i].IsNull()) {
        Error(&matches[i], mf, "tcp match may not be nil");
        continue;
      }
      L4Match(&matches[i], mf);
    }
    if (Items(r, "route").empty()) Error(r, f, "TCP route is required");
    RouteDestinations(r, f);
  }

  // validateHTTPRouteDestinations and validateRouteDestinations.
  void RouteDestinations(const Node* r, const std::string& f) {
    const std::vector<Node>& routes = Items(r, "route");
    int64_t total = 0;
    for (size_t i = 0; i < routes.size(); ++i) {
      // The route's path, written only for a diagnostic: most routes have none.
      auto rf = [&](std::string_view more) { return ConcatText(f, ".route[", i, "]", more); };
      if (routes[i].IsNull()) {
        Error(&routes[i], rf(""), "weight may not be nil");
        continue;
      }
      // Per-destination header operations exist on HTTP routes only (the schema says so).
      if (const Node* headers = Field(&routes[i], "headers")) {
        HeaderOperations(headers, rf(".headers"));
      }
      DestinationAt(Field(&routes[i], "destination"),
                    [&](std::string_view more) { return rf(".destination") + std::string(more); });
      if (auto w = Int(&routes[i], "weight")) {
        if (*w < 0)
          Error(Field(&routes[i], "weight"), rf(".weight"), fmt::format("weight {} < 0", *w));
        total += *w;
      }
    }
    if (routes.size() > 1 && total == 0) {
      Error(Field(r, "route"), f + ".route", "total destination weight = 0");
    }
  }

  // analyzeUnreachableHTTPRules and friends: IST0130 and IST0131.
  void UnreachableRules(const std::vector<Node>& routes, const std::string& list, bool http) {
    std::unordered_map<std::string, size_t> seen;
    int catch_all = -1;
    struct PrefixMatch {
      std::string rule, match, prefix, method, authority;
      std::string port;
      std::map<std::string, std::string> headers, query, without;
      const Node* at;
      std::string field;
    };
    std::vector<PrefixMatch> prefix_matches;
    auto rule_name = [&](size_t i) {
      std::string name = http ? Str(&routes[i], "name") : std::string();
      return name.empty() ? fmt::format("#{}", i) : GoQuote(name);
    };
    for (size_t i = 0; i < routes.size(); ++i) {
      const Node* r = &routes[i];
      if (r->IsNull() || !r->IsMapping()) continue;
      std::string f = ConcatText("spec.", list, "[", i, "]");
      const std::vector<Node>& matches = Items(r, "match");
      if (matches.empty()) {
        if (catch_all >= 0) {
          Unreachable(r, f, rule_name(i), "only the last rule can have no matches");
        }
        catch_all = static_cast<int>(i);
        continue;
      }
      size_t duplicates = 0;
      for (size_t j = 0; j < matches.size(); ++j) {
        if (catch_all >= 0) {
          Unreachable(r, f, rule_name(i), "route without matches defined before");
          continue;
        }
        // An HTTP match's name is not part of what it matches.
        const MapEntry* name = nullptr;
        if (http) {
          const std::vector<MapEntry>& entries = matches[j].entries();
          auto it = std::find_if(entries.begin(), entries.end(),
                                 [](const MapEntry& e) { return e.key == "name"; });
          if (it != entries.end()) name = &*it;
        }
        std::string key;
        Canonical(matches[j], key, name);
        if (auto it = seen.find(key); it != seen.end()) {
          std::string match_name = http ? Str(&matches[j], "name") : std::string();
          Ineffective(&matches[j], fmt::format("{}.match[{}]", f, j), rule_name(i),
                      match_name.empty() ? fmt::format("#{}", j) : GoQuote(match_name),
                      rule_name(it->second));
          ++duplicates;
          continue;
        }
        seen.emplace(key, i);
        if (!http) continue;
        const Node* m = &matches[j];
        std::string prefix = Str(Field(m, "uri"), "prefix");
        if (prefix.empty()) continue;
        auto exact_or_prefix = [](const Node* sm) {
          if (!Str(sm, "exact").empty()) return "exact:" + Str(sm, "exact");
          if (!Str(sm, "prefix").empty()) return "prefix:" + Str(sm, "prefix");
          return std::string();
        };
        PrefixMatch pm;
        pm.rule = rule_name(i);
        std::string match_name = Str(m, "name");
        pm.match = match_name.empty() ? fmt::format("#{}", j) : GoQuote(match_name);
        pm.prefix = prefix;
        pm.port = ScalarText(Field(m, "port"));
        pm.method = exact_or_prefix(Field(m, "method"));
        if (pm.method.empty()) pm.method = "exact:GET";
        pm.authority = exact_or_prefix(Field(m, "authority"));
        for (const MapEntry& e : Entries(m, "headers"))
          pm.headers[e.key.str()] = exact_or_prefix(&e.value);
        for (const MapEntry& e : Entries(m, "queryParams"))
          pm.query[e.key.str()] = exact_or_prefix(&e.value);
        for (const MapEntry& e : Entries(m, "withoutHeaders")) {
          pm.without[e.key.str()] = exact_or_prefix(&e.value);
        }
        pm.at = m;
        pm.field = ConcatText(f, ".match[", j, "]");
        prefix_matches.push_back(std::move(pm));
      }
      if (duplicates == matches.size()) {
        Unreachable(r, f, rule_name(i), "all matches used by prior rules");
      }
    }
    // coveredValidation: an earlier prefix match that covers a later one.
    auto starts = [](const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; };
    auto covered_map = [&](const std::map<std::string, std::string>& a,
                           const std::map<std::string, std::string>& b) {
      if (a.size() != b.size()) return false;
      for (const auto& [k, v] : a) {
        auto it = b.find(k);
        if (it == b.end()) return false;
        if (v != it->second && !starts(v, it->second)) return false;
      }
      return true;
    };
    for (size_t a = 0; a < prefix_matches.size(); ++a) {
      for (size_t b = a + 1; b < prefix_matches.size(); ++b) {
        const PrefixMatch& va = prefix_matches[a];
        const PrefixMatch& vb = prefix_matches[b];
        if (va.prefix == vb.prefix || !starts(vb.prefix, va.prefix)) continue;
        if (va.port != vb.port) continue;
        if (va.method != vb.method && !starts(va.method, vb.method)) continue;
        if (va.authority != vb.authority && !starts(va.authority, vb.authority)) continue;
        if (!covered_map(va.headers, vb.headers) || !covered_map(va.query, vb.query) ||
            !covered_map(va.without, vb.without)) {
          continue;
        }
        Ineffective(vb.at, vb.field, vb.rule, vb.match + " of prefix " + vb.prefix,
                    va.match + " of prefix " + va.prefix + " on " + va.rule);
      }
    }
  }

  void Unreachable(const Node* at, const std::string& field, const std::string& rule,
                   const std::string& reason) {
    Report(Severity::Warning, code::kUnreachableRule, at, field,
           fmt::format("VirtualService rule {} not used ({}).", rule, reason));
  }
  void Ineffective(const Node* at, const std::string& field, const std::string& rule,
                   const std::string& match, const std::string& dup) {
    Report(Severity::Info, code::kIneffectiveMatch, at, field,
           fmt::format("VirtualService rule {} match {} is not used (duplicate/overlapping match "
                       "in rule {}).",
                       rule, match, dup));
  }

  // ---- DestinationRule ----

  void DestinationRule() {
    const Node* spec = object_.spec();
    if (const Node* host = Field(spec, "host")) {
      ErrorIf(host, "spec.host", ValidateWildcardDomain(Text(*host)));
    }
    const Node* selector = Field(spec, "workloadSelector");
    if (selector) WorkloadSelector(selector, "spec.workloadSelector");
    TrafficPolicy(Field(spec, "trafficPolicy"), "spec.trafficPolicy");
    std::set<std::string> names;
    const std::vector<Node>& subsets = Items(spec, "subsets");
    for (size_t i = 0; i < subsets.size(); ++i) {
      const Node* s = &subsets[i];
      std::string f = ConcatText("spec.subsets[", i, "]");
      if (s->IsNull()) {
        Error(s, f, "subset may not be null");
        continue;
      }
      std::string name = Str(s, "name");
      if (!names.insert(name).second) {
        Error(Field(s, "name"), f + ".name", fmt::format("duplicate subset names: {}", name));
      }
      if (name.empty()) {
        Error(Field(s, "name") ? Field(s, "name") : s, f + ".name", "subset name cannot be empty");
      } else if (!IsIstioDnsLabel(name)) {
        Error(Field(s, "name"), f + ".name", fmt::format("subset name is invalid: {}", name));
      }
      Labels(Field(s, "labels"), f + ".labels");
      TrafficPolicy(Field(s, "trafficPolicy"), f + ".trafficPolicy");
    }
    ExportTo(spec, false, selector != nullptr);
  }

  void WorkloadSelector(const Node* selector, const std::string& f) {
    const std::vector<MapEntry>& labels = Entries(selector, "matchLabels");
    for (const MapEntry& e : labels) {
      if (e.key.empty()) {
        Error(&e.value, f + ".matchLabels",
              fmt::format("empty key is not supported in selector: {}", GoQuote(e.key)));
      }
      if (e.key.view().find('*') != std::string::npos ||
          Text(e.value).find('*') != std::string::npos) {
        Error(&e.value, f + ".matchLabels." + e.key,
              fmt::format("wildcard is not supported in selector: {}", GoQuote(e.key)));
      }
    }
    if (labels.empty()) Warning(selector, f, "workload selector specified without labels");
  }

  void TrafficPolicy(const Node* p, const std::string& f) {
    if (!p) return;
    if (!p->IsMapping() || p->entries().empty()) {
      Error(p, f, "traffic policy must have at least one field");
      return;
    }
    if (Has(p, "tunnel") && Has(p, "proxyProtocol")) {
      Error(p, f, "tunnel and proxyProtocol must not be set together");
    }
    PolicyParts(p, f);
    const std::vector<Node>& ports = Items(p, "portLevelSettings");
    for (size_t i = 0; i < ports.size(); ++i) {
      const Node* pp = &ports[i];
      std::string pf = ConcatText(f, ".portLevelSettings[", i, "]");
      if (pp->IsNull()) {
        Error(pp, pf, "traffic policy may not be null");
        continue;
      }
      if (!Has(pp, "port")) Error(pp, pf, "portTrafficPolicy must have valid port");
      if (!Has(pp, "outlierDetection") && !Has(pp, "connectionPool") && !Has(pp, "loadBalancer") &&
          !Has(pp, "tls")) {
        Error(pp, pf, "port traffic policy must have at least one field");
      }
      if (auto n = Int(Field(pp, "port"), "number")) {
        ErrorIf(Field(Field(pp, "port"), "number"), pf + ".port.number", ValidatePort(*n));
      }
      PolicyParts(pp, pf);
    }
    if (const Node* tunnel = Field(p, "tunnel")) {
      std::string tf = f + ".tunnel";
      std::string protocol = Str(tunnel, "protocol");
      if (!protocol.empty() && protocol != "CONNECT" && protocol != "POST") {
        Error(Field(tunnel, "protocol"), tf + ".protocol",
              "tunnel protocol must be \"CONNECT\" or \"POST\"");
      }
      std::string target = Str(tunnel, "targetHost");
      if (Has(tunnel, "targetHost") && !IsIpAddress(target)) {
        if (auto e = ValidateFqdn(target)) {
          Error(Field(tunnel, "targetHost"), tf + ".targetHost",
                fmt::format("tunnel target host must be valid FQDN or IP address: {}", *e));
        }
      }
      if (auto port = Int(tunnel, "targetPort")) {
        if (auto e = ValidatePort(*port)) {
          Error(Field(tunnel, "targetPort"), tf + ".targetPort",
                fmt::format("tunnel target port is invalid: {}", *e));
        }
      }
    }
  }

  void PolicyParts(const Node* p, const std::string& f) {
    if (const Node* pool = Field(p, "connectionPool")) {
      std::string cf = f + ".connectionPool";
      const Node* http = Field(pool, "http");
      const Node* tcp = Field(pool, "tcp");
      if (!http && !tcp) Error(pool, cf, "connection pool must have at least one field");
      auto non_negative = [&](const Node* parent, const char* key, const std::string& pf,
                              const char* message) {
        if (auto v = Int(parent, key); v && *v < 0) {
          Error(Field(parent, key), pf + "." + key, message);
        }
      };
      non_negative(http, "http1MaxPendingRequests", cf + ".http",
                   "http1 max pending requests must be non-negative");
      non_negative(http, "http2MaxRequests", cf + ".http",
                   "http2 max requests must be non-negative");
      non_negative(http, "maxRequestsPerConnection", cf + ".http",
                   "max requests per connection must be non-negative");
      non_negative(http, "maxRetries", cf + ".http", "max retries must be non-negative");
      non_negative(http, "maxConcurrentStreams", cf + ".http",
                   "max concurrent streams must be non-negative");
      non_negative(tcp, "maxConnections", cf + ".tcp", "max connections must be non-negative");
    }
    if (const Node* od = Field(p, "outlierDetection")) {
      std::string of = f + ".outlierDetection";
      if (auto v = Int(od, "consecutiveErrors"); v && *v < 0) {
        Error(Field(od, "consecutiveErrors"), of + ".consecutiveErrors",
              "outlier detection consecutive errors cannot be negative");
      }
      if (auto v = Int(od, "maxEjectionPercent"); v && (*v < 0 || *v > 100)) {
        Error(Field(od, "maxEjectionPercent"), of + ".maxEjectionPercent",
              "max ejection percent must be in range [0, 100]");
      }
      if (auto v = Int(od, "minHealthPercent"); v && (*v < 0 || *v > 100)) {
        Error(Field(od, "minHealthPercent"), of + ".minHealthPercent",
              "minimum health percent must be in range [0, 100]");
      }
    }
    if (const Node* lb = Field(p, "loadBalancer")) {
      const Node* hash = Field(lb, "consistentHash");
      if (const Node* cookie = Field(hash, "httpCookie"); cookie && Str(cookie, "name").empty()) {
        Error(cookie, f + ".loadBalancer.consistentHash.httpCookie",
              "name required for HttpCookie");
      }
      if (auto size = Int(Field(hash, "maglev"), "tableSize")) {
        bool prime = *size >= 2;
        for (int64_t d = 2; prime && d * d <= *size; ++d) prime = *size % d != 0;
        if (!prime) {
          Error(Field(Field(hash, "maglev"), "tableSize"),
                f + ".loadBalancer.consistentHash.maglev.tableSize",
                "tableSize must be a prime number for maglev");
        }
      }
    }
    if (const Node* tls = Field(p, "tls")) ClientTls(tls, f + ".tls");
  }

  void ClientTls(const Node* tls, const std::string& f) {
    std::string mode = Str(tls, "mode");
    bool certs = !Str(tls, "clientCertificate").empty() || !Str(tls, "caCertificates").empty() ||
                 !Str(tls, "privateKey").empty() || !Str(tls, "caCrl").empty();
    if ((mode == "SIMPLE" || mode == "MUTUAL") && !Str(tls, "credentialName").empty()) {
      if (certs) {
        Error(tls, f,
              "cannot specify client certificates or CA certificate or CA CRL If credentialName "
              "is set");
      }
      return;
    }
    if (mode == "MUTUAL") {
      if (Str(tls, "clientCertificate").empty()) {
        Error(tls, f, "client certificate required for mutual tls");
      }
      if (Str(tls, "privateKey").empty()) Error(tls, f, "private key required for mutual tls");
    }
    if (Field(tls, "insecureSkipVerify") && Text(*Field(tls, "insecureSkipVerify")) != "false") {
      bool sans = Count(tls, "subjectAltNames") > 0;
      if (mode == "SIMPLE" &&
          (!Str(tls, "caCertificates").empty() || !Str(tls, "credentialName").empty() || sans)) {
        Error(tls, f,
              "cannot specify CaCertificates or CredentialName or SubjectAltNames when "
              "InsecureSkipVerify is set true");
      }
      if (mode == "MUTUAL" && (!Str(tls, "caCertificates").empty() || sans)) {
        Error(tls, f,
              "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set "
              "true");
      }
    }
  }

  // ---- ServiceEntry ----

  void ServiceEntry() {
    const Node* spec = object_.spec();
    std::string resolution = Str(spec, "resolution");
    if (resolution.empty()) resolution = "NONE";
    if (Has(spec, "workloadSelector") && Has(spec, "endpoints")) {
      Error(Field(spec, "endpoints"), "spec.endpoints",
            "only one of WorkloadSelector or Endpoints is allowed in Service Entry");
    }
    if (const Node* selector = Field(spec, "workloadSelector")) {
      const std::vector<MapEntry>& labels = Entries(selector, "labels");
      for (const MapEntry& e : labels) {
        if (e.key.empty()) {
          Error(&e.value, "spec.workloadSelector.labels",
                fmt::format("empty key is not supported in selector: {}", GoQuote(e.key)));
        }
        if (e.key.view().find('*') != std::string::npos ||
            Text(e.value).find('*') != std::string::npos) {
          Error(&e.value, "spec.workloadSelector.labels." + e.key,
                fmt::format("wildcard is not supported in selector: {}", GoQuote(e.key)));
        }
      }
      if (labels.empty()) {
        Warning(selector, "spec.workloadSelector",
                "service entry: workload selector specified without labels, will be applied to "
                "all services in namespace");
      }
    }
    const std::vector<Node>& hosts = Items(spec, "hosts");
    if (hosts.empty()) {
      Error(Field(spec, "hosts") ? Field(spec, "hosts") : spec, "spec.hosts",
            "service entry must have at least one host");
    }
    for (size_t i = 0; i < hosts.size(); ++i) {
      std::string h = Text(hosts[i]);
      std::string f = ConcatText("spec.hosts[", i, "]");
      if (h == "*") {
        Error(&hosts[i], f, fmt::format("invalid host {}", h));
        continue;
      }
      if (auto e = ValidateWildcardDomain(h)) {
        ErrorIf(&hosts[i], f, e);
      } else if (resolution != "DYNAMIC_DNS") {
        if (auto w = ValidatePartialWildcard(h)) Warning(&hosts[i], f, *w);
      }
    }
    bool cidr = false;
    const std::vector<Node>& addresses = Items(spec, "addresses");
    for (size_t i = 0; i < addresses.size(); ++i) {
      std::string a = Text(addresses[i]);
      cidr = cidr || a.find('/') != std::string::npos;
      ErrorIf(&addresses[i], fmt::format("spec.addresses[{}]", i), IpSubnet(a));
    }
    if (cidr && resolution != "NONE" && resolution != "STATIC") {
      Error(Field(spec, "addresses"), "spec.addresses",
            "CIDR addresses are allowed only for NONE/STATIC resolution types");
    }
    std::set<std::string> port_names;
    std::set<int64_t> port_numbers;
    const std::vector<Node>& ports = Items(spec, "ports");
    bool non_http_tls_port = false;
    for (size_t i = 0; i < ports.size(); ++i) {
      const Node* p = &ports[i];
      std::string f = ConcatText("spec.ports[", i, "]");
      if (p->IsNull()) {
        Error(p, f, "service entry port may not be null");
        continue;
      }
      std::string name = Str(p, "name");
      auto number = Int(p, "number");
      if (!port_names.insert(name).second) {
        Error(p, f, fmt::format("service entry port name {} already defined", GoQuote(name)));
      }
      if (number && !port_numbers.insert(*number).second) {
        Error(p, f, fmt::format("service entry port {} already defined", *number));
      }
      if (auto target = Int(p, "targetPort"); target && *target != 0) {
        ErrorIf(Field(p, "targetPort"), f + ".targetPort", ValidatePort(*target));
      }
      std::string protocol = Str(p, "protocol");
      if (addresses.empty() && (protocol.empty() || protocol == "TCP")) {
        Warning(p, f,
                "addresses are required for ports serving TCP (or unset) protocol when IP "
                "Autoallocation is not enabled");
      }
      if (!IsIstioDnsLabel(name)) {
        Error(Field(p, "name") ? Field(p, "name") : p, f + ".name",
              fmt::format("invalid port name: {}", name));
      }
      std::string parsed = ParseProtocol(protocol);
      if (!protocol.empty() && parsed.empty()) {
        Error(Field(p, "protocol"), f + ".protocol",
              fmt::format("unsupported protocol: {}", protocol));
      }
      if (!IsHttpProtocol(parsed) && !ProtocolIsTls(parsed)) non_http_tls_port = true;
      if (number) ErrorIf(Field(p, "number"), f + ".number", ValidatePort(*number));
    }
    const std::vector<Node>& endpoints = Items(spec, "endpoints");
    auto endpoint_ports = [&](const Node* ep, const std::string& ef) {
      for (const MapEntry& e : Entries(ep, "ports")) {
        std::string pf = ef + ".ports." + e.key;
        if (!port_names.count(e.key.str())) {
          Error(&e.value, pf,
                fmt::format("endpoint port {} is not defined by the service entry", e.key));
        }
        if (!IsIstioDnsLabel(e.key))
          Error(&e.value, pf, fmt::format("invalid port name: {}", e.key));
        if (e.value.IsScalar() && e.value.scalar_type() == ScalarType::Int) {
          ErrorIf(&e.value, pf, ValidatePort(ParseIntOr(e.value.text(), 0)));
        }
      }
      Labels(Field(ep, "labels"), ef + ".labels");
    };
    if (resolution == "NONE") {
      if (!endpoints.empty()) {
        Error(Field(spec, "endpoints"), "spec.endpoints",
              "no endpoints should be provided for resolution type none");
      }
      if (Has(spec, "workloadSelector")) {
        Warning(Field(spec, "workloadSelector"), "spec.workloadSelector",
                "workloadSelector should not be set when resolution mode is NONE");
      }
    } else if (resolution == "STATIC") {
      for (size_t i = 0; i < endpoints.size(); ++i) {
        const Node* ep = &endpoints[i];
        std::string ef = ConcatText("spec.endpoints[", i, "]");
        if (ep->IsNull()) {
          Error(ep, ef, "endpoint cannot be nil");
          continue;
        }
        std::string address = Str(ep, "address");
        if (address.rfind("unix://", 0) == 0) {
          if (Count(ep, "ports")) {
            Error(ep, ef, fmt::format("unix endpoint {} must not include ports", address));
          }
          if (ports.size() != 1)
            Error(ep, ef, "exactly 1 service port required for unix endpoints");
        } else if (address.empty()) {
          if (!Str(ep, "network").empty()) {
            Warning(ep, ef,
                    fmt::format("address is unset with network {}", GoQuote(Str(ep, "network"))));
          } else {
            Error(ep, ef, "address is required");
          }
        } else if (!IsIpAddress(address)) {
          Error(Field(ep, "address"), ef + ".address",
                fmt::format("endpoint address {} is not a valid IP address", GoQuote(address)));
        }
        endpoint_ports(ep, ef);
      }
    } else if (resolution == "DNS" || resolution == "DNS_ROUND_ROBIN") {
      if (endpoints.empty()) {
        for (size_t i = 0; i < hosts.size(); ++i) {
          std::string h = Text(hosts[i]);
          std::string_view check = h.rfind("*.", 0) == 0 ? std::string_view(h).substr(2) : h;
          if (auto e = ValidateFqdn(check)) {
            Error(&hosts[i], fmt::format("spec.hosts[{}]", i),
                  fmt::format("hosts must be FQDN or contain only prefix wildcards if no endpoints "
                              "are provided for resolution mode {}, {}",
                              resolution, *e));
          }
        }
      }
      if (resolution == "DNS_ROUND_ROBIN" && endpoints.size() > 1) {
        Error(Field(spec, "endpoints"), "spec.endpoints",
              "there must only be 0 or 1 endpoint for resolution mode DNS_ROUND_ROBIN");
      }
      for (size_t i = 0; i < endpoints.size(); ++i) {
        const Node* ep = &endpoints[i];
        std::string ef = ConcatText("spec.endpoints[", i, "]");
        if (ep->IsNull()) {
          Error(ep, ef, "endpoint cannot be nil");
          continue;
        }
        std::string address = Str(ep, "address");
        if (!IsIpAddress(address) && ValidateFqdn(address)) {
          Error(Field(ep, "address") ? Field(ep, "address") : ep, ef + ".address",
                fmt::format("endpoint address {} is not a valid FQDN or an IP address",
                            GoQuote(address)));
        }
        endpoint_ports(ep, ef);
      }
    } else if (resolution == "DYNAMIC_DNS") {
      if (!addresses.empty() || !endpoints.empty()) {
        Error(spec, "spec", "DYNAMIC_DNS mode cannot have addresses or endpoints");
      }
    }
    if (hosts.size() > 1 && resolution != "NONE" && non_http_tls_port) {
      Error(Field(spec, "ports"), "spec.ports",
            "multiple hosts provided with non-HTTP, non-TLS ports");
    }
    ExportTo(spec, true, false);
  }

  // ---- Gateway ----

  void Gateway() {
    const Node* spec = object_.spec();
    if (!IsIstioDnsLabel(object_.name)) {  // a label: no dots
      Error(Field(object_.metadata(), "name"), "metadata.name",
            fmt::format("invalid gateway name: {}", GoQuote(object_.name)));
    }
    const std::vector<Node>& servers = Items(spec, "servers");
    if (servers.empty()) {
      Error(Field(spec, "servers") ? Field(spec, "servers") : spec, "spec.servers",
            "gateway must have at least one server");
    }
    std::set<std::string> port_names;
    for (size_t i = 0; i < servers.size(); ++i) {
      const Node* s = &servers[i];
      std::string f = ConcatText("spec.servers[", i, "]");
      if (s->IsNull()) {
        Error(s, f, "server may not be nil");
        continue;
      }
      Server(s, f);
      if (const Node* port = Field(s, "port"); port && port->IsMapping()) {
        std::string name = Str(port, "name");
        if (!port_names.insert(name).second) {
          Error(Field(port, "name") ? Field(port, "name") : port, f + ".port.name",
                fmt::format("port names in servers must be unique: duplicate name {}", name));
        }
        const Node* redirect = Field(Field(s, "tls"), "httpsRedirect");
        if (redirect && Text(*redirect) == "true" &&
            !IsHttpProtocol(ParseProtocol(Str(port, "protocol")))) {
          Warning(redirect, f + ".tls.httpsRedirect",
                  "tls.httpsRedirect should only be used with http servers");
        }
      }
    }
  }

  void Server(const Node* s, const std::string& f) {
    const std::vector<Node>& hosts = Items(s, "hosts");
    if (hosts.empty()) Error(s, f + ".hosts", "server config must contain at least one host");
    for (size_t i = 0; i < hosts.size(); ++i) {
      std::string h = Text(hosts[i]);
      std::string hf = ConcatText(f, ".hosts[", i, "]");
      size_t slash = h.find('/');
      std::string dns = h;
      if (slash != std::string::npos) {
        std::string ns = h.substr(0, slash);
        dns = h.substr(slash + 1);
        if (ns.empty() || dns.empty()) {
          Error(&hosts[i], hf, "config namespace and dnsName in host entry cannot be empty");
        }
        if (ns != "*" && ns != "." && !IsIstioDnsLabel(ns)) {
          Error(&hosts[i], hf, fmt::format("invalid namespace value {} in gateway", GoQuote(ns)));
        }
      }
      if (dns != "*" && dns.find('.') == std::string::npos) {
        Error(&hosts[i], hf, "short names (non FQDN) are not allowed");
      }
      if (auto e = ValidateWildcardDomain(dns); e && !IsIpAddress(dns)) ErrorIf(&hosts[i], hf, e);
      if (auto e = ValidatePartialWildcard(dns)) ErrorIf(&hosts[i], hf, e);
    }
    const Node* port = Field(s, "port");
    if (port && !port->IsMapping()) return;  // the schema layer reports the type
    bool port_ok = port != nullptr;
    std::string bind = Str(s, "bind");
    if (!port) {
      Error(s, f + ".port", "port is required");
    } else {
      std::string protocol = Str(port, "protocol");
      if (ParseProtocol(protocol).empty()) {
        Error(Field(port, "protocol") ? Field(port, "protocol") : port, f + ".port.protocol",
              fmt::format("invalid protocol {}, supported protocols are HTTP, HTTP2, GRPC, "
                          "GRPC-WEB, MONGO, REDIS, MYSQL, TCP",
                          GoQuote(protocol)));
        port_ok = false;
      }
      auto number = Int(port, "number");
      if ((number && *number > 0) || bind.rfind("unix://", 0) != 0) {
        if (auto e = ValidatePort(number.value_or(0))) {
          ErrorIf(Field(port, "number") ? Field(port, "number") : port, f + ".port.number", e);
          port_ok = false;
        }
      }
      if (auto target = Int(port, "targetPort"); target && *target > 0) {
        Error(Field(port, "targetPort"), f + ".port.targetPort",
              "targetPort has no impact on Gateways");
        port_ok = false;
      }
      if (Str(port, "name").empty()) {
        Error(port, f + ".port.name",
              fmt::format("port name must be set: number:{} protocol:{}", number.value_or(0),
                          GoQuote(protocol)));
        port_ok = false;
      }
    }
    if (!bind.empty()) {
      if (bind.rfind("unix://", 0) == 0) {
        // ValidateUnixAddress: an abstract socket (`@name`), or an absolute path to a file.
        std::string path = bind.substr(7);
        if (path.empty()) {
          Error(Field(s, "bind"), f + ".bind", "unix address must not be empty");
        } else if (path.front() != '@' && (path.front() != '/' || path.back() == '/')) {
          Error(Field(s, "bind"), f + ".bind",
                fmt::format("{} is not an absolute path to a file", path));
        }
        if (port && Int(port, "number").value_or(0) != 0) {
          Error(Field(s, "bind"), f + ".bind",
                fmt::format("port number must be 0 for unix domain socket: {}",
                            Int(port, "number").value_or(0)));
        }
      } else if (!IsIpAddress(bind)) {
        Error(Field(s, "bind"), f + ".bind", fmt::format("{} is not a valid IP", bind));
      }
    }
    const Node* tls = Field(s, "tls");
    ServerTls(tls, f + ".tls");
    if (port_ok) {
      std::string protocol = ParseProtocol(Str(port, "protocol"));
      if (ProtocolIsTls(protocol)) {
        if (!tls) Error(s, f + ".tls", "server must have TLS settings for HTTPS/TLS protocols");
      } else if (tls) {
        if (IsHttpProtocol(protocol)) {
          // Only a redirect: the server must not terminate TLS (gateway.IsPassThroughServer, the
          // mode's zero value being PASSTHROUGH) nor name files.
          std::string mode = Str(tls, "mode");
          bool passthrough = mode.empty() || mode == "PASSTHROUGH" || mode == "AUTO_PASSTHROUGH";
          if (!passthrough || !Str(tls, "caCertificates").empty() ||
              !Str(tls, "privateKey").empty() || !Str(tls, "serverCertificate").empty()) {
            Error(tls, f + ".tls", "server cannot have TLS settings for plain text HTTP ports");
          }
        } else {
          Error(tls, f + ".tls", "server cannot have TLS settings for non HTTPS/TLS ports");
        }
      }
    }
  }

  // validateTLSOptions.
  void ServerTls(const Node* tls, const std::string& f) {
    if (!tls) return;
    std::string mode = Str(tls, "mode");
    if (mode.empty()) mode = "PASSTHROUGH";  // the enum's zero value
    std::string min_version = Str(tls, "minProtocolVersion");
    const std::vector<Node>& ciphers = Items(tls, "cipherSuites");
    if ((min_version == "TLSV1_0" || min_version == "TLSV1_1") && ciphers.empty()) {
      Warning(tls, f,
              "TLS version below TLSV1_2 require setting compatible ciphers as by default they no "
              "longer include compatible ciphers.");
    }
    std::set<std::string> invalid, valid, duplicate;
    for (const Node& c : ciphers) {
      std::string cs = Text(c);
      if (!IsValidCipherSuite(cs)) {
        invalid.insert(cs);
      } else if (!valid.insert(cs).second) {
        duplicate.insert(cs);
      }
    }
    if (!invalid.empty()) {
      Warning(tls, f, fmt::format("ignoring invalid cipher suites: [{}]", fmt::join(invalid, " ")));
    }
    if (!duplicate.empty()) {
      Warning(tls, f,
              fmt::format("ignoring duplicate cipher suites: [{}]", fmt::join(duplicate, " ")));
    }
    bool cert = !Str(tls, "serverCertificate").empty();
    bool key = !Str(tls, "privateKey").empty();
    bool ca = !Str(tls, "caCertificates").empty();
    bool crl = !Str(tls, "caCrl").empty();
    bool credential = !Str(tls, "credentialName").empty();
    bool credentials = Count(tls, "credentialNames") > 0;
    const std::vector<Node>& certificates = Items(tls, "tlsCertificates");
    if (mode == "ISTIO_MUTUAL") {
      if (cert) Error(tls, f, "ISTIO_MUTUAL TLS cannot have associated server certificate");
      if (key) Error(tls, f, "ISTIO_MUTUAL TLS cannot have associated private key");
      if (ca) Error(tls, f, "ISTIO_MUTUAL TLS cannot have associated CA bundle");
      if (!certificates.empty()) {
        Error(tls, f, "ISTIO_MUTUAL TLS cannot have associated tlsCertificates");
      }
      if (credential) Error(tls, f, "ISTIO_MUTUAL TLS cannot have associated credentialName");
      if (credentials) Error(tls, f, "ISTIO_MUTUAL TLS cannot have associated credentialNames");
      return;
    }
    if ((mode == "PASSTHROUGH" || mode == "AUTO_PASSTHROUGH") &&
        (crl || cert || key || ca || !certificates.empty() || credential || credentials)) {
      Warning(tls, f, fmt::format("{} mode does not use certificates, they will be ignored", mode));
    }
    int sources = ((cert && key) ? 1 : 0) + (credential ? 1 : 0) + (credentials ? 1 : 0) +
                  (certificates.empty() ? 0 : 1);
    if (sources > 1) {
      Error(tls, f,
            "only one of credential_name, credential_names, server_certificate/private_key, "
            "tls_certificates should be specified");
    }
    const bool terminates = mode == "SIMPLE" || mode == "MUTUAL" || mode == "OPTIONAL_MUTUAL";
    // With a credential the certificates are fetched from it: nothing more is checked, not even
    // the CRL.
    if (terminates && (credential || credentials)) return;
    if (terminates) {
      const char* prefix = mode == "SIMPLE" ? "SIMPLE TLS" : "MUTUAL TLS";
      if (mode != "SIMPLE" && !ca) {
        Error(tls, f, fmt::format("{} requires a client CA bundle", prefix));
      }
      if (certificates.size() > 2) {
        Warning(tls, f, fmt::format("{} can support up to 2 server certificates", prefix));
      }
      auto require = [&](bool has_cert, bool has_key) {
        if (!has_cert) Error(tls, f, fmt::format("{} requires a server certificate", prefix));
        if (!has_key) Error(tls, f, fmt::format("{} requires a private key", prefix));
      };
      if (certificates.empty()) {
        require(cert, key);
      } else {
        for (const Node& c : certificates) {
          require(!Str(&c, "serverCertificate").empty(), !Str(&c, "privateKey").empty());
        }
      }
    }
    if (crl) {
      if (credential) {
        Error(tls, f,
              "CRL is not supported with credentialName. CRL has to be specified in the "
              "credential");
      }
      if (mode == "SIMPLE") Error(tls, f, "CRL is not supported with SIMPLE TLS");
    }
  }

  // ---- AuthorizationPolicy (the parts that decide who may call) ----

  void AuthorizationPolicy() {
    const Node* spec = object_.spec();
    std::string action = Str(spec, "action");
    if (Has(spec, "selector") && (Has(spec, "targetRef") || Has(spec, "targetRefs"))) {
      Error(spec, "spec", "only one of targetRefs or workloadSelector can be set");
    }
    if (action == "DENY" || action == "AUDIT" || action == "CUSTOM") {
      if (Count(spec, "rules") == 0) {
        Error(spec, "spec.rules",
              fmt::format("{} action without `rules` is meaningless as it will never be triggered, "
                          "add an empty rule `{{}}` if you want it be triggered for every request",
                          action));
      }
    }
    const std::vector<Node>& rules = Items(spec, "rules");
    for (size_t i = 0; i < rules.size(); ++i) {
      const Node* rule = &rules[i];
      std::string f = ConcatText("spec.rules[", i, "]");
      if (rule->IsNull()) {
        Error(rule, f, fmt::format("`rule` must not be nil, found at rule {}", i));
        continue;
      }
      if (Field(rule, "from") && Count(rule, "from") == 0) {
        Error(Field(rule, "from"), f + ".from",
              fmt::format("`from` must not be empty, found at rule {}", i));
      }
      for (size_t j = 0; j < Items(rule, "from").size(); ++j) {
        const Node* from = &Items(rule, "from")[j];
        std::string ff = ConcatText(f, ".from[", j, "]");
        const Node* source = Field(from, "source");
        if (!source) {
          Error(from, ff, fmt::format("`from.source` must not be nil, found at rule {}", i));
        } else if (!source->IsMapping() || source->entries().empty()) {
          Error(source, ff + ".source",
                fmt::format("`from.source` must not be empty, found at rule {}", i));
        }
      }
      if (Field(rule, "to") && Count(rule, "to") == 0) {
        Error(Field(rule, "to"), f + ".to",
              fmt::format("`to` must not be empty, found at rule {}", i));
      }
      for (size_t j = 0; j < Items(rule, "to").size(); ++j) {
        const Node* to = &Items(rule, "to")[j];
        std::string tf = ConcatText(f, ".to[", j, "]");
        const Node* op = Field(to, "operation");
        if (!op) {
          Error(to, tf, fmt::format("`to.operation` must not be nil, found at rule {}", i));
        } else if (!op->IsMapping() || op->entries().empty()) {
          Error(op, tf + ".operation",
                fmt::format("`to.operation` must not be empty, found at rule {}", i));
        }
      }
      const std::vector<Node>& when = Items(rule, "when");
      for (size_t j = 0; j < when.size(); ++j) {
        std::string key = Str(&when[j], "key");
        std::string wf = ConcatText(f, ".when[", j, "]");
        if (key.empty()) {
          Error(&when[j], wf + ".key", "`key` must not be empty");
        } else if (Count(&when[j], "values") == 0 && Count(&when[j], "notValues") == 0) {
          Error(&when[j], wf,
                fmt::format("at least one of `values` or `notValues` must be set for key {}", key));
        }
      }
    }
  }

 private:
  const Object& object_;
  const std::string& cluster_;
  Diagnostics& diagnostics_;
};

}  // namespace

void CheckIstioRules(const Object& o, const std::string& cluster, Diagnostics& diagnostics) {
  Rules rules(o, cluster, diagnostics);
  if (o.group == kNetworkingGroup) {
    if (o.kind == "VirtualService") rules.VirtualService();
    if (o.kind == "DestinationRule") rules.DestinationRule();
    if (o.kind == "ServiceEntry") rules.ServiceEntry();
    if (o.kind == "Gateway") rules.Gateway();
  } else if (o.group == kSecurityGroup && o.kind == "AuthorizationPolicy") {
    rules.AuthorizationPolicy();
  }
}

}  // namespace meshfed
