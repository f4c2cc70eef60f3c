// Runs the built deepnet binary as a user would and checks what it prints,
// the files it writes and its exit status.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Result {
  int status = -1;
  std::string out, err;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "deepnet-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `deepnet ARGS` (ARGS already shell-quoted) in the temporary directory.
  Result run(const std::string& args) {
    const std::string command = "cd '" + dir_.string() + "' && '" + DEEPNET_BINARY + "' " + args +
                                " >stdout.txt 2>stderr.txt";
    const int raw = std::system(command.c_str());
    Result r;
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    r.out = read_file(dir_ / "stdout.txt");
    r.err = read_file(dir_ / "stderr.txt");
    return r;
  }

  void write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
  }

  fs::path dir_;
};

std::vector<double> costs_in(const std::string& text) {
  std::vector<double> costs;
  const std::regex line(R"(iteration (\d+): cost ([0-9.eE+-]+))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator(); ++it)
    costs.push_back(std::stod((*it)[2]));
  return costs;
}

double accuracy_in(const std::string& text) {
  std::smatch match;
  if (!std::regex_search(text, match, std::regex(R"(training accuracy: ([0-9.]+))"))) return -1;
  return std::stod(match[1]);
}

TEST_F(Cli, PlanarCourseCommandPrintsFallingCostAndNinetyPercent) {
  const Result r = run(
      "train --data planar --layers 4 --hidden-activation tanh --lr 1.2 --iterations 10000 "
      "--init small --init-scale 0.01 --rng numpy --seed 2 --dtype float64 --print-every 1000 "
      "--history hist.csv");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<double> costs = costs_in(r.out);
  ASSERT_EQ(costs.size(), 11u) << r.out;  // iterations 0, 1000, ..., 9000 and 9999
  EXPECT_NEAR(costs.front(), 0.693048, 1e-6);
  EXPECT_LT(costs.back(), 0.25);
  for (std::size_t k = 1; k < 8; ++k) EXPECT_LT(costs[k], costs[k - 1]);
  EXPECT_GE(accuracy_in(r.out), 0.90);

  const std::string history = read_file(dir_ / "hist.csv");
  EXPECT_EQ(history.rfind("iteration,cost\n0,0.6930480201", 0), 0u) << history;
  EXPECT_NE(history.find("\n9999,"), std::string::npos);
  // 17 significant digits per cost.
  std::smatch match;
  ASSERT_TRUE(std::regex_search(history, match, std::regex(R"(\n1000,(0\.\d+)\n)")));
  EXPECT_GE(match[1].str().size(), 18u);
}

TEST_F(Cli, LogisticRegressionWithNoHiddenLayerStaysBelowSixtyPercent) {
  const Result r = run("train --data planar --layers '' --lr 1.2 --iterations 2000 --init small "
                       "--rng numpy --seed 2 --dtype float64 --quiet");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(costs_in(r.out).empty());  // --quiet
  const double acc = accuracy_in(r.out);
  EXPECT_GT(acc, 0.0);
  EXPECT_LT(acc, 0.60);
}

TEST_F(Cli, TrainsOnAUserCsvWithThreeClasses) {
  std::string csv = "a,b,kind\n";
  for (int k = 0; k < 60; ++k) {
    const int cls = k % 3;
    csv += std::to_string(cls * 2.0 + 0.1 * (k % 5)) + "," + std::to_string(-cls + 0.05 * (k % 7)) +
           "," + std::to_string(cls) + "\n";
  }
  write("three.csv", csv);
  const Result r = run("train --data three.csv --label-column kind --layers 8 --lr 0.5 "
                       "--iterations 500 --print-every 100");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("2-8-3 relu/softmax"), std::string::npos) << r.out;
  EXPECT_GE(accuracy_in(r.out), 0.95);
}

TEST_F(Cli, HelpDocumentsEveryFlag) {
  const Result r = run("train --help");
  ASSERT_EQ(r.status, 0);
  for (const char* flag : {"--data", "--label-column", "--layers", "--hidden-activation", "--output",
                           "--leaky-slope", "--lr", "--iterations", "--init", "--init-scale",
                           "--rng", "--seed", "--dtype", "--print-every", "--history", "--quiet"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  const Result top = run("--help");
  EXPECT_EQ(top.status, 0);
  EXPECT_NE(top.out.find("train"), std::string::npos);
}

TEST_F(Cli, MissingFileIsADataErrorNamingTheFile) {
  const Result r = run("train --data nowhere.csv --layers 3");
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.err, "deepnet: error: nowhere.csv: cannot open the file for reading\n");
  EXPECT_TRUE(r.out.empty());
}

TEST_F(Cli, NonNumericCellNamesLineAndColumn) {
  write("bad.csv", "x1,x2,y\n0.5,1.5,0\n0.25,oops,1\n");
  const Result r = run("train --data bad.csv --layers 3");
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.err,
            "deepnet: error: bad.csv: line 3, column 2 ('x2'): expected a number, got 'oops'\n");
}

TEST_F(Cli, UsageErrorsExitWithTwoAndOneLine) {
  for (const std::string& args :
       {std::string("train --data planar --lr -1"), std::string("train --data planar --layers 4,x"),
        std::string("train --data planar --hidden-activation swish"),
        std::string("train --data planar --no-such-flag"), std::string("train"),
        std::string("train --data planar --rng numpy --seed 99999999999")}) {
    const Result r = run(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("deepnet: error: ", 0), 0u) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
  }
}

TEST_F(Cli, HistoryIsNotHalfWrittenWhenTheDirectoryIsMissing) {
  const Result r = run("train --data planar --layers 2 --iterations 5 --history no/dir/h.csv");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("no/dir/h.csv"), std::string::npos) << r.err;
}

}  // namespace
