// The validation layers: the Istio CRD schema, Istio's webhook rules (with Istio's texts), the
// fleet analyzers, and how diagnostics are merged. Each case is input a user could write.
#include "core/validate/validate.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "core/validate/istio_rules.h"
#include "core/validate/schema.h"
#include "fleet_text.h"

namespace meshfed {
namespace {

using testing::kThreeClusters;

// Everything `validate` reports for one cluster's objects (cluster-b of the three-cluster fleet,
// unless other clusters are given).
Diagnostics Check(const std::map<std::string, std::string>& clusters) {
  Diagnostics d;
  FleetSource source = testing::SourceFromText(kThreeClusters, clusters, d);
  return CheckFleet(std::move(source), std::move(d)).diagnostics;
}
Diagnostics CheckB(const std::string& objects) { return Check({{"cluster-b", objects}}); }

// The diagnostics with `code`, as "line:column field: message".
std::vector<std::string> With(const Diagnostics& ds, std::string_view code) {
  std::vector<std::string> out;
  for (const Diagnostic& d : ds) {
    if (d.code == code) {
      out.push_back(std::to_string(d.position.line) + ":" + std::to_string(d.position.column) +
                    " " + d.field + ": " + d.message);
    }
  }
  return out;
}

std::string All(const Diagnostics& ds) {
  std::string s;
  for (const Diagnostic& d : ds) s += d.Format() + "\n";
  return s;
}

constexpr const char* kVsHeader = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
)";

// ---- Schema (MF1010..MF1013) ----

TEST(Schema, UnknownFieldSuggestsTheFieldMeant) {
  Diagnostics d = CheckB(std::string(kVsHeader) + R"(  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subst: v1}
)");
  EXPECT_EQ(With(d, "MF1012"),
            std::vector<std::string>{"8:36 spec.http[0].route[0].destination.subst: unknown field "
                                     "`subst`; did you mean `subset`?"})
      << All(d);
}

TEST(Schema, UnknownFieldFarFromAnyListsTheKnownOnes) {
  Diagnostics d = CheckB(std::string(kVsHeader) + "  hosts: [reviews]\n  colour: red\n");
  ASSERT_EQ(With(d, "MF1012").size(), 1u) << All(d);
  EXPECT_NE(With(d, "MF1012")[0].find("known fields here: hosts, gateways, http, tls, tcp"),
            std::string::npos);
}

TEST(Schema, QuotedNumberIsAStringAndRejected) {
  Diagnostics d = CheckB(std::string(kVsHeader) + R"(  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, port: {number: "9080"}}
)");
  EXPECT_EQ(With(d, "MF1010"),
            std::vector<std::string>{"8:51 spec.http[0].route[0].destination.port.number: "
                                     "expected an integer, found string `9080`"})
      << All(d);
  EXPECT_TRUE(HasErrors(d));
}

// A map's value is named by its key, after the path of the map (lists by index, objects by
// field, maps by key, in one path).
TEST(Schema, MapValuesAreNamedByTheirKey) {
  Diagnostics d = CheckB(std::string(kVsHeader) + R"(  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
      headers:
        request:
          set: {x-team: 5}
)");
  EXPECT_EQ(With(d, "MF1010"),
            std::vector<std::string>{"11:25 spec.http[0].route[0].headers.request.set.x-team: "
                                     "expected a string, found integer `5` (quote it to make it "
                                     "a string)"})
      << All(d);
}

TEST(Schema, MissingRequiredFieldIsNamed) {
  Diagnostics d = CheckB(std::string(kVsHeader) + R"(  hosts: [reviews]
  http:
  - route:
    - destination: {subset: v1}
)");
  EXPECT_EQ(With(d, "MF1011"), std::vector<std::string>{"8:20 spec.http[0].route[0].destination."
                                                        "host: required field `host` is missing"})
      << All(d);
}

TEST(Schema, StringMatchIsOneOf) {
  Diagnostics d = CheckB(std::string(kVsHeader) + R"(  hosts: [reviews]
  http:
  - match:
    - uri: {exact: /a, prefix: /b}
    route:
    - destination: {host: reviews}
)");
  EXPECT_EQ(With(d, "MF1013"),
            std::vector<std::string>{"8:12 spec.http[0].match[0].uri: only one of exact, prefix, "
                                     "regex may be set, found exact and prefix"})
      << All(d);
}

TEST(Schema, EnumValuesAreListed) {
  Diagnostics d = CheckB(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBINN}}
)");
  ASSERT_EQ(With(d, "MF1013").size(), 1u) << All(d);
  EXPECT_EQ(With(d, "MF1013")[0],
            "6:42 spec.trafficPolicy.loadBalancer.simple: unsupported value `ROUND_ROBINN`: "
            "supported values: UNSPECIFIED, RANDOM, PASSTHROUGH, ROUND_ROBIN, LEAST_REQUEST, "
            "LEAST_CONN");
}

TEST(Schema, DurationsFollowTheCrdRule) {
  for (const char* bad : {"\"10\"", "10", "\"0.5ms\"", "\"-1s\"", "\"1sec\"", "\"\""}) {
    Diagnostics d =
        CheckB(std::string(kVsHeader) + "  hosts: [reviews]\n  http:\n  - timeout: " + bad +
               "\n    route:\n    - destination: {host: reviews}\n");
    EXPECT_TRUE(HasErrors(d)) << bad;
  }
  for (const char* good : {"\"1.5s\"", "\"300ms\"", "\"1h2m\"", "\"1ms\""}) {
    Diagnostics d =
        CheckB(std::string(kVsHeader) + "  hosts: [reviews]\n  http:\n  - timeout: " + good +
               "\n    route:\n    - destination: {host: reviews}\n");
    EXPECT_FALSE(HasErrors(d)) << good << "\n" << All(d);
  }
}

TEST(Schema, GoDurationSyntax) {
  double s = 0;
  EXPECT_TRUE(ParseGoDuration("1h2m3.5s", s));
  EXPECT_DOUBLE_EQ(s, 3723.5);
  EXPECT_TRUE(ParseGoDuration("250us", s));
  EXPECT_DOUBLE_EQ(s, 0.00025);
  EXPECT_TRUE(ParseGoDuration(".5s", s));
  EXPECT_DOUBLE_EQ(s, 0.5);
  EXPECT_TRUE(ParseGoDuration("0", s));
  EXPECT_FALSE(ParseGoDuration("5", s));
  EXPECT_FALSE(ParseGoDuration("s", s));
  EXPECT_FALSE(ParseGoDuration("1..5s", s));
  EXPECT_FALSE(ParseGoDuration("1d", s));
}

TEST(Schema, IntegerRangeFollowsTheProtoType) {
  Diagnostics d = CheckB(std::string(kVsHeader) + R"(  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
      weight: 3000000000
)");
  ASSERT_EQ(With(d, "MF1013").size(), 1u) << All(d);
  EXPECT_NE(With(d, "MF1013")[0].find("out of range"), std::string::npos);
}

