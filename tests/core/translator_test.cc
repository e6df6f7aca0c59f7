#include "core/translate/translator.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "codec/emitter.h"
#include "core/translate/names.h"
#include "core/translate/translate_internal.h"
#include "fleet_text.h"

namespace meshfed {
namespace {

using testing::FleetFromText;
using testing::kThreeClusters;

constexpr const char* kReviews = R"(
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
)";

constexpr const char* kSepToA = R"(
---
apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: reviews-sep}
spec: {exposed: [{name: reviews, clusters: [cluster-a]}]}
)";

// Cluster-b's Service `shop` exposed to cluster-a.
constexpr const char* kSepShopToA = R"(---
apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: s}
spec: {exposed: [{name: shop, clusters: [cluster-a]}]}
)";

constexpr const char* kRsbReviews = R"(
apiVersion: multicluster.istio.io/v1alpha1
kind: RemoteServiceBinding
metadata: {name: reviews-rsb}
spec: {remote: [{cluster: cluster-b, services: [{name: reviews}]}]}
)";

struct Result {
  Diagnostics diagnostics;
  Translation translation;
};

// The fleet goes before the translation: a translation (with the working state it holds) must
// not depend on the fleet it came from (ASan checks every test that uses this).
Result TranslateText(const std::map<std::string, std::string>& clusters) {
  Result r;
  Fleet fleet = FleetFromText(kThreeClusters, clusters, r.diagnostics);
  EXPECT_FALSE(HasErrors(r.diagnostics)) << r.diagnostics[0].Format();
  r.translation = Translate(fleet);
  return r;
}

std::vector<const Node*> Generated(const Result& r, const std::string& cluster,
                                   const std::string& kind) {
  std::vector<const Node*> out;
  for (const ClusterOutput& c : r.translation.clusters) {
    if (c.cluster != cluster) continue;
    for (const Node& o : c.objects) {
      if (o.Find("kind")->text() == kind) out.push_back(&o);
    }
  }
  return out;
}

std::string Yaml(const Node* n) {
  std::string out;
  if (n) EmitYaml(*n, out);
  return out;
}

const Node* Status(const Result& r, const std::string& cluster, const std::string& name) {
  for (const StatusOutput& s : r.translation.statuses) {
    if (s.cluster == cluster && s.object.Find("metadata")->Find("name")->text() == name) {
      return s.object.Find("status");
    }
  }
  return nullptr;
}

TEST(Translator, DonorVirtualServiceBecomesTheGatewayRoutes) {
  std::string vs = R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{headers: {end-user: {exact: jason}}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
)";
  Result r = TranslateText(
      {{"cluster-b", kReviews + std::string(kSepToA) + vs}, {"cluster-a", kRsbReviews}});
  auto vss = Generated(r, "cluster-b", "VirtualService");
  ASSERT_EQ(vss.size(), 1u);
  const Node& spec = *vss[0]->Find("spec");
  EXPECT_EQ(spec.Find("hosts")->items()[0].text(), "reviews.default.svc.cluster.local");
  EXPECT_EQ(vss[0]->Find("metadata")->Find("namespace")->text(), "federation");
  const Node& http = *spec.Find("http");
  ASSERT_EQ(http.items().size(), 2u);
  EXPECT_EQ(http.items()[0]
                .Find("match")
                ->items()[0]
                .Find("headers")
                ->Find("end-user")
                ->Find("exact")
                ->text(),
            "jason");
  const Node& dest = *http.items()[0].Find("route")->items()[0].Find("destination");
  EXPECT_EQ(dest.Find("host")->text(), "reviews.default.svc.cluster.local")
      << "short name resolved in the VS's namespace";
  EXPECT_EQ(dest.Find("subset")->text(), "v2");
  EXPECT_EQ(dest.Find("port")->Find("number")->text(), "9080")
      << "the service's only port made explicit";
  EXPECT_EQ(http.items()[1].Find("match"), nullptr);
}

TEST(Translator, WithoutVirtualServiceTheGatewayRoutesToTheService) {
  Result r = TranslateText({{"cluster-b", kReviews + std::string(kSepToA)}});
  auto vss = Generated(r, "cluster-b", "VirtualService");
  ASSERT_EQ(vss.size(), 1u);
  const Node& rule = vss[0]->Find("spec")->Find("http")->items().at(0);
  EXPECT_EQ(rule.Find("match"), nullptr);
  EXPECT_EQ(rule.Find("route")->items()[0].Find("destination")->Find("subset"), nullptr);
}

