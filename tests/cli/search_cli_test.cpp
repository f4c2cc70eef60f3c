// `deepnet search` and `deepnet plot search`: runs the built binary as a user
// would, on real data and real files, and checks the table, the JSON result,
// the log (also after a SIGKILL, Ctrl-C or SIGTERM and --resume), the saved
// model and the picture.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fixture.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using Result = deepnet::test::CliResult;

// Parses an SVG with Python's XML parser and prints what the tests check.
const char* const svg_stats_py = R"PY(
import json, sys
import xml.etree.ElementTree as ET
NS = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
stats = {'root': root.tag, 'width': root.get('width'), 'height': root.get('height')}
stats['points'] = sum(len(g.findall('.//' + NS + 'circle')) for g in root.iter(NS + 'g') if g.get('class') == 'points')
stats['panels'] = [g.get('data-name') for g in root.iter(NS + 'g') if g.get('class') == 'points']
stats['errorbars'] = sum(len(g.findall(NS + 'line')) for g in root.iter(NS + 'g') if g.get('class') == 'errorbars')
stats['texts'] = [t.text or '' for t in root.iter(NS + 'text')]
print(json.dumps(stats))
)PY";

class SearchCli : public deepnet::test::CliTest {
 protected:
  SearchCli() : CliTest("deepnet-search-cli") {}
  void SetUp() override { write("svg_stats.py", svg_stats_py); }

  // The log's complete lines, parsed.
  std::vector<json> log_lines(const std::string& name) {
    std::vector<json> lines;
    std::istringstream in(read(name));
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) lines.push_back(json::parse(line));
    return lines;
  }

  int line_count(const std::string& name) {
    const std::string text = read(name);
    return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  }

  json svg_stats(const std::string& svg) {
    const std::string command = "/usr/bin/python3 svg_stats.py '" + svg +
                                "' >stats.txt 2>stats-err.txt";
    const int status = shell(command);
    EXPECT_EQ(status, 0) << svg << " is not well-formed XML: " << read("stats-err.txt");
    if (status != 0) return json::object();
    return json::parse(read("stats.txt"));
  }

  // Renders with rsvg-convert (librsvg2-bin) when it is installed; fails when it cannot render.
  void expect_renders(const std::string& svg) {
    if (std::system("command -v rsvg-convert >/dev/null 2>&1") != 0) return;
    const std::string command = "rsvg-convert -f png -o '" + svg + ".png' '" + svg +
                                "' 2>rsvg.txt";
    EXPECT_EQ(shell(command), 0) << read("rsvg.txt");
    EXPECT_GT(fs::file_size(dir_ / (svg + ".png")), 1000u);
  }
};

bool has_text(const json& stats, const std::string& text) {
  for (const auto& t : stats["texts"])
    if (t.get<std::string>() == text) return true;
  return false;
}

// The log's lines without the time they took (which differs from run to run), sorted.
std::vector<std::string> without_time(std::vector<json> lines) {
  std::vector<std::string> out;
  for (json& l : lines) {
    l.erase("seconds");
    l.erase("trial");
    out.push_back(l.dump());
  }
  std::sort(out.begin(), out.end());
  return out;
}

const std::string planar_sweep =
    "search --data planar --layers '1|2|3|4|5|20|50' --hidden-activation tanh --lr 1.2 --iterations 5000 "
    "--init small --init-scale 0.01 --rng numpy --seed 2 --dtype float64 --jobs 2";

// ---------------------------------------------------------------- the course's hidden-size sweep

