// CSV reading: the accepted dialects and the errors that name line and column.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <filesystem>
#include <fstream>

#include "deepnet/data.hpp"
#include "deepnet/error.hpp"

namespace deepnet {
namespace {

using test::message_of;


CsvOptions label_column(const std::string& column) {
  CsvOptions options;
  options.label_column = column;
  return options;
}

TEST(Csv, ReadsHeaderFeaturesAndLastColumnAsLabel) {
  const Dataset d = parse_csv("a,b,y\n1,2,0\n3.5,-4e-1,1\n", "t.csv");
  ASSERT_EQ(d.features(), 2);
  ASSERT_EQ(d.examples(), 2);
  EXPECT_EQ(d.X(0, 1), 3.5);
  EXPECT_EQ(d.X(1, 1), -0.4);
  EXPECT_EQ(d.targets, (std::vector<double>{0, 1}));
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d.target_name, "y");
}

TEST(Csv, LabelColumnByNameOrIndex) {
  const std::string text = "y,a,b\n1,2,3\n0,5,6\n";
  const Dataset by_name = parse_csv(text, "t.csv", label_column("y"));
  EXPECT_EQ(by_name.targets, (std::vector<double>{1, 0}));
  EXPECT_EQ(by_name.X(0, 0), 2);
  const Dataset by_index = parse_csv(text, "t.csv", label_column("0"));
  EXPECT_EQ(by_index.targets, by_name.targets);
  const Dataset last = parse_csv(text, "t.csv", label_column("-1"));
  EXPECT_EQ(last.targets, (std::vector<double>{3, 6}));
  EXPECT_NE(message_of([&] { parse_csv(text, "t.csv", label_column("label")); }).find("no column named 'label'"),
            std::string::npos);
  EXPECT_NE(message_of([&] { parse_csv(text, "t.csv", label_column("7")); }).find("out of range"),
            std::string::npos);
}

TEST(Csv, AcceptsBomCrlfQuotesSemicolonsAndTabs) {
  const Dataset d = parse_csv("\xEF\xBB\xBF\"x 1\";\"y\"\r\n\"1.5\";0\r\n2;1\r\n", "t.csv");
  EXPECT_EQ(d.feature_names[0], "x 1");
  EXPECT_EQ(d.X(0, 0), 1.5);
  EXPECT_EQ(d.targets, (std::vector<double>{0, 1}));
  const Dataset t = parse_csv("a\tb\n1\t2\n", "t.tsv");
  EXPECT_EQ(t.targets, (std::vector<double>{2}));
  const Dataset blank_lines = parse_csv("a,b\n1,2\n\n3,4\n", "t.csv");
  EXPECT_EQ(blank_lines.examples(), 2);
}

TEST(Csv, NonNumericCellNamesLineAndColumn) {
  EXPECT_EQ(message_of([] { parse_csv("x1,x2,y\n1,2,0\n3,abc,1\n", "bad.csv"); }),
            "bad.csv: line 3, column 2 ('x2'): expected a number, got 'abc'");
  EXPECT_EQ(message_of([] { parse_csv("x1,x2,y\n1,,0\n", "bad.csv"); }),
            "bad.csv: line 2, column 2 ('x2'): expected a number, got ''");
}

TEST(Csv, RaggedRowsAndEmptyFilesAreErrors) {
  EXPECT_EQ(message_of([] { parse_csv("x1,x2,y\n1,2,0\n3,1\n", "r.csv"); }),
            "r.csv: line 3: expected 3 fields as in the header, found 2");
  EXPECT_NE(message_of([] { parse_csv("", "e.csv"); }).find("e.csv: the file is empty"),
            std::string::npos);
  EXPECT_NE(message_of([] { parse_csv("a,b\n", "h.csv"); }).find("no data rows"), std::string::npos);
  EXPECT_NE(message_of([] { parse_csv("a,b\n\"1,2\n", "q.csv"); }).find("not closed"),
            std::string::npos);
}

TEST(Csv, MissingFileIsAnErrorNamingIt) {
  EXPECT_EQ(message_of([] { load_csv("no/such/file.csv"); }),
            "no/such/file.csv: cannot open the file for reading");
}

TEST(Csv, LoadsARealFileFromDisk) {
  const auto path = std::filesystem::temp_directory_path() / "deepnet_csv_test.csv";
  {
    std::ofstream out(path);
    out << "f,label\n0.25,1\n0.5,0\n";
  }
  const Dataset d = load_csv(path.string());
  EXPECT_EQ(d.examples(), 2);
  EXPECT_EQ(d.source, path.string());
  std::filesystem::remove(path);
}

TEST(BuiltinData, PlanarIsTheCoursesFlower) {
  const Dataset d = load_builtin("planar");
  EXPECT_EQ(d.features(), 2);
  EXPECT_EQ(d.examples(), 400);
  EXPECT_EQ(d.X(0, 0), 1.2044422922543192);  // first row of data/planar_flower.csv
  EXPECT_EQ(d.X(1, 0), 3.576114148128845);
  double ones = 0;
  for (double t : d.targets) ones += t;
  EXPECT_EQ(ones, 200);
  EXPECT_TRUE(is_builtin_dataset("planar"));
  EXPECT_THROW(load_builtin("mnist"), Error);
}

TEST(TargetEncoding, InfersOutputFromLabels) {
  EXPECT_EQ(infer_target_encoding({0, 1, 1}).output, Output::sigmoid);
  const TargetEncoding three = infer_target_encoding({2, 0, 1, 2});
  EXPECT_EQ(three.output, Output::softmax);
  EXPECT_EQ(three.output_units(), 3);
  EXPECT_EQ(infer_target_encoding({0.5, 1.25}).output, Output::linear);
  const TargetEncoding pm = infer_target_encoding({-1, 1, 1});
  const Matrix<double> labels = encode_labels<double>(pm, {-1, 1, 1});
  EXPECT_EQ(labels(0, 0), 0);
  EXPECT_EQ(labels(0, 2), 1);
  EXPECT_THROW(infer_target_encoding({3, 3}), Error);
}

}  // namespace
}  // namespace deepnet

