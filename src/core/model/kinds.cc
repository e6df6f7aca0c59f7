#include "core/model/kinds.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>

#include "core/model/hosts.h"
#include "core/model/text.h"

namespace meshfed {
namespace {

// A field path such as `spec.ports[0].name`, joined only when a diagnostic needs it: most
// fields are fine, and a large fleet has about a million. It views its parts, so it lives only
// as long as the call it is passed to.
class FieldPath {
 public:
  FieldPath(const char* path) : base_(path) {}         // NOLINT(google-explicit-constructor)
  FieldPath(std::string_view path) : base_(path) {}    // NOLINT(google-explicit-constructor)
  FieldPath(const std::string& path) : base_(path) {}  // NOLINT(google-explicit-constructor)
  FieldPath(std::string_view base, std::string_view suffix) : base_(base), suffix_(suffix) {}
  bool empty() const { return base_.empty() && suffix_.empty(); }
  std::string str() const { return std::string(base_).append(suffix_); }

 private:
  std::string_view base_, suffix_;
};

// Reads fields of one object, reporting problems with the field path and position.
class FieldReader {
 public:
  FieldReader(const Object& o, std::string cluster, Diagnostics& d)
      : object_(o), cluster_(std::move(cluster)), diagnostics_(d) {}

  void Report(Severity severity, const char* code, Position pos, FieldPath field,
              std::string message) {
    if (pos.line == 0) pos = object_.position;
    diagnostics_.push_back(Diagnostic{severity, code, object_.file, pos, object_.Ref(cluster_),
                                      field.str(), std::move(message)});
  }
  void Error(const char* code, Position pos, FieldPath field, std::string message) {
    Report(Severity::Error, code, pos, field, std::move(message));
  }

