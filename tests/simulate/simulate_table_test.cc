// The simulator's case table: tests/simulate/cases/*.yaml, each a fleet (per-cluster objects, on
// top of tests/simulate/bookinfo.yaml when `base: bookinfo`) and requests with the outcome Istio
// would give them. One gtest per case: "<file>/<case name>".
#include <gtest/gtest.h>

#include <filesystem>

#include "codec/emitter.h"
#include "codec/yaml_reader.h"
#include "core/simulate/report.h"
#include "core/simulate/simulator.h"
#include "file_text.h"
#include "fleet_text.h"

namespace meshfed {
namespace {
namespace fs = std::filesystem;

const fs::path kDir = fs::path(MESHFED_SOURCE_DIR) / "tests" / "simulate";

Node ReadDoc(const fs::path& p) {
  ReadResult r = ReadYamlStream(testing::FileText(p), p.string());
  if (!r.diagnostics.empty()) ADD_FAILURE() << r.diagnostics[0].Format();
  return r.documents.empty() ? Node() : r.documents[0];
}

struct CaseRef {
  std::string file;
  size_t index;
  std::string name;
};

void PrintTo(const CaseRef& c, std::ostream* os) { *os << c.file << ": " << c.name; }

std::vector<CaseRef> AllCases() {
  std::vector<CaseRef> out;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kDir / "cases")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    Node doc = ReadDoc(f);
    const Node* cases = doc.Find("cases");
    if (!cases) continue;
    for (size_t i = 0; i < cases->items().size(); ++i) {
      const Node* name = cases->items()[i].Find("name");
      out.push_back(
          CaseRef{f.stem().string(), i, name ? std::string(name->text()) : std::to_string(i)});
    }
  }
  return out;
}

std::string Text(const Node* n, std::string fallback = "") {
  return n && n->IsScalar() ? std::string(n->text()) : fallback;
}

class SimulateTable : public ::testing::TestWithParam<CaseRef> {};

// The case file's fleet, as the clusters would hold it after meshfed applied its objects.
Fleet CaseFleet(const Node& doc) {
  std::map<std::string, std::string> clusters;
  if (Text(doc.Find("base")) == "bookinfo")
    clusters["cluster-a"] = testing::FileText(kDir / "bookinfo.yaml");
  if (const Node* extra = doc.Find("clusters")) {
    for (const MapEntry& e : extra->entries()) {
      clusters[e.key.str()].append("\n---\n").append(e.value.text());
    }
  }
  Diagnostics diagnostics;
  Fleet fleet = testing::FleetFromText(testing::kThreeClusters, clusters, diagnostics);
  if (HasErrors(diagnostics)) ADD_FAILURE() << diagnostics[0].Format();
  Translation translation = Translate(fleet);
  return EffectiveFleet(fleet, translation);
}

// A case's request; false (with `error`) when its URL does not parse.
bool CaseInput(const Node& c, SimulateInput& input, std::string& error) {
  std::string from = Text(c.Find("from"), "cluster-a/default/productpage-v1");
  input.cluster = from.substr(0, from.find('/'));
  input.namespace_ = from.substr(from.find('/') + 1, from.rfind('/') - from.find('/') - 1);
  input.workload = from.substr(from.rfind('/') + 1);
  std::vector<std::string> headers;
  if (const Node* h = c.Find("headers")) {
    for (const Node& item : h->items()) headers.emplace_back(item.text());
  }
  auto request = ParseRequest(Text(c.Find("url"), "http://reviews:9080/reviews/0"),
                              Text(c.Find("method"), "GET"), headers, error);
  if (!request) return false;
  input.request = *request;
  return true;
}