// The gateway VirtualService names the donor VirtualService its routes come from, and only when
// they do come from it.
TEST(Translator, TheRoutesFromAnnotationNamesOnlyTheVirtualServiceRoutedWith) {
  auto annotations = [](const Result& r) -> const Node* {
    auto vss = Generated(r, "cluster-b", "VirtualService");
    return vss.size() == 1 ? vss[0]->Find("metadata")->Find("annotations") : nullptr;
  };
  const std::string http_vs = R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}}]}]}
)";
  const Result routed = TranslateText({{"cluster-b", kReviews + http_vs + kSepToA}});
  const Node* with_vs = annotations(routed);
  ASSERT_NE(with_vs, nullptr);
  ASSERT_NE(with_vs->Find(kRoutesFromAnnotation), nullptr);
  EXPECT_EQ(with_vs->Find(kRoutesFromAnnotation)->text(), "VirtualService default/v");
  EXPECT_EQ(with_vs->Find(kExposedHostAnnotation)->text(), "reviews.default.svc.cluster.local");

  const Result plain = TranslateText({{"cluster-b", kReviews + std::string(kSepToA)}});
  const Node* without_vs = annotations(plain);
  ASSERT_NE(without_vs, nullptr);
  EXPECT_EQ(without_vs->Find(kRoutesFromAnnotation), nullptr);
  EXPECT_EQ(without_vs->Find(kExposedHostAnnotation)->text(), "reviews.default.svc.cluster.local");

  // A VirtualService with no HTTP route for sidecars: Istio uses the Service's default route, and
  // so does the gateway; the VirtualService is not what it routes with.
  const std::string tcp_vs = R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: v}
spec: {hosts: [reviews], tcp: [{route: [{destination: {host: reviews}}]}]}
)";
  Result r = TranslateText({{"cluster-b", kReviews + tcp_vs + kSepToA}});
  const Node* fallback = annotations(r);
  ASSERT_NE(fallback, nullptr);
  EXPECT_EQ(fallback->Find(kRoutesFromAnnotation), nullptr) << Yaml(fallback);
  const Node* status = Status(r, "cluster-b", "reviews-sep");
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->Find("exposed")->items().at(0).Find("target")->text(),
            "Service default/reviews");
}

TEST(Translator, ExposureIsEnforcedByTrustDomainAtTheFederationGateway) {
  std::string sep = R"(
---
apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: s}
spec:
  exposed:
  - {name: reviews, clusters: [cluster-a]}
  - {name: reviews, alias: everyone, clusters: ["*"]}
)";
  Result r = TranslateText({{"cluster-b", kReviews + sep}});
  auto aps = Generated(r, "cluster-b", "AuthorizationPolicy");
  ASSERT_EQ(aps.size(), 2u);
  auto principals = [](const Node* ap) {
    std::vector<std::string> out;
    const Node& rule = ap->Find("spec")->Find("rules")->items()[0];
    for (const Node& p :
         rule.Find("from")->items()[0].Find("source")->Find("principals")->items()) {
      out.emplace_back(p.text());
    }
    return out;
  };
  // Sorted by name: meshfed-everyone-... before meshfed-reviews-...
  EXPECT_EQ(principals(aps[0]),
            (std::vector<std::string>{"cluster-a.local/*", "cluster-c.local/*"}));
  EXPECT_EQ(principals(aps[1]), (std::vector<std::string>{"cluster-a.local/*"}));
  EXPECT_EQ(aps[1]->Find("spec")->Find("selector")->Find("matchLabels")->Find("app")->text(),
            "fedgw");
  const Node& hosts = *aps[1]
                           ->Find("spec")
                           ->Find("rules")
                           ->items()[0]
                           .Find("to")
                           ->items()[0]
                           .Find("operation")
                           ->Find("hosts");
  EXPECT_EQ(hosts.items()[0].text(), "reviews.default.svc.cluster.local");
}