  // The mapping at `field`, or nullptr (reporting a wrong type).
  const Node* Mapping(const Node* n, FieldPath field) {
    if (n == nullptr || n->IsNull()) return nullptr;
    if (!n->IsMapping()) {
      Error(code::kWrongType, n->position(), field,
            fmt::format("expected a mapping, found {}", n->TypeName()));
      return nullptr;
    }
    return n;
  }
  const Node* Sequence(const Node* n, FieldPath field) {
    if (n == nullptr || n->IsNull()) return nullptr;
    if (!n->IsSequence()) {
      Error(code::kWrongType, n->position(), field,
            fmt::format("expected a list, found {}", n->TypeName()));
      return nullptr;
    }
    return n;
  }
  std::optional<std::string> String(const Node* n, FieldPath field) {
    if (n == nullptr || n->IsNull()) return std::nullopt;
    if (!n->IsString()) {
      Error(
          code::kWrongType, n->position(), field,
          fmt::format("expected a string, found {}{}", n->TypeName(),
                      n->IsScalar() ? fmt::format(" `{}` (quote it to make it a string)", n->text())
                                    : std::string()));
      return std::nullopt;
    }
    return std::string(n->text());
  }
  std::optional<int64_t> Integer(const Node* n, FieldPath field) {
    if (n == nullptr || n->IsNull()) return std::nullopt;
    int64_t value = 0;
    if (n->IsScalar() && n->scalar_type() == ScalarType::Int) {
      std::string_view t = n->text();
      auto [ptr, ec] =
          std::from_chars(t.data() + (t[0] == '+' ? 1 : 0), t.data() + t.size(), value);
      if (ec == std::errc() && ptr == t.data() + t.size()) return value;
    }
    Error(code::kWrongType, n->position(), field,
          fmt::format("expected an integer, found {}{}", n->TypeName(),
                      n->IsScalar() ? fmt::format(" `{}`", n->text()) : std::string()));
    return std::nullopt;
  }
  std::optional<int> Port(const Node* n, FieldPath field) {
    auto v = Integer(n, field);
    if (!v) return std::nullopt;
    if (*v < 1 || *v > 65535) {
      Error(code::kInvalidValue, n->position(), field,
            fmt::format("port number {} must be in the range 1..65535", *v));
      return std::nullopt;
    }
    return static_cast<int>(*v);
  }
  std::vector<std::string> StringList(const Node* n, FieldPath field) {
    std::vector<std::string> out;
    if (const Node* seq = Sequence(n, field)) {
      out.reserve(seq->items().size());
      for (size_t i = 0; i < seq->items().size(); ++i) {
        const Node& item = seq->items()[i];
        if (item.IsString()) {
          out.emplace_back(item.text());
        } else {
          String(&item, fmt::format("{}[{}]", field.str(), i));  // reports what is not a string
        }
      }
    }
    return out;
  }
  Labels StringMap(const Node* n, FieldPath field) {
    Labels out;
    if (const Node* m = Mapping(n, field)) {
      for (const MapEntry& e : m->entries()) {
        if (e.value.IsString()) {
          out[e.key.str()] = e.value.text();
        } else {
          // Label values that YAML reads as numbers or booleans are rejected by Kubernetes;
          // a null value is not a label at all.
          String(&e.value, fmt::format("{}.{}", field.str(), e.key));
        }
      }
    }
    return out;
  }
  // Reports keys of `m` that are not in `known` (our own CRDs reject unknown fields).
  void OnlyKnown(const Node* m, FieldPath field, std::initializer_list<std::string_view> known) {
    if (m == nullptr || !m->IsMapping()) return;
    for (const MapEntry& e : m->entries()) {
      if (std::find(known.begin(), known.end(), e.key) == known.end()) {
        std::string list;
        for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        std::string best = ClosestName(e.key, known);
        Error(code::kUnknownField, e.key_position,
              field.empty() ? e.key.str() : fmt::format("{}.{}", field.str(), e.key),
              best.empty() ? fmt::format("unknown field `{}`; known fields here: {}", e.key, list)
                           : fmt::format("unknown field `{}`; did you mean `{}`?", e.key, best));
      }
    }
  }
  void Required(const Node* parent, std::string_view key, FieldPath field, Position at) {
    const Node* v = parent ? parent->Find(key) : nullptr;
    if (v == nullptr || v->IsNull()) {
      Error(code::kMissingField, parent ? parent->position() : at, field,
            fmt::format("required field `{}` is missing", key));
    }
  }
  void Dns1123Label(const std::string& value, Position pos, FieldPath field) {
    if (!IsDns1123Label(value)) {
      Error(code::kInvalidValue, pos, field,
            fmt::format("`{}` is not a valid DNS-1123 label: use at most 63 lower-case letters, "
                        "digits and '-', starting and ending with a letter or digit",
                        value));
    }
  }

  const Object& object() const { return object_; }