TEST_F(SearchCli, PlanarHiddenSizeSweepReproducesTheCoursesTrainingAccuracies) {
  const Result r = run(planar_sweep + " --train-score --log sweep.jsonl");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<json> lines = log_lines("sweep.jsonl");
  ASSERT_EQ(lines.size(), 7u);
  std::map<std::string, double> accuracy;
  for (const json& l : lines) {
    EXPECT_EQ(l["context"]["evaluation"], "training");
    EXPECT_EQ(l["scores"].size(), 1u);
    EXPECT_EQ(l["std"], 0.0);
    accuracy[l["setting"]["layers"].get<std::string>()] = l["mean"].get<double>();
  }
  // The course prints 67.5, 67.25, 90.75, 90.5, 91.25 % for 1 to 5 hidden units: the same examples right.
  EXPECT_DOUBLE_EQ(accuracy["1"], 0.675);
  EXPECT_DOUBLE_EQ(accuracy["2"], 0.6725);
  EXPECT_DOUBLE_EQ(accuracy["3"], 0.9075);
  EXPECT_DOUBLE_EQ(accuracy["4"], 0.905);
  EXPECT_DOUBLE_EQ(accuracy["5"], 0.9125);
  // The course: 90.0 and 90.25 % for 20 and 50 units.
  EXPECT_GE(accuracy["20"], 0.90);
  EXPECT_GE(accuracy["50"], 0.90);
  // The table: sorted by score, 5 units first, 2 units last.
  EXPECT_NE(r.out.find("accuracy on the training data"), std::string::npos) << r.out;
  std::istringstream table(r.out);
  std::string title, header, first, line, last;
  std::getline(table, title);
  std::getline(table, header);
  std::getline(table, first);
  while (std::getline(table, line))
    if (line.rfind("best:", 0) != 0) last = line; else break;
  EXPECT_NE(header.find("layers"), std::string::npos) << header;
  EXPECT_NE(header.find("accuracy"), std::string::npos);
  EXPECT_NE(header.find("std"), std::string::npos);
  EXPECT_NE(header.find("seconds"), std::string::npos);
  EXPECT_EQ(first.rfind("1     4      5       tanh", 0), 0u) << r.out;
  EXPECT_NE(first.find("0.9125"), std::string::npos);
  EXPECT_NE(last.find("0.6725"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("best: trial 4: layers 5,"), std::string::npos);
}

TEST_F(SearchCli, FoldsZeroScoresOnTheTrainingDataToo) {
  const Result a = run("search --data planar --layers '2|3' --hidden-activation tanh --lr 1.2 --iterations 5000 "
                       "--init small --rng numpy --seed 2 --dtype float64 --folds 0 --json");
  ASSERT_EQ(a.status, 0) << a.err;
  const json j = json::parse(a.out);
  EXPECT_EQ(j["evaluation"], "training");
  EXPECT_EQ(j["best"]["setting"]["layers"], "3");
  EXPECT_DOUBLE_EQ(j["best"]["mean"].get<double>(), 0.9075);
}

// ---------------------------------------------------------------- breast cancer, 5-fold

const std::string bc_base =
    "search --data breast-cancer --normalize standard --layers \"|4|8|16\" --lr '0.001|0.003|0.01' "
    "--batch-size 32 --optimizer adam";
const std::string bc_search = bc_base + " --epochs '30|60'";

TEST_F(SearchCli, BreastCancerFiveFoldSearchPicksAModelAboveNinetySevenPercent) {
  const auto start = std::chrono::steady_clock::now();
  const Result r = run(bc_search + " --folds 5 --jobs 2 --json --out bc.dnn --log bc.jsonl");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_LT(seconds, 60);
  const json j = json::parse(r.out);
  EXPECT_EQ(j["strategy"], "grid");
  EXPECT_EQ(j["evaluation"], "5-fold");
  EXPECT_EQ(j["metric"], "accuracy");
  EXPECT_EQ(j["trials"], 24);
  EXPECT_EQ(j["model"], "bc.dnn");
  const json& best = j["best"];
  ASSERT_EQ(best["scores"].size(), 5u);
  EXPECT_GE(best["mean"].get<double>(), 0.97) << r.out;
  double sum = 0;
  for (const auto& s : best["scores"]) sum += s.get<double>();
  EXPECT_NEAR(sum / 5, best["mean"].get<double>(), 1e-12);
  EXPECT_GT(best["std"].get<double>(), 0);
  // Every trial in the log, each with five fold scores; the best is the largest mean.
  const std::vector<json> lines = log_lines("bc.jsonl");
  ASSERT_EQ(lines.size(), 24u);
  double top = 0;
  for (const json& l : lines) {
    EXPECT_EQ(l["scores"].size(), 5u);
    top = std::max(top, l["mean"].get<double>());
  }
  EXPECT_EQ(top, best["mean"].get<double>());
  // The saved model is the best setting retrained on all 569 examples.
  const Result e = run("evaluate --model bc.dnn --data breast-cancer --json");
  ASSERT_EQ(e.status, 0) << e.err;
  EXPECT_GE(json::parse(e.out)["accuracy"].get<double>(), 0.97) << e.out;
}

TEST_F(SearchCli, ResultsAreTheSameWithAnyNumberOfJobs) {
  const Result one = run(bc_base + " --epochs 20 --jobs 1 --json --log one.jsonl --quiet");
  ASSERT_EQ(one.status, 0) << one.err;
  const Result three = run(bc_base + " --epochs 20 --jobs 3 --json --log three.jsonl --quiet");
  ASSERT_EQ(three.status, 0) << three.err;
  json a = json::parse(one.out), b = json::parse(three.out);
  a.erase("log");
  b.erase("log");
  EXPECT_EQ(a, b);
  EXPECT_EQ(without_time(log_lines("one.jsonl")), without_time(log_lines("three.jsonl")));
}

// ---------------------------------------------------------------- log and resume

const std::string slow_search =
    "search --data breast-cancer --normalize standard --layers '8|16|32' --lr '0.001|0.003|0.01|0.03' --epochs 150 "
    "--batch-size 16 --folds 3 --jobs 1 --json";

TEST_F(SearchCli, KilledSearchResumesWithoutRepeatingTrialsAndEndsAsAnUninterruptedOne) {
  // Started directly (fork/exec) so that the test holds its pid and can SIGKILL it mid-search.
  const std::string cmd = "exec '" + std::string(DEEPNET_BINARY) + "' " + slow_search + " --log run.jsonl";
  const pid_t pid = deepnet::test::spawn({"/bin/sh", "-c", cmd}, dir_);
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (line_count("run.jsonl") < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  int raw = 0;
  ::waitpid(pid, &raw, 0);
  ASSERT_TRUE(WIFSIGNALED(raw)) << "the search ended before it was killed";
  const int before = line_count("run.jsonl");
  ASSERT_GE(before, 3);
  ASSERT_LT(before, 12);

  const Result resumed = run(slow_search + " --log run.jsonl --resume");
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_NE(resumed.err.find(std::to_string(before) + " of 12 trials taken from run.jsonl"), std::string::npos)
      << resumed.err;
  // Every setting once: the finished trials were not trained again.
  const std::vector<json> lines = log_lines("run.jsonl");
  ASSERT_EQ(lines.size(), 12u);
  std::set<std::string> settings;
  std::set<int> ids;
  for (const json& l : lines) {
    settings.insert(l["setting"].dump());
    ids.insert(l["trial"].get<int>());
  }
  EXPECT_EQ(settings.size(), 12u);
  EXPECT_EQ(ids.size(), 12u);

  const Result straight = run(slow_search + " --log straight.jsonl");
  ASSERT_EQ(straight.status, 0) << straight.err;
  json a = json::parse(resumed.out), b = json::parse(straight.out);
  a.erase("log");
  b.erase("log");
  EXPECT_EQ(a, b);
  EXPECT_EQ(without_time(log_lines("run.jsonl")), without_time(log_lines("straight.jsonl")));
}

// The table of a search's stdout without its seconds column (the time differs from run to run).
std::string without_seconds(const std::string& out) {
  static const std::regex seconds(R"(\s+(seconds|\d+\.\d\d)$)");
  std::istringstream in(out);
  std::string line, text;
  while (std::getline(in, line)) text += std::regex_replace(line, seconds, "") + "\n";
  return text;
}

// slow_search as a table (no --json), its seconds masked by without_seconds.
const std::string slow_table_search =
    "search --data breast-cancer --normalize standard --layers '8|16|32' --lr '0.001|0.003|0.01|0.03' --epochs 150 "
    "--batch-size 16 --folds 3 --jobs 1";

TEST_F(SearchCli, InterruptedSearchSaysHowToResumeAndResumesToTheUninterruptedTable) {
  const std::string cmd = "exec '" + std::string(DEEPNET_BINARY) + "' " + slow_table_search + " --log run.jsonl";
  const pid_t pid = deepnet::test::spawn({"/bin/sh", "-c", cmd}, dir_, {}, dir_ / "interrupted.txt");
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (line_count("run.jsonl") < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGINT);  // Ctrl-C
  int raw = 0;
  ::waitpid(pid, &raw, 0);
  ASSERT_TRUE(WIFEXITED(raw)) << deepnet::test::describe_status(raw);
  EXPECT_EQ(WEXITSTATUS(raw), 130);
  // The log holds whole lines only, and the message counts them.
  const std::string log = read("run.jsonl");
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back(), '\n');
  const int finished = line_count("run.jsonl");
  ASSERT_EQ(static_cast<int>(log_lines("run.jsonl").size()), finished);
  ASSERT_LT(finished, 12) << "the search ended before it was interrupted";
  const std::string err = read("interrupted.txt");
  const std::string message = "deepnet: search interrupted after " + std::to_string(finished) +
                              (finished == 1 ? " finished trial; it is in" : " finished trials; they are in") +
                              " run.jsonl: run the same command with --resume to continue\n";
  ASSERT_GE(err.size(), message.size()) << err;
  EXPECT_EQ(err.substr(err.size() - message.size()), message) << err;  // the last line
  EXPECT_EQ(err.find("deepnet: error"), std::string::npos) << err;

  const Result resumed = run(slow_table_search + " --log run.jsonl --resume");
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  EXPECT_NE(resumed.err.find(std::to_string(finished) + " of 12 trials taken from run.jsonl"), std::string::npos)
      << resumed.err;
  EXPECT_EQ(resumed.err.find("half-written"), std::string::npos) << resumed.err;
  const std::vector<json> lines = log_lines("run.jsonl");
  ASSERT_EQ(lines.size(), 12u);
  std::set<std::string> settings;
  for (const json& l : lines) settings.insert(l["setting"].dump());
  EXPECT_EQ(settings.size(), 12u);  // the finished trials were not trained again

  const Result straight = run(slow_table_search + " --log straight.jsonl");
  ASSERT_EQ(straight.status, 0) << straight.err;
  EXPECT_NE(straight.out.find("best: trial "), std::string::npos) << straight.out;
  EXPECT_EQ(std::count(straight.out.begin(), straight.out.end(), '\n'), 1 + 1 + 12 + 1) << straight.out;
  EXPECT_EQ(without_seconds(resumed.out), without_seconds(straight.out));
  EXPECT_EQ(without_time(log_lines("run.jsonl")), without_time(log_lines("straight.jsonl")));
}

TEST_F(SearchCli, TerminatedSearchWithoutALogSaysNothingWasKept) {
  const std::string cmd = "exec '" + std::string(DEEPNET_BINARY) + "' " + slow_table_search;
  const pid_t pid = deepnet::test::spawn({"/bin/sh", "-c", cmd}, dir_, {}, dir_ / "terminated.txt");
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (read("terminated.txt").find("[1/12] trial ") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGTERM);
  int raw = 0;
  ::waitpid(pid, &raw, 0);
  ASSERT_TRUE(WIFEXITED(raw)) << deepnet::test::describe_status(raw);
  EXPECT_EQ(WEXITSTATUS(raw), 143);
  const std::string err = read("terminated.txt");
  const std::string message =
      "deepnet: search interrupted; nothing was kept: give --log FILE to make a search resumable\n";
  ASSERT_GE(err.size(), message.size()) << err;
  EXPECT_EQ(err.substr(err.size() - message.size()), message) << err;
  EXPECT_EQ(err.find("deepnet: error"), std::string::npos) << err;
}

TEST_F(SearchCli, HalfWrittenLastLineIsDroppedOnResume) {
  const std::string args = "search --data iris --normalize standard --layers '4|8' --lr '0.01|0.03' --epochs 10 --folds 3 --json";
  ASSERT_EQ(run(args + " --log full.jsonl").status, 0);
  const std::string full = read("full.jsonl");
  // The first two lines, then half of the third: what a crash while writing it leaves.
  std::size_t cut = full.find('\n', full.find('\n') + 1) + 1;
  write("torn.jsonl", full.substr(0, cut) + full.substr(cut, 40));
  const Result r = run(args + " --log torn.jsonl --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("skipped a half-written last line"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 of 4 trials taken from torn.jsonl"), std::string::npos) << r.err;
  EXPECT_EQ(log_lines("torn.jsonl").size(), 4u);  // every line parses: the torn part is gone
  EXPECT_EQ(without_time(log_lines("torn.jsonl")), without_time(log_lines("full.jsonl")));
}