TEST(Translator, BindingNotExposedToThisClusterGetsNothing) {
  Result r =
      TranslateText({{"cluster-b", kReviews + std::string(kSepToA)}, {"cluster-c", kRsbReviews}});
  EXPECT_TRUE(Generated(r, "cluster-c", "Service").empty());
  EXPECT_TRUE(Generated(r, "cluster-c", "VirtualService").empty());
  const Node* status = Status(r, "cluster-c", "reviews-rsb");
  ASSERT_NE(status, nullptr);
  const Node& svc = status->Find("services")->items()[0];
  EXPECT_EQ(svc.Find("reason")->text(), "NotExposedToThisCluster");
  EXPECT_EQ(svc.Find("ready")->text(), "false");
  EXPECT_EQ(status->Find("conditions")->items()[1].Find("status")->text(), "False");
}

TEST(Translator, AcceptorObjectsCarryTheExposedNameAsSniAndAuthority) {
  std::string sep = R"(
---
apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: s}
spec: {exposed: [{name: reviews, alias: reviews-v1, subset: v1, clusters: [cluster-a]}]}
)";
  std::string rsb = R"(
apiVersion: multicluster.istio.io/v1alpha1
kind: RemoteServiceBinding
metadata: {name: r, namespace: shop}
spec: {remote: [{cluster: cluster-b, namespace: default, services: [{name: reviews-v1, alias: reviews, port: 80}]}]}
)";
  Result r = TranslateText({{"cluster-b", kReviews + sep}, {"cluster-a", rsb}});
  auto services = Generated(r, "cluster-a", "Service");
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0]->Find("metadata")->Find("name")->text(), "reviews");
  EXPECT_EQ(services[0]->Find("metadata")->Find("namespace")->text(), "shop");
  EXPECT_EQ(services[0]->Find("spec")->Find("selector"), nullptr)
      << "selector-less: no endpoints of its own";
  EXPECT_EQ(services[0]->Find("spec")->Find("ports")->items()[0].Find("port")->text(), "80");
  auto drs = Generated(r, "cluster-a", "DestinationRule");
  ASSERT_EQ(drs.size(), 1u);
  const Node& tls = *drs[0]->Find("spec")->Find("trafficPolicy")->Find("tls");
  EXPECT_EQ(tls.Find("mode")->text(), "ISTIO_MUTUAL");
  EXPECT_EQ(tls.Find("sni")->text(), "reviews-v1.default.svc.cluster.local");
  auto vss = Generated(r, "cluster-a", "VirtualService");
  ASSERT_EQ(vss.size(), 1u);
  const Node& rule = vss[0]->Find("spec")->Find("http")->items()[0];
  EXPECT_EQ(vss[0]->Find("spec")->Find("hosts")->items()[0].text(),
            "reviews.shop.svc.cluster.local");
  EXPECT_EQ(rule.Find("rewrite")->Find("authority")->text(),
            "reviews-v1.default.svc.cluster.local");
  auto ses = Generated(r, "cluster-a", "ServiceEntry");
  ASSERT_EQ(ses.size(), 1u);
  const Node& se = *ses[0]->Find("spec");
  EXPECT_EQ(se.Find("resolution")->text(), "DNS") << "a gateway address is a DNS name";
  ASSERT_EQ(se.Find("endpoints")->items().size(), 2u);
  EXPECT_EQ(se.Find("endpoints")->items()[1].Find("ports")->Find("http-80")->text(), "443");
  // The donor pins the subset at its gateway.
  auto donor_vs = Generated(r, "cluster-b", "VirtualService");
  ASSERT_EQ(donor_vs.size(), 1u);
  EXPECT_EQ(donor_vs[0]
                ->Find("spec")
                ->Find("http")
                ->items()[0]
                .Find("route")
                ->items()[0]
                .Find("destination")
                ->Find("subset")
                ->text(),
            "v1");
  // Two-sided status.
  const Node* sep_status = Status(r, "cluster-b", "s");
  const Node& bound = sep_status->Find("exposed")->items()[0].Find("boundBy")->items()[0];
  EXPECT_EQ(bound.Find("cluster")->text(), "cluster-a");
  EXPECT_EQ(bound.Find("namespace")->text(), "shop");
  EXPECT_EQ(bound.Find("localName")->text(), "reviews");
}

