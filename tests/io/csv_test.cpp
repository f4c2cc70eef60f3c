// CSV reading: the accepted dialects and the errors that name line and column.
#include <gtest/gtest.h>

#include "test_util.hpp"

#include <filesystem>
#include <fstream>

#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "deepnet/preprocess.hpp"

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
  const Dataset blank_lines = parse_csv("a,b\n1,2\n\n3,4\n  \n", "t.csv");
  EXPECT_EQ(blank_lines.examples(), 2);
}

TEST(Csv, NonNumericCellNamesLineAndColumn) {
  EXPECT_EQ(message_of([] { parse_csv("x1,x2,y\n1,2,0\n3,abc,1\n", "bad.csv"); }),
            "bad.csv: line 3, column 2 ('x2'): expected a number, got 'abc'");
  EXPECT_EQ(message_of([] { parse_csv("x1,x2,y\n1,,0\n", "bad.csv"); }),
            "bad.csv: line 2, column 2 ('x2'): expected a number, got an empty field (a missing value)");
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
            "i.csv: line 2, column 1 ('a'): expected a number, got 'nan', a missing-value marker");
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

// Files as real tools write them: headerless UCI files, pandas' and R's
// indexes and column numbers, missing labels, Excel's UTF-16, np.savetxt.
namespace deepnet {
namespace {

using test::contains;
using test::message_of;

bool has_note(const Dataset& d, const std::string& part) {
  for (const auto& note : d.notes)
    if (contains(note, part)) return true;
  return false;
}

TEST(CsvHeader, HeaderlessUciRowWithANamedLabelIsData) {
  // The first lines of UCI's iris.data: no header, class names in the last column.
  const std::string iris =
      "5.1,3.5,1.4,0.2,Iris-setosa\n4.9,3.0,1.4,0.2,Iris-setosa\n7.0,3.2,4.7,1.4,Iris-versicolor\n";
  const Dataset d = parse_csv(iris, "iris.data");
  ASSERT_EQ(d.examples(), 3);
  ASSERT_EQ(d.features(), 4);
  EXPECT_EQ(d.X(0, 0), 5.1);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"Iris-setosa", "Iris-versicolor"}));
  EXPECT_EQ(d.targets, (std::vector<double>{0, 0, 1}));
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"x1", "x2", "x3", "x4"}));
  EXPECT_TRUE(has_note(d, "line 1 is read as data, not a header")) << testing::PrintToString(d.notes);
  // The label first, chosen by index.
  CsvOptions first_column;
  first_column.label_column = "0";
  const Dataset f = parse_csv("b,1.5,2\ng,0.5,1\nb,2.5,0\n", "f.csv", first_column);
  EXPECT_EQ(f.examples(), 3);
  EXPECT_EQ(f.class_names, (std::vector<std::string>{"b", "g"}));
  // A name over numeric labels is still a header, and so is any name over features.
  const Dataset named = parse_csv("1,2,label\n1,2,0\n3,4,1\n", "n.csv");
  EXPECT_EQ(named.examples(), 2);
  EXPECT_EQ(named.target_name, "label");
  EXPECT_EQ(parse_csv("sepal,width,species\n5.1,3.5,setosa\n", "h.csv").examples(), 1);
  // Numbers naming the feature columns over named classes: read as data, with a note that says why.
  const Dataset wavelengths = parse_csv("400,410,kind\n0.5,0.25,a\n0.75,0.5,b\n", "w.csv");
  EXPECT_EQ(wavelengths.examples(), 3);
  EXPECT_TRUE(has_note(wavelengths, "that label occurs on no other line: if line 1 is a header, say the file has one"))
      << testing::PrintToString(wavelengths.notes);
  EXPECT_FALSE(has_note(d, "occurs on no other line"));
  EXPECT_TRUE(parse_csv("a,b,y\n1,2,0\n", "plain.csv").notes.empty());
}

