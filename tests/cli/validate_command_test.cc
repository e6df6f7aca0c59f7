#include "cli/validate_command.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/fleet_dir_store.h"
#include "codec/emitter.h"
#include "codec/yaml_reader.h"
#include "core/validate/istio_rules.h"
#include "core/validate/schema.h"
#include "core/validate/validate.h"

namespace meshfed {
namespace {
namespace fs = std::filesystem;

const std::string kSource = MESHFED_SOURCE_DIR;

std::string Step(int n) { return kSource + "/examples/bookinfo/step" + std::to_string(n); }

fs::path WriteTemp(const std::string& name, const std::string& text) {
  fs::path dir = fs::temp_directory_path() / "meshfed-validate-test";
  fs::create_directories(dir);
  fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

struct Outcome {
  int code;
  std::string out, err;
};
Outcome Validate(ValidateOptions o) {
  std::ostringstream out, err;
  int code = RunValidate(o, out, err);
  return {code, out.str(), err.str()};
}

TEST(ValidateCommand, BundledStepsHaveNoErrors) {
  for (int step = 1; step <= 7; ++step) {
    ValidateOptions o;
    o.paths = {Step(step)};
    Outcome r = Validate(o);
    EXPECT_EQ(r.code, 0) << "step " << step << "\n" << r.out << r.err;
    // Istio's own samples pass Istio's rules and analyzers.
    EXPECT_EQ(r.out.find(" IST0"), std::string::npos) << "step " << step << "\n" << r.out;
    EXPECT_NE(r.out.find("meshfed validate: "), std::string::npos);
  }
}

TEST(ValidateCommand, WarningsFailOnlyWithStrict) {
  ValidateOptions o;
  o.paths = {Step(2)};  // cluster-c binds reviews without being allowed to (MF2004)
  Outcome r = Validate(o);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("warning MF2004"), std::string::npos);
  EXPECT_NE(r.out.find("0 error(s), 1 warning(s)"), std::string::npos) << r.out;
  o.strict = true;
  EXPECT_EQ(Validate(o).code, 1);
}

TEST(ValidateCommand, ErrorsExitOneAndAreAllListed) {
  fs::path file = WriteTemp("two-errors.yaml", R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, port: {number: 70000}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets: [{name: v1}, {name: v1}]
)");
  ValidateOptions o;
  o.paths = {file.string()};
  Outcome r = Validate(o);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("two-errors.yaml:8:51: error IST0106"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("port number 70000 must be in the range 1..65535"), std::string::npos);
  EXPECT_NE(r.out.find("two-errors.yaml:15:32: error IST0106"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 error(s), 2 warning(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("duplicate subset names: v1"), std::string::npos);
  EXPECT_NE(r.out.find("in local field"), std::string::npos) << "files form the cluster `local`";
}

TEST(ValidateCommand, JsonNamesEveryPart) {
  fs::path file = WriteTemp("json.yaml", R"(apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subst: v1}
)");
  ValidateOptions o;
  o.paths = {file.string()};
  o.format = "json";
  o.cluster = "cluster-b";
  Outcome r = Validate(o);
  EXPECT_EQ(r.code, 1);
  ReadResult report = ReadYamlStream(r.out, "report.json");
  ASSERT_TRUE(report.diagnostics.empty()) << r.out;
  const Node& root = report.documents.at(0);
  EXPECT_EQ(root.Find("errors")->text(), "1");
  const Node* found = nullptr;
  for (const Node& d : root.Find("diagnostics")->items()) {
    if (d.Find("code")->text() == "MF1012") found = &d;
  }
  ASSERT_NE(found, nullptr) << r.out;
  std::string json;
  EmitJson(*found, json);
  Node expected = ReadYamlStream(R"({"code": "MF1012", "severity": "error", "file": ")" +
                                     file.string() + R"(", "line": 8, "column": 36,
      "object": {"cluster": "cluster-b", "kind": "VirtualService", "namespace": "shop",
                 "name": "reviews"},
      "field": "spec.http[0].route[0].destination.subst",
      "message": "unknown field `subst`; did you mean `subset`?"})",
                                 "expected.json")
                      .documents.at(0);
  EXPECT_TRUE(*found == expected) << json;
}

TEST(ValidateCommand, FilesAgainstAFleet) {
  // A binding that cluster-b does not allow, checked as if applied to cluster-c of step 3.
  fs::path file = WriteTemp("rsb.yaml", R"(apiVersion: multicluster.istio.io/v1alpha1
kind: RemoteServiceBinding
metadata: {name: ratings-rsb}
spec:
  remote:
  - cluster: cluster-b
    services: [{name: ratings}]
)");
  ValidateOptions o;
  o.paths = {file.string()};
  o.fleet = Step(3);
  o.cluster = "cluster-c";
  Outcome r = Validate(o);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("rsb.yaml:7:23: warning MF2004"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("exposes no `ratings`"), std::string::npos) << r.out;

  o.cluster = "cluster-z";
  r = Validate(o);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("has no cluster `cluster-z`"), std::string::npos);
  o.cluster.clear();
  EXPECT_EQ(Validate(o).code, 2) << "a fleet of three clusters needs --cluster";
}

