// Replays every fuzz corpus (tests/fuzz/corpus/<target>/) and every YAML file of the examples and
// test data through the fuzz targets, in every build: a crash input, once found, stays fixed.
#include <gtest/gtest.h>

#include <filesystem>

#include "file_text.h"
#include "fuzz/fuzz_targets.h"

namespace meshfed {
namespace {
namespace fs = std::filesystem;

std::vector<fs::path> Inputs(const std::string& target) {
  std::vector<fs::path> out;
  const fs::path root(MESHFED_SOURCE_DIR);
  for (const fs::path& dir : {root / "tests/fuzz/corpus" / target, root / "examples",
                              root / "tests/data", root / "tests/golden/cases"}) {
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(FuzzCorpus, YamlReader) {
  auto inputs = Inputs("yaml_reader");
  ASSERT_GT(inputs.size(), 50u);
  for (const fs::path& p : inputs) {
    SCOPED_TRACE(p.string());
    std::string data = testing::FileText(p);
    fuzz::YamlReader(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
}

TEST(FuzzCorpus, Fleet) {
  auto inputs = Inputs("fleet");
  ASSERT_GT(inputs.size(), 50u);
  for (const fs::path& p : inputs) {
    SCOPED_TRACE(p.string());
    std::string data = testing::FileText(p);
    fuzz::Fleet(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
}

TEST(FuzzCorpus, Request) {
  auto inputs = Inputs("request");
  ASSERT_GT(inputs.size(), 50u);
  for (const fs::path& p : inputs) {
    SCOPED_TRACE(p.string());
    std::string data = testing::FileText(p);
    fuzz::Request(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
}

}  // namespace
}  // namespace meshfed