TEST_F(SearchCli, ResumeWithALargerSpaceTrainsOnlyTheNewSettings) {
  const std::string base = "search --data iris --normalize standard --layers 8 --epochs 10 --log s.jsonl";
  ASSERT_EQ(run(base + " --folds 3 --lr '0.01|0.03'").status, 0);
  ASSERT_EQ(line_count("s.jsonl"), 2);
  const Result r = run(base + " --folds 3 --lr '0.01|0.03|0.1' --resume");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("2 of 3 trials taken from s.jsonl"), std::string::npos) << r.err;
  EXPECT_EQ(line_count("s.jsonl"), 3);
  // A different evaluation is a different trial: nothing is taken from the log.
  const Result other = run(base + " --lr '0.01|0.03|0.1' --resume --folds 4");
  ASSERT_EQ(other.status, 0) << other.err;
  EXPECT_EQ(other.err.find("taken from"), std::string::npos) << other.err;
  EXPECT_EQ(line_count("s.jsonl"), 6);
  // Without --resume the log starts afresh.
  ASSERT_EQ(run(base + " --folds 3 --lr 0.01").status, 0);
  EXPECT_EQ(line_count("s.jsonl"), 1);
}

TEST_F(SearchCli, MalformedLogLineIsADataErrorNamingTheLine) {
  write("bad.jsonl", "{\"trial\":0}\n");
  const Result r = run("search --data iris --lr 0.01 --epochs 2 --log bad.jsonl --resume");
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.err.rfind("deepnet: error: bad.jsonl: line 1: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

// ---------------------------------------------------------------- strategies and the space

TEST_F(SearchCli, RandomSearchSamplesRangesReproduciblyFromTheSeed) {
  const std::string args = "search --data iris --normalize standard --strategy random --trials 6 --layers '4|8' "
                           "--lr 1e-3..1e-1 --batch-size 8..64 --epochs 5 --folds 3 --quiet";
  ASSERT_EQ(run(args + " --seed 5 --log a.jsonl").status, 0);
  ASSERT_EQ(run(args + " --seed 5 --log b.jsonl").status, 0);
  const std::vector<json> a = log_lines("a.jsonl");
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(without_time(a), without_time(log_lines("b.jsonl")));
  std::set<double> lrs;
  for (const json& l : a) {
    const double lr = l["setting"]["lr"].get<double>();
    EXPECT_GE(lr, 1e-3 * 0.9999);
    EXPECT_LE(lr, 1e-1 * 1.0001);
    lrs.insert(lr);
    const long long batch = l["setting"]["batch-size"].get<long long>();
    EXPECT_GE(batch, 8);
    EXPECT_LE(batch, 64);
  }
  EXPECT_GE(lrs.size(), 5u);
  ASSERT_EQ(run(args + " --seed 6 --log c.jsonl").status, 0);
  EXPECT_NE(without_time(a), without_time(log_lines("c.jsonl")));
}

TEST_F(SearchCli, SuccessiveHalvingKeepsTheBestThirdUntilOneRunsTheFullBudget) {
  const Result r = run("search --data breast-cancer --normalize standard --strategy halving --trials 9 "
                       "--layers '4|8|16' --lr 1e-4..1e-1 --epochs 27 --batch-size 32 --folds 3 --json --log h.jsonl");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<json> lines = log_lines("h.jsonl");
  ASSERT_EQ(lines.size(), 13u);  // 9 at 3 epochs, 3 at 9, 1 at 27
  std::map<int, std::vector<json>> by_round;
  for (const json& l : lines) by_round[l["round"].get<int>()].push_back(l);
  ASSERT_EQ(by_round.size(), 3u);
  EXPECT_EQ(by_round[0].size(), 9u);
  EXPECT_EQ(by_round[1].size(), 3u);
  EXPECT_EQ(by_round[2].size(), 1u);
  for (const json& l : by_round[0]) EXPECT_EQ(l["setting"]["epochs"], 3);
  for (const json& l : by_round[1]) EXPECT_EQ(l["setting"]["epochs"], 9);
  EXPECT_EQ(by_round[2][0]["setting"]["epochs"], 27);
  // The three that went on were the best three of round 0.
  std::vector<double> means;
  for (const json& l : by_round[0]) means.push_back(l["mean"].get<double>());
  std::sort(means.rbegin(), means.rend());
  for (const json& l : by_round[1]) {
    json same = l["setting"];
    same["epochs"] = 3;
    double mean0 = -1;
    for (const json& k : by_round[0])
      if (k["setting"] == same) mean0 = k["mean"].get<double>();
    EXPECT_GE(mean0, means[2]);
  }
  const json j = json::parse(r.out);
  EXPECT_EQ(j["trials"], 13);
  EXPECT_EQ(j["best"]["setting"]["epochs"], 27);
  EXPECT_EQ(j["best"]["trial"], 12);
}

TEST_F(SearchCli, SpaceFileGivesListsAndRanges) {
  write("space.json", R"({"lr": {"min": 0.001, "max": 0.1}, "layers": ["4", "8,4"], "hidden_activation": ["relu", "tanh"],
                          "epochs": 5, "normalize": "standard"})");
  const Result r = run("search --data iris --space space.json --strategy random --trials 5 --folds 3 --json --log s.jsonl");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<json> lines = log_lines("s.jsonl");
  ASSERT_EQ(lines.size(), 5u);
  for (const json& l : lines) {
    EXPECT_EQ(l["setting"]["epochs"], 5);
    EXPECT_EQ(l["setting"]["normalize"], "standard");
    EXPECT_TRUE(l["setting"]["layers"] == "4" || l["setting"]["layers"] == "8,4");
    EXPECT_TRUE(l["setting"]["hidden-activation"] == "relu" || l["setting"]["hidden-activation"] == "tanh");
  }
  const Result grid = run("search --data iris --space space.json --folds 3");
  EXPECT_EQ(grid.status, 2);
  EXPECT_NE(grid.err.find("a range needs --strategy random or halving"), std::string::npos) << grid.err;
}

TEST_F(SearchCli, DivergingTrialIsListedAsFailedAndTheSearchGoesOn) {
  const std::string args = "search --data breast-cancer --layers 16 --hidden-activation linear --iterations 50 --folds 3 --quiet";
  const Result r = run(args + " --lr '1e9|0.001' --log f.jsonl");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trial 0 failed: fold 1: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("best: trial 1: "), std::string::npos) << r.out;
  const std::vector<json> lines = log_lines("f.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  for (const json& l : lines)
    if (l["trial"] == 0) {
      EXPECT_TRUE(l["mean"].is_null());
      EXPECT_NE(l["error"].get<std::string>().find("diverged"), std::string::npos) << l.dump();
    }
  // Every trial failed: exit 1 with the first error.
  const Result all = run(args + " --lr 1e9");
  EXPECT_EQ(all.status, 1);
  EXPECT_EQ(all.err.rfind("deepnet: error: every trial failed; the first: trial 0: fold 1: ", 0), 0u) << all.err;
}

// ---------------------------------------------------------------- usage errors

TEST_F(SearchCli, UsageErrorsAreOneLineWithExitTwo) {
  write("space.json", R"({"learning_speed": [1, 2]})");
  write("both.json", R"({"lr": [0.1]})");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"search --data iris --strategy random --lr 0.1..0.01", "--lr: bad range '0.1..0.01': expected lo..hi with lo < hi"},
      {"search --data iris --strategy random --lr 0.1..x", "--lr: bad range '0.1..x': expected lo..hi with two numbers"},
      {"search --data iris --strategy random --lr 0..0.1", "a log-uniform range needs lo > 0"},
      {"search --data iris --strategy random --dropout 0..1", "--dropout: bad range '0..1'"},
      {"search --data iris --lr 1e-4..1e-1", "--lr 1e-4..1e-1: a range needs --strategy random or halving"},
      {"search --data iris --strategy random --layers 4..8", "ranges lo..hi are for numeric parameters"},
      {"search --data iris --lr 0.1 --resume", "--resume needs --log FILE"},
      {"search --data iris --lr '0.1|-1'", "--lr: expected a number > 0, got '-1'"},
      {"search --data iris --hidden-activation 'relu|swish'", "got 'swish'"},
      {"search --data iris --folds 1", "--folds: expected at least 2 folds"},
      {"search --data iris --folds 3 --val-split 0.2", "give one of them"},
      {"search --data iris --strategy exhaustive", "--strategy: expected grid, random or halving"},
      {"search --data iris --iterations 100 --epochs 5", "search one of them"},
      {"search --data iris --iterations 100 --optimizer adam", "--optimizer adam needs mini-batch training"},
      {"search --data iris --space space.json", "unknown parameter"},
      {"search --data iris --space both.json --lr 0.1", "--lr: also given in both.json"},
      {"search --data iris --space missing.json", "missing.json"},
      {"search --data iris --trials 0 --strategy random", "--trials: expected at least 1"},
      {"search --data iris --jobs 0", "--jobs: expected at least 1"},
  };
  for (const auto& [args, message] : cases) {
    const Result r = run(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("deepnet: error: ", 0), 0u) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << args;
  }
}