// ---- Istio's webhook rules (IST0106 with Istio's text) ----

std::vector<std::string> IstioErrors(const std::string& objects) {
  return With(CheckB(objects), "IST0106");
}

TEST(IstioRules, MeshVirtualServiceCannotUseWildcardHost) {
  EXPECT_EQ(IstioErrors(std::string(kVsHeader) +
                        "  hosts: [\"*\"]\n  http:\n  - route:\n    - destination: {host: r}\n"),
            std::vector<std::string>{"5:11 spec.hosts[0]: wildcard host * is not allowed for "
                                     "virtual services bound to the mesh gateway"});
}

TEST(IstioRules, OverlappingHostsAreDuplicates) {
  EXPECT_EQ(
      IstioErrors(std::string(kVsHeader) + "  hosts: [\"*.foo.bar\", \"*.bar\"]\n  gateways: "
                                           "[gw]\n  http:\n  - route:\n    - destination: {host: "
                                           "r}\n"),
      std::vector<std::string>{
          "5:24 spec.hosts[1]: duplicate hosts in virtual service: *.foo.bar & *.bar"});
}

TEST(IstioRules, DomainNamesFollowIstio) {
  auto errors = IstioErrors(std::string(kVsHeader) +
                            "  hosts: [a.123, \"b..c\", \"x*.y\"]\n  gateways: [gw]\n  http:\n  - "
                            "route:\n    - destination: {host: r}\n");
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                // As Istio: after the first label, the rest is checked (and quoted) alone.
                "5:11 spec.hosts[0]: domain name \"123\" invalid (top level domain "
                "\"123\" cannot be all-numeric)",
                "5:18 spec.hosts[1]: domain name \".c\" invalid (label \"\" invalid)",
                "5:26 spec.hosts[2]: domain name \"x*.y\" invalid (label \"x*\" invalid)"}));
}

TEST(IstioRules, RouteActionsConflict) {
  auto errors = IstioErrors(std::string(kVsHeader) + R"(  hosts: [reviews]
  http:
  - redirect: {uri: /x}
    route:
    - destination: {host: reviews}
  - fault: {abort: {httpStatus: 503, percentage: {value: 1}}}
)");
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "7:15 spec.http[0]: HTTP route cannot contain both route and redirect",
                        "10:5 spec.http[1]: HTTP route, redirect or direct_response is required"}));
}

TEST(IstioRules, RegexErrorsSayRe2) {
  auto errors = IstioErrors(std::string(kVsHeader) + R"(  hosts: [reviews]
  http:
  - match:
    - headers: {end-user: {regex: "(jason"}}
    route:
    - destination: {host: reviews}
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("8:35 spec.http[0].match[0].headers.end-user.regex: \"headers\": "
                            "error parsing regexp: missing ): (jason; Istio uses RE2 style "
                            "regex-based match",
                            0),
            0u)
      << errors[0];
}

TEST(IstioRules, RetriesFollowEnvoy) {
  auto errors = IstioErrors(std::string(kVsHeader) + R"(  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
    retries: {attempts: 0, retryOn: "5xx,gateway-errors,503"}
)");
  EXPECT_EQ(errors,
            (std::vector<std::string>{
                "9:14 spec.http[0].retries: http retry policy configured when attempts are set "
                "to 0 (disabled)",
                "9:37 spec.http[0].retries.retryOn: \"gateway-errors\" is not a valid retryOn "
                "policy"}));
}

TEST(IstioRules, GatewayNamesStopAfterTheFirstShortName) {
  // validateGatewayNames returns after a name without "/" (Istio's behaviour, kept on purpose).
  auto errors = IstioErrors(std::string(kVsHeader) + R"(  hosts: [reviews]
  gateways: [my-gateway, Bad_NS/gw]
  http:
  - route:
    - destination: {host: reviews}
)");
  EXPECT_TRUE(errors.empty()) << errors[0];
  errors = IstioErrors(std::string(kVsHeader) + R"(  hosts: [reviews]
  gateways: [Bad_NS/gw]
  http:
  - route:
    - destination: {host: reviews}
)");
  EXPECT_EQ(errors, std::vector<std::string>{
                        "6:14 spec.gateways[0]: invalid value for namespace: \"Bad_NS\""});
}

TEST(IstioRules, ExportToDuplicates) {
  auto errors = IstioErrors(std::string(kVsHeader) + R"(  hosts: [reviews]
  exportTo: [".", default, "*"]
  http:
  - route:
    - destination: {host: reviews}
)");
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "6:13 spec.exportTo: cannot have both public (*) and non-public exportTo "
                        "values for a resource",
                        "6:19 spec.exportTo[1]: duplicate entries in exportTo for entry default"}));
}

TEST(IstioRules, DestinationRuleSubsets) {
  auto errors = IstioErrors(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy: {}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v1, labels: {version: v2}}
  - {name: V_2, labels: {"bad key!": v2}}
)");
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "6:18 spec.trafficPolicy: traffic policy must have at least one field",
                        "9:12 spec.subsets[1].name: duplicate subset names: v1",
                        "10:12 spec.subsets[2].name: subset name is invalid: V_2",
                        "10:38 spec.subsets[2].labels.bad key!: invalid tag key: \"bad key!\""}));
}

TEST(IstioRules, ServiceEntryResolution) {
  auto errors = IstioErrors(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext}
spec:
  hosts: [a.example.com, b.example.com]
  ports: [{number: 5432, name: tcp-db, protocol: TCP}]
  resolution: STATIC
  endpoints: [{address: db.example.com}]
)");
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "6:10 spec.ports: multiple hosts provided with non-HTTP, non-TLS ports",
                        "8:25 spec.endpoints[0].address: endpoint address \"db.example.com\" is "
                        "not a valid IP address"}));
}

TEST(IstioRules, GatewayServers) {
  auto errors = IstioErrors(R"(apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [reviews]
  - port: {number: 15443, name: tls, protocol: TLS}
    hosts: ["*.example.com"]
    tls: {mode: ISTIO_MUTUAL, credentialName: cert}
)");
  EXPECT_EQ(errors, (std::vector<std::string>{
                        "7:5 spec.servers[0].tls: server must have TLS settings for HTTPS/TLS "
                        "protocols",
                        "8:13 spec.servers[0].hosts[0]: short names (non FQDN) are not allowed",
                        "11:10 spec.servers[1].tls: ISTIO_MUTUAL TLS cannot have associated "
                        "credentialName"}));
}

// Istio's webhook findings in `d`: "E " and "W " and the message, in order.
std::vector<std::string> WebhookFindings(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const Diagnostic& x : d) {
    if (x.code == "IST0106") out.push_back("E " + x.message);
    if (x.code == "IST0133") out.push_back("W " + x.message);
  }
  return out;
}

