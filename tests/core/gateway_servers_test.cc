#include "core/model/gateway_servers.h"

#include <gtest/gtest.h>

#include <list>
#include <string>
#include <vector>

#include "codec/yaml_reader.h"

namespace meshfed {
namespace {

// The Gateways of a YAML stream, read as the fleet reads them.
class Gateways {
 public:
  explicit Gateways(const std::string& text) {
    ReadResult r = ReadYamlStream(text, "gateways.yaml");
    Diagnostics d = r.diagnostics;
    uint64_t order = 0;
    AppendObjects(std::move(r.documents), "gateways.yaml", order, objects_, d);
    EXPECT_TRUE(d.empty());
    for (const Object& o : objects_) gateways_.push_back(ReadGateway(o, "c", d));
    EXPECT_TRUE(d.empty());
  }
  const std::list<Gateway>& list() const { return gateways_; }
  const Gateway& operator[](const std::string& name) const {
    for (const Gateway& g : gateways_) {
      if (g.object->name == name) return g;
    }
    throw std::out_of_range(name);
  }

  // Offers every server on `port` of the Gateways selecting `labels`, in merge order; the
  // verdicts in the same order.
  std::vector<GatewayPortServers::Verdict> Merge(GatewayPortServers& merge, int port,
                                                 const Labels& labels = {{"app", "gw"}}) const {
    std::vector<GatewayPortServers::Verdict> verdicts;
    for (const Gateway* g : GatewaysSelecting(gateways_, labels)) {
      const std::vector<Node>& servers = g->object->spec()->Find("servers")->items();
      for (size_t i = 0; i < servers.size(); ++i) {
        std::optional<GatewayServer> s =
            ReadGatewayServer(g->object->namespace_, servers[i], i, port);
        if (!s) continue;
        s->gateway = g;
        verdicts.push_back(merge.Offer(std::move(*s)));
      }
    }
    return verdicts;
  }

 private:
  std::vector<Object> objects_;
  std::list<Gateway> gateways_;
};

std::string GatewayYaml(const std::string& name, const std::string& created,
                        const std::string& servers, const std::string& selector = "{app: gw}") {
  return "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: " + name +
         ", namespace: edge, creationTimestamp: \"" + created +
         "\"}\nspec:\n  selector: " + selector + "\n  servers:\n" + servers + "---\n";
}

std::string Server(const std::string& protocol, const std::string& hosts,
                   const std::string& tls = "", int port = 443) {
  std::string s = "  - port: {number: " + std::to_string(port) + ", name: p" + protocol +
                  ", protocol: " + protocol + "}\n    hosts: " + hosts + "\n";
  if (!tls.empty()) s += "    tls: " + tls + "\n";
  return s;
}

// A server's hosts, as read from a one-server Gateway (its tree is gone after: only the hosts are
// looked at).
std::optional<GatewayServer> ReadOne(const std::string& hosts, int port = 443) {
  Gateways gws(GatewayYaml("g", "2020-01-01T00:00:00Z", Server("HTTPS", hosts)));
  return ReadGatewayServer("edge", gws["g"].object->spec()->Find("servers")->items()[0], 0, port);
}

TEST(GatewayServers, HostsAreReadAsIstioRewritesThem) {
  std::optional<GatewayServer> s =
      ReadOne("[\"*/A.example.com\", ./b.example.com, team/c.example.com]");
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->hosts.size(), 3u);
  EXPECT_EQ(s->Written(0), "a.example.com") << "`*/h` is `h`, lower-cased";
  EXPECT_EQ(s->Written(1), "edge/b.example.com") << "`./h` is the Gateway's namespace";
  EXPECT_EQ(s->Written(2), "team/c.example.com");
  EXPECT_EQ(s->SniNames(),
            (std::vector<std::string>{"a.example.com", "b.example.com", "c.example.com"}));
}

TEST(GatewayServers, OnlyStarSlashStarMakesEveryHostAStar) {
  std::optional<GatewayServer> all = ReadOne("[a.example.com, \"*/*\", b.example.com]");
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->hosts.size(), 1u);
  EXPECT_EQ(all->Written(0), "*");
  std::optional<GatewayServer> star = ReadOne("[\"*\", a.example.com]");
  ASSERT_TRUE(star.has_value());
  ASSERT_EQ(star->hosts.size(), 2u) << "a plain `*` keeps the server's other hosts";
  EXPECT_EQ(star->Written(1), "a.example.com");
  EXPECT_TRUE(star->SniNames().empty()) << "but its chain matches any SNI";
}