// ---------------------------------------------------------------- pictures

TEST_F(SearchCli, PlotOfAHiddenUnitSweepIsAccuracyAgainstUnits) {
  ASSERT_EQ(run(planar_sweep + " --train-score --log sweep.jsonl --quiet --plot pictures").status, 0);
  const Result r = run("plot search --log sweep.jsonl -o sweep.svg");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  for (const std::string svg : {"sweep.svg", "pictures/search.svg"}) {
    const json stats = svg_stats(svg);
    ASSERT_TRUE(stats.contains("points")) << svg;
    EXPECT_EQ(stats["root"], "{http://www.w3.org/2000/svg}svg");
    EXPECT_EQ(stats["points"], 7) << svg << " " << stats.dump();  // one per trial
    EXPECT_EQ(stats["panels"], json::array({"layers"}));
    EXPECT_TRUE(has_text(stats, "hidden units, one hidden layer (log scale)")) << stats.dump();
    expect_renders(svg);
  }
  EXPECT_TRUE(has_text(svg_stats("sweep.svg"), "search: sweep.jsonl"));
  // 2-D data: one decision boundary per hidden size, each with the 400 points and its trial's accuracy.
  const std::map<int, std::string> accuracy = {{0, "0.6750"}, {1, "0.6725"}, {2, "0.9075"}, {3, "0.9050"}, {4, "0.9125"}};
  for (int trial = 0; trial < 7; ++trial) {
    const std::string svg = "pictures/trial-" + std::to_string(trial) + "-boundary.svg";
    ASSERT_TRUE(fs::exists(dir_ / svg)) << svg;
    EXPECT_TRUE(fs::exists(dir_ / ("pictures/trial-" + std::to_string(trial) + ".dnn")));
    const json stats = svg_stats(svg);
    EXPECT_EQ(stats["points"], 400) << svg;
    if (const auto it = accuracy.find(trial); it != accuracy.end()) {
      bool found = false;
      for (const auto& t : stats["texts"]) found = found || t.get<std::string>().find("accuracy " + it->second) != std::string::npos;
      EXPECT_TRUE(found) << svg << ": " << stats["texts"].dump();
    }
    if (trial == 0 || trial == 4) expect_renders(svg);
  }
}