// What Istio's webhook says of one Gateway server (validateServer, validateTLSOptions).
std::vector<std::string> ServerFindings(const std::string& server) {
  return WebhookFindings(
      CheckB("apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n"
             "  selector: {istio: ingressgateway}\n  servers:\n" +
             server));
}

TEST(IstioRules, GatewayServerTlsOptions) {
  const std::string https =
      "  - port: {number: 443, name: https, protocol: HTTPS}\n"
      "    hosts: [a.example.com]\n";
  const std::string http =
      "  - port: {number: 80, name: http, protocol: HTTP}\n"
      "    hosts: [a.example.com]\n";
  using V = std::vector<std::string>;
  const std::string kOneSource =
      "E only one of credential_name, credential_names, server_certificate/private_key, "
      "tls_certificates should be specified";
  const std::string kOldTls =
      "W TLS version below TLSV1_2 require setting compatible ciphers as by default they no "
      "longer include compatible ciphers.";
  struct Case {
    std::string server;
    V expected;
  };
  const Case cases[] = {
      {https + "    tls: {mode: SIMPLE, serverCertificate: /c, privateKey: /k}\n", {}},
      {https + "    tls: {mode: SIMPLE}\n",
       {"E SIMPLE TLS requires a server certificate", "E SIMPLE TLS requires a private key"}},
      {https + "    tls: {mode: OPTIONAL_MUTUAL, serverCertificate: /c}\n",
       {"E MUTUAL TLS requires a client CA bundle", "E MUTUAL TLS requires a private key"}},
      // Every listed certificate needs both files; more than two draw a warning.
      {https + "    tls:\n      mode: MUTUAL\n      caCertificates: /ca\n      tlsCertificates:\n"
               "      - {serverCertificate: /c1, privateKey: /k1}\n"
               "      - {serverCertificate: /c2}\n      - {privateKey: /k3}\n",
       {"W MUTUAL TLS can support up to 2 server certificates",
        "E MUTUAL TLS requires a private key", "E MUTUAL TLS requires a server certificate"}},
      // One source of certificates: a certificate counts only with its key.
      {https + "    tls: {mode: SIMPLE, credentialName: x, tlsCertificates: "
               "[{serverCertificate: /c, privateKey: /k}]}\n",
       {kOneSource}},
      {https + "    tls: {mode: SIMPLE, credentialName: x, credentialNames: [y]}\n", {kOneSource}},
      {https + "    tls: {mode: SIMPLE, credentialName: x, serverCertificate: /c}\n", {}},
      // With a credential nothing else is checked, not even the CRL.
      {https + "    tls: {mode: SIMPLE, credentialName: x, caCrl: /crl}\n", {}},
      {https + "    tls: {mode: MUTUAL, credentialNames: [x]}\n", {}},
      {https + "    tls: {mode: SIMPLE, serverCertificate: /c, privateKey: /k, caCrl: /crl}\n",
       {"E CRL is not supported with SIMPLE TLS"}},
      {https + "    tls: {mode: PASSTHROUGH, credentialName: x, caCrl: /crl}\n",
       {"W PASSTHROUGH mode does not use certificates, they will be ignored",
        "E CRL is not supported with credentialName. CRL has to be specified in the credential"}},
      // No mode is PASSTHROUGH, the enum's zero value.
      {https + "    tls: {caCrl: /crl}\n",
       {"W PASSTHROUGH mode does not use certificates, they will be ignored"}},
      {"  - port: {number: 15443, name: tls, protocol: TLS}\n    hosts: [\"*.local\"]\n"
       "    tls: {mode: AUTO_PASSTHROUGH, serverCertificate: /c}\n",
       {"W AUTO_PASSTHROUGH mode does not use certificates, they will be ignored"}},
      {https + "    tls: {mode: ISTIO_MUTUAL, caCertificates: /ca, tlsCertificates: [{}], "
               "credentialNames: [x]}\n",
       {"E ISTIO_MUTUAL TLS cannot have associated CA bundle",
        "E ISTIO_MUTUAL TLS cannot have associated tlsCertificates",
        "E ISTIO_MUTUAL TLS cannot have associated credentialNames"}},
      // Ciphers: BoringSSL's names; an expression (not starting with a letter or digit) passes.
      {https + "    tls: {mode: ISTIO_MUTUAL, minProtocolVersion: TLSV1_1, cipherSuites: "
               "[AES128-SHA, NOPE, AES128-SHA, \"-AES256-SHA\", ALL]}\n",
       {"W ignoring invalid cipher suites: [NOPE]",
        "W ignoring duplicate cipher suites: [AES128-SHA]"}},
      // Go reads the first byte as a rune: 0xC3 (é's first byte) is the letter Ã, so the name is
      // looked up; 0xD7 (Hebrew's) is ×, neither letter nor digit, so the name passes.
      {https + "    tls: {mode: ISTIO_MUTUAL, cipherSuites: [\"\xC3\xA9X\", \"\xD7\x90X\"]}\n",
       {"W ignoring invalid cipher suites: [\xC3\xA9X]"}},
      {https + "    tls: {mode: ISTIO_MUTUAL, minProtocolVersion: TLSV1_1}\n", {kOldTls}},
      {https + "    tls: {mode: ISTIO_MUTUAL, minProtocolVersion: TLSV1_0}\n", {kOldTls}},
      // An HTTP server may only redirect: no termination, no files.
      {http + "    tls: {httpsRedirect: true}\n", {}},
      {http + "    tls: {httpsRedirect: true, mode: AUTO_PASSTHROUGH}\n", {}},
      {http + "    tls: {httpsRedirect: true, mode: SIMPLE, credentialName: x}\n",
       {"E server cannot have TLS settings for plain text HTTP ports"}},
      {http + "    tls: {httpsRedirect: true, privateKey: /k}\n",
       {"W PASSTHROUGH mode does not use certificates, they will be ignored",
        "E server cannot have TLS settings for plain text HTTP ports"}},
      {https + "    tls: {httpsRedirect: true, mode: ISTIO_MUTUAL}\n",
       {"W tls.httpsRedirect should only be used with http servers"}},
      {"  - port: {number: 3306, name: mysql, protocol: MYSQL}\n    hosts: [a.example.com]\n"
       "    tls: {mode: ISTIO_MUTUAL}\n",
       {"E server cannot have TLS settings for non HTTPS/TLS ports"}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ServerFindings(c.server), c.expected) << c.server;
  }
}