// The federation gateway sees the subsets of the first namespace that has a DestinationRule for
// the host, in Istio's order: its own namespace, the service's, the root namespace. A DR in the
// gateway's namespace that lacks a subset hides the service namespace's DR that defines it.
TEST(Translator, TheGatewaysOwnNamespaceDecidesWhichSubsetsItSees) {
  auto exposure = [](const std::string& subset, bool gateway_dr) {
    std::string donor = std::string(kReviews) + R"(
---
apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: reviews-sep}
spec: {exposed: [{name: reviews, alias: reviews-pinned, subset: )" +
                        subset + R"(, clusters: [cluster-a]}]}
)";
    if (gateway_dr) {
      donor += R"(
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-at-gateway, namespace: federation}
spec:
  host: reviews.default.svc.cluster.local
  subsets: [{name: v1, labels: {version: v1}}]
)";
    }
    Result r = TranslateText({{"cluster-b", donor}});
    const Node* status = Status(r, "cluster-b", "reviews-sep");
    EXPECT_NE(status, nullptr);
    return status ? std::string(status->Find("exposed")->items()[0].Find("reason")->text()) : "";
  };
  EXPECT_EQ(exposure("v2", false), "Exposed");  // the service namespace's DR defines v2
  EXPECT_EQ(exposure("v2", true), "SubsetNotFound");
  EXPECT_EQ(exposure("v1", true), "Exposed");
  EXPECT_EQ(exposure("v3", false), "SubsetNotFound");
}

// The objects generated for one owner hold one labels value (Node::Share), which reads as that
// owner's labels; the acceptor's objects of one local name hold one metadata value, the Service
// (named for the local name) its own with the same labels and annotations.
TEST(Translator, ObjectsOfOneOwnerShareTheirOwnersLabels) {
  Result r =
      TranslateText({{"cluster-b", std::string(kReviews) + kSepToA}, {"cluster-a", kRsbReviews}});
  auto labels = [](const Node* o) { return o->Find("metadata")->Find("labels"); };
  std::vector<const Node*> acceptor, donor;
  for (const char* kind : {"Service", "ServiceEntry", "DestinationRule", "VirtualService"}) {
    auto found = Generated(r, "cluster-a", kind);
    ASSERT_EQ(found.size(), 1u) << kind;
    acceptor.push_back(found[0]);
  }
  for (const char* kind : {"Gateway", "VirtualService", "AuthorizationPolicy"}) {
    auto found = Generated(r, "cluster-b", kind);
    ASSERT_EQ(found.size(), 1u) << kind;
    donor.push_back(found[0]);
  }
  for (const Node* o : acceptor) {
    ASSERT_TRUE(labels(o)->IsShared());
    EXPECT_EQ(labels(o)->shared_value(), labels(acceptor[0])->shared_value());
    EXPECT_EQ(labels(o)->Find("multicluster.istio.io/owner-name")->text(), "reviews-rsb");
    EXPECT_EQ(labels(o)->Find("multicluster.istio.io/owner-kind")->text(), "RemoteServiceBinding");
  }
  EXPECT_EQ(acceptor[0]->Find("metadata")->Find("name")->text(), "reviews");
  EXPECT_EQ(acceptor[0]->Find("metadata")->Find("annotations")->shared_value(),
            acceptor[1]->Find("metadata")->Find("annotations")->shared_value());
  EXPECT_EQ(acceptor[1]->Find("metadata")->shared_value(),
            acceptor[3]->Find("metadata")->shared_value());
  EXPECT_NE(acceptor[1]->Find("metadata")->Find("name")->text(), "reviews");
  for (const Node* o : donor) {
    EXPECT_EQ(labels(o)->shared_value(), labels(donor[0])->shared_value());
    EXPECT_EQ(labels(o)->Find("multicluster.istio.io/owner-name")->text(), "reviews-sep");
  }
  EXPECT_NE(labels(donor[0])->shared_value(), labels(acceptor[0])->shared_value());
}

// Acceptors that bind one exposure under the same local name, through RSBs of the same namespace
// and name, hold the same objects (one shared value each), and their RSBs' status the same entry;
// an RSB of another name, another local name or another namespace gets objects and an entry of
// its own, which name their own owner and name.
TEST(Translator, AcceptorsBindingAlikeShareTheirObjects) {
  constexpr const char* kSepToAC = R"(
---
apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: reviews-sep}
spec: {exposed: [{name: reviews, clusters: [cluster-a, cluster-c]}]}
)";
  const std::string other_rsb = R"(