TEST_F(SearchCli, PlotHasAPanelPerVaryingParameterWithErrorBars) {
  ASSERT_EQ(run(bc_base + " --epochs 20 --folds 3 --quiet --log bc.jsonl").status, 0);
  const Result all = run("plot search --log bc.jsonl -o all.svg --width 900 --height 700");
  ASSERT_EQ(all.status, 0) << all.err;
  const json stats = svg_stats("all.svg");
  EXPECT_EQ(stats["width"], "900");
  EXPECT_EQ(stats["panels"], json::array({"layers", "lr"}));  // epochs, batch size, normalize: one value each
  EXPECT_EQ(stats["points"], 2 * 12);
  EXPECT_EQ(stats["errorbars"].get<int>() % 3, 0);
  EXPECT_GT(stats["errorbars"].get<int>(), 0);
  expect_renders("all.svg");

  const Result one = run("plot search --log bc.jsonl -o lr.svg --param lr");
  ASSERT_EQ(one.status, 0) << one.err;
  const json lr = svg_stats("lr.svg");
  EXPECT_EQ(lr["points"], 12);  // one per trial
  EXPECT_EQ(lr["panels"], json::array({"lr"}));
  EXPECT_TRUE(has_text(lr, "lr (log scale)"));
  expect_renders("lr.svg");

  const Result bad = run("plot search --log bc.jsonl -o x.svg --param momentum");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--param: 'momentum' is not a parameter"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir_ / "x.svg"));
  const Result missing = run("plot search --log nowhere.jsonl -o x.svg");
  EXPECT_EQ(missing.status, 3);
}

TEST_F(SearchCli, HalvingPlotShowsEachRound) {
  ASSERT_EQ(run("search --data iris --normalize standard --strategy halving --trials 5 --layers '4|8|16' "
                "--lr 1e-3..1e-1 --epochs 9 --folds 3 --quiet --log h.jsonl").status, 0);
  ASSERT_EQ(line_count("h.jsonl"), 5 + 2 + 1);
  const Result r = run("plot search --log h.jsonl -o h.svg --param lr");
  ASSERT_EQ(r.status, 0) << r.err;
  const json stats = svg_stats("h.svg");
  EXPECT_EQ(stats["points"], 8);
  EXPECT_TRUE(has_text(stats, "round 0 (epochs 1)")) << stats.dump();
  EXPECT_TRUE(has_text(stats, "round 2 (epochs 9)"));
  expect_renders("h.svg");
}

}  // namespace