 private:
  const Object& object_;
  std::string cluster_;
  Diagnostics& diagnostics_;
};

Position PosOf(const Node* n) { return n ? n->position() : Position{}; }

// A value present with a type other than a list (its reader already said so).
bool WrongType(const Node* n) { return n != nullptr && !n->IsNull() && !n->IsSequence(); }

const Node* Get(const Node* m, std::string_view key) {
  return m && m->IsMapping() ? m->Find(key) : nullptr;
}

void CheckApiVersion(FieldReader& r, const Object& o, std::initializer_list<std::string_view> ok) {
  if (std::find(ok.begin(), ok.end(), o.api_version) == ok.end()) {
    std::string list;
    for (std::string_view v : ok) list += (list.empty() ? "" : ", ") + std::string(v);
    r.Error(code::kInvalidValue, o.PositionOf({"apiVersion"}), "apiVersion",
            fmt::format("unsupported apiVersion `{}` for {}; use {}", o.api_version, o.kind, list));
  }
}

}  // namespace

bool ExportedTo(const std::vector<std::string>& export_to, std::string_view own_namespace,
                std::string_view viewer_namespace) {
  if (export_to.empty()) return true;
  for (const std::string& e : export_to) {
    if (e == "*") return true;
    if (e == "." && own_namespace == viewer_namespace) return true;
    if (e == viewer_namespace) return true;
  }
  return false;
}

// Istio's kube.ConvertProtocol (pkg/config/kube/conversion.go): UDP is UDP; otherwise the
// protocol is named by appProtocol when it is set, else by the port name: `grpc-web` as a
// whole, anything else by its part before the first '-', in any case (protocol.Parse). A name
// Istio does not know is sniffed (HTTP is detected), except on the well-known ports of SMTP, DNS,
// MySQL and MongoDB, which are TCP. SCTP is not captured by sidecars at all.
bool ServicePort::CarriesHttp() const {
  if (protocol == "UDP" || protocol == "SCTP") return false;
  std::string proto = ToLower(std::string(app_protocol.empty() ? name : app_protocol));
  if (proto.rfind("grpc-web", 0) == 0) return true;
  proto.resize(std::min(proto.size(), proto.find('-')));
  static constexpr std::string_view kOpaque[] = {"tcp",   "tls",   "https", "mongo",
                                                 "redis", "mysql", "udp"};
  if (std::find(std::begin(kOpaque), std::end(kOpaque), proto) != std::end(kOpaque)) return false;
  static constexpr std::string_view kHttp[] = {"http", "http2", "http_proxy", "grpc"};
  if (std::find(std::begin(kHttp), std::end(kHttp), proto) != std::end(kHttp)) return true;
  static constexpr int kWellKnownTcp[] = {25, 53, 3306, 27017};
  return std::find(std::begin(kWellKnownTcp), std::end(kWellKnownTcp), port) ==
         std::end(kWellKnownTcp);
}

bool IsHttpProtocol(std::string_view protocol) {
  static constexpr std::string_view kHttp[] = {"http", "http2", "grpc", "grpc-web", "http_proxy"};
  std::string lower = ToLower(protocol);
  return std::find(std::begin(kHttp), std::end(kHttp), lower) != std::end(kHttp);
}

bool VirtualService::BindsMesh() const {
  return gateways.empty() || std::find(gateways.begin(), gateways.end(), "mesh") != gateways.end();
}

ServiceExpositionPolicy ReadServiceExpositionPolicy(const Object& o, const std::string& cluster,
                                                    Diagnostics& d) {
  FieldReader r(o, cluster, d);
  ServiceExpositionPolicy sep{&o, {}};
  CheckApiVersion(r, o, {"multicluster.istio.io/v1alpha1"});
  r.OnlyKnown(&o.root, "", {"apiVersion", "kind", "metadata", "spec", "status"});
  const Node* spec = r.Mapping(o.spec(), "spec");
  if (!spec) {
    r.Error(code::kMissingField, o.position, "spec",
            "a ServiceExpositionPolicy needs `spec.exposed`");
    return sep;
  }
  r.OnlyKnown(spec, "spec", {"exposed"});
  const Node* exposed = r.Sequence(spec->Find("exposed"), "spec.exposed");
  if (WrongType(spec->Find("exposed"))) return sep;
  if (!exposed || exposed->items().empty()) {
    r.Error(code::kMissingField, PosOf(exposed ? exposed : spec), "spec.exposed",
            "`spec.exposed` must list at least one service to expose");
    return sep;
  }
  for (size_t i = 0; i < exposed->items().size(); ++i) {
    const Node& item = exposed->items()[i];
    std::string field = ConcatText("spec.exposed[", i, "]");
    if (!r.Mapping(&item, field)) continue;
    r.OnlyKnown(&item, field, {"name", "alias", "subset", "port", "clusters"});
    ExposedEntry e;
    e.field = field;
    e.index = i;
    e.position = item.position();
    e.name = r.String(item.Find("name"), FieldPath(field, ".name")).value_or("");
    if (e.name.empty()) {
      r.Required(&item, "name", FieldPath(field, ".name"), item.position());
    } else {
      r.Dns1123Label(e.name, PosOf(item.Find("name")), FieldPath(field, ".name"));
    }
    e.alias = r.String(item.Find("alias"), FieldPath(field, ".alias")).value_or("");
    if (!e.alias.empty())
      r.Dns1123Label(e.alias, PosOf(item.Find("alias")), FieldPath(field, ".alias"));
    e.subset = r.String(item.Find("subset"), FieldPath(field, ".subset")).value_or("");
    if (!e.subset.empty())
      r.Dns1123Label(e.subset, PosOf(item.Find("subset")), FieldPath(field, ".subset"));
    e.port = r.Port(item.Find("port"), FieldPath(field, ".port"));
    e.clusters = r.StringList(item.Find("clusters"), FieldPath(field, ".clusters"));
    if (e.clusters.empty() && !WrongType(item.Find("clusters"))) {
      r.Error(
          code::kMissingField, PosOf(item.Find("clusters") ? item.Find("clusters") : &item),
          FieldPath(field, ".clusters"),
          "`clusters` must name at least one cluster allowed to bind this service (or \"*\" for "
          "every member cluster)");
    }
    sep.exposed.push_back(std::move(e));
  }
  return sep;
}

RemoteServiceBinding ReadRemoteServiceBinding(const Object& o, const std::string& cluster,
                                              Diagnostics& d) {
  FieldReader r(o, cluster, d);
  RemoteServiceBinding rsb{&o, {}};
  CheckApiVersion(r, o, {"multicluster.istio.io/v1alpha1"});
  r.OnlyKnown(&o.root, "", {"apiVersion", "kind", "metadata", "spec", "status"});
  const Node* spec = r.Mapping(o.spec(), "spec");
  if (!spec) {
    r.Error(code::kMissingField, o.position, "spec", "a RemoteServiceBinding needs `spec.remote`");
    return rsb;
  }
  r.OnlyKnown(spec, "spec", {"remote"});
  const Node* remote = r.Sequence(spec->Find("remote"), "spec.remote");
  if (WrongType(spec->Find("remote"))) return rsb;
  if (!remote || remote->items().empty()) {
    r.Error(code::kMissingField, PosOf(remote ? remote : spec), "spec.remote",
            "`spec.remote` must list at least one remote cluster");
    return rsb;
  }
  for (size_t i = 0; i < remote->items().size(); ++i) {
    const Node& item = remote->items()[i];
    std::string field = ConcatText("spec.remote[", i, "]");
    if (!r.Mapping(&item, field)) continue;
    r.OnlyKnown(&item, field, {"cluster", "namespace", "services"});
    RemoteEntry e;
    e.field = field;
    e.position = item.position();
    e.cluster = r.String(item.Find("cluster"), FieldPath(field, ".cluster")).value_or("");
    if (e.cluster.empty())
      r.Required(&item, "cluster", FieldPath(field, ".cluster"), item.position());
    e.namespace_ =
        r.String(item.Find("namespace"), FieldPath(field, ".namespace")).value_or(o.namespace_);
    if (item.Find("namespace"))
      r.Dns1123Label(e.namespace_, PosOf(item.Find("namespace")), FieldPath(field, ".namespace"));
    const Node* services = r.Sequence(item.Find("services"), FieldPath(field, ".services"));
    if (WrongType(item.Find("services"))) {
      // reported by Sequence
    } else if (!services || services->items().empty()) {
      r.Error(code::kMissingField, PosOf(services ? services : &item),
              FieldPath(field, ".services"),
              "`services` must list at least one exposed service to bind");
    } else {
      for (size_t j = 0; j < services->items().size(); ++j) {
        const Node& s = services->items()[j];
        std::string sf = ConcatText(field, ".services[", j, "]");
        if (!r.Mapping(&s, sf)) continue;
        r.OnlyKnown(&s, sf, {"name", "alias", "port"});
        BoundService b;
        b.field = sf;
        b.index = {i, j};
        b.position = s.position();
        b.name = r.String(s.Find("name"), FieldPath(sf, ".name")).value_or("");
        if (b.name.empty()) {
          r.Required(&s, "name", FieldPath(sf, ".name"), s.position());
        } else {
          r.Dns1123Label(b.name, PosOf(s.Find("name")), FieldPath(sf, ".name"));
        }
        b.alias = r.String(s.Find("alias"), FieldPath(sf, ".alias")).value_or("");
        if (!b.alias.empty())
          r.Dns1123Label(b.alias, PosOf(s.Find("alias")), FieldPath(sf, ".alias"));
        b.port = r.Port(s.Find("port"), FieldPath(sf, ".port"));
        e.services.push_back(std::move(b));
      }
    }
    rsb.remote.push_back(std::move(e));
  }
  return rsb;
}

MeshCluster ReadMeshCluster(const Object& o, Diagnostics& d) {
  FieldReader r(o, "", d);
  MeshCluster mc;
  mc.object = &o;
  mc.name = o.name;
  CheckApiVersion(r, o, {"multicluster.istio.io/v1alpha1"});
  r.OnlyKnown(&o.root, "", {"apiVersion", "kind", "metadata", "spec", "status"});
  r.Dns1123Label(o.name, o.PositionOf({"metadata", "name"}), "metadata.name");
  const Node* spec = r.Mapping(o.spec(), "spec");
  if (!spec) {
    r.Error(code::kMissingField, o.position, "spec",
            "a MeshCluster needs `spec.trustDomain` and `spec.federationGateway`");
    return mc;
  }
  r.OnlyKnown(spec, "spec", {"trustDomain", "network", "federationGateway", "kubeconfig"});
  mc.trust_domain = r.String(spec->Find("trustDomain"), "spec.trustDomain").value_or("");
  if (mc.trust_domain.empty()) {
    r.Required(spec, "trustDomain", "spec.trustDomain", spec->position());
  } else if (!IsDns1123Subdomain(mc.trust_domain)) {
    r.Error(code::kInvalidValue, PosOf(spec->Find("trustDomain")), "spec.trustDomain",
            fmt::format("trust domain `{}` must be a DNS name such as cluster-b.local",
                        mc.trust_domain));
  }
  mc.network = r.String(spec->Find("network"), "spec.network").value_or("");
  const Node* gw = r.Mapping(spec->Find("federationGateway"), "spec.federationGateway");
  if (!gw) {
    r.Required(spec, "federationGateway", "spec.federationGateway", spec->position());
  } else {
    const std::string f = "spec.federationGateway";
    r.OnlyKnown(gw, f, {"addresses", "port", "namespace", "selector"});
    mc.federation_gateway.addresses =
        r.StringList(gw->Find("addresses"), FieldPath(f, ".addresses"));
    if (mc.federation_gateway.addresses.empty() && !WrongType(gw->Find("addresses"))) {
      r.Error(code::kMissingField, PosOf(gw->Find("addresses") ? gw->Find("addresses") : gw),
              FieldPath(f, ".addresses"),
              "`addresses` must list at least one IP address or DNS name where other clusters "
              "reach this cluster's federation gateway");
    }
    const Node* addresses = gw->Find("addresses");
    for (size_t i = 0; i < mc.federation_gateway.addresses.size(); ++i) {
      const std::string& a = mc.federation_gateway.addresses[i];
      bool all_digits_and_dots = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
        return (c >= '0' && c <= '9') || c == '.';
      });
      if (!IsIpAddress(a) && (!IsDns1123Subdomain(a) || all_digits_and_dots)) {
        r.Error(code::kInvalidValue, PosOf(&addresses->items()[i]),
                fmt::format("{}.addresses[{}]", f, i),
                all_digits_and_dots
                    ? fmt::format("`{}` is not a valid IP address (and a DNS name cannot be all "
                                  "digits)",
                                  a)
                    : fmt::format("`{}` is neither an IP address nor a DNS name", a));
      }
    }
    if (auto p = r.Port(gw->Find("port"), FieldPath(f, ".port"))) mc.federation_gateway.port = *p;
    if (auto ns = r.String(gw->Find("namespace"), FieldPath(f, ".namespace"))) {
      mc.federation_gateway.namespace_ = *ns;
      r.Dns1123Label(*ns, PosOf(gw->Find("namespace")), FieldPath(f, ".namespace"));
    }
    if (gw->Find("selector")) {
      mc.federation_gateway.selector = r.StringMap(gw->Find("selector"), FieldPath(f, ".selector"));
      if (mc.federation_gateway.selector.empty()) {
        r.Error(code::kInvalidValue, PosOf(gw->Find("selector")), FieldPath(f, ".selector"),
                "an empty selector would select every pod; name the gateway pods' labels");
      }
    }
  }
  if (const Node* kc = r.Mapping(spec->Find("kubeconfig"), "spec.kubeconfig")) {
    r.OnlyKnown(kc, "spec.kubeconfig", {"context"});
    mc.kube_context = r.String(kc->Find("context"), "spec.kubeconfig.context").value_or("");
  }
  return mc;
}