namespace deepnet {
namespace {

TEST(Csv, DetectsAMissingHeaderAndNamesColumns) {
  const Dataset d = parse_csv("1,2,0\n3,4,1\n", "n.csv");
  EXPECT_EQ(d.examples(), 2);
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"x1", "x2"}));
  CsvOptions forced;
  forced.header = CsvHeader::absent;
  EXPECT_EQ(parse_csv("1,2,0\n3,4,1\n", "n.csv", forced).examples(), 2);
  forced.header = CsvHeader::present;
  EXPECT_EQ(parse_csv("1,2,0\n3,4,1\n", "n.csv", forced).examples(), 1);
}

TEST(Csv, StringLabelsBecomeSortedNamedClasses) {
  const Dataset d = parse_csv("x,animal\n1,dog\n2,cat\n3,dog\n4,emu\n", "s.csv");
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"cat", "dog", "emu"}));
  EXPECT_EQ(d.targets, (std::vector<double>{1, 0, 1, 2}));
  const TargetEncoding e = infer_target_encoding(d);
  EXPECT_EQ(e.output, Output::softmax);
  EXPECT_EQ(e.class_names, d.class_names);
  // Another file's names line up by name, not by position.
  const Dataset other = parse_csv("x,animal\n5,emu\n6,cat\n", "t.csv");
  EXPECT_EQ(targets_in_encoding(other, e), (std::vector<double>{2, 0}));
  const Dataset unseen = parse_csv("x,animal\n5,yak\n", "u.csv");
  try {
    targets_in_encoding(unseen, e);
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(std::string(err.what()), "u.csv: example 1: label 'yak' is not one of the model's classes (cat, dog, emu)");
  }
}

TEST(Csv, ExplicitDelimiterAndFeaturesOnly) {
  CsvOptions semicolon;
  semicolon.delimiter = ';';
  EXPECT_EQ(parse_csv("a;b\n1.5;2\n", "d.csv", semicolon).X(0, 0), 1.5);
  CsvOptions comma;
  comma.delimiter = ',';
  EXPECT_NE(message_of([&] { parse_csv("a;b\n1.5;2\n", "d.csv", comma); }).find("expected at least 2 columns"),
            std::string::npos);
  CsvOptions all;
  all.features_only = true;
  const Dataset f = parse_csv("a,b,c\n1,2,3\n", "f.csv", all);
  EXPECT_EQ(f.features(), 3);
  EXPECT_TRUE(f.targets.empty());
}

TEST(Csv, InfinityAndNaNAreRejectedWithTheirPlace) {
  EXPECT_EQ(message_of([] { parse_csv("a,y\n1,0\ninf,1\n", "i.csv"); }),
            "i.csv: line 3, column 1 ('a'): expected a finite number, got 'inf'");
  EXPECT_EQ(message_of([] { parse_csv("a,y\nnan,0\n", "i.csv"); }),
            "i.csv: line 2, column 1 ('a'): expected a finite number, got 'nan'");
}

TEST(BuiltinData, ScikitLearnSetsHaveTheirDocumentedShapes) {
  struct Expect {
    const char* name;
    Eigen::Index m, n;
    std::size_t classes;
  };
  for (const Expect e : {Expect{"breast-cancer", 569, 30, 2}, Expect{"iris", 150, 4, 3},
                         Expect{"wine", 178, 13, 3}, Expect{"digits", 1797, 64, 10}}) {
    const Dataset d = load_builtin(e.name);
    EXPECT_EQ(d.examples(), e.m) << e.name;
    EXPECT_EQ(d.features(), e.n) << e.name;
    EXPECT_EQ(infer_target_encoding(d).classes.size(), e.classes) << e.name;
    EXPECT_EQ(d.feature_names.size(), static_cast<std::size_t>(e.n)) << e.name;
  }
  const Dataset bc = load_builtin("breast-cancer");
  EXPECT_EQ(bc.class_names, (std::vector<std::string>{"malignant", "benign"}));
  EXPECT_EQ(bc.X(0, 0), 17.99);  // first value of data/breast_cancer.csv
  int benign = 0;
  for (double t : bc.targets) benign += t == 1;
  EXPECT_EQ(benign, 357);
  EXPECT_THROW(load_builtin("iris:test"), Error);
  EXPECT_TRUE(is_builtin_dataset("fashion-mnist:test"));
}

}  // namespace
}  // namespace deepnet
