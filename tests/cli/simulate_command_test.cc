#include "cli/simulate_command.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/demo_command.h"
#include "codec/yaml_reader.h"
#include "file_text.h"

namespace meshfed {
namespace {

std::string Step(int n) {
  return std::string(MESHFED_SOURCE_DIR) + "/examples/bookinfo/step" + std::to_string(n);
}

TEST(Simulate, JsonHasStatusHopsAndDestinations) {
  SimulateOptions o;
  o.fleet = Step(3);
  o.from = "cluster-a/default/productpage-v1";
  o.url = "http://reviews:9080/reviews/0";
  o.headers = {"end-user: jason"};
  o.format = "json";
  std::ostringstream out, err;
  ASSERT_EQ(RunSimulate(o, out, err), 0) << err.str();
  ReadResult r = ReadYamlStream(out.str(), "out.json");
  ASSERT_TRUE(r.diagnostics.empty()) << out.str();
  const Node& doc = r.documents.at(0);
  EXPECT_EQ(doc.Find("status")->text(), "200");
  EXPECT_GE(doc.Find("hops")->items().size(), 8u);
  const Node& dest = doc.Find("destinations")->items().at(0);
  EXPECT_EQ(dest.Find("cluster")->text(), "cluster-b");
  EXPECT_EQ(dest.Find("host")->text(), "reviews.default.svc.cluster.local");
  EXPECT_EQ(dest.Find("subset")->text(), "v2");
  EXPECT_EQ(dest.Find("port")->text(), "9080");
  EXPECT_EQ(dest.Find("workloads")->items().at(0).text(), "reviews-v2");
  EXPECT_EQ(dest.Find("probability")->text(), "1");
}

// The hop-by-hop trace is what users read: its golden files are tests/data/simulate/*.txt
// (UPDATE_GOLDEN=1 rewrites them). Paths are relative to the source tree.
TEST(Simulate, TraceMatchesGolden) {
  struct Case {
    const char* file;
    int step;
    const char* from;
    std::vector<std::string> headers;
  };
  const Case cases[] = {
      {"step3-jason.txt", 3, "cluster-a/default/productpage-v1", {"end-user: jason"}},
      {"step5-anonymous.txt", 5, "cluster-a/default/productpage-v1", {}},
      {"step2-outsider.txt", 2, "cluster-c/default/productpage-v1", {}},
  };
  std::filesystem::current_path(MESHFED_SOURCE_DIR);
  for (const Case& c : cases) {
    SimulateOptions o;
    o.fleet = "examples/bookinfo/step" + std::to_string(c.step);
    o.from = c.from;
    o.url = "http://reviews:9080/reviews/0";
    o.headers = c.headers;
    std::ostringstream out, err;
    ASSERT_EQ(RunSimulate(o, out, err), 0) << err.str();
    std::filesystem::path golden = std::filesystem::path("tests/data/simulate") / c.file;
    if (std::getenv("UPDATE_GOLDEN") != nullptr) {
      std::ofstream(golden, std::ios::binary) << out.str();
      continue;
    }
    EXPECT_EQ(out.str(), testing::FileText(golden)) << c.file << " (UPDATE_GOLDEN=1 rewrites it)";
  }
}

TEST(Simulate, FailureHasAFlag) {
  SimulateOptions o;
  o.fleet = Step(1);
  o.from = "cluster-a/default/productpage-v1";
  o.url = "http://reviews:9080/reviews/0";
  o.format = "json";
  std::ostringstream out, err;
  ASSERT_EQ(RunSimulate(o, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("\"flag\": \"DNS\""), std::string::npos) << out.str();
}

TEST(Simulate, UsageErrors) {
  std::ostringstream out, err;
  SimulateOptions o;
  o.fleet = Step(2);
  o.url = "http://reviews:9080/";
  o.from = "cluster-a/productpage-v1";
  EXPECT_EQ(RunSimulate(o, out, err), 2);
  o.from = "cluster-a/default/nope";
  EXPECT_EQ(RunSimulate(o, out, err), 2);
  EXPECT_NE(err.str().find("no Deployment default/nope"), std::string::npos);
  o.from = "cluster-a/default/productpage-v1";
  o.url = "reviews:9080";
  EXPECT_EQ(RunSimulate(o, out, err), 2);
  o.url = "http://reviews:99999/";
  EXPECT_EQ(RunSimulate(o, out, err), 2);
  o.url = "http://reviews:9080/";
  o.headers = {"no colon"};
  EXPECT_EQ(RunSimulate(o, out, err), 2);
}

TEST(Simulate, BadFleetSimulatesNothing) {
  SimulateOptions o;
  o.fleet = std::string(MESHFED_SOURCE_DIR) + "/tests/golden/cases/design-note-verbatim/fleet";
  o.from = "cluster-b/default/x";
  o.url = "http://reviews:9080/";
  std::ostringstream out, err;
  EXPECT_EQ(RunSimulate(o, out, err), 1);
  EXPECT_EQ(out.str(), "");
}

TEST(Demo, TheDesignNotesTableComesTrue) {
  DemoOptions o;
  o.examples = std::string(MESHFED_SOURCE_DIR) + "/examples/bookinfo";
  std::ostringstream out, err;
  EXPECT_EQ(RunDemo(o, out, err), 0) << out.str() << err.str();
  EXPECT_NE(out.str().find("Every outcome matches the design note's table."), std::string::npos);
  EXPECT_EQ(out.str().find("MISMATCH"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("403 RBAC"), std::string::npos) << "the forged outsider is refused";
}

}  // namespace
}  // namespace meshfed
