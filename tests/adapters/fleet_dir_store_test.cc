#include "adapters/fleet_dir_store.h"

#include <gtest/gtest.h>

#include <fstream>

namespace meshfed {
namespace {
namespace fs = std::filesystem;

class FleetDir : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("meshfed-store-" +
             std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  fs::path root_;
};

constexpr const char* kFleet =
    "apiVersion: multicluster.istio.io/v1alpha1\nkind: MeshCluster\nmetadata: {name: c1}\n"
    "spec: {trustDomain: c1.local, federationGateway: {addresses: [192.0.2.1]}}\n";

TEST_F(FleetDir, ReadsClusterDirectoriesRecursivelyInPathOrder) {
  Write("fleet.yaml", kFleet);
  Write("c1/b/2.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 2}]}\n");
  Write(
      "c1/a.json",
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"port":1}]}})");
  Write("c1/notes.md", "not an object");
  Write("c1/.hidden/x.yaml", "this: [is not read");
  Diagnostics d;
  absl::StatusOr<Fleet> f = LoadFleet(root_, d);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(d.size(), 1u) << "one replacement warning";
  EXPECT_EQ(d[0].code, "MF1020");
  EXPECT_EQ(d[0].file, (root_ / "c1/b/2.yaml").string()) << "a.json is read before b/2.yaml";
  ASSERT_EQ(f->clusters.size(), 1u);
  ASSERT_EQ(f->clusters[0].services.size(), 1u);
  EXPECT_EQ(f->clusters[0].services.front().ports.at(0).port, 2);
}

TEST_F(FleetDir, MissingFleetFileAndStrayDirectoriesAreReported) {
  Diagnostics d;
  Write("c9/x.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n");
  ASSERT_TRUE(LoadFleet(root_, d).ok());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].code, "MF1021");
  Write("fleet.yaml", kFleet);
  d.clear();
  ASSERT_TRUE(LoadFleet(root_, d).ok());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d[0].message.find("c9"), std::string::npos);
}

TEST_F(FleetDir, SymlinkLoopIsAnErrorNotAHang) {
  Write("fleet.yaml", kFleet);
  fs::create_directories(root_ / "c1" / "sub");
  fs::create_directory_symlink("..", root_ / "c1" / "sub" / "up");
  Diagnostics d;
  absl::StatusOr<Fleet> f = LoadFleet(root_, d);
  EXPECT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("loop"), std::string::npos);
}

TEST_F(FleetDir, NotADirectory) {
  Diagnostics d;
  EXPECT_FALSE(LoadFleet(root_ / "nope", d).ok());
}

}  // namespace
}  // namespace meshfed

namespace meshfed {
namespace {
namespace fs = std::filesystem;

// The design note's YAML loads as written (tests/data/design-note holds its blocks verbatim);
// only the alias block's two `...` elisions are not YAML (see the golden case
// design-note-verbatim for their error).
TEST(DesignNote, BlocksLoadAsWritten) {
  for (const char* name :
       {"sep.yaml", "rsb.yaml", "rsb-rollback.yaml", "aliases-without-elisions.yaml"}) {
    fs::path file = fs::path(MESHFED_SOURCE_DIR) / "tests/data/design-note" / name;
    std::vector<Object> objects;
    Diagnostics d;
    uint64_t order = 0;
    ASSERT_TRUE(ReadObjectsFile(file, order, objects, d).ok());
    for (const Object& o : objects) {
      if (o.kind == "ServiceExpositionPolicy") ReadServiceExpositionPolicy(o, "cluster-b", d);
      if (o.kind == "RemoteServiceBinding") ReadRemoteServiceBinding(o, "cluster-a", d);
      if (o.kind == "VirtualService") ReadVirtualService(o, "cluster-b", d);
    }
    EXPECT_TRUE(d.empty()) << name << ": " << d[0].Format();
    EXPECT_FALSE(objects.empty()) << name;
  }
  std::vector<Object> objects;
  Diagnostics d;
  uint64_t order = 0;
  ASSERT_TRUE(ReadObjectsFile(fs::path(MESHFED_SOURCE_DIR) / "tests/data/design-note/aliases.yaml",
                              order, objects, d)
                  .ok());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].code, "MF1001");
  EXPECT_EQ(d[0].position.line, 6u);
}

}  // namespace
}  // namespace meshfed
