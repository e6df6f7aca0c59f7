#include "cli/render_command.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/output.h"
#include "file_text.h"

namespace meshfed {
namespace {
namespace fs = std::filesystem;

std::string Step(int n) {
  return std::string(MESHFED_SOURCE_DIR) + "/examples/bookinfo/step" + std::to_string(n);
}

TEST(Render, BadInputExitsOneAndWritesNothing) {
  fs::path out = fs::temp_directory_path() / "meshfed-render-bad";
  fs::remove_all(out);
  RenderOptions o;
  o.fleet = std::string(MESHFED_SOURCE_DIR) + "/tests/golden/cases/design-note-verbatim/fleet";
  o.out_dir = out.string();
  std::ostringstream stdout_, stderr_;
  EXPECT_EQ(RunRender(o, stdout_, stderr_), 1);
  EXPECT_FALSE(fs::exists(out));
  EXPECT_NE(stderr_.str().find("aliases.yaml:6:3: error MF1001"), std::string::npos)
      << stderr_.str();
  EXPECT_NE(stderr_.str().find("nothing written"), std::string::npos);
}

// A new temporary directory `name` holding one file, a.yaml, whose text is "old a\n".
fs::path DirWithOldFile(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "a.yaml") << "old a\n";
  return dir;
}

// Staged files stay out of sight until Commit; without Commit they are removed and the files
// in place are left as they were.
TEST(StagedFiles, NothingChangesUntilCommitAndNothingIsLeftWithoutIt) {
  fs::path dir = DirWithOldFile("meshfed-staged");
  {
    StagedFiles staged;
    ASSERT_TRUE(staged.Stage(dir / "a.yaml", "new a\n").ok());
    ASSERT_TRUE(staged.Stage(dir / "sub" / "b.yaml", "new b\n").ok());
    EXPECT_EQ(testing::FileText(dir / "a.yaml"), "old a\n");
    EXPECT_FALSE(fs::exists(dir / "sub" / "b.yaml"));
  }  // dropped without Commit
  EXPECT_EQ(testing::FileText(dir / "a.yaml"), "old a\n");
  EXPECT_FALSE(fs::exists(dir / "sub" / "b.yaml"));
  size_t left = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) left += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(left, 1u) << "temporary files left behind";

  StagedFiles staged;
  ASSERT_TRUE(staged.Stage(dir / "a.yaml", "new a\n").ok());
  ASSERT_TRUE(staged.Stage(dir / "sub" / "b.yaml", "new b\n").ok());
  ASSERT_TRUE(staged.Commit().ok());
  EXPECT_EQ(testing::FileText(dir / "a.yaml"), "new a\n");
  EXPECT_EQ(testing::FileText(dir / "sub" / "b.yaml"), "new b\n");
  left = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) left += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(left, 2u);
  fs::remove_all(dir);
}

// Content larger than one write piece arrives whole and in order, whatever its length's
// remainder, in a file and in a stream.
TEST(StagedFiles, ContentOfManyPiecesIsWrittenWhole) {
  fs::path dir = fs::temp_directory_path() / "meshfed-pieces";
  fs::remove_all(dir);
  for (size_t size : {size_t{0}, size_t{1}, kWritePiece - 1, kWritePiece, kWritePiece + 1,
                      3 * kWritePiece + 12345}) {
    std::string content(size, ' ');
    for (size_t i = 0; i < size; ++i) content[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
    StagedFiles staged;
    ASSERT_TRUE(staged.Stage(dir / "f.yaml", content).ok());
    ASSERT_TRUE(staged.Commit().ok());
    EXPECT_EQ(testing::FileText(dir / "f.yaml"), content) << size << " bytes";
    std::ostringstream out;
    WriteInPieces(out, content);
    EXPECT_EQ(out.str(), content) << size << " bytes";
  }
  fs::remove_all(dir);
}

// A writer that fails part-way (here by throwing) leaves nothing behind: neither its
// half-written file nor the files staged before it, and the files in place stay as they were.
TEST(StagedFiles, AWriterThatThrowsLeavesNothingBehind) {
  fs::path dir = DirWithOldFile("meshfed-staged-throw");
  {
    StagedFiles staged;
    ASSERT_TRUE(staged.Stage(dir / "b.yaml", "new b\n").ok());
    EXPECT_THROW(staged.Stage(dir / "a.yaml",
                              [](std::ostream& out) {
                                out << "half of a";
                                throw std::runtime_error("out of memory, say");
                              }),
                 std::runtime_error);
  }
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir)) {
    left.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(left, std::vector<std::string>{"a.yaml"});
  EXPECT_EQ(testing::FileText(dir / "a.yaml"), "old a\n");
  fs::remove_all(dir);
}

