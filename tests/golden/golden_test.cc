// Golden tests: each tests/golden/cases/<case>/ holds `fleet/` (a fleet directory, often a link to
// an example step) and `expected/`: what `meshfed render fleet -o OUT` writes, plus
// `diagnostics.txt` (its stderr) and `exit-code`. Set UPDATE_GOLDEN=1 to rewrite `expected/`;
// the change is printed as a unified diff for review.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/render_command.h"
#include "file_text.h"

namespace meshfed {
namespace {
namespace fs = std::filesystem;

const fs::path kCases = fs::path("tests") / "golden" / "cases";

std::vector<std::string> ListCases() {
  std::vector<std::string> out;
  fs::path root = fs::path(MESHFED_SOURCE_DIR) / kCases;
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.is_directory()) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::map<std::string, std::string> ReadTree(const fs::path& root) {
  std::map<std::string, std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file())
      out[fs::relative(e.path(), root).string()] = testing::FileText(e.path());
  }
  return out;
}

std::string Shell(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return "(could not run diff)";
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  pclose(pipe);
  return out;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, RenderMatchesExpected) {
  fs::current_path(MESHFED_SOURCE_DIR);
  const fs::path dir = kCases / GetParam();
  const fs::path actual = fs::temp_directory_path() / ("meshfed-golden-" + GetParam());
  fs::remove_all(actual);
  fs::create_directories(actual);

  RenderOptions options;
  options.fleet = (dir / "fleet").string();
  options.out_dir = (actual / "render").string();
  std::ostringstream out, err;
  int code = RunRender(options, out, err);

  std::map<std::string, std::string> got = ReadTree(actual / "render");
  got["diagnostics.txt"] = err.str();
  got["exit-code"] = std::to_string(code) + "\n";
  EXPECT_EQ(out.str(), "") << "render -o writes nothing to stdout";

  // The same render twice gives the same bytes.
  fs::remove_all(actual / "again");
  options.out_dir = (actual / "again").string();
  std::ostringstream out2, err2;
  RunRender(options, out2, err2);
  EXPECT_EQ(ReadTree(actual / "again"), ReadTree(actual / "render"))
      << "render is not deterministic";

  const fs::path expected_dir = dir / "expected";
  if (std::getenv("UPDATE_GOLDEN") != nullptr) {
    fs::path previous = actual / "previous";
    if (fs::exists(expected_dir)) fs::copy(expected_dir, previous, fs::copy_options::recursive);
    fs::remove_all(expected_dir);
    for (const auto& [name, content] : got) {
      fs::create_directories((expected_dir / name).parent_path());
      std::ofstream(expected_dir / name, std::ios::binary) << content;
    }
    std::string diff = Shell("diff -ruN " + previous.string() + " " + expected_dir.string());
    if (!diff.empty()) std::cout << "updated " << expected_dir << ":\n" << diff;
    return;
  }
  std::map<std::string, std::string> want = ReadTree(expected_dir);
  if (got != want) {
    fs::path mine = actual / "got";
    for (const auto& [name, content] : got) {
      fs::create_directories((mine / name).parent_path());
      std::ofstream(mine / name, std::ios::binary) << content;
    }
    ADD_FAILURE() << "render of " << dir << " differs from " << expected_dir
                  << " (UPDATE_GOLDEN=1 rewrites it):\n"
                  << Shell("diff -ruN " + expected_dir.string() + " " + mine.string());
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(ListCases()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace meshfed