TEST(IstioRules, GatewayServerHostsPortsAndBinds) {
  using V = std::vector<std::string>;
  const std::string port = "    port: {number: 80, name: http, protocol: HTTP}\n";
  EXPECT_EQ(ServerFindings("  - hosts: []\n" + port),
            V{"E server config must contain at least one host"});
  EXPECT_EQ(
      ServerFindings("  - hosts: [\"/a.example.com\", \"*/*\", \"./*.example.com\"]\n" + port),
      (V{"E config namespace and dnsName in host entry cannot be empty",
         "E invalid namespace value \"\" in gateway"}));
  // An empty DNS part is still checked as a host (validateSidecarOrGatewayHostnamePart).
  EXPECT_EQ(ServerFindings("  - hosts: [\"ns/\"]\n" + port),
            (V{"E config namespace and dnsName in host entry cannot be empty",
               "E short names (non FQDN) are not allowed", "E empty domain name not allowed"}));
  EXPECT_EQ(ServerFindings("  - hosts: [\"a*.example.com\"]\n" + port),
            (V{"E domain name \"a*.example.com\" invalid (label \"a*\" invalid)",
               "E partial wildcard \"a*.example.com\" not allowed"}));
  // A unix socket: port 0, an absolute path to a file or an abstract name.
  const std::string uds =
      "    port: {number: 0, name: http, protocol: HTTP}\n"
      "    hosts: [a.example.com]\n";
  EXPECT_EQ(ServerFindings("  - bind: unix:///var/run/gw.sock\n" + uds), V{});
  EXPECT_EQ(ServerFindings("  - bind: unix://@gw\n" + uds), V{});
  EXPECT_EQ(ServerFindings("  - bind: unix:///var/run/\n" + uds),
            V{"E /var/run/ is not an absolute path to a file"});
  EXPECT_EQ(ServerFindings("  - bind: \"unix://\"\n" + uds), V{"E unix address must not be empty"});
  EXPECT_EQ(ServerFindings("  - bind: unix://@gw\n    hosts: [a.example.com]\n" + port),
            V{"E port number must be 0 for unix domain socket: 80"});
  EXPECT_EQ(ServerFindings("  - bind: 10.0.0.1\n" + uds),
            V{"E port number 0 must be in the range 1..65535"})
      << "port 0 is a port error without a unix socket";
  // A Gateway's name is a DNS label: no dots.
  Diagnostics d = CheckB(
      "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw.v1}\nspec:\n"
      "  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n");
  EXPECT_EQ(With(d, "IST0106"), V{"3:18 metadata.name: invalid gateway name: \"gw.v1\""});
}

// What Istio's webhook says of one HTTP route of a VirtualService (validateHTTPRoute); `route` is
// the route's fields, indented by four.
std::vector<std::string> RouteFindings(const std::string& route) {
  return WebhookFindings(
      CheckB(std::string(kVsHeader) + "  hosts: [reviews]\n  http:\n  - name: r\n" + route));
}

TEST(IstioRules, HttpRouteActionsAsIstioValidatesThem) {
  using V = std::vector<std::string>;
  const std::string to = "    route: [{destination: {host: reviews}}]\n";
  const std::string ms = "E only durations to ms precision are supported";
  struct Case {
    std::string route;
    V expected;
  };
  const Case cases[] = {
      // Durations: the schema wants more than 1ms; the webhook whole milliseconds.
      {to + "    timeout: 1.5s\n", {}},
      {to + "    timeout: 1.0005s\n", {ms}},
      {to + "    retries: {attempts: 2, perTryTimeout: 100.5ms, backoff: 25.25ms}\n", {ms, ms}},
      {"    fault: {delay: {fixedDelay: 0.0015s, percentage: {value: 10}}}\n" + to, {ms}},
      {"    fault: {delay: {exponentialDelay: 2s}}\n" + to,
       {"E exponentialDelay not supported yet"}},
      // The deprecated integer `percent` is not checked.
      {"    fault: {delay: {fixedDelay: 1s, percent: 150}}\n" + to, {}},
      // CORS: the methods Go knows and `*`; max age in whole seconds.
      {"    corsPolicy: {allowOrigins: [{exact: a.example.com}], allowMethods: [GET, \"*\"], "
       "maxAge: 10s}\n" +
           to,
       {}},
      {"    corsPolicy: {allowMethods: [get]}\n" + to,
       {"E \"get\" is not a supported HTTP method"}},
      {"    corsPolicy: {maxAge: 1.5s}\n" + to,
       {"E max_age duration is accurate only to seconds precision"}},
      {"    corsPolicy: {maxAge: 1.0005s}\n" + to,
       {ms, "E max_age duration is accurate only to seconds precision"}},
      // Aborts and direct responses: validateHTTPStatus lets 600 through.
      {"    fault: {abort: {httpStatus: 600}}\n" + to, {}},
      {"    fault: {abort: {httpStatus: 601}}\n" + to,
       {"E HTTP status 601 is not in range 200-599"}},
      {"    fault: {abort: {httpStatus: 199}}\n" + to,
       {"E HTTP status 199 is not in range 200-599"}},
      {"    fault: {abort: {percentage: {value: 5}}}\n" + to,
       {"W abort configured, but error type not set"}},
      {"    directResponse: {status: 600}\n", {}},
      {"    directResponse: {status: 601}\n", {"E HTTP status 601 is not in range 200-599"}},
      {"    directResponse: {status: 199}\n", {"E HTTP status 199 is not in range 200-599"}},
      {"    directResponse: {status: 200, body: {string: \"" + std::string(100 * 1024 + 1, 'x') +
           "\"}}\n",
       {"W large direct_responses may impact control plane performance"}},
      // Redirects: the first problem only.
      {"    redirect: {derivePort: FROM_REQUEST_PORT}\n", {}},
      {"    redirect: {redirectCode: 200}\n",
       {"E redirect must specify URI, authority, scheme, or port"}},
      {"    redirect: {uri: /x, redirectCode: 200, scheme: ftp}\n",
       {"E 200 is not a valid redirect code, must be 3xx"}},
      {"    redirect: {uri: /x, scheme: ftp, port: 70000}\n",
       {"E invalid redirect scheme, must be \"http\" or \"https\""}},
      {"    redirect: {uri: /x, port: 70000}\n",
       {"E port number 70000 must be in the range 1..65535"}},
      // Retries.
      {to + "    retries: {attempts: 0, retryRemoteLocalities: true}\n",
       {"E http retry policy configured when attempts are set to 0 (disabled)"}},
      {to + "    retries: {attempts: 2, retryOn: \"5xx,418,reset\"}\n", {}},
      {to + "    retries: {attempts: 2, retryOn: \"599,5xx\"}\n",
       {"E \"599\" is not a valid retryOn policy"}},
      // Rewrites.
      {to + "    rewrite: {uriRegexRewrite: {match: ^/a}}\n",
       {"E UriRegexRewrite requires both Rewrite and Match fields to be specified"}},
      {to + "    rewrite: {authority: a.example.com}\n"
            "    headers: {request: {set: {\":Authority\": b.example.com}}}\n",
       {"E authority header cannot be set multiple times: have \"a.example.com\", attempting to "
        "set \"b.example.com\""}},
  };
  // Header operations: any name but pseudo-headers and Host, which only a request's set and add may
  // name (as the authority); no token syntax, unlike a match's header names.
  const Case headers[] = {
      {to + "    headers: {request: {set: {\"x y\": a, host: b.example.com}}}\n", {}},
      {to + "    headers: {request: {remove: [Host]}, response: {set: {\":path\": /}}}\n",
       {"E invalid header \"Host\": cannot set Host header",
        "E invalid header \":path\": header cannot have \":\" prefix"}},
      {to + "    headers: {request: {add: {\":method\": GET}}}\n",
       {"E invalid header \":method\": header cannot have \":\" prefix"}},
  };
  for (const Case& c : headers) {
    EXPECT_EQ(RouteFindings(c.route), c.expected) << c.route;
  }
  for (const Case& c : cases) {
    EXPECT_EQ(RouteFindings(c.route), c.expected) << c.route;
  }
  // A 3xx code Istio accepts but istiod cannot generate: meshfed's own error, beside Istio's.
  Diagnostics d =
      CheckB(std::string(kVsHeader) +
             "  hosts: [reviews]\n  http:\n  - redirect: {uri: /x, redirectCode: 305}\n");
  ASSERT_EQ(With(d, "MF1013").size(), 1u) << All(d);
  EXPECT_TRUE(With(d, "IST0106").empty()) << All(d);
  d = CheckB(std::string(kVsHeader) +
             "  hosts: [reviews]\n  http:\n  - redirect: {uri: /x, redirectCode: 308}\n");
  EXPECT_TRUE(With(d, "MF1013").empty()) << All(d);
}