TEST(CsvHeader, ColumnNumbersAreAHeader) {
  // pd.DataFrame(np.c_[X, y]).to_csv(index=False): the columns are named 0..n.
  const Dataset d = parse_csv("0,1,2,3\n5.1,3.5,1.4,0\n4.9,3.0,1.4,1\n", "n.csv");
  ASSERT_EQ(d.examples(), 2);
  EXPECT_EQ(d.X(0, 0), 5.1);
  EXPECT_EQ(d.feature_names, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(d.target_name, "3");
  EXPECT_TRUE(has_note(d, "line 1 (0, 1, ..., 3) is read as a header of column numbers")) << testing::PrintToString(d.notes);
  // ... and with the index: ",0,1,2", rows 0, 1, ...
  const Dataset indexed = parse_csv(",0,1,2\n0,0.5,1.5,0\n1,2.5,3.5,1\n2,4.5,5.5,1\n", "i.csv");
  ASSERT_EQ(indexed.examples(), 3);
  ASSERT_EQ(indexed.features(), 2);
  EXPECT_EQ(indexed.X(0, 0), 0.5);
  EXPECT_EQ(indexed.targets, (std::vector<double>{0, 1, 1}));
  // 1-based, with a named label column.
  EXPECT_EQ(parse_csv("1,2,3,kind\n0.5,1.5,2.5,a\n3.5,4.5,5.5,b\n", "k.csv").examples(), 2);
  // Rows that number themselves too are data; so is a short first row.
  EXPECT_EQ(parse_csv("1,2,3\n1,2,3\n2,3,4\n", "d.csv").examples(), 3);
  EXPECT_EQ(parse_csv("0,1\n1,0\n0.5,1\n", "s.csv").examples(), 3);
  CsvOptions absent;
  absent.header = CsvHeader::absent;
  EXPECT_EQ(parse_csv("0,1,2,3\n5.1,3.5,1.4,0\n", "n.csv", absent).examples(), 2);
}

TEST(Csv, UnnamedIndexColumnIsDropped) {
  // df.to_csv() with pandas' default index.
  const Dataset pandas = parse_csv(",a,b,y\n0,1.5,2,0\n1,3,4,1\n2,5,6,0\n", "p.csv");
  EXPECT_EQ(pandas.feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(pandas.X(0, 0), 1.5);
  EXPECT_EQ(pandas.X(1, 2), 6);
  EXPECT_EQ(pandas.notes, (std::vector<std::string>{
                              "dropped column 1 (unnamed, 0, 1, 2, ...: a row index written by pandas or R)"}));
  // R's write.csv: quoted row names "1", "2", ... under an empty quoted name.
  const Dataset r = parse_csv("\"\",\"a\",\"y\"\n\"1\",0.5,\"no\"\n\"2\",1.5,\"yes\"\n", "r.csv");
  EXPECT_EQ(r.feature_names, (std::vector<std::string>{"a"}));
  EXPECT_EQ(r.X(0, 1), 1.5);
  EXPECT_TRUE(has_note(r, "dropped column 1 (unnamed, 1, 2, 3, ...")) << testing::PrintToString(r.notes);
  // Read back by pandas and written again: "Unnamed: 0"; a shuffled split keeps its index.
  EXPECT_EQ(parse_csv("Unnamed: 0,a,y\n0,0.5,0\n1,1.5,1\n", "u.csv").features(), 1);
  const Dataset shuffled = parse_csv(",a,y\n57,0.5,0\n3,1.5,1\n12,2.5,1\n", "s.csv");
  EXPECT_EQ(shuffled.features(), 1);
  EXPECT_TRUE(has_note(shuffled, "dropped column 1")) << testing::PrintToString(shuffled.notes);
  // A named column is data; errors keep the file's column numbers.
  EXPECT_EQ(parse_csv("id,a,y\n0,0.5,0\n1,1.5,1\n", "n.csv").features(), 2);
  EXPECT_EQ(message_of([] { parse_csv(",a,b,y\n0,1,2,0\n1,3,x,1\n", "p.csv"); }),
            "p.csv: line 3, column 3 ('b'): expected a number, got 'x'");
}

TEST(Csv, DuplicateColumnNamesAreRefused) {
  EXPECT_EQ(message_of([] { parse_csv("a,b,a,y,b\n1,2,3,0,5\n", "d.csv"); }),
            "d.csv: line 1: the header names columns alike: 'a' in columns 1 and 3; 'b' in columns 2 and 5; "
            "expected a distinct name for each column");
}

TEST(Csv, MissingLabelsAreErrorsNamingTheLine) {
  for (const std::string marker : {"", "NA", "N/A", "NaN", "nan", "?", "null", "None"}) {
    const std::string named = "x,y\n1,a\n2," + marker + "\n3,b\n";
    const std::string numeric = "x,y\n1,0\n2," + marker + "\n3,1\n";
    for (const std::string& text : {named, numeric}) {
      const std::string message = message_of([&] { parse_csv(text, "m.csv"); });
      EXPECT_EQ(message.rfind("m.csv: line 3, column 2 ('y'): the label is missing (", 0), 0u) << marker << ": " << message;
      EXPECT_FALSE(contains(message, "--")) << message;
    }
  }
  EXPECT_EQ(message_of([] { parse_csv("x,y\n1,a\n2,NA\n", "m.csv"); }),
            "m.csv: line 3, column 2 ('y'): the label is missing ('NA', a missing-value marker); expected a class "
            "name or a number (rows with a missing label can be dropped instead)");
  EXPECT_EQ(message_of([] { parse_csv("x,y\n1,a\n2, \n", "m.csv"); }),
            "m.csv: line 3, column 2 ('y'): the label is missing (an empty field); expected a class "
            "name or a number (rows with a missing label can be dropped instead)");
  EXPECT_EQ(message_of([] { parse_csv("x1,x2,y\n1,NA,0\n", "f.csv"); }),
            "f.csv: line 2, column 2 ('x2'): expected a number, got 'NA', a missing-value marker");
  EXPECT_EQ(message_of([] { parse_csv("x1,x2,y\n1,?,0\n", "f.csv"); }),
            "f.csv: line 2, column 2 ('x2'): expected a number, got '?', a missing-value marker");
}

TEST(Csv, MissingLabelsAreDroppedWhenAsked) {
  CsvOptions drop;
  drop.drop_missing_labels = true;
  const Dataset d = parse_csv("x,y\n1,a\n2,NA\n3,b\n4,\n5,?\n6,a\n7,None\n8,null\n9,N/A\n", "m.csv", drop);
  ASSERT_EQ(d.examples(), 3);
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d.X(0, 2), 6);
  EXPECT_EQ(d.notes, (std::vector<std::string>{"dropped 6 of 9 rows whose label is missing (NA, empty, ?, None, "
                                                "null, N/A): lines 3, 5, 6, 8, 9, ..."}));
  const Dataset numeric = parse_csv("x,y\n1,0\n2,nan\n3,1\n", "n.csv", drop);
  EXPECT_EQ(numeric.targets, (std::vector<double>{0, 1}));
  EXPECT_TRUE(numeric.class_names.empty());
  EXPECT_NE(message_of([&] { parse_csv("x,y\n1,NA\n", "a.csv", drop); }).find("a.csv: every row's label is missing"),
            std::string::npos);
}

TEST(Csv, LabelsDifferingOnlyInCaseGetANote) {
  const Dataset d = parse_csv("x,answer\n1,yes\n2,Yes\n3,no\n4,No\n5,yes\n", "c.csv");
  EXPECT_EQ(d.class_names.size(), 4u);
  EXPECT_EQ(d.notes, (std::vector<std::string>{
                         "labels that differ only in case are kept as distinct classes: 'No' and 'no'; 'Yes' and 'yes'"}));
}

std::string utf16(const std::string& ascii_or_latin1, bool little_endian) {
  std::string out = little_endian ? "\xFF\xFE" : "\xFE\xFF";
  for (const char c : ascii_or_latin1) {
    const char units[2] = {little_endian ? c : '\0', little_endian ? '\0' : c};
    out.append(units, 2);
  }
  return out;
}

TEST(Csv, Utf16TextAsExcelSavesIt) {
  // Excel's "Unicode text": UTF-16LE with a BOM, tab-separated, CRLF; 0xE9 is e acute.
  for (const bool le : {true, false}) {
    const Dataset d = parse_csv(utf16("width\theight\tkind\r\n1.5\t2\tcaf\xE9\r\n3\t4\ttea\r\n", le), "u.txt");
    ASSERT_EQ(d.examples(), 2);
    EXPECT_EQ(d.feature_names, (std::vector<std::string>{"width", "height"}));
    EXPECT_EQ(d.X(0, 0), 1.5);
    EXPECT_EQ(d.class_names, (std::vector<std::string>{"caf\xC3\xA9", "tea"}));
    EXPECT_TRUE(has_note(d, le ? "UTF-16LE" : "UTF-16BE"));
  }
  // A character outside the basic plane: a surrogate pair (U+1F600) becomes 4 UTF-8 bytes.
  using namespace std::string_literals;
  const std::string pair = "\xFF\xFE" "a\0,\0y\0\n\0" "1\0,\0" "\x3D\xD8\x00\xDE" "\n\0" "2\0,\0b\0\n\0"s;
  EXPECT_EQ(parse_csv(pair, "p.txt").class_names, (std::vector<std::string>{"b", "\xF0\x9F\x98\x80"}));
  EXPECT_NE(message_of([] { parse_csv(std::string("\xFF\xFE" "a\0,", 5), "odd.txt"); }).find("odd number of bytes"),
            std::string::npos);
  EXPECT_NE(message_of([] { parse_csv(std::string("a\0,\0b\0", 6), "nul.csv"); }).find("nul.csv: byte 2 is 00: expected text"),
            std::string::npos);
}

TEST(Csv, CarriageReturnAloneEndsALine) {
  const Dataset d = parse_csv("a,b,y\r1,2,0\r3,4,1\r", "mac.csv");
  ASSERT_EQ(d.examples(), 2);
  EXPECT_EQ(d.X(0, 1), 3);
  EXPECT_EQ(d.targets, (std::vector<double>{0, 1}));
  EXPECT_EQ(message_of([] { parse_csv("a,y\r1,0\rz,1\r", "c.csv"); }),
            "c.csv: line 3, column 1 ('a'): expected a number, got 'z'");
}

TEST(Csv, SpaceSeparatedAsNpSavetxtWritesIt) {
  // np.savetxt("s.txt", np.c_[X, y]): '%.18e' values, one space between them.
  const std::string savetxt =
      "5.099999999999999645e+00 3.500000000000000000e+00 0.000000000000000000e+00\n"
      "4.900000000000000355e+00 3.000000000000000000e+00 1.000000000000000000e+00\n";
  const Dataset d = parse_csv(savetxt, "s.txt");
  ASSERT_EQ(d.features(), 2);
  ASSERT_EQ(d.examples(), 2);
  EXPECT_EQ(d.X(0, 0), 5.1);
  EXPECT_EQ(d.targets, (std::vector<double>{0, 1}));
  EXPECT_TRUE(has_note(d, "separated by spaces"));
  // Runs of spaces and tabs, aligned columns, a header of names.
  const Dataset aligned = parse_csv("  width  height   y\n   1.5     2.0   0\n  10.0  \t 3.5   1  \n", "a.txt");
  EXPECT_EQ(aligned.feature_names, (std::vector<std::string>{"width", "height"}));
  EXPECT_EQ(aligned.X(0, 1), 10);
  EXPECT_EQ(aligned.targets, (std::vector<double>{0, 1}));
  CsvOptions space;
  space.delimiter = ' ';
  const Dataset given = parse_csv("a b y\n1  2 0\n3 4  1\n", "g.txt", space);
  EXPECT_EQ(given.examples(), 2);
  EXPECT_TRUE(given.notes.empty());
}

}  // namespace
}  // namespace deepnet