// Runs the meshfed binary with `args`, its standard output going to `stdout_path` and its
// standard error to a file whose text is returned in `err`; returns its exit status.
int RunMeshfed(std::vector<std::string> args, const std::string& stdout_path, std::string& err) {
  args.insert(args.begin(), std::string(MESHFED_BINARY_DIR) + "/meshfed");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  fs::path err_file = fs::temp_directory_path() / ("meshfed-stderr-" + std::to_string(getpid()));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path.c_str(), O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream in(err_file);
  err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  fs::remove(err_file);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Output that cannot be written (here a full disk: /dev/full) is an error, not a success that
// printed nothing, whether it fails while the command writes or in the last flush.
TEST(Render, StandardOutputThatCannotBeWrittenIsAnError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  std::string err;
  EXPECT_EQ(RunMeshfed({"render", Step(6)}, "/dev/full", err), 1);
  EXPECT_NE(err.find("meshfed: cannot write to standard output"), std::string::npos) << err;
  // A short output, still in the buffer at exit: the last flush fails, and says why.
  EXPECT_EQ(RunMeshfed({"validate", Step(6)}, "/dev/full", err), 1);
  EXPECT_NE(err.find("meshfed: cannot write to standard output: No space left on device"),
            std::string::npos)
      << err;
  // The same output to a file that takes it: success.
  EXPECT_EQ(RunMeshfed({"validate", Step(6)}, "/dev/null", err), 0) << err;
}

TEST(Render, UnknownClusterIsAUsageError) {
  RenderOptions o;
  o.fleet = Step(2);
  o.cluster = "cluster-z";
  std::ostringstream stdout_, stderr_;
  EXPECT_EQ(RunRender(o, stdout_, stderr_), 2);
  EXPECT_NE(stderr_.str().find("cluster-a, cluster-b, cluster-c"), std::string::npos);
}

TEST(Render, OneClusterToStdoutIsAppliableYaml) {
  RenderOptions o;
  o.fleet = Step(2);
  o.cluster = "cluster-a";
  std::ostringstream stdout_, stderr_;
  ASSERT_EQ(RunRender(o, stdout_, stderr_), 0) << stderr_.str();
  std::string yaml = stdout_.str();
  EXPECT_EQ(yaml.rfind("---\napiVersion:", 0), 0u) << "no comments or other clusters' objects";
  EXPECT_EQ(yaml.find("# cluster"), std::string::npos);
  EXPECT_EQ(yaml.find("kind: Gateway"), std::string::npos) << "the donor's objects are cluster-b's";
  EXPECT_NE(yaml.find("kind: ServiceEntry"), std::string::npos);
}

TEST(Render, JsonIsAKubernetesList) {
  fs::path out = fs::temp_directory_path() / "meshfed-render-json";
  fs::remove_all(out);
  RenderOptions o;
  o.fleet = Step(3);
  o.out_dir = out.string();
  o.format = "json";
  std::ostringstream stdout_, stderr_;
  ASSERT_EQ(RunRender(o, stdout_, stderr_), 0) << stderr_.str();
  std::string json = testing::FileText(out / "cluster-b" / "generated.json");
  EXPECT_EQ(json.rfind("{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",", 0), 0u) << json;
  EXPECT_TRUE(fs::exists(out / "status.json"));
}

// When main exits right after, render keeps its trees for the kernel instead of releasing each
// file's as it goes; what it writes is the same, to files and to stdout, in YAML and in JSON.
TEST(Render, KeepingTheTreesForExitWritesTheSame) {
  fs::path base = fs::temp_directory_path() / "meshfed-render-keep";
  fs::remove_all(base);
  for (const char* format : {"yaml", "json"}) {
    std::string out[2];
    std::string files[2];
    for (int keep = 0; keep < 2; ++keep) {
      RenderOptions o;
      o.fleet = Step(6);
      o.format = format;
      o.process_exits_after = keep == 1;
      std::ostringstream stdout_, stderr_;
      ASSERT_EQ(RunRender(o, stdout_, stderr_), 0) << stderr_.str();
      out[keep] = stdout_.str();
      o.out_dir = (base / std::to_string(keep)).string();
      ASSERT_EQ(RunRender(o, stdout_, stderr_), 0) << stderr_.str();
      for (const char* file : {"cluster-a/generated.", "cluster-b/generated.", "status."}) {
        files[keep] += testing::FileText(fs::path(o.out_dir) / (std::string(file) + format));
      }
    }
    EXPECT_NE(out[0].find("ServiceEntry"), std::string::npos) << format;
    EXPECT_EQ(out[1], out[0]) << format;
    EXPECT_GT(files[0].size(), 1000u) << format;
    EXPECT_EQ(files[1], files[0]) << format;
  }
  fs::remove_all(base);
}

}  // namespace
}  // namespace meshfed