TEST(IstioRules, UnreachableRulesAndIneffectiveMatches) {
  Diagnostics d = CheckB(std::string(kVsHeader) + R"(  hosts: [reviews]
  http:
  - name: jason
    match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews}}]
  - match: [{headers: {end-user: {exact: jason}}, name: again}]
    route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /api}}]
    route: [{destination: {host: reviews}}]
  - match: [{uri: {prefix: /api/v1}}]
    route: [{destination: {host: reviews}}]
  - route: [{destination: {host: reviews}}]
  - route: [{destination: {host: reviews}}]
)");
  EXPECT_EQ(With(d, "IST0130"),
            (std::vector<std::string>{
                "10:5 spec.http[1]: VirtualService rule #1 not used (all matches used by prior "
                "rules).",
                "17:5 spec.http[5]: VirtualService rule #5 not used (only the last rule can have "
                "no matches)."}))
      << All(d);
  EXPECT_EQ(With(d, "IST0131"),
            (std::vector<std::string>{
                "10:13 spec.http[1].match[0]: VirtualService rule #1 match \"again\" is not used "
                "(duplicate/overlapping match in rule \"jason\").",
                "14:13 spec.http[3].match[0]: VirtualService rule #3 match #0 of prefix /api/v1 "
                "is not used (duplicate/overlapping match in rule #0 of prefix /api on #2)."}))
      << All(d);
  EXPECT_FALSE(HasErrors(d));
}

// ---- Fleet analyzers ----

constexpr const char* kDonor = R"(apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: reviews-sep}
spec:
  exposed:
  - {name: reviews, clusters: [cluster-a]}
)";

constexpr const char* kAcceptorBinding = R"(apiVersion: v1
kind: Service
metadata: {name: productpage}
spec: {selector: {app: productpage}, ports: [{name: http, port: 9080}]}
---
apiVersion: multicluster.istio.io/v1alpha1
kind: RemoteServiceBinding
metadata: {name: reviews-rsb}
spec:
  remote:
  - cluster: cluster-b
    services: [{name: reviews, alias: reviews-remote}]
---
)";

TEST(Analyzers, RouteToABoundNameIsA503) {
  Diagnostics d =
      Check({{"cluster-b", kDonor},
             {"cluster-a", std::string(kAcceptorBinding) + R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: productpage}
spec:
  hosts: [productpage]
  http:
  - route:
    - destination: {host: reviews-remote}
)"}});
  auto found = With(d, "MF2010");
  ASSERT_EQ(found.size(), 1u) << All(d);
  EXPECT_NE(found[0].find("21:27 spec.http[0].route[0].destination.host: `reviews-remote` is a "
                          "name meshfed binds from another cluster (reviews.default.svc.cluster."
                          "local)"),
            std::string::npos)
      << found[0];
  EXPECT_NE(found[0].find("503 UH"), std::string::npos);
  EXPECT_NE(found[0].find("`reviews-remote.default.meshfed.internal`"), std::string::npos)
      << found[0];
  EXPECT_TRUE(With(d, "IST0101").empty()) << "the bound name exists: meshfed generates it";
  EXPECT_FALSE(HasErrors(d));
}

TEST(Analyzers, RouteToTheInternalHostNeedsTheAuthority) {
  std::string vs = R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: productpage}
spec:
  hosts: [productpage]
  http:
  - route:
    - destination: {host: reviews-remote.default.meshfed.internal}
)";
  Diagnostics d = Check({{"cluster-b", kDonor}, {"cluster-a", std::string(kAcceptorBinding) + vs}});
  auto found = With(d, "MF2011");
  ASSERT_EQ(found.size(), 1u) << All(d);
  EXPECT_NE(found[0].find("rewrite.authority: reviews.default.svc.cluster.local"),
            std::string::npos);
  EXPECT_NE(found[0].find("denies it (403"), std::string::npos);

  auto with_authority = [&](const std::string& authority) {
    return Check({{"cluster-b", kDonor},
                  {"cluster-a", std::string(kAcceptorBinding) + vs +
                                    "    rewrite: {authority: " + authority + "}\n"}});
  };
  d = with_authority("reviews.default.svc.cluster.local");
  EXPECT_TRUE(With(d, "MF2011").empty()) << All(d);
  EXPECT_TRUE(With(d, "IST0101").empty()) << All(d);
  // The gateway matches the host without a port, in any case.
  d = with_authority("Reviews.default.svc.cluster.local:9080");
  EXPECT_TRUE(With(d, "MF2011").empty()) << All(d);
  // Another authority is denied as surely as none.
  d = with_authority("reviews-remote.default.svc.cluster.local");
  EXPECT_EQ(With(d, "MF2011").size(), 1u) << All(d);
}

// ---- The federation gateway's port (MF2012) ----
// cluster-b's federation gateway: pods app=fedgw in namespace federation, port 443.

std::string UserGateway(const std::string& name, const std::string& servers,
                        const std::string& selector = "{app: fedgw}") {
  return "---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: " + name +
         ", namespace: federation}\nspec:\n  selector: " + selector + "\n  servers:\n" + servers;
}

