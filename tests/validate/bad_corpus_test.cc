// The bad-input corpus: every file in tests/data/bad is input a user could write by mistake, and
// says which diagnostics `meshfed validate` must give for it — code, line:column, and optionally
// words of the message:
//
//     # expect: MF1003 5:3 duplicate key `name`
//
// at the top of the file (YAML), or the same lines without "# expect: " in FILE.expect (for
// inputs that cannot hold a comment: JSON, invalid UTF-8, a byte-order mark). A directory is a
// fleet (fleet.yaml plus one directory per cluster), with its expectations in DIR.expect, and the
// file named in each expectation line after the position: `MF2001 cluster-b/sep.yaml:8:5 ...`.
//
// Each case runs the `validate` command itself (JSON output) and also checks that it exits 1 on
// errors, or 0 with warnings only (1 with --strict).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/validate_command.h"
#include "codec/yaml_reader.h"
#include "core/model/text.h"

namespace meshfed {
namespace {
namespace fs = std::filesystem;

const fs::path kDir = fs::path(MESHFED_SOURCE_DIR) / "tests/data/bad";

struct Expectation {
  std::string code;
  std::string file;  // fleets: the path under the fleet directory
  int line = 0;
  int column = 0;
  std::string words;
  std::string text;  // as written, for messages
};

std::vector<std::string> Lines(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::optional<Expectation> ParseExpectation(std::string text) {
  std::istringstream in(text);
  Expectation e;
  e.text = text;
  std::string where;
  if (!(in >> e.code >> where)) return std::nullopt;
  size_t c2 = where.rfind(':');
  size_t c1 = c2 == std::string::npos ? std::string::npos : where.rfind(':', c2 - 1);
  if (c2 == std::string::npos || c1 == std::string::npos) return std::nullopt;
  e.file = where.substr(0, c1);
  e.line = ParseIntOr(where.substr(c1 + 1, c2 - c1 - 1), -1);
  e.column = ParseIntOr(where.substr(c2 + 1), -1);
  std::getline(in, e.words);
  e.words.erase(0, e.words.find_first_not_of(' '));
  return e;
}

std::vector<Expectation> ExpectationsOf(const fs::path& input) {
  std::vector<Expectation> out;
  fs::path sidecar = input;
  sidecar += ".expect";
  if (fs::exists(sidecar)) {
    for (const std::string& l : Lines(sidecar)) {
      if (l.empty() || l[0] == '#') continue;
      // Files: the position has no file part; the input is the file.
      std::string text = fs::is_directory(input) ? l : l;
      if (!fs::is_directory(input)) {
        std::istringstream in(l);
        std::string code, pos;
        in >> code >> pos;
        std::string rest;
        std::getline(in, rest);
        text = code + " " + input.filename().string() + ":" + pos + rest;
      }
      if (auto e = ParseExpectation(text)) out.push_back(*e);
    }
    return out;
  }
  for (const std::string& l : Lines(input)) {
    static const std::string kPrefix = "# expect: ";
    size_t at = l.find(kPrefix);
    if (at == std::string::npos || at > 3) continue;  // at the start (after a BOM at most)
    std::istringstream in(l.substr(at + kPrefix.size()));
    std::string code, pos;
    in >> code >> pos;
    std::string rest;
    std::getline(in, rest);
    if (auto e = ParseExpectation(code + " " + input.filename().string() + ":" + pos + rest)) {
      out.push_back(*e);
    }
  }
  return out;
}

std::vector<std::string> AllInputs() {
  std::vector<std::string> out;
  if (!fs::is_directory(kDir)) return out;
  for (const auto& e : fs::directory_iterator(kDir)) {
    std::string name = e.path().filename().string();
    if (name.size() > 7 && name.substr(name.size() - 7) == ".expect") continue;
    if (name == "README.md") continue;
    out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class BadInput : public testing::TestWithParam<std::string> {};

TEST_P(BadInput, GivesItsDiagnostics) {
  fs::path input = kDir / GetParam();
  std::vector<Expectation> expected = ExpectationsOf(input);
  ASSERT_FALSE(expected.empty()) << input << " says nothing about what it expects";

  ValidateOptions options;
  options.paths = {input.string()};
  options.format = "json";
  std::ostringstream out, err;
  int rc = RunValidate(options, out, err);
  ASSERT_NE(rc, 2) << err.str();
  ReadResult report = ReadYamlStream(out.str(), "report.json");
  ASSERT_TRUE(report.diagnostics.empty() && report.documents.size() == 1) << out.str() << err.str();
  const Node& root = report.documents[0];
  const Node* list = root.Find("diagnostics");
  ASSERT_TRUE(list && list->IsSequence()) << out.str();

  auto text = [](const Node& d, const char* key) { return ScalarText(d.Find(key)); };
  bool errors = false, warnings = false;
  for (const Node& d : list->items()) {
    errors = errors || text(d, "severity") == "error";
    warnings = warnings || text(d, "severity") == "warning";
  }
  for (const Expectation& e : expected) {
    bool found = false;
    for (const Node& d : list->items()) {
      std::string file(text(d, "file"));
      std::string want_suffix = fs::is_directory(input) ? "/" + e.file : "/" + e.file;
      bool same_file =
          file.size() >= want_suffix.size() &&
          file.compare(file.size() - want_suffix.size(), want_suffix.size(), want_suffix) == 0;
      if (text(d, "code") == e.code && same_file && ParseIntOr(text(d, "line"), 0) == e.line &&
          ParseIntOr(text(d, "column"), 0) == e.column &&
          text(d, "message").find(e.words) != std::string::npos) {
        found = true;
      }
    }
    EXPECT_TRUE(found) << "expected: " << e.text << "\ngot:\n" << out.str();
  }
  // Exit status: 1 on errors; warnings alone pass unless --strict.
  EXPECT_EQ(rc, errors ? 1 : 0) << out.str();
  if (!errors) {
    EXPECT_TRUE(warnings) << "a bad input with no error should warn: " << out.str();
    options.strict = true;
    std::ostringstream out2, err2;
    EXPECT_EQ(RunValidate(options, out2, err2), 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadInput, testing::ValuesIn(AllInputs()),
                         [](const testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(BadCorpus, HasAtLeast150Inputs) { EXPECT_GE(AllInputs().size(), 150u); }

}  // namespace
}  // namespace meshfed