---
apiVersion: multicluster.istio.io/v1alpha1
kind: RemoteServiceBinding
metadata: {name: other-rsb}
spec: {remote: [{cluster: cluster-b, services: [{name: reviews, alias: remote-reviews}]}]}
---
apiVersion: multicluster.istio.io/v1alpha1
kind: RemoteServiceBinding
metadata: {name: reviews-rsb, namespace: shop}
spec: {remote: [{cluster: cluster-b, namespace: default, services: [{name: reviews}]}]}
)";
  Result r = TranslateText({{"cluster-b", std::string(kReviews) + kSepToAC},
                            {"cluster-a", kRsbReviews},
                            {"cluster-c", std::string(kRsbReviews) + other_rsb}});
  auto owner = [](const Node* o) {
    return std::string(
        o->Find("metadata")->Find("annotations")->Find("multicluster.istio.io/owner")->text());
  };
  for (const char* kind : {"Service", "ServiceEntry", "DestinationRule", "VirtualService"}) {
    auto in_a = Generated(r, "cluster-a", kind);
    auto in_c = Generated(r, "cluster-c", kind);
    ASSERT_EQ(in_a.size(), 1u) << kind;
    ASSERT_EQ(in_c.size(), 3u) << kind;
    ASSERT_TRUE(in_a[0]->IsShared()) << kind;
    int same = 0;
    for (const Node* o : in_c) {
      if (o->shared_value() == in_a[0]->shared_value()) {
        ++same;
        EXPECT_EQ(owner(o), "RemoteServiceBinding/default/reviews-rsb");
      } else {
        EXPECT_NE(owner(o), "RemoteServiceBinding/default/reviews-rsb") << Yaml(o);
        EXPECT_NE(*o, *in_a[0]);
      }
    }
    EXPECT_EQ(same, 1) << kind;
  }
  std::vector<std::string> services;
  for (const Node* o : Generated(r, "cluster-c", "Service")) {
    services.push_back(fmt::format("{}/{} {}", o->Find("metadata")->Find("namespace")->text(),
                                   o->Find("metadata")->Find("name")->text(), owner(o)));
  }
  std::sort(services.begin(), services.end());
  EXPECT_EQ(services, (std::vector<std::string>{
                          "default/remote-reviews RemoteServiceBinding/default/other-rsb",
                          "default/reviews RemoteServiceBinding/default/reviews-rsb",
                          "shop/reviews RemoteServiceBinding/shop/reviews-rsb"}));
  // Each cluster's objects, shared or not, in (kind, namespace, name) order.
  for (const ClusterOutput& c : r.translation.clusters) {
    std::vector<std::tuple<std::string, std::string, std::string>> order;
    for (const Node& o : c.objects) {
      const Node& meta = *o.Find("metadata");
      order.emplace_back(o.Find("kind")->text(), meta.Find("namespace")->text(),
                         meta.Find("name")->text());
    }
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << c.cluster;
    EXPECT_EQ(std::adjacent_find(order.begin(), order.end()), order.end()) << c.cluster;
  }
  // The RSBs' status entries: the same for the same binding, each its own otherwise.
  std::map<std::string, const Node*> entries;  // cluster/namespace/name -> its one entry
  for (const StatusOutput& s : r.translation.statuses) {
    const Node& meta = *s.object.Find("metadata");
    if (s.object.Find("kind")->text() != "RemoteServiceBinding") continue;
    const Node* services_status = s.object.Find("status")->Find("services");
    ASSERT_NE(services_status, nullptr);
    ASSERT_EQ(services_status->items().size(), 1u);
    entries[fmt::format("{}/{}/{}", s.cluster, meta.Find("namespace")->text(),
                        meta.Find("name")->text())] = &services_status->items()[0];
  }
  ASSERT_EQ(entries.size(), 4u);
  const Node* a = entries["cluster-a/default/reviews-rsb"];
  const Node* c = entries["cluster-c/default/reviews-rsb"];
  ASSERT_TRUE(a && c && a->IsShared());
  EXPECT_EQ(a->shared_value(), c->shared_value());
  EXPECT_EQ(a->Find("ready")->text(), "true");
  for (const char* other : {"cluster-c/default/other-rsb", "cluster-c/shop/reviews-rsb"}) {
    ASSERT_TRUE(entries[other]) << other;
    EXPECT_NE(entries[other]->shared_value(), a->shared_value()) << other;
    EXPECT_NE(entries[other]->Find("message")->text(), a->Find("message")->text()) << other;
  }
}