// The one MF2012 finding, as With() writes it; "" and a failure when there is not exactly one, or
// when anything else in `d` is an error (the inputs are valid Istio config).
std::string OneFederationFinding(const Diagnostics& d) {
  EXPECT_FALSE(HasErrors(d)) << All(d);
  std::vector<std::string> found = With(d, "MF2012");
  if (found.size() != 1) {
    ADD_FAILURE() << found.size() << " MF2012 findings in:\n" << All(d);
    return "";
  }
  return found[0];
}

// Whether `text` has `part`, for EXPECT_TRUE(...) << text.
bool Has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(Analyzers, AGatewayThatLeavesMeshfedsServersAloneIsNotReported) {
  const std::string passthrough =
      "  - port: {number: 443, name: tls, protocol: TLS}\n"
      "    hosts: [\"*.local\"]\n    tls: {mode: AUTO_PASSTHROUGH}\n";
  const std::string http =
      "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n";
  for (const std::string& gateway :
       {UserGateway("east-west", passthrough),  // Istio's own east-west Gateway
        UserGateway("on-80", http),             // another port
        UserGateway("elsewhere",
                    "  - port: {number: 443, name: http, protocol: HTTP}\n    hosts: [\"*\"]\n",
                    "{app: other}"),  // another gateway's pods
        UserGateway("passthrough",
                    "  - port: {number: 443, name: https, protocol: HTTPS}\n"
                    "    hosts: [reviews.default.svc.cluster.local]\n"
                    "    tls: {mode: PASSTHROUGH}\n"),  // a passthrough chain is not compared
        UserGateway("match-all",
                    "  - port: {number: 443, name: https, protocol: HTTPS}\n"
                    "    hosts: [\"*\"]\n    tls: {mode: SIMPLE, credentialName: cert}\n")}) {
    Diagnostics d = CheckB(std::string(kDonor) + gateway);
    EXPECT_TRUE(With(d, "MF2012").empty()) << gateway << All(d);
    EXPECT_FALSE(HasErrors(d)) << gateway << All(d);
  }
}

TEST(Analyzers, AnOlderPlaintextServerOnTheFederationPortKeepsMeshfedsServersOut) {
  Diagnostics d = CheckB(std::string(kDonor) +
                         UserGateway("legacy",
                                     "  - port: {number: 443, name: tcp, protocol: TCP}\n"
                                     "    hosts: [\"*\"]\n") +
                         UserGateway("later",
                                     "  - port: {number: 443, name: http, protocol: HTTP}\n"
                                     "    hosts: [\"*\"]\n"));
  // The first server decides; the later one is skipped too, and not reported.
  std::string found = OneFederationFinding(d);
  EXPECT_TRUE(Has(found,
                  "19:5 spec.servers[0]: this TCP server without `tls` is the first "
                  "server on port 443 of cluster cluster-b's federation gateway "
                  "(app=fedgw in federation) and makes the port plaintext"))
      << found;
  EXPECT_TRUE(Has(found, "1 exposed host cannot be reached: reviews.default.svc.cluster.local"))
      << found;
  EXPECT_TRUE(Has(found, "MeshCluster cluster-b a free spec.federationGateway.port")) << found;

  // A Gateway meshfed generated before (read back from a cluster) is not the user's.
  d = CheckB(std::string(kDonor) + R"(---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: old
  namespace: federation
  labels: {app.kubernetes.io/managed-by: meshfed}
spec:
  selector: {app: fedgw}
  servers:
  - port: {number: 443, name: http, protocol: HTTP}
    hosts: ["*"]
)");
  EXPECT_TRUE(With(d, "MF2012").empty()) << All(d);
}

TEST(Analyzers, AnOlderTlsServerNamingTheExposedHostKeepsMeshfedsServerOut) {
  for (std::string host :
       {"federation/reviews.default.svc.cluster.local", "./reviews.default.svc.cluster.local"}) {
    Diagnostics d =
        CheckB(std::string(kDonor) +
               UserGateway("mine",
                           "  - port: {number: 443, name: https, protocol: "
                           "HTTPS}\n    hosts: [a.example.com, \"" +
                               host + "\"]\n    tls: {mode: SIMPLE, credentialName: cert}\n"));
    std::string found = OneFederationFinding(d);
    EXPECT_FALSE(HasErrors(d)) << All(d);
    EXPECT_TRUE(Has(found,
                    "spec.servers[0]: this server, older than meshfed's, has `tls` and "
                    "names federation/reviews.default.svc.cluster.local on port 443"))
        << found;
    EXPECT_TRUE(Has(found,
                    "(\"duplicate host names\"), and 1 exposed host cannot be reached: "
                    "reviews.default.svc.cluster.local. Remove it"))
        << found;
  }
}

TEST(Analyzers, AServerMatchingAnExposedHostsSniMakesEnvoyRejectTheListener) {
  // Four exposed hosts; the user's server names one of them without the namespace: Istio keeps
  // both servers, and Envoy rejects the listener, so none of the four works.
  std::string donor;
  for (const char* name : {"reviews", "ratings", "details", "pages"}) {
    donor += fmt::format(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {0}}}\nspec: {{selector: {{app: {0}}}, "
        "ports: [{{name: http, port: 9080}}]}}\n---\n",
        name);
  }
  donor += R"(apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: sep}
spec:
  exposed:
  - {name: reviews, clusters: [cluster-a]}
  - {name: ratings, clusters: [cluster-a]}
  - {name: details, clusters: [cluster-a]}
  - {name: pages, clusters: [cluster-a]}
)";
  Diagnostics d = CheckB(donor + UserGateway("mine",
                                             "  - port: {number: 443, name: https, protocol: "
                                             "HTTPS}\n    hosts: [RATINGS.default.svc.cluster."
                                             "local]\n    tls: {mode: ISTIO_MUTUAL}\n"));
  std::string found = OneFederationFinding(d);
  EXPECT_TRUE(Has(found,
                  "spec.servers[0]: this server terminates TLS for SNI "
                  "ratings.default.svc.cluster.local on port 443"))
      << found;
  EXPECT_TRUE(Has(found, "Envoy rejects a listener")) << found;
  EXPECT_TRUE(Has(found,
                  "4 exposed hosts cannot be reached: details.default.svc.cluster.local, "
                  "pages.default.svc.cluster.local, ratings.default.svc.cluster.local and "
                  "1 more"))
      << found;
}

