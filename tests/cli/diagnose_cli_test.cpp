// `deepnet train --diagnose`, the health warnings, `--plot DIR` and the
// message for a non-finite value: the built binary, run as a user would.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "fixture.hpp"

namespace {

using Result = deepnet::test::CliResult;

class DiagnoseCli : public deepnet::test::CliTest {
 protected:
  DiagnoseCli() : CliTest("deepnet-diagnose-cli") {}
};

int occurrences(const std::string& text, const std::string& part) {
  int n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

int warning_lines(const std::string& err) { return occurrences(err, "deepnet: warning: "); }

std::vector<std::string> split(const std::string& line, char separator = ',') {
  std::vector<std::string> fields;
  std::stringstream in(line);
  for (std::string field; std::getline(in, field, separator);) fields.push_back(field);
  if (!line.empty() && line.back() == separator) fields.emplace_back();
  return fields;
}

TEST_F(DiagnoseCli, ZeroInitOnPlanarWarnsOfSymmetricUnitsOnceWithoutDiagnose) {
  const Result r = run("train --data planar --layers 4 --hidden-activation tanh --init zeros --iterations 300 --lr 1.2 --quiet");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(occurrences(r.err, "identical incoming weights"), 1) << r.err;
  EXPECT_NE(r.err.find("layer 1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("initialise the weights randomly"), std::string::npos) << r.err;  // the advice
  EXPECT_EQ(warning_lines(r.err), 1) << r.err;
}

TEST_F(DiagnoseCli, LearningRate10OnBreastCancerWarnsThatTheRateIsTooHigh) {
  const Result r = run("train --data breast-cancer --layers 16,8 --lr 10 --epochs 20 --diagnose --quiet");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(occurrences(r.err, "the learning rate is too high"), 1) << r.err;
  EXPECT_NE(r.err.find("update/weight ratio above"), std::string::npos) << r.err;
  // Each rule once, however many epochs it holds in.
  EXPECT_LE(occurrences(r.err, "ReLU units are dead"), 1) << r.err;
  EXPECT_LE(occurrences(r.err, "the training cost rose"), 1) << r.err;
}

TEST_F(DiagnoseCli, SigmoidHiddenLayersOfADeepNetWithLargeWeightsSaturate) {
  const Result r = run("train --data breast-cancer --layers 32,32,32,32 --hidden-activation sigmoid --init small "
                       "--init-scale 3 --epochs 5 --diagnose --quiet");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(occurrences(r.err, "sigmoid units are saturated"), 1) << r.err;
}

TEST_F(DiagnoseCli, HealthyRunsPrintNoWarning) {
  for (const std::string args :
       {"train --data breast-cancer --layers 16,8 --epochs 30 --diagnose --quiet",
        "train --data planar --layers 4 --hidden-activation tanh --init small --iterations 5000 --lr 1.2 --diagnose --quiet",
        "train --data iris --layers 16 --hidden-activation tanh --epochs 40 --dropout 0.2 --diagnose --quiet"}) {
    const Result r = run(args);
    ASSERT_EQ(r.status, 0) << args << "\n" << r.err;
    EXPECT_EQ(warning_lines(r.err), 0) << args << "\n" << r.err;
  }
}

TEST_F(DiagnoseCli, HistoryKeepsItsColumnsAndAddsSaneDiagnostics) {
  ASSERT_EQ(run("train --data breast-cancer --layers 16,8 --epochs 12 --diagnose --history h.csv --quiet").status, 0);
  std::stringstream text(read("h.csv"));
  std::string header;
  std::getline(text, header);
  EXPECT_EQ(header.rfind("epoch,train_cost,val_cost,val_accuracy,lr,seconds,", 0), 0u) << header;
  const std::vector<std::string> names = split(header);
  for (const char* column : {"dead_1", "dead_2", "a_mean_3", "a_std_1", "dw_norm_2", "w_norm_3", "update_ratio_1"})
    EXPECT_NE(std::find(names.begin(), names.end(), column), names.end()) << column << " missing: " << header;
  EXPECT_EQ(std::find(names.begin(), names.end(), "dead_3"), names.end()) << "the output layer is not a hidden ReLU layer";
  EXPECT_EQ(std::find(names.begin(), names.end(), "saturated_1"), names.end()) << "relu layers do not saturate";
  int rows = 0;
  for (std::string line; std::getline(text, line);) {
    if (line.empty()) continue;
    ++rows;
    const std::vector<std::string> fields = split(line);
    ASSERT_EQ(fields.size(), names.size()) << line;
    for (std::size_t c = 6; c < names.size(); ++c) {
      const double v = std::strtod(fields[c].c_str(), nullptr);
      ASSERT_TRUE(std::isfinite(v)) << names[c] << " = '" << fields[c] << "'";
      if (names[c].rfind("dead_", 0) == 0) {
        EXPECT_TRUE(v >= 0 && v <= 1) << names[c] << " " << v;
      }
      if (names[c].rfind("a_std_", 0) == 0) {
        EXPECT_GE(v, 0) << names[c];
      }
      if (names[c].rfind("w_norm_", 0) == 0 || names[c].rfind("update_ratio_", 0) == 0) {
        EXPECT_GT(v, 0) << names[c];
      }
      if (names[c] == "a_mean_3") {
        EXPECT_TRUE(v > 0 && v < 1) << "a sigmoid output's mean: " << v;
      }
    }
  }
  EXPECT_EQ(rows, 12);

  // Without --diagnose the history is exactly the old one.
  ASSERT_EQ(run("train --data breast-cancer --layers 16,8 --epochs 3 --history plain.csv --quiet").status, 0);
  EXPECT_EQ(read("plain.csv").substr(0, read("plain.csv").find('\n')), "epoch,train_cost,val_cost,val_accuracy,lr,seconds");

  // JSON: the same keys with numbers.
  ASSERT_EQ(run("train --data breast-cancer --layers 16,8 --epochs 3 --diagnose --history h.json --quiet").status, 0);
  const std::string json = read("h.json");
  EXPECT_NE(json.find("\"update_ratio_2\""), std::string::npos) << json.substr(0, 400);
  EXPECT_NE(json.find("\"train_cost\""), std::string::npos);

  // The course's loop: every --print-every iterations.
  ASSERT_EQ(run("train --data planar --layers 4 --hidden-activation tanh --init small --iterations 500 --lr 1.2 "
                "--print-every 100 --diagnose --history g.csv --quiet").status, 0);
  std::stringstream course(read("g.csv"));
  std::getline(course, header);
  EXPECT_EQ(header.rfind("iteration,cost,saturated_1,", 0), 0u) << header;
  std::vector<std::string> iterations;
  for (std::string line; std::getline(course, line);)
    if (!line.empty()) iterations.push_back(split(line)[0]);
  EXPECT_EQ(iterations, (std::vector<std::string>{"0", "100", "200", "300", "400", "499"}));
}

TEST_F(DiagnoseCli, DiagnoseLeavesTheModelFileTheSameBits) {
  for (const std::string args : {"train --data breast-cancer --layers 16,8 --epochs 6 --dropout 0.1",
                                 "train --data planar --layers 4 --hidden-activation tanh --iterations 400 --lr 1.2",
                                 "train --data iris --layers 8 --epochs 5 --dtype float64"}) {
    ASSERT_EQ(run(args + " --out plain.dnn --quiet").status, 0) << args;
    const Result r = run(args + " --out diagnosed.dnn --diagnose --quiet");
    ASSERT_EQ(r.status, 0) << args << "\n" << r.err;
    const std::string a = read("plain.dnn"), b = read("diagnosed.dnn");
    ASSERT_FALSE(a.empty());
    EXPECT_TRUE(a == b) << args << ": the model files differ";
  }
}

TEST_F(DiagnoseCli, PlotWritesTheRunsPictures) {
  const Result r = run("train --data planar --layers 4 --hidden-activation tanh --iterations 300 --lr 1.2 --diagnose "
                       "--plot pics --quiet");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* name : {"learning_curve.svg", "diagnostics.svg", "confusion.svg", "boundary.svg"}) {
    const std::string svg = read(std::string("pics/") + name);
    EXPECT_EQ(svg.rfind("<svg", 0) == 0 || svg.rfind("<?xml", 0) == 0, true) << name << ": " << svg.substr(0, 60);
    EXPECT_NE(svg.find("</svg>"), std::string::npos) << name;
    EXPECT_EQ(shell("/usr/bin/python3 -c \"import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])\" pics/" +
                    std::string(name)), 0) << name << " is not well-formed XML";
  }
  // More than 2 features: no boundary; regression: neither confusion nor boundary; no --diagnose: no diagnostics.
  // A folder named as the built-in data set: made after the data is loaded, so it shadows nothing.
  ASSERT_EQ(run("train --data iris --layers 8 --epochs 5 --plot iris --quiet").status, 0);
  EXPECT_FALSE(read("iris/confusion.svg").empty());
  EXPECT_TRUE(read("iris/boundary.svg").empty());
  EXPECT_TRUE(read("iris/diagnostics.svg").empty());
  // A file where the folder should be: refused before training.
  write("taken", "x");
  const Result bad = run("train --data iris --layers 8 --epochs 5 --plot taken --quiet");
  EXPECT_EQ(bad.status, 4) << bad.err;
  EXPECT_NE(bad.err.find("--plot taken"), std::string::npos) << bad.err;
}

TEST_F(DiagnoseCli, NonFiniteValueIsNamedByQuantityLayerAndStep) {
  std::string csv = "a,b,y\n";
  for (int i = 1; i <= 40; ++i)
    csv += std::to_string(i * 1000) + "," + std::to_string(i % 7) + "," + std::to_string(i % 2) + "\n";
  write("huge.csv", csv);
  const Result course = run("train --data huge.csv --layers 4 --iterations 200 --lr 1e30 --normalize standard --quiet");
  EXPECT_EQ(course.status, 1) << course.err;
  EXPECT_NE(course.err.find("iteration 2: the first non-finite value is in W[1], made by the update of iteration 1"),
            std::string::npos) << course.err;
  const Result minibatch = run("train --data huge.csv --layers 4 --epochs 20 --lr 1e30 --optimizer sgd --quiet");
  EXPECT_EQ(minibatch.status, 1) << minibatch.err;
  EXPECT_NE(minibatch.err.find("epoch 1, step 2: the cost became"), std::string::npos) << minibatch.err;
  EXPECT_NE(minibatch.err.find("Z[2] (layer 2) of the forward pass"), std::string::npos) << minibatch.err;
}

TEST_F(DiagnoseCli, DiagnoseIsRefusedWithGradientBlocksNamingTheFlag) {
  const Result r = run("train --data iris --layers 8 --epochs 2 --gradient-blocks 4 --diagnose --quiet");
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("--diagnose"), std::string::npos) << r.err;
}

}  // namespace