Service ReadService(const Object& o, const std::string& cluster, Diagnostics& d) {
  FieldReader r(o, cluster, d);
  Service s;
  s.object = &o;
  const Node* meta = o.metadata();
  const Node* annotations = meta ? meta->Find("annotations") : nullptr;
  if (const Node* e = annotations && annotations->IsMapping()
                          ? annotations->Find("networking.istio.io/exportTo")
                          : nullptr;
      e && e->IsScalar()) {
    std::string_view value = e->text();
    while (!value.empty()) {
      size_t comma = value.find(',');
      std::string part(value.substr(0, comma));
      part.erase(std::remove(part.begin(), part.end(), ' '), part.end());
      if (!part.empty()) s.export_to.push_back(part);
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  const Node* spec = r.Mapping(o.spec(), "spec");
  if (!spec) return s;
  s.selector = r.StringMap(spec->Find("selector"), "spec.selector");
  s.type = r.String(spec->Find("type"), "spec.type").value_or("ClusterIP");
  if (const Node* ports = r.Sequence(spec->Find("ports"), "spec.ports")) {
    for (size_t i = 0; i < ports->items().size(); ++i) {
      const Node& p = ports->items()[i];
      std::string f = ConcatText("spec.ports[", i, "]");
      if (!r.Mapping(&p, f)) continue;
      ServicePort sp;
      sp.name = r.String(p.Find("name"), FieldPath(f, ".name")).value_or("");
      auto number = r.Port(p.Find("port"), FieldPath(f, ".port"));
      if (!number) {
        r.Required(&p, "port", FieldPath(f, ".port"), p.position());
        continue;
      }
      sp.port = *number;
      if (const Node* tp = p.Find("targetPort"); tp && tp->IsScalar()) sp.target_port = tp->text();
      sp.protocol = r.String(p.Find("protocol"), FieldPath(f, ".protocol")).value_or("TCP");
      sp.app_protocol = r.String(p.Find("appProtocol"), FieldPath(f, ".appProtocol")).value_or("");
      // The API server's rules for Service ports (k8s.io/kubernetes pkg/apis/core/validation).
      if (sp.protocol != "TCP" && sp.protocol != "UDP" && sp.protocol != "SCTP") {
        r.Error(code::kInvalidValue, PosOf(p.Find("protocol")), FieldPath(f, ".protocol"),
                fmt::format("Unsupported value: \"{}\": supported values: \"SCTP\", \"TCP\", "
                            "\"UDP\"",
                            sp.protocol));
      }
      if (!sp.name.empty()) {
        r.Dns1123Label(sp.name, PosOf(p.Find("name")), FieldPath(f, ".name"));
      } else if (ports->items().size() > 1) {
        r.Error(code::kMissingField, p.position(), FieldPath(f, ".name"),
                "Required value: a Service with several ports must name each of them");
      }
      for (const ServicePort& earlier : s.ports) {
        if (!sp.name.empty() && earlier.name == sp.name) {
          r.Error(code::kInvalidValue, PosOf(p.Find("name")), FieldPath(f, ".name"),
                  fmt::format("Duplicate value: \"{}\"", sp.name));
        }
        if (earlier.port == sp.port && earlier.protocol == sp.protocol) {
          r.Error(
              code::kInvalidValue, PosOf(p.Find("port")), FieldPath(f, ".port"),
              fmt::format("Duplicate value: port {}/{} is already listed", sp.port, sp.protocol));
        }
      }
      s.ports.push_back(std::move(sp));
    }
  }
  return s;
}

Deployment ReadDeployment(const Object& o, const std::string& cluster, Diagnostics& d) {
  FieldReader r(o, cluster, d);
  Deployment dep;
  dep.object = &o;
  const Node* spec = r.Mapping(o.spec(), "spec");
  if (!spec) return dep;
  if (auto n = r.Integer(spec->Find("replicas"), "spec.replicas"))
    dep.replicas = static_cast<int>(*n);
  const Node* tmpl = r.Mapping(spec->Find("template"), "spec.template");
  const Node* meta = r.Mapping(Get(tmpl, "metadata"), "spec.template.metadata");
  dep.pod_labels = r.StringMap(Get(meta, "labels"), "spec.template.metadata.labels");
  const Node* pod = r.Mapping(Get(tmpl, "spec"), "spec.template.spec");
  if (auto sa = r.String(Get(pod, "serviceAccountName"), "spec.template.spec.serviceAccountName")) {
    dep.service_account = *sa;
  }
  return dep;
}

VirtualService ReadVirtualService(const Object& o, const std::string& cluster, Diagnostics& d) {
  FieldReader r(o, cluster, d);
  VirtualService vs;
  vs.object = &o;
  const Node* spec = r.Mapping(o.spec(), "spec");
  if (!spec) return vs;
  vs.hosts = r.StringList(spec->Find("hosts"), "spec.hosts");
  vs.gateways = r.StringList(spec->Find("gateways"), "spec.gateways");
  vs.export_to = r.StringList(spec->Find("exportTo"), "spec.exportTo");
  vs.http = r.Sequence(spec->Find("http"), "spec.http");
  if (vs.http) {
    for (size_t i = 0; i < vs.http->items().size(); ++i) {
      const Node& rule = vs.http->items()[i];
      std::string f = ConcatText("spec.http[", i, "]");
      if (!r.Mapping(&rule, f)) continue;
      if (const Node* match = r.Sequence(rule.Find("match"), FieldPath(f, ".match"))) {
        for (size_t j = 0; j < match->items().size(); ++j) {
          r.Mapping(&match->items()[j], ConcatText(f, ".match[", j, "]"));
        }
      }
      if (const Node* route = r.Sequence(rule.Find("route"), FieldPath(f, ".route"))) {
        for (size_t j = 0; j < route->items().size(); ++j) {
          std::string rf = ConcatText(f, ".route[", j, "]");
          const Node* dest = r.Mapping(Get(r.Mapping(&route->items()[j], rf), "destination"),
                                       FieldPath(rf, ".destination"));
          if (dest) {
            r.String(dest->Find("host"), FieldPath(rf, ".destination.host"));
            r.String(dest->Find("subset"), FieldPath(rf, ".destination.subset"));
            if (const Node* port =
                    r.Mapping(dest->Find("port"), FieldPath(rf, ".destination.port"))) {
              r.Integer(port->Find("number"), FieldPath(rf, ".destination.port.number"));
            }
          }
        }
      }
    }
  }
  return vs;
}

DestinationRule ReadDestinationRule(const Object& o, const std::string& cluster, Diagnostics& d) {
  FieldReader r(o, cluster, d);
  DestinationRule dr;
  dr.object = &o;
  const Node* spec = r.Mapping(o.spec(), "spec");
  if (!spec) return dr;
  dr.host = r.String(spec->Find("host"), "spec.host").value_or("");
  dr.export_to = r.StringList(spec->Find("exportTo"), "spec.exportTo");
  dr.has_workload_selector = spec->Find("workloadSelector") != nullptr;
  if (const Node* subsets = r.Sequence(spec->Find("subsets"), "spec.subsets")) {
    for (size_t i = 0; i < subsets->items().size(); ++i) {
      std::string f = ConcatText("spec.subsets[", i, "]");
      const Node* s = r.Mapping(&subsets->items()[i], f);
      if (!s) continue;
      Subset sub;
      sub.name = r.String(s->Find("name"), FieldPath(f, ".name")).value_or("");
      sub.labels = r.StringMap(s->Find("labels"), FieldPath(f, ".labels"));
      dr.subsets.push_back(std::move(sub));
    }
  }
  return dr;
}

ServiceEntry ReadServiceEntry(const Object& o, const std::string& cluster, Diagnostics& d) {
  FieldReader r(o, cluster, d);
  ServiceEntry se;
  se.object = &o;
  const Node* spec = r.Mapping(o.spec(), "spec");
  if (!spec) return se;
  se.hosts = r.StringList(spec->Find("hosts"), "spec.hosts");
  se.export_to = r.StringList(spec->Find("exportTo"), "spec.exportTo");
  return se;
}

Gateway ReadGateway(const Object& o, const std::string& cluster, Diagnostics& d) {
  FieldReader r(o, cluster, d);
  Gateway g;
  g.object = &o;
  g.selector = r.StringMap(Get(r.Mapping(o.spec(), "spec"), "selector"), "spec.selector");
  return g;
}

AuthorizationPolicy ReadAuthorizationPolicy(const Object& o, const std::string& cluster,
                                            Diagnostics& d) {
  FieldReader r(o, cluster, d);
  AuthorizationPolicy ap;
  ap.object = &o;
  const Node* spec = r.Mapping(o.spec(), "spec");
  ap.action = r.String(Get(spec, "action"), "spec.action").value_or("ALLOW");
  if (const Node* selector = r.Mapping(Get(spec, "selector"), "spec.selector")) {
    ap.has_selector = true;
    ap.selector = r.StringMap(selector->Find("matchLabels"), "spec.selector.matchLabels");
  }
  const Node* rules = r.Sequence(Get(spec, "rules"), "spec.rules");
  if (!rules || rules->items().empty()) ap.any_host = true;
  for (const Node& rule : rules ? rules->items() : std::vector<Node>{}) {
    const Node* to = Get(&rule, "to");
    bool rule_has_hosts = false;
    if (to && to->IsSequence()) {
      for (const Node& t : to->items()) {
        const Node* hosts = Get(Get(&t, "operation"), "hosts");
        if (!hosts || !hosts->IsSequence()) {
          ap.any_host = true;
          continue;
        }
        rule_has_hosts = true;
        for (const Node& h : hosts->items()) {
          std::string host(h.IsScalar() ? h.text() : std::string());
          std::transform(host.begin(), host.end(), host.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
          if (!host.empty() && host.front() == '*') {
            ap.any_host = true;
          } else if (!host.empty() && host.back() == '*') {
            ap.host_prefixes.push_back(host.substr(0, host.size() - 1));
          } else {
            ap.exact_hosts.push_back(host);
          }
        }
      }
    }
    if (!rule_has_hosts) ap.any_host = true;
  }
  return ap;
}

bool AuthorizationPolicy::MayMatchHost(std::string_view lower_host) const {
  if (any_host) return true;
  for (const std::string& h : exact_hosts) {
    if (h == lower_host) return true;
  }
  for (const std::string& p : host_prefixes) {
    if (lower_host.substr(0, p.size()) == p) return true;
  }
  return false;
}

}  // namespace meshfed