TEST(Analyzers, TwoUserServersMatchingOneSniBreakMeshfedsServersToo) {
  const std::string https = "  - port: {number: 443, name: https, protocol: HTTPS}\n";
  Diagnostics d =
      CheckB(std::string(kDonor) +
             UserGateway("team-a", https + "    hosts: [team-a/x.example.com]\n    tls: {mode: "
                                           "SIMPLE, credentialName: cert}\n") +
             UserGateway("team-b", https + "    hosts: [team-b/x.example.com]\n    tls: {mode: "
                                           "SIMPLE, credentialName: cert}\n"));
  std::string found = OneFederationFinding(d);
  EXPECT_TRUE(Has(found,
                  "spec.servers[0]: this server and spec.servers[0] of Gateway "
                  "federation/team-a both terminate TLS for SNI x.example.com"))
      << found;
  EXPECT_TRUE(Has(found,
                  "do not work either, and 1 exposed host cannot be reached: "
                  "reviews.default.svc.cluster.local"))
      << found;
  // The same Gateways where meshfed generates nothing: not meshfed's business.
  d = CheckB(UserGateway("team-a", https + "    hosts: [team-a/x.example.com]\n"
                                           "    tls: {mode: SIMPLE, credentialName: cert}\n") +
             UserGateway("team-b", https + "    hosts: [team-b/x.example.com]\n"
                                           "    tls: {mode: SIMPLE, credentialName: cert}\n"));
  EXPECT_TRUE(With(d, "MF2012").empty()) << All(d);
}

// A wildcard ServiceEntry defines a host only for the namespaces it is exported to (IST0101).
TEST(Analyzers, AWildcardServiceEntryDefinesHostsWhereItIsExported) {
  auto check = [](const std::string& export_to) {
    return CheckB(R"(apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external, namespace: egress}
spec:
  hosts: ["*.example.com"]
  exportTo: [)" + export_to +
                  R"(]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 80, name: http, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api}
spec:
  hosts: [api.example.com]
  http:
  - route:
    - destination: {host: api.example.com}
)");
  };
  Diagnostics d = check("\"*\"");
  EXPECT_TRUE(With(d, "IST0101").empty()) << All(d);
  d = check("\".\"");
  EXPECT_EQ(With(d, "IST0101"),
            std::vector<std::string>{"18:27 spec.http[0].route[0].destination.host: Referenced "
                                     "host not found: \"api.example.com\""})
      << All(d);
}

// A DestinationRule for a host meshfed generates (the bound name, its internal host) names a known
// host; one for a host nothing defines does not.
TEST(Analyzers, DestinationRulesForGeneratedHostsAreKnown) {
  std::string rules;
  for (auto [name, host] : {std::pair{"bound", "reviews-remote"},
                            std::pair{"internal", "reviews-remote.default.meshfed.internal"},
                            std::pair{"unknown", "ratings-remote"}}) {
    rules += fmt::format(R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: {}}}
spec: {{host: {}, trafficPolicy: {{tls: {{mode: ISTIO_MUTUAL}}}}}}
---
)",
                         name, host);
  }
  Diagnostics d =
      Check({{"cluster-b", kDonor}, {"cluster-a", std::string(kAcceptorBinding) + rules}});
  EXPECT_EQ(With(d, "IST0174"),
            std::vector<std::string>{"27:14 spec.host: The host ratings-remote defined in the "
                                     "DestinationRule does not match any services in the mesh."})
      << All(d);
}

constexpr const char* kReviews = R"(apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1}
spec:
  template:
    metadata: {labels: {app: reviews, version: v1}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v3, labels: {version: v3}}
---
)";

// Each kind of destination is named by its own field path: a mirror, an entry of mirrors, a TCP
// and a TLS route.
TEST(Analyzers, MirrorAndTcpDestinationsAreNamedByTheirFields) {
  Diagnostics d = CheckB(std::string(kReviews) + R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route:
    - destination: {host: reviews, subset: v1}
    mirror: {host: shadow-a}
  - route:
    - destination: {host: reviews, subset: v1}
    mirrors:
    - destination: {host: reviews}
    - destination: {host: shadow-b}
  tcp:
  - route:
    - destination: {host: reviews, port: {number: 9080}}
      weight: 50
    - destination: {host: shadow-c}
      weight: 50
  tls:
  - match: [{sniHosts: [reviews]}]
    route:
    - destination: {host: shadow-d}
)");
  EXPECT_EQ(With(d, "IST0101"),
            (std::vector<std::string>{
                "31:20 spec.http[0].mirror.host: Referenced mirror host not found: \"shadow-a\"",
                "36:27 spec.http[1].mirrors[1].destination.host: Referenced mirror host not "
                "found: \"shadow-b\"",
                "41:27 spec.tcp[0].route[1].destination.host: Referenced host not found: "
                "\"shadow-c\"",
                "46:27 spec.tls[0].route[0].destination.host: Referenced host not found: "
                "\"shadow-d\""}))
      << All(d);
  EXPECT_EQ(All(d).find("error"), std::string::npos) << All(d);
}

TEST(Analyzers, ReferencedResourcesNotFound) {
  Diagnostics d = CheckB(std::string(kReviews) + R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  gateways: [mesh, missing-gw]
  http:
  - route:
    - destination: {host: reviews, subset: v2}
      weight: 50
    - destination: {host: reveiws}
      weight: 25
    - destination: {host: reviews, port: {number: 9999}}
      weight: 25
)");
  EXPECT_EQ(With(d, "IST0101"),
            (std::vector<std::string>{
                "27:20 spec.gateways[1]: Referenced gateway not found: \"missing-gw\"",
                "30:44 spec.http[0].route[0].destination.subset: Referenced host+subset in "
                "destinationrule not found: \"reviews+v2\"",
                "32:27 spec.http[0].route[1].destination.host: Referenced host not found: "
                "\"reveiws\"",
                "34:51 spec.http[0].route[2].destination.port.number: Referenced host:port not "
                "found: \"reviews:9999\""}))
      << All(d);
  for (const Diagnostic& x : d) {
    if (x.code == "IST0101") {
      EXPECT_EQ(x.severity, Severity::Warning);
    }
  }
}

TEST(Analyzers, SubsetsThatSelectNoPodsAndUnknownHosts) {
  Diagnostics d = CheckB(std::string(kReviews) + R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: nowhere}
spec:
  host: nowhere
)");
  EXPECT_EQ(With(d, "IST0173"),
            std::vector<std::string>{"20:5 spec.subsets[1]: The Subset v3 defined in the "
                                     "DestinationRule does not select any pods. Which may lead "
                                     "to 503 UH (NoHealthyUpstream)."})
      << All(d);
  EXPECT_EQ(With(d, "IST0174"),
            std::vector<std::string>{"26:9 spec.host: The host nowhere defined in the "
                                     "DestinationRule does not match any services in the mesh."})
      << All(d);
}

TEST(Analyzers, TwoMeshVirtualServicesForOneHost) {
  std::string two = std::string(kReviews) + R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b}
