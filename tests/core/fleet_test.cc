#include "core/model/fleet.h"

#include <gtest/gtest.h>

#include "fleet_text.h"

namespace meshfed {
namespace {

using testing::FleetFromText;
using testing::kThreeClusters;

const Diagnostic* FindCode(const Diagnostics& d, const std::string& code) {
  for (const Diagnostic& x : d) {
    if (x.code == code) return &x;
  }
  return nullptr;
}

// Istio's protocol selection for a Service port (kube.ConvertProtocol): what meshfed exposes
// over federation and what the simulator routes as HTTP.
TEST(ServicePort, CarriesHttpAsIstioSelectsTheProtocol) {
  struct Case {
    const char* name;
    int port;
    const char* protocol;
    const char* app_protocol;
    bool http;
  };
  const Case cases[] = {
      {"http", 9080, "TCP", "", true},
      {"http-web", 80, "TCP", "", true},
      {"HTTP2-api", 80, "TCP", "", true},
      {"grpc", 9000, "TCP", "", true},
      {"grpc-web", 9000, "TCP", "", true},
      {"http_proxy", 3128, "TCP", "", true},
      {"web", 8080, "TCP", "", true},  // not a protocol name: sniffed
      {"", 8080, "TCP", "", true},     // unnamed: sniffed
      {"tcp-db", 5432, "TCP", "", false},
      {"tls", 443, "TCP", "", false},
      {"https", 443, "TCP", "", false},
      {"mongo", 27017, "TCP", "", false},
      {"redis-cache", 6379, "TCP", "", false},
      {"mysql", 3306, "TCP", "", false},
      {"udp-x", 5000, "TCP", "", false},
      {"http", 8080, "UDP", "", false},
      {"http", 8080, "SCTP", "", false},
      // appProtocol decides when it is set, by its part before '-' too, in any case.
      {"http-web", 80, "TCP", "tcp", false},
      {"tcp-db", 5432, "TCP", "HTTP", true},
      {"tcp-db", 5432, "TCP", "http2-x", true},
      {"http", 80, "TCP", "tcp-legacy", false},
      {"tcp", 80, "TCP", "kubernetes.io/h2c", true},
      // Unknown or no names on the well-known ports of SMTP, DNS, MySQL and MongoDB are TCP.
      {"", 25, "TCP", "", false},
      {"dns", 53, "TCP", "", false},
      {"", 3306, "TCP", "", false},
      {"db", 27017, "TCP", "", false},
      {"http", 3306, "TCP", "", true},
  };
  for (const Case& c : cases) {
    ServicePort p;
    p.name = c.name;
    p.port = c.port;
    p.protocol = c.protocol;
    p.app_protocol = c.app_protocol;
    EXPECT_EQ(p.CarriesHttp(), c.http) << "name " << c.name << " port " << c.port << " "
                                       << c.protocol << " appProtocol " << c.app_protocol;
  }
}

TEST(Fleet, LaterDocumentReplacesEarlierWithAWarningAndKeepsItsAge) {
  Diagnostics d;
  Fleet f = FleetFromText(kThreeClusters, {{"cluster-b", R"(
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: reviews}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: other}
spec: {hosts: [reviews]}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: reviews}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v2}}]}]}
)"}},
                          d);
  const Diagnostic* w = FindCode(d, "MF1020");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->severity, Severity::Warning);
  EXPECT_EQ(w->position.line, 12u);
  const Cluster* b = f.Find("cluster-b");
  ASSERT_EQ(b->virtual_services.size(), 2u) << "v1alpha3, v1beta1 and v1 are one kind";
  EXPECT_EQ(b->virtual_services.front().object->name, "reviews")
      << "the replacement keeps the original's age";
  EXPECT_EQ(b->virtual_services.front().object->api_version, "networking.istio.io/v1beta1");
}

TEST(Fleet, RegistryProblems) {
  Diagnostics d;
  FleetFromText(std::string(kThreeClusters) + R"(
---
apiVersion: multicluster.istio.io/v1alpha1
kind: MeshCluster
metadata: {name: cluster-d}
spec:
  trustDomain: cluster-a.local
  federationGateway: {addresses: ["not an address"], port: 70000}
  extra: 1
---
apiVersion: v1
kind: Service
metadata: {name: misplaced}
)",
                {{"cluster-x", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"}}, d);
  EXPECT_NE(FindCode(d, "MF2008"), nullptr) << "shared trust domain";
  EXPECT_NE(FindCode(d, "MF1012"), nullptr) << "unknown field spec.extra";
  EXPECT_NE(FindCode(d, "MF1021"), nullptr)
      << "Service in fleet.yaml / directory without MeshCluster";
  int layout = 0, invalid = 0;
  for (const Diagnostic& x : d) {
    layout += x.code == "MF1021";
    invalid += x.code == "MF1013";
  }
  EXPECT_EQ(layout, 2);
  EXPECT_EQ(invalid, 2) << "bad address and port out of range";
}

TEST(Fleet, PolicyFieldErrorsNameTheFieldAndPosition) {
  Diagnostics d;
  FleetFromText(kThreeClusters, {{"cluster-b", R"(
apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: bad}
spec:
  exposed:
  - name: Reviews_1
    port: "9080"
    clusters: []
    color: blue
)"}},
                d);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].code, "MF1012");
  EXPECT_EQ(d[0].field, "spec.exposed[0].color");
  EXPECT_EQ(d[0].position.line, 10u);
  EXPECT_EQ(d[1].code, "MF1013");
  EXPECT_EQ(d[1].field, "spec.exposed[0].name");
  EXPECT_EQ(d[1].position.line, 7u);
  EXPECT_EQ(d[1].position.column, 11u);
  EXPECT_EQ(d[2].code, "MF1010");
  EXPECT_EQ(d[2].field, "spec.exposed[0].port");
  EXPECT_EQ(d[3].code, "MF1011");
  EXPECT_EQ(d[3].field, "spec.exposed[0].clusters");
  EXPECT_EQ(d[3].object.Describe(), "ServiceExpositionPolicy default/bad in cluster-b");
}

TEST(Fleet, GeneratedObjectsAreNotReadAsUserConfig) {
  Diagnostics d;
  Fleet f = FleetFromText(kThreeClusters, {{"cluster-a", R"(
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: meshfed-reviews-a1a95bd6
  labels: {app.kubernetes.io/managed-by: meshfed}
spec: {hosts: [reviews]}
)"}},
                          d);
  EXPECT_TRUE(d.empty());
  EXPECT_TRUE(f.Find("cluster-a")->virtual_services.empty());
}

}  // namespace
}  // namespace meshfed
