// The CRDs in deploy/crds: structural schemas that accept every SEP, RSB and MeshCluster meshfed
// accepts, and reject what meshfed's own reader rejects (unknown fields, wrong types, ranges,
// missing required fields) — so a malformed object never reaches a cluster.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <filesystem>

#include "adapters/fleet_dir_store.h"
#include "codec/yaml_reader.h"
#include "core/model/kinds.h"
#include "file_text.h"

namespace meshfed {
namespace {
namespace fs = std::filesystem;

const fs::path kSource = MESHFED_SOURCE_DIR;

Node ReadOne(const fs::path& p) {
  ReadResult r = ReadYamlStream(testing::FileText(p), p.string());
  EXPECT_TRUE(r.diagnostics.empty()) << p;
  return r.documents.at(0);
}

// The subset of OpenAPI v3 structural schemas the CRDs use, as the API server applies it (with
// strict field validation: unknown fields are errors, not silently pruned).
void Check(const Node& schema, const Node& value, const std::string& path,
           std::vector<std::string>& errors) {
  auto str = [&](const char* key) {
    const Node* v = schema.Find(key);
    return v && v->IsScalar() ? std::string(v->text()) : std::string();
  };
  if (value.IsNull()) return;
  std::string type(str("type"));
  if (type == "object") {
    if (!value.IsMapping()) {
      errors.push_back(path + ": must be an object");
      return;
    }
    const Node* props = schema.Find("properties");
    const Node* additional = schema.Find("additionalProperties");
    bool preserve = str("x-kubernetes-preserve-unknown-fields") == "true";
    for (const MapEntry& e : value.entries()) {
      const Node* sub = props ? props->Find(e.key) : nullptr;
      if (sub) {
        Check(*sub, e.value, path + "." + e.key, errors);
      } else if (additional && additional->IsMapping()) {
        Check(*additional, e.value, path + "." + e.key, errors);
      } else if (!preserve && !(props == nullptr && !additional)) {
        errors.push_back(path + "." + e.key + ": unknown field");
      }
    }
    if (const Node* required = schema.Find("required")) {
      for (const Node& r : required->items()) {
        if (!value.Find(r.text()))
          errors.push_back(path + "." + std::string(r.text()) + ": Required value");
      }
    }
  } else if (type == "array") {
    if (!value.IsSequence()) {
      errors.push_back(path + ": must be an array");
      return;
    }
    if (!str("minItems").empty() && value.items().size() < std::stoul(str("minItems"))) {
      errors.push_back(path + ": should have at least " + str("minItems") + " items");
    }
    for (size_t i = 0; i < value.items().size(); ++i) {
      Check(*schema.Find("items"), value.items()[i], path + "[" + std::to_string(i) + "]", errors);
    }
  } else if (type == "string") {
    if (!value.IsString()) {
      errors.push_back(path + ": must be a string");
      return;
    }
    if (!str("maxLength").empty() && value.text().size() > std::stoul(str("maxLength"))) {
      errors.push_back(path + ": too long");
    }
    if (!str("pattern").empty() && !RE2::PartialMatch(std::string(value.text()), str("pattern"))) {
      errors.push_back(path + ": does not match " + str("pattern"));
    }
    if (const Node* e = schema.Find("enum")) {
      bool found = false;
      for (const Node& v : e->items()) found = found || v.text() == value.text();
      if (!found) errors.push_back(path + ": not a supported value");
    }
  } else if (type == "integer") {
    if (!value.IsScalar() || value.scalar_type() != ScalarType::Int) {
      errors.push_back(path + ": must be an integer");
      return;
    }
    long long v = std::stoll(std::string(value.text()));
    if (!str("minimum").empty() && v < std::stoll(str("minimum")))
      errors.push_back(path + ": too small");
    if (!str("maximum").empty() && v > std::stoll(str("maximum")))
      errors.push_back(path + ": too large");
  } else if (type == "boolean") {
    if (!value.IsScalar() || value.scalar_type() != ScalarType::Bool) {
      errors.push_back(path + ": must be a boolean");
    }
  }
}

struct Crd {
  Node schema;
  std::string kind;
};

std::map<std::string, Crd> LoadCrds() {
  std::map<std::string, Crd> out;
  for (const char* f : {"meshclusters", "serviceexpositionpolicies", "remoteservicebindings"}) {
    Node crd = ReadOne(kSource / "deploy/crds" / (std::string(f) + ".yaml"));
    const Node* spec = crd.Find("spec");
    std::string kind(spec->Find("names")->Find("kind")->text());
    const Node& version = spec->Find("versions")->items().at(0);
    EXPECT_EQ(version.Find("name")->text(), "v1alpha1");
    EXPECT_TRUE(version.Find("subresources")->Find("status"))
        << kind << " has a status subresource";
    EXPECT_TRUE(version.Find("additionalPrinterColumns")) << kind;
    out[kind] = Crd{*version.Find("schema")->Find("openAPIV3Schema"), kind};
  }
  return out;
}

std::vector<std::string> Validate(const std::map<std::string, Crd>& crds, const Node& object) {
  std::vector<std::string> errors;
  Check(crds.at(std::string(object.Find("kind")->text())).schema, object, "", errors);
  return errors;
}

TEST(Crds, AcceptEveryObjectOfTheExamplesAndGoldenFleets) {
  std::map<std::string, Crd> crds = LoadCrds();
  size_t checked = 0;
  std::vector<fs::path> fleets;
  for (int step = 1; step <= 7; ++step) {
    fleets.push_back(kSource / "examples/bookinfo" / ("step" + std::to_string(step)));
  }
  for (const auto& e : fs::directory_iterator(kSource / "tests/golden/cases")) {
    if (e.path().filename() != "design-note-verbatim") fleets.push_back(e.path() / "fleet");
  }
  for (const fs::path& f : fleets) {
    Diagnostics d;
    absl::StatusOr<FleetSource> source = ReadFleetDirectory(f, d);
    ASSERT_TRUE(source.ok()) << f;
    std::vector<const Object*> objects;
    for (const Object& o : source->mesh_clusters) objects.push_back(&o);
    for (const auto& [c, list] : source->cluster_objects) {
      for (const Object& o : list) objects.push_back(&o);
    }
    for (const Object* o : objects) {
      if (o->group != kMulticlusterGroup) continue;
      // What meshfed's reader accepts, the CRD must accept.
      Diagnostics reader;
      if (o->kind == "MeshCluster") ReadMeshCluster(*o, reader);
      if (o->kind == "ServiceExpositionPolicy") ReadServiceExpositionPolicy(*o, "c", reader);
      if (o->kind == "RemoteServiceBinding") ReadRemoteServiceBinding(*o, "c", reader);
      if (HasErrors(reader)) continue;
      std::vector<std::string> errors = Validate(crds, o->root);
      EXPECT_TRUE(errors.empty()) << o->file << ": " << errors.front();
      ++checked;
    }
  }
  EXPECT_GT(checked, 20u);
}

TEST(Crds, RejectWhatMeshfedRejects) {
  std::map<std::string, Crd> crds = LoadCrds();
  auto errors = [&](const std::string& yaml) {
    return Validate(crds, ReadYamlStream(yaml, "x.yaml").documents.at(0));
  };
  auto sep = [](const std::string& entry) {
    return "apiVersion: multicluster.istio.io/v1alpha1\nkind: ServiceExpositionPolicy\n"
           "metadata: {name: s}\nspec:\n  exposed: [" +
           entry + "]\n";
  };
  EXPECT_TRUE(errors(sep("{name: reviews, clusters: [a]}")).empty());
  EXPECT_EQ(errors(sep("{name: reviews, clusters: [a], color: red}")),
            std::vector<std::string>{".spec.exposed[0].color: unknown field"});
  EXPECT_EQ(errors(sep("{name: reviews, clusters: []}")),
            std::vector<std::string>{".spec.exposed[0].clusters: should have at least 1 items"});
  EXPECT_EQ(errors(sep("{name: Reviews_1, clusters: [a]}")).size(), 1u);
  EXPECT_EQ(errors(sep("{name: reviews, port: 0, clusters: [a]}")),
            std::vector<std::string>{".spec.exposed[0].port: too small"});
  EXPECT_EQ(errors(sep("{name: reviews, port: \"80\", clusters: [a]}")),
            std::vector<std::string>{".spec.exposed[0].port: must be an integer"});
  EXPECT_EQ(errors(sep("{clusters: [a]}")),
            std::vector<std::string>{".spec.exposed[0].name: Required value"});
  EXPECT_EQ(errors("apiVersion: multicluster.istio.io/v1alpha1\nkind: MeshCluster\n"
                   "metadata: {name: c}\nspec: {federationGateway: {addresses: [1.2.3.4]}}\n"),
            std::vector<std::string>{".spec.trustDomain: Required value"});
  EXPECT_EQ(errors("apiVersion: multicluster.istio.io/v1alpha1\nkind: RemoteServiceBinding\n"
                   "metadata: {name: r}\nspec: {remote: [{cluster: b, services: [{name: x, "
                   "alias: z, port: 70000}]}]}\n"),
            std::vector<std::string>{".spec.remote[0].services[0].port: too large"});
}

}  // namespace
}  // namespace meshfed