TEST(ValidateCommand, StandaloneFilesSkipFleetChecks) {
  fs::path file = WriteTemp("sep.yaml", R"(apiVersion: multicluster.istio.io/v1alpha1
kind: ServiceExpositionPolicy
metadata: {name: reviews-sep}
spec:
  exposed: [{name: reviews, clusters: [cluster-a]}]
)");
  ValidateOptions o;
  o.paths = {file.string()};
  Outcome r = Validate(o);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.find("MF2001"), std::string::npos) << "no registry: every cluster is unknown";
}

TEST(ValidateCommand, UsageErrors) {
  ValidateOptions o;
  o.paths = {Step(1), Step(2)};
  EXPECT_EQ(Validate(o).code, 2) << "two fleet directories";
  o.paths = {Step(1)};
  o.cluster = "cluster-a";
  EXPECT_EQ(Validate(o).code, 2) << "--cluster applies to files";
  o.cluster = "Not_A_Name";
  o.paths = {WriteTemp("x.yaml", "").string()};
  EXPECT_EQ(Validate(o).code, 2);
}

// meshfed's own output must pass the checks it applies to users' objects: render every golden
// case and every example step, and check each generated object against Istio's schema and rules.
TEST(GeneratedObjects, PassIstioValidation) {
  std::vector<std::string> fleets;
  for (int step = 1; step <= 7; ++step) fleets.push_back(Step(step));
  for (const auto& e : fs::directory_iterator(kSource + "/tests/golden/cases")) {
    if (fs::exists(e.path() / "expected" / "exit-code") &&
        std::ifstream(e.path() / "expected" / "exit-code").get() == '0') {
      fleets.push_back((e.path() / "fleet").string());
    }
  }
  ASSERT_GT(fleets.size(), 8u);
  size_t checked = 0;
  for (const std::string& f : fleets) {
    Diagnostics d;
    absl::StatusOr<FleetSource> source = ReadFleetDirectory(f, d);
    ASSERT_TRUE(source.ok()) << f;
    CheckedFleet c = CheckFleet(std::move(*source), d);
    ASSERT_FALSE(c.HasErrors()) << f;
    for (const ClusterOutput& out : c.translation.clusters) {
      std::vector<Object> objects;
      uint64_t order = 0;
      Diagnostics envelope;
      AppendObjects(out.objects, "generated", order, objects, envelope);
      ASSERT_TRUE(envelope.empty()) << f;
      for (const Object& o : objects) {
        Diagnostics problems;
        CheckIstioSchema(o, out.cluster, problems);
        CheckIstioRules(o, out.cluster, problems);
        std::string all;
        for (const Diagnostic& p : problems) all += p.Format() + "\n";
        EXPECT_TRUE(problems.empty()) << f << " " << o.Describe() << "\n" << all;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 50u);
}

}  // namespace
}  // namespace meshfed