spec:
  hosts: [reviews.default.svc.cluster.local]
  EXPORT
  http: [{route: [{destination: {host: reviews}}]}]
)";
  std::string shared = two;
  shared.replace(shared.find("EXPORT"), 6, "exportTo: [\"*\"]");
  Diagnostics d = CheckB(shared);
  ASSERT_EQ(With(d, "IST0109").size(), 2u) << All(d);
  EXPECT_NE(With(d, "IST0109")[0].find("The VirtualServices default/a,default/b associated with "
                                       "mesh gateway define the same host "
                                       "reviews.default.svc.cluster.local"),
            std::string::npos);
  // Each exported to its own namespace only, in two namespaces: no namespace sees both.
  std::string apart = two;
  apart.replace(apart.find("EXPORT"), 6, "exportTo: [.]");
  apart.replace(apart.find("metadata: {name: b}"), 19, "metadata: {name: b, namespace: other}");
  std::string apart_a = apart;
  apart_a.replace(apart_a.find("  hosts: [reviews]\n"), 18,
                  "  hosts: [reviews]\n  exportTo: [.]\n");
  EXPECT_TRUE(With(CheckB(apart_a), "IST0109").empty()) << "visible in different namespaces";
}

// A namespace's own VirtualService conflicts with a public one for the host; and a VirtualService
// in two conflicts is reported once, with the first by scope and host (istioctl reports it per
// conflict; meshfed keeps one warning per object).
TEST(Analyzers, MeshVirtualServicesConflictAcrossScopesAndAreReportedOnce) {
  Diagnostics d = CheckB(std::string(kReviews) + R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a}
spec:
  hosts: [reviews]
  exportTo: [.]
  http: [{route: [{destination: {host: reviews}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: other}
spec:
  hosts: [reviews.default.svc.cluster.local]
  http: [{route: [{destination: {host: reviews.default.svc.cluster.local}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: c}
spec:
  hosts: [zeta.example.com, alpha.example.com]
  http: [{route: [{destination: {host: reviews}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: d}
spec:
  hosts: [zeta.example.com]
  http: [{route: [{destination: {host: reviews}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: e}
spec:
  hosts: [alpha.example.com]
  http: [{route: [{destination: {host: reviews}}]}]
)");
  std::vector<std::string> found = With(d, "IST0109");
  auto message = [](std::string_view names, std::string_view host) {
    return fmt::format(
        "The VirtualServices {} associated with mesh gateway define the same host "
        "{} which can lead to undefined behavior. This can be fixed by merging the "
        "conflicting VirtualServices into a single resource.",
        names, host);
  };
  ASSERT_EQ(found.size(), 5u) << All(d);
  std::sort(found.begin(), found.end());
  EXPECT_EQ(
      found,
      (std::vector<std::string>{
          "26:10 spec.hosts: " + message("default/a,other/b", "reviews.default.svc.cluster.local"),
          "34:10 spec.hosts: " + message("default/a,other/b", "reviews.default.svc.cluster.local"),
          "41:10 spec.hosts: " + message("default/c,default/e", "alpha.example.com"),
          "48:10 spec.hosts: " + message("default/c,default/d", "zeta.example.com"),
          "55:10 spec.hosts: " + message("default/c,default/e", "alpha.example.com"),
      }))
      << All(d);
}

TEST(Analyzers, MultiPortServiceNeedsAPortAndGatewayHosts) {
  Diagnostics d = CheckB(R"(apiVersion: v1
kind: Service
metadata: {name: catalog}
spec: {ports: [{name: http, port: 9080}, {name: http-admin, port: 9090}]}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["shop.example.com"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: catalog}
spec:
  hosts: [shop.example.com, other.example.com]
  gateways: [gw]
  http: [{route: [{destination: {host: catalog}}]}]
)");
  EXPECT_EQ(With(d, "IST0112"),
            std::vector<std::string>{
                "19:40 spec.http[0].route[0].destination: This VirtualService routes to a service "
                "\"catalog\" that exposes multiple ports [9080 9090]. Specifying a port in the "
                "destination is required to disambiguate."})
      << All(d);
  EXPECT_EQ(With(d, "IST0132"),
            std::vector<std::string>{"18:14 spec.gateways[0]: one or more host other.example.com "
                                     "defined in VirtualService default/catalog not found in "
                                     "Gateway default/gw."})
      << All(d);
}

TEST(Analyzers, ExportToHidingASubsetFromTheGatewayIsNamed) {
  Diagnostics d = CheckB(std::string(kReviews) + R"(apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-local}
spec:
  host: reviews.default.svc.cluster.local
  exportTo: ["."]
  subsets: [{name: v2, labels: {version: v2}}]
---
apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: sep}
spec:
  exposed: [{name: reviews, alias: reviews-v2, subset: v2, clusters: [cluster-a]}]
)");
  auto found = With(d, "MF2007");
  ASSERT_EQ(found.size(), 1u) << All(d);
  EXPECT_NE(found[0].find("subset `v2` of reviews.default.svc.cluster.local is not defined in any "
                          "DestinationRule the federation gateway (namespace federation) can see; "
                          "DestinationRule default/reviews-local (cluster-b/objects.yaml:22:1) "
                          "defines it, but its exportTo [.] hides it from namespace federation: "
                          "add federation (or \"*\") to its exportTo"),
            std::string::npos)
      << found[0];
}

TEST(Analyzers, ExposingAServiceWhoseVirtualServiceHasNoHttpRoutes) {
  // Found by fuzzing: the translator read the missing `http` list.
  Diagnostics d = CheckB(R"(apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {ports: [{port: 9080, name: http}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v}
spec: {hosts: [reviews], tcp: [{route: [{destination: {host: reviews}}]}]}
---
apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: s}
spec: {exposed: [{name: reviews, clusters: [cluster-a]}]}
)");
  EXPECT_EQ(With(d, "MF2006"),
            std::vector<std::string>{"14:18 spec.exposed[0]: no route of VirtualService default/v "
                                     "applies to sidecars; the service's default route is used, "
                                     "as Istio does"})
      << All(d);
}

// ---- Merging ----

TEST(SortDiagnostics, DropsRepeatsAndOrdersByPosition) {
  Diagnostics d = {
      {Severity::Warning, "MF2002", "b.yaml", {3, 1}, {}, "f", "m"},
      {Severity::Error, "MF1010", "a.yaml", {9, 2}, {}, "f", "m"},
      {Severity::Error, "MF1010", "a.yaml", {2, 5}, {}, "f", "m"},
      {Severity::Error, "MF1010", "a.yaml", {9, 2}, {}, "f", "m"},
      {Severity::Error, "MF1010", "a.yaml", {9, 2}, {}, "f", "other message"},
      {Severity::Error, "MF1021", "", {}, {}, "", "no file"},
  };
  SortDiagnostics(d);
  std::vector<std::string> got;
  for (const Diagnostic& x : d) got.push_back(x.Format());
  EXPECT_EQ(got, (std::vector<std::string>{
                     "a.yaml:2:5: error MF1010: field f: m", "a.yaml:9:2: error MF1010: field f: m",
                     "a.yaml:9:2: error MF1010: field f: other message",
                     "b.yaml:3:1: warning MF2002: field f: m", "error MF1021: no file"}));
}

}  // namespace
}  // namespace meshfed