TEST_P(SimulateTable, Case) {
  const CaseRef& ref = GetParam();
  Node doc = ReadDoc(kDir / "cases" / (ref.file + ".yaml"));
  Fleet effective = CaseFleet(doc);

  const Node& c = doc.Find("cases")->items()[ref.index];
  SimulateInput input;
  std::string error;
  ASSERT_TRUE(CaseInput(c, input, error)) << error;
  Simulation sim;
  ASSERT_TRUE(Simulate(effective, input, sim, error)) << error;
  std::string trace = SimulationToTable(input, sim);

  const Node& expect = *c.Find("expect");
  const Outcome& main = MainOutcome(sim);
  if (const Node* status = expect.Find("status")) {
    EXPECT_EQ(std::to_string(main.status), status->text()) << trace;
  }
  if (const Node* flag = expect.Find("flag")) {
    EXPECT_EQ(main.flag, flag->text()) << trace;
  }
  std::vector<DestinationShare> dests = Destinations(sim);
  if (const Node* subset = expect.Find("subset")) {
    ASSERT_EQ(dests.size(), 1u) << trace;
    EXPECT_EQ(dests[0].destination.subset, subset->text()) << trace;
    EXPECT_NEAR(dests[0].probability, 1.0, 1e-9) << trace;
  }
  if (const Node* cluster = expect.Find("cluster")) {
    ASSERT_FALSE(dests.empty()) << trace;
    EXPECT_EQ(dests[0].destination.cluster, cluster->text()) << trace;
  }
  if (const Node* host = expect.Find("host")) {
    ASSERT_FALSE(dests.empty()) << trace;
    EXPECT_EQ(dests[0].destination.host, host->text()) << trace;
  }
  if (const Node* port = expect.Find("port")) {
    ASSERT_FALSE(dests.empty()) << trace;
    EXPECT_EQ(std::to_string(dests[0].destination.port), port->text()) << trace;
  }
  if (const Node* workloads = expect.Find("workloads")) {
    ASSERT_FALSE(dests.empty()) << trace;
    std::vector<std::string> want;
    for (const Node& w : workloads->items()) want.emplace_back(w.text());
    EXPECT_EQ(dests[0].destination.workloads, want) << trace;
  }
  if (const Node* shares = expect.Find("destinations")) {
    // Keys: a subset, a host, or cluster/subset; values: probabilities.
    std::map<std::string, double> got;
    for (const DestinationShare& d : dests) {
      std::string key = d.destination.subset.empty() ? d.destination.host : d.destination.subset;
      bool qualified = std::any_of(
          shares->entries().begin(), shares->entries().end(),
          [](const MapEntry& e) { return e.key.view().find('/') != std::string::npos; });
      if (qualified) key = d.destination.cluster + "/" + key;
      got[key] += d.probability;
    }
    std::map<std::string, double> want;
    for (const MapEntry& e : shares->entries())
      want[e.key.str()] = std::stod(std::string(e.value.text()));
    ASSERT_EQ(got.size(), want.size()) << trace;
    for (const auto& [k, p] : want) EXPECT_NEAR(got[k], p, 1e-9) << k << "\n" << trace;
  }
  if (const Node* outcomes = expect.Find("outcomes")) {
    // Probability of each status, e.g. {500: 0.25, 200: 0.75}.
    std::map<std::string, double> got;
    for (const Outcome& o : sim.outcomes) got[std::to_string(o.status)] += o.probability;
    for (const MapEntry& e : outcomes->entries()) {
      EXPECT_NEAR(got[e.key.str()], std::stod(std::string(e.value.text())), 1e-9) << e.key << "\n"
                                                                                  << trace;
    }
  }
  if (const Node* hop = expect.Find("hop")) {
    EXPECT_NE(trace.find(hop->text()), std::string::npos)
        << "no hop mentions `" << hop->text() << "`\n"
        << trace;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, SimulateTable, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<CaseRef>& param_info) {
                           std::string name = param_info.param.file + "_" + param_info.param.name;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

// A RouteSimulator keeps what it derives from the fleet between requests: every case of a file,
// run through one simulator forwards and then backwards, gives the trace a one-off simulation
// gives.
TEST(RouteSimulator, ManyRequestsGiveWhatOneOffSimulationsGive) {
  size_t compared = 0;
  for (const auto& e : fs::directory_iterator(kDir / "cases")) {
    Node doc = ReadDoc(e.path());
    const Node* cases = doc.Find("cases");
    if (!cases) continue;
    Fleet effective = CaseFleet(doc);
    std::vector<SimulateInput> inputs;
    for (const Node& c : cases->items()) {
      SimulateInput input;
      std::string error;
      if (CaseInput(c, input, error)) inputs.push_back(input);
    }
    RouteSimulator simulator(effective);
    for (int pass = 0; pass < 2; ++pass) {
      for (size_t k = 0; k < inputs.size(); ++k) {
        const SimulateInput& input = inputs[pass == 0 ? k : inputs.size() - 1 - k];
        Simulation reused, fresh;
        std::string error_reused, error_fresh;
        bool ok_reused = simulator.Simulate(input, reused, error_reused);
        bool ok_fresh = Simulate(effective, input, fresh, error_fresh);
        ASSERT_EQ(ok_reused, ok_fresh) << e.path();
        EXPECT_EQ(error_reused, error_fresh);
        EXPECT_EQ(SimulationToTable(input, reused), SimulationToTable(input, fresh))
            << e.path() << " request " << input.request.authority << input.request.path;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 100u);
}

// Hops point into their simulation's TextStore: text saved early stays while more is saved
// (small pieces share blocks, big ones get their own) and after the store moves.
TEST(TextStore, SavedTextStaysWhileMoreIsSavedAndAfterAMove) {
  TextStore store;
  std::vector<std::string> texts;
  std::vector<std::string_view> saved;
  for (size_t i = 0; i < 3000; ++i) {
    texts.push_back(std::string(i % 7 == 0 ? 3000 + i : i % 100, static_cast<char>('a' + i % 26)));
    saved.push_back(store.Save(texts.back()));
  }
  TextStore moved = std::move(store);
  for (size_t i = 0; i < texts.size(); ++i) ASSERT_EQ(saved[i], texts[i]) << i;
  EXPECT_EQ(moved.Save(""), "");
  EXPECT_EQ(moved.Save("after the move"), "after the move");
  EXPECT_EQ(store.Save("into the moved-from store"), "into the moved-from store");
}

// A Simulation is moved out of functions and into containers: its hops must move with it.
TEST(RouteSimulator, AMovedSimulationKeepsItsTrace) {
  Node doc = ReadDoc(kDir / "cases" / "federation.yaml");
  Fleet effective = CaseFleet(doc);
  const Node* cases = doc.Find("cases");
  ASSERT_TRUE(cases && !cases->items().empty());
  SimulateInput input;
  std::string error;
  ASSERT_TRUE(CaseInput(cases->items()[0], input, error)) << error;
  RouteSimulator simulator(effective);
  std::vector<Simulation> kept;
  std::vector<std::string> tables;
  for (int i = 0; i < 20; ++i) {
    Simulation sim;
    ASSERT_TRUE(simulator.Simulate(input, sim, error)) << error;
    ASSERT_FALSE(sim.outcomes.empty());
    ASSERT_FALSE(sim.outcomes[0].hops.empty());
    tables.push_back(SimulationToTable(input, sim));
    kept.push_back(std::move(sim));  // the vector also moves earlier ones as it grows
  }
  for (size_t i = 0; i < kept.size(); ++i) EXPECT_EQ(SimulationToTable(input, kept[i]), tables[i]);
  EXPECT_EQ(tables.front(), tables.back());
}

}  // namespace
}  // namespace meshfed