// The cache of owners' labels knows an owner by its address, and checks who is there: an object
// that took over an address gets its own labels.
TEST(SharedValues, AnAddressTakenOverByAnotherOwnerGetsThatOwnersLabels) {
  Object owner;
  owner.kind = "RemoteServiceBinding";
  owner.namespace_ = "shop";
  owner.name = "first";
  internal::SharedValues cache;
  auto label = [&cache, &owner](std::string_view key) {
    const Node labels = cache.Labels(owner);
    return std::string(labels.Find(key)->text());
  };
  const Node first = cache.Labels(owner);
  EXPECT_EQ(first.Find("multicluster.istio.io/owner-name")->text(), "first");
  EXPECT_EQ(cache.Labels(owner).shared_value(), first.shared_value());  // made once
  owner.name = "second";
  EXPECT_EQ(label("multicluster.istio.io/owner-name"), "second");
  owner.namespace_ = "other";
  EXPECT_EQ(label("multicluster.istio.io/owner-namespace"), "other");
  owner.kind = "ServiceExpositionPolicy";
  EXPECT_EQ(label("multicluster.istio.io/owner-kind"), "ServiceExpositionPolicy");
  EXPECT_EQ(first.Find("multicluster.istio.io/owner-name")->text(), "first");  // still its own
}

TEST(Translator, StaticMatchFieldsAreEvaluatedAsOnADonorSidecar) {
  std::string vs = R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - match: [{sourceLabels: {app: x}}]
    route: [{destination: {host: reviews, subset: v2}}]
  - match: [{uri: {prefix: /a}, gateways: [some-gateway]}, {uri: {prefix: /b}, port: 9080}, {uri: {prefix: /c}, port: 1234}]
    route: [{destination: {host: reviews, subset: v2}}]
  - route: [{destination: {host: reviews, subset: v1}}]
)";
  Result r = TranslateText({{"cluster-b", kReviews + std::string(kSepToA) + vs}});
  auto vss = Generated(r, "cluster-b", "VirtualService");
  ASSERT_EQ(vss.size(), 1u);
  const Node& http = *vss[0]->Find("spec")->Find("http");
  ASSERT_EQ(http.items().size(), 2u) << Yaml(vss[0]);
  const Node& match = *http.items()[0].Find("match");
  ASSERT_EQ(match.items().size(), 1u) << "only the /b block applies to a sidecar on port 9080";
  EXPECT_EQ(match.items()[0].Find("uri")->Find("prefix")->text(), "/b");
  EXPECT_EQ(match.items()[0].Find("port"), nullptr) << "static port match removed";
}

TEST(Translator, GatewayOnlyOrHiddenVirtualServicesAreNotTheDonorsMeshRouting) {
  std::string vs = R"(
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ingress}
spec:
  hosts: [reviews]
  gateways: [bookinfo-gateway]
  http: [{route: [{destination: {host: reviews, subset: v2}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: private, namespace: other}
spec:
  hosts: [reviews.default.svc.cluster.local]
  exportTo: ["."]
  http: [{route: [{destination: {host: reviews.default.svc.cluster.local, subset: v2}}]}]
)";
  Result r = TranslateText({{"cluster-b", kReviews + std::string(kSepToA) + vs}});
  auto vss = Generated(r, "cluster-b", "VirtualService");
  ASSERT_EQ(vss.size(), 1u);
  const Node& dest =
      *vss[0]->Find("spec")->Find("http")->items()[0].Find("route")->items()[0].Find("destination");
  EXPECT_EQ(dest.Find("subset"), nullptr) << Yaml(vss[0]);
}

TEST(Translator, SeveralExposedPortsAreToldApartByAHeaderTheAcceptorSets) {
  std::string svc = R"(
apiVersion: v1
kind: Service
metadata: {name: shop}
spec: {ports: [{name: http, port: 80}, {name: grpc-api, port: 9000}, {name: tcp-db, port: 5432}]}
)" + std::string(kSepShopToA);
  std::string rsb = R"(
apiVersion: multicluster.istio.io/v1alpha1
kind: RemoteServiceBinding
metadata: {name: r}
spec: {remote: [{cluster: cluster-b, services: [{name: shop}]}]}
)";
  Result r = TranslateText({{"cluster-b", svc}, {"cluster-a", rsb}});
  auto donor = Generated(r, "cluster-b", "VirtualService");
  ASSERT_EQ(donor.size(), 1u);
  const Node& http = *donor[0]->Find("spec")->Find("http");
  ASSERT_EQ(http.items().size(), 2u) << "HTTP ports only: 80 and 9000";
  EXPECT_EQ(http.items()[1]
                .Find("match")
                ->items()[0]
                .Find("headers")
                ->Find("x-meshfed-port")
                ->Find("exact")
                ->text(),
            "9000");
  auto acceptor = Generated(r, "cluster-a", "VirtualService");
  const Node& rule = acceptor[0]->Find("spec")->Find("http")->items()[1];
  EXPECT_EQ(rule.Find("match")->items()[0].Find("port")->text(), "9000");
  EXPECT_EQ(rule.Find("headers")->Find("request")->Find("set")->Find("x-meshfed-port")->text(),
            "9000");
}