TEST(GatewayServers, AServerOnAnotherPortOrWithoutHostsIsNotRead) {
  EXPECT_FALSE(ReadOne("[a.example.com]", 8443).has_value());
  EXPECT_FALSE(ReadOne("a.example.com").has_value()) << "hosts is not a list";
}

TEST(GatewayServers, GatewaysMergeOldestFirstAndAnEmptySelectorSelectsEveryProxy) {
  Gateways gws(GatewayYaml("new", "2022-01-01T00:00:00Z", Server("HTTP", "[a]")) +
               GatewayYaml("old", "2020-01-01T00:00:00Z", Server("HTTP", "[a]"), "{}") +
               GatewayYaml("b-tie", "2021-01-01T00:00:00Z", Server("HTTP", "[a]")) +
               GatewayYaml("a-tie", "2021-01-01T00:00:00Z", Server("HTTP", "[a]")) +
               GatewayYaml("other", "2019-01-01T00:00:00Z", Server("HTTP", "[a]"), "{app: x}"));
  std::vector<std::string> names;
  for (const Gateway* g : GatewaysSelecting(gws.list(), {{"app", "gw"}, {"zone", "1"}})) {
    names.push_back(g->object->name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"old", "a-tie", "b-tie", "new"}));
}

TEST(GatewayServers, ATlsServerRepeatingAHostIsSkippedWhole) {
  Gateways gws(
      GatewayYaml("first", "2020-01-01T00:00:00Z",
                  Server("HTTPS", "[\"*/a.example.com\"]", "{mode: SIMPLE}")) +
      GatewayYaml("second", "2021-01-01T00:00:00Z",
                  Server("HTTPS", "[b.example.com, a.example.com]", "{mode: SIMPLE}")) +
      GatewayYaml("third", "2022-01-01T00:00:00Z",
                  Server("HTTPS", "[edge/a.example.com, b.example.com]", "{mode: SIMPLE}")));
  GatewayPortServers merge;
  auto v = gws.Merge(merge, 443);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].skip, GatewayPortServers::Skip::kNone);
  EXPECT_EQ(v[1].skip, GatewayPortServers::Skip::kDuplicateHost);
  EXPECT_EQ(v[1].host, "a.example.com");
  EXPECT_EQ(v[1].by.gateway, &gws["first"]);
  EXPECT_EQ(v[2].skip, GatewayPortServers::Skip::kNone)
      << "`edge/a` is not `a` as written, and the skipped server's `b` was never known";
  EXPECT_EQ(merge.servers().size(), 2u);
}

TEST(GatewayServers, HostsOfAServerSkippedForItsProtocolStillCount) {
  // Istio checks duplicates before protocols: the HTTPS server's host is known though the
  // plaintext port leaves the server out, and an HTTP server with `tls` repeating it goes too.
  Gateways gws(GatewayYaml("plain", "2020-01-01T00:00:00Z", Server("HTTP", "[a.example.com]")) +
               GatewayYaml("https", "2021-01-01T00:00:00Z",
                           Server("HTTPS", "[b.example.com]", "{mode: SIMPLE}")) +
               GatewayYaml("redirect", "2022-01-01T00:00:00Z",
                           Server("HTTP", "[b.example.com]", "{httpsRedirect: true}") +
                               Server("HTTP2", "[c.example.com]", "{httpsRedirect: true}")));
  GatewayPortServers merge;
  auto v = gws.Merge(merge, 443);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_TRUE(merge.plaintext());
  EXPECT_EQ(v[1].skip, GatewayPortServers::Skip::kProtocolConflict);
  EXPECT_EQ(v[1].by.gateway, &gws["plain"]);
  EXPECT_EQ(v[2].skip, GatewayPortServers::Skip::kDuplicateHost);
  EXPECT_EQ(v[2].by.gateway, &gws["https"]) << "the server that named it first, though skipped";
  EXPECT_EQ(v[3].skip, GatewayPortServers::Skip::kNone) << "HTTP2 merges with HTTP";
  EXPECT_EQ(merge.servers().size(), 2u);
}

