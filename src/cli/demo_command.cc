#include "cli/demo_command.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <ostream>
#include <set>

#include "cli/fleet_loading.h"
#include "codec/emitter.h"
#include "core/simulate/report.h"
#include "core/simulate/simulator.h"

#ifndef MESHFED_EXAMPLES_DIR
#define MESHFED_EXAMPLES_DIR "examples/bookinfo"
#endif

namespace meshfed {
namespace {

struct Step {
  const char* title;
  const char* jason;   // expected subset for jason, or "" for "not routable"
  const char* others;  // expected subset for an anonymous user
};

// PRODUCT.md section 6: the design note's acceptance table.
constexpr Step kSteps[] = {
    {"donor cluster-b: ServiceExpositionPolicy reviews-sep exposes reviews to cluster-a", "", ""},
    {"donor: + virtual-service-all-v1; acceptor cluster-a: RemoteServiceBinding binds reviews",
     "v1", "v1"},
    {"donor: + virtual-service-reviews-test-v2 (replaces the reviews VirtualService)", "v2", "v1"},
    {"donor: + donation aliases reviews-v1 and reviews-test, exposed to cluster-a", "v2", "v1"},
    {"acceptor: binds the donation alias reviews-v1 as reviews (rollback, no donor help)", "v1",
     "v1"},
    {"acceptor: binds the donation alias reviews-test as reviews", "v2", "v1"},
    {"donor: ServiceExpositionPolicy removed", "", ""},
};

std::string Key(const Node& o) {
  const Node* meta = o.Find("metadata");
  return fmt::format("{} {}/{}", o.Find("kind")->text(), meta->Find("namespace")->text(),
                     meta->Find("name")->text());
}

std::map<std::string, std::map<std::string, std::string>> Rendered(const Translation& t) {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const ClusterOutput& c : t.clusters) {
    for (const Node& o : c.objects) {
      std::string yaml;
      EmitYaml(o, yaml);
      out[c.cluster][Key(o)] = yaml;
    }
  }
  return out;
}

std::string Landed(const Simulation& s) {
  std::vector<DestinationShare> d = Destinations(s);
  if (d.size() == 1 && d[0].probability > 0.99999) return d[0].destination.subset;
  return "";
}

Simulation Run(const Fleet& fleet, const std::string& cluster,
               const std::vector<std::string>& headers) {
  SimulateInput input{cluster, "default", "productpage-v1", {}};
  std::string error;
  input.request = *ParseRequest("http://reviews:9080/reviews/0", "GET", headers, error);
  Simulation s;
  Simulate(fleet, input, s, error);
  return s;
}

// cluster-c's operator copies cluster-a's generated objects: the donor must still refuse.
Fleet Forged(const Fleet& fleet, const Translation& translation) {
  Translation forged = translation;
  for (ClusterOutput& c : forged.clusters) {
    if (c.cluster != "cluster-c") continue;
    for (const ClusterOutput& a : translation.clusters) {
      if (a.cluster == "cluster-a")
        c.objects.insert(c.objects.end(), a.objects.begin(), a.objects.end());
    }
  }
  return EffectiveFleet(fleet, forged);
}

}  // namespace

void AddDemoCommand(CLI::App& app, DemoOptions& options) {
  CLI::App* cmd = app.add_subcommand(
      "demo", "Walk the request-routing design note step by step on the bundled bookinfo fleet");
  cmd->add_option(
      "BOOKINFO_DIR", options.examples,
      "Directory with step1..step7 (default: examples/bookinfo, else the source tree's)");
}

int RunDemo(const DemoOptions& options, std::ostream& out, std::ostream& err) {
  std::string dir = options.examples;
  if (dir.empty()) {
    dir = std::filesystem::is_directory("examples/bookinfo/step1") ? "examples/bookinfo"
                                                                   : MESHFED_EXAMPLES_DIR;
  }
  out << "meshfed demo: the request-routing design note on the bookinfo fleet in " << dir << "\n"
      << "cluster-a: acceptor (productpage); cluster-b: donor (reviews v1, v2, v3);\n"
      << "cluster-c: an outsider that binds reviews without being allowed to.\n"
      << "Each step: GET http://reviews:9080/reviews/0 from productpage, simulated over what "
         "users\n"
      << "wrote plus what meshfed generates.\n";
  int mismatches = 0;
  std::map<std::string, std::map<std::string, std::string>> previous;
  for (size_t i = 0; i < std::size(kSteps); ++i) {
    const Step& step = kSteps[i];
    std::string path = fmt::format("{}/step{}", dir, i + 1);
    std::optional<LoadedFleet> loaded = LoadAndTranslate(path, "demo", err, false);
    if (!loaded) return 1;
    out << fmt::format("\nStep {}: {}\n", i + 1, step.title);

    // What meshfed changed in each cluster.
    auto now = Rendered(loaded->translation);
    for (const Cluster& c : loaded->fleet.clusters) {
      std::vector<std::string> changes;
      for (const auto& [key, yaml] : now[c.name]) {
        auto it = previous[c.name].find(key);
        if (it == previous[c.name].end()) {
          changes.push_back("+ " + key);
        } else if (it->second != yaml) {
          changes.push_back("~ " + key);
        }
      }
      for (const auto& [key, yaml] : previous[c.name]) {
        if (!now[c.name].count(key)) changes.push_back("- " + key);
      }
      if (changes.empty()) continue;
      out << fmt::format("  meshfed changes in {}:\n", c.name);
      for (const std::string& change : changes) out << "    " << change << '\n';
    }
    previous = now;

    Fleet effective = EffectiveFleet(loaded->fleet, loaded->translation);
    struct Who {
      const char* label;
      std::string cluster;
      std::vector<std::string> headers;
      const char* expected;
    };
    const Who who[] = {{"jason     ", "cluster-a", {"end-user: jason"}, step.jason},
                       {"anonymous ", "cluster-a", {}, step.others},
                       {"outsider  ", "cluster-c", {"end-user: jason"}, ""}};
    for (const Who& w : who) {
      Simulation s = Run(effective, w.cluster, w.headers);
      std::string landed = Landed(s);
      bool ok = landed == w.expected;
      mismatches += ok ? 0 : 1;
      out << fmt::format("  {} from {}: {:<58} expected {:<14} {}\n", w.label, w.cluster,
                         Summary(s), *w.expected ? w.expected : "not routable",
                         ok ? "ok" : "MISMATCH");
    }
    if (i == 1) {
      Simulation s = Run(Forged(loaded->fleet, loaded->translation), "cluster-c", {});
      bool ok = MainOutcome(s).status == 403;
      mismatches += ok ? 0 : 1;
      out << fmt::format(
          "  outsider with cluster-a's generated objects copied in: {:<30} expected 403 {}\n",
          Summary(s), ok ? "ok" : "MISMATCH");
    }
  }
  out << (mismatches == 0
              ? "\nEvery outcome matches the design note's table.\n"
              : fmt::format("\n{} outcome(s) differ from the design note's table.\n", mismatches));
  return mismatches == 0 ? 0 : 1;
}

}  // namespace meshfed