// Which ports carry HTTP, as Istio tells them: appProtocol first (any case), else the port name's
// prefix; UDP ports never (ServicePort.CarriesHttpAsIstioSelectsTheProtocol has every rule). The
// exposed ports are listed in order.
TEST(Translator, OnlyHttpPortsAreExposedAndInOrder) {
  std::string svc = R"(
apiVersion: v1
kind: Service
metadata: {name: shop}
spec:
  ports:
  - {name: web, port: 9080, appProtocol: http}
  - {name: http-web, port: 80, appProtocol: tcp}
  - {name: http, port: 8080, protocol: UDP}
  - {name: tcp-db, port: 5432, appProtocol: HTTP}
)" + std::string(kSepShopToA);
  Result r = TranslateText({{"cluster-b", svc}});
  const Node* status = Status(r, "cluster-b", "s");
  ASSERT_NE(status, nullptr);
  std::vector<std::string> ports;
  for (const Node& p : status->Find("exposed")->items()[0].Find("ports")->items()) {
    ports.emplace_back(p.text());
  }
  EXPECT_EQ(ports, (std::vector<std::string>{"5432", "9080"})) << Yaml(status);
}

TEST(Translator, NeverOverwritesAUserObject) {
  std::string user_service =
      "apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\nspec: {ports: [{port: 9080}]}\n";
  Result r = TranslateText({{"cluster-b", kReviews + std::string(kSepToA)},
                            {"cluster-a", user_service + "---\n" + kRsbReviews}});
  EXPECT_TRUE(Generated(r, "cluster-a", "VirtualService").empty());
  const Node* status = Status(r, "cluster-a", "reviews-rsb");
  EXPECT_EQ(status->Find("services")->items()[0].Find("reason")->text(), "AliasConflict");
  EXPECT_EQ(status->Find("conditions")->items()[2].Find("status")->text(), "True");
}

// A user's mesh VirtualService for a bound name takes its traffic on sidecars (IST0109): the
// binding is reported as shadowed. One bound only to gateways does not apply to sidecars.
TEST(Translator, AUserVirtualServiceForABoundNameIsReportedAsShadowing) {
  auto translate = [](const std::string& gateways) {
    std::string user_vs =
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: mine}\n"
        "spec: {hosts: [reviews], " +
        gateways + "http: [{route: [{destination: {host: elsewhere}}]}]}\n";
    return TranslateText({{"cluster-b", kReviews + std::string(kSepToA)},
                          {"cluster-a", user_vs + "---\n" + kRsbReviews}});
  };
  auto warned = [](const Result& r) {
    return std::any_of(r.translation.diagnostics.begin(), r.translation.diagnostics.end(),
                       [](const Diagnostic& d) { return d.code == "MF2009"; });
  };
  Result r = translate("");
  const Node* status = Status(r, "cluster-a", "reviews-rsb");
  EXPECT_EQ(status->Find("services")->items()[0].Find("reason")->text(), "Shadowed");
  EXPECT_TRUE(warned(r));
  EXPECT_EQ(Generated(r, "cluster-a", "VirtualService").size(), 1u)
      << "meshfed's objects are still generated: removing the user's VS makes it work";

  Result gateway_only = translate("gateways: [ingress], ");
  status = Status(gateway_only, "cluster-a", "reviews-rsb");
  EXPECT_EQ(status->Find("services")->items()[0].Find("reason")->text(), "Bound");
  EXPECT_FALSE(warned(gateway_only));
}