TEST(GatewayServers, TheFirstServerDecidesWhatThePortIs) {
  {
    Gateways gws(GatewayYaml("tls", "2020-01-01T00:00:00Z",
                             Server("TLS", "[\"*.local\"]", "{mode: AUTO_PASSTHROUGH}")) +
                 GatewayYaml("more", "2021-01-01T00:00:00Z",
                             Server("HTTPS", "[a.example.com]", "{mode: ISTIO_MUTUAL}") +
                                 Server("HTTP", "[b.example.com]") +
                                 Server("TCP", "[c.example.com]")));
    GatewayPortServers merge;
    auto v = gws.Merge(merge, 443);
    ASSERT_EQ(v.size(), 4u);
    EXPECT_FALSE(merge.plaintext());
    EXPECT_EQ(v[1].skip, GatewayPortServers::Skip::kNone);
    EXPECT_EQ(v[2].skip, GatewayPortServers::Skip::kWithoutTls);
    EXPECT_EQ(v[3].skip, GatewayPortServers::Skip::kWithoutTls);
    EXPECT_EQ(v[3].by.gateway, &gws["tls"]);
  }
  {
    // A plaintext port whose first server is not HTTP keeps no other server.
    Gateways gws(GatewayYaml("tcp", "2020-01-01T00:00:00Z", Server("TCP", "[a.example.com]")) +
                 GatewayYaml("more", "2021-01-01T00:00:00Z",
                             Server("HTTP", "[b.example.com]") + Server("TCP", "[c.example.com]") +
                                 Server("HTTPS", "[d.example.com]", "{mode: SIMPLE}")));
    GatewayPortServers merge;
    auto v = gws.Merge(merge, 443);
    ASSERT_EQ(v.size(), 4u);
    EXPECT_TRUE(merge.plaintext()) << "a TCP server without `tls` makes the port plaintext";
    for (size_t i = 1; i < v.size(); ++i) {
      EXPECT_EQ(v[i].skip, GatewayPortServers::Skip::kProtocolConflict) << i;
    }
  }
}

TEST(GatewayServers, ChainsMatchingOneSniNameOverlap) {
  auto overlap = [](const std::string& servers) {
    Gateways gws(GatewayYaml("g", "2020-01-01T00:00:00Z", servers));
    GatewayPortServers merge;
    gws.Merge(merge, 443);
    std::vector<GatewayPortServers::Overlap> all = merge.Overlaps();
    return all.empty() ? std::nullopt : std::optional(all.front());
  };
  const std::string m = "{mode: ISTIO_MUTUAL}";
  auto o = overlap(Server("HTTPS", "[team-a/y.example.com]", m) +
                   Server("HTTPS", "[team-b/x.example.com, team-b/y.example.com]", m));
  ASSERT_TRUE(o.has_value()) << "the namespace does not reach the filter chain";
  EXPECT_EQ(o->first, 0u);
  EXPECT_EQ(o->second, 1u);
  EXPECT_EQ(o->sni, "y.example.com");

  EXPECT_FALSE(overlap(Server("HTTPS", "[\"*\", y.example.com]", m) +
                       Server("HTTPS", "[team/y.example.com]", m)))
      << "a chain with `*` has no server names: no overlap with one that names y";
  o = overlap(Server("HTTPS", "[a/*]", m) + Server("HTTPS", "[b/*]", m));
  ASSERT_TRUE(o.has_value()) << "two chains that match any SNI";
  EXPECT_EQ(o->sni, "*");
  EXPECT_FALSE(
      overlap(Server("HTTPS", "[a/*.example.com]", m) + Server("HTTPS", "[b/x.example.com]", m)))
      << "a wildcard and a name it covers are distinct server names";
  for (const char* passthrough : {"{mode: PASSTHROUGH}", "{mode: AUTO_PASSTHROUGH}"}) {
    EXPECT_FALSE(overlap(Server("HTTPS", "[a/y.example.com]", passthrough) +
                         Server("HTTPS", "[b/y.example.com]", m)))
        << passthrough << ": only chains that terminate HTTPS are compared";
  }
  EXPECT_FALSE(overlap(Server("HTTPS", "[a/y.example.com, b/y.example.com]", m)))
      << "one server's names are taken once";
  EXPECT_FALSE(overlap(Server("HTTP", "[a/y.example.com]") + Server("HTTP", "[b/y.example.com]")))
      << "a plaintext port has one chain";
}

TEST(GatewayServers, EachOverlappingPairIsListedOnce) {
  const std::string m = "{mode: SIMPLE}";
  Gateways gws(GatewayYaml("g", "2020-01-01T00:00:00Z",
                           Server("HTTPS", "[a/y.example.com]", m) +
                               Server("HTTPS", "[b/y.example.com, b/z.example.com]", m) +
                               Server("HTTPS", "[c/z.example.com, c/y.example.com]", m)));
  GatewayPortServers merge;
  gws.Merge(merge, 443);
  std::vector<std::string> pairs;
  for (const GatewayPortServers::Overlap& o : merge.Overlaps()) {
    pairs.push_back(std::to_string(o.first) + "-" + std::to_string(o.second) + " " + o.sni);
  }
  EXPECT_EQ(pairs, (std::vector<std::string>{"0-1 y.example.com", "0-2 y.example.com",
                                             "1-2 y.example.com"}))
      << "servers 1 and 2 share two names: one entry";
}

}  // namespace
}  // namespace meshfed