// The same exposed name from two donors, bound under one local name: one ServiceEntry with both
// donors' gateways as endpoints when the ports agree (docs/data-plane.md, "Conflicts"); a conflict
// when they do not, even if only the exposed port differs.
TEST(Translator, OneLocalNameBindsTwoDonorsOnlyWhenTheirPortsAgree) {
  auto donor = [](int port) {
    return fmt::format(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: reviews}}\n"
        "spec: {{ports: [{{name: http, port: {}}}]}}\n{}",
        port, kSepToA);
  };
  const std::string rsb = R"(
apiVersion: multicluster.istio.io/v1alpha1
kind: RemoteServiceBinding
metadata: {name: reviews-rsb}
spec:
  remote:
  - {cluster: cluster-b, services: [{name: reviews, port: 9080}]}
  - {cluster: cluster-c, services: [{name: reviews, port: 9080}]}
)";
  Result same =
      TranslateText({{"cluster-b", donor(9080)}, {"cluster-c", donor(9080)}, {"cluster-a", rsb}});
  const Node* status = Status(same, "cluster-a", "reviews-rsb");
  ASSERT_NE(status, nullptr);
  ASSERT_EQ(status->Find("services")->items().size(), 2u);
  for (const Node& entry : status->Find("services")->items()) {
    EXPECT_EQ(entry.Find("reason")->text(), "Bound") << Yaml(status);
  }
  auto entries = Generated(same, "cluster-a", "ServiceEntry");
  ASSERT_EQ(entries.size(), 1u);
  std::vector<std::string> addresses;
  for (const Node& e : entries[0]->Find("spec")->Find("endpoints")->items()) {
    addresses.emplace_back(e.Find("address")->text());
  }
  EXPECT_EQ(addresses,
            (std::vector<std::string>{"192.0.2.20", "gw.cluster-b.example.com", "192.0.2.30"}))
      << Yaml(entries[0]);

  Result other_port =
      TranslateText({{"cluster-b", donor(9080)}, {"cluster-c", donor(8080)}, {"cluster-a", rsb}});
  status = Status(other_port, "cluster-a", "reviews-rsb");
  ASSERT_NE(status, nullptr);
  const Node& services = *status->Find("services");
  ASSERT_EQ(services.items().size(), 2u);
  EXPECT_EQ(services.items()[0].Find("reason")->text(), "Bound");
  EXPECT_EQ(services.items()[1].Find("reason")->text(), "AliasConflict") << Yaml(status);
}

// A second binding of the same donor's exposed name under a local name already bound is not a
// second endpoint: the newer binding conflicts.
TEST(Translator, TheSameDonorBoundTwiceUnderOneLocalNameConflicts) {
  const std::string again = R"(---
apiVersion: multicluster.istio.io/v1alpha1
kind: RemoteServiceBinding
metadata: {name: again-rsb}
spec: {remote: [{cluster: cluster-b, services: [{name: reviews}]}]}
)";
  Result r = TranslateText(
      {{"cluster-b", kReviews + std::string(kSepToA)}, {"cluster-a", kRsbReviews + again}});
  EXPECT_EQ(
      Status(r, "cluster-a", "reviews-rsb")->Find("services")->items()[0].Find("reason")->text(),
      "Bound");
  const Node& entry = Status(r, "cluster-a", "again-rsb")->Find("services")->items()[0];
  EXPECT_EQ(entry.Find("reason")->text(), "AliasConflict");
  EXPECT_NE(entry.Find("message")->text().find("already bound by RemoteServiceBinding "
                                               "default/reviews-rsb"),
            std::string_view::npos)
      << entry.Find("message")->text();
  auto entries = Generated(r, "cluster-a", "ServiceEntry");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]->Find("spec")->Find("endpoints")->items().size(), 2u)
      << "cluster-b's two gateway addresses, once each: " << Yaml(entries[0]);
}

TEST(Translator, IsDeterministic) {
  std::map<std::string, std::string> in = {{"cluster-b", kReviews + std::string(kSepToA)},
                                           {"cluster-a", kRsbReviews}};
  Result a = TranslateText(in);
  Result b = TranslateText(in);
  ASSERT_EQ(a.translation.clusters.size(), b.translation.clusters.size());
  for (size_t i = 0; i < a.translation.clusters.size(); ++i) {
    EXPECT_EQ(EmitYamlStream(a.translation.clusters[i].objects),
              EmitYamlStream(b.translation.clusters[i].objects));
  }
}

}  // namespace
}  // namespace meshfed
