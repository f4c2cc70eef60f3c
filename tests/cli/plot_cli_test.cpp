// `deepnet plot`: runs the built binary as a user would, then checks each
// picture three ways: it parses as XML (Python's xml.etree), it renders with
// rsvg-convert (librsvg2-bin) to a PNG of the requested size that is not blank,
// and what it shows matches the input (points, polyline lengths, cell counts).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "fixture.hpp"

namespace {

namespace fs = std::filesystem;

using Result = deepnet::test::CliResult;

// Reads an SVG (and optionally its PNG rendering) and prints what the tests
// check as JSON. Exits non-zero when the SVG is not well-formed XML.
const char* const svg_stats_py = R"PY(
import json, struct, sys, zlib
import xml.etree.ElementTree as ET

NS = '{http://www.w3.org/2000/svg}'
root = ET.parse(sys.argv[1]).getroot()
stats = {'root': root.tag, 'width': root.get('width'), 'height': root.get('height')}
stats['points'] = sum(len(g.findall('.//' + NS + 'circle')) for g in root.iter(NS + 'g') if g.get('class') == 'points')
stats['point_groups'] = {g.get('data-name'): len(g.findall(NS + 'circle'))
                         for p in root.iter(NS + 'g') if p.get('class') == 'points' for g in p.findall(NS + 'g')}
lines = {}
for p in root.iter(NS + 'polyline'):
    name = p.get('data-name', '')
    lines[name] = lines.get(name, 0) + len(p.get('points').split())
stats['polylines'] = lines
stats['counts'] = [int(t.text) for t in root.iter(NS + 'text') if t.get('class') == 'count']
stats['texts'] = [t.text or '' for t in root.iter(NS + 'text')]
stats['external'] = any(k.endswith('href') for e in root.iter() for k in e.attrib) or \
    any(e.tag in (NS + 'image', NS + 'script', NS + 'style') for e in root.iter())
for g in root.iter(NS + 'g'):
    if g.get('class') == 'regions':  # the background rectangle and the grid's scale
        back = g.find(NS + 'rect')
        inner = [e for e in g.iter(NS + 'g') if 'scale(' in e.get('transform', '')]
        scale = inner[0].get('transform').split('scale(')[1].rstrip(')').split() if inner else ['0', '0']
        stats['region_area'] = [float(back.get('width')), float(back.get('height'))]
        stats['region_scale'] = [float(v) for v in scale]
stats['region_fills'] = sorted({e.get('fill') for g in root.iter(NS + 'g') if g.get('class') == 'regions'
                                for e in g.iter() if e.get('fill')})

def decode_png(path):
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat = 8, b''
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b'IHDR':
            w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat += body
    assert depth == 8 and interlace == 0, 'unexpected PNG layout'
    bpp = {6: 4, 2: 3, 0: 1, 4: 2}[ctype]
    raw, stride, prev, rows, i = zlib.decompress(idat), w * bpp, bytearray(w * bpp), [], 0
    for y in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    pixels = {}
    for row in rows:
        for x in range(0, stride, bpp):
            px = row[x:x + bpp]
            pixels[px] = pixels.get(px, 0) + 1
    return w, h, bpp, pixels

if len(sys.argv) > 2:
    w, h, bpp, pixels = decode_png(sys.argv[2])
    total = w * h
    white = pixels.get(b'\xff' * bpp, 0)
    stats['png'] = {'width': w, 'height': h, 'colors': len(pixels), 'non_white': 1 - white / total}
    share = {}
    for fill in stats['region_fills']:
        rgb = bytes(int(fill[k:k + 2], 16) for k in (1, 3, 5))
        share[fill] = pixels.get(rgb + (b'\xff' if bpp == 4 else b''), 0) / total
    stats['png']['fill_share'] = share
print(json.dumps(stats))
)PY";

class PlotCli : public deepnet::test::CliTest {
 protected:
  PlotCli() : CliTest("deepnet-plot-cli") {}
  void SetUp() override { write("svg_stats.py", svg_stats_py); }

  // Parses the SVG with Python (fails the test when it is not well-formed XML)
  // and, with render, renders it with rsvg-convert and reads the PNG back.
  nlohmann::json inspect(const std::string& svg, bool render = true) {
    std::string png;
    if (render) {
      png = svg + ".png";
      const std::string command = "rsvg-convert -f png -o '" + png + "' '" + svg +
                                  "' 2>rsvg.txt";
      const int status = shell(command);
      EXPECT_EQ(status, 0) << "rsvg-convert failed (install librsvg2-bin, see scripts/deps.sh): "
                           << read("rsvg.txt");
      if (status != 0) return nlohmann::json::object();
    }
    const std::string command = "/usr/bin/python3 svg_stats.py '" + svg + "' " +
                                (png.empty() ? "" : "'" + png + "'") + " >stats.txt 2>stats-err.txt";
    const int status = shell(command);
    EXPECT_EQ(status, 0) << svg << " is not well-formed XML or did not render: " << read("stats-err.txt");
    if (status != 0) return nlohmann::json::object();
    return nlohmann::json::parse(read("stats.txt"));
  }

  // The picture has the size asked for, is self-contained and shows something.
  static void expect_picture(const nlohmann::json& stats, int width, int height) {
    ASSERT_TRUE(stats.contains("png")) << stats.dump();
    EXPECT_EQ(stats["root"], "{http://www.w3.org/2000/svg}svg");
    EXPECT_EQ(stats["width"], std::to_string(width));
    EXPECT_EQ(stats["height"], std::to_string(height));
    EXPECT_FALSE(stats["external"].get<bool>());
    EXPECT_EQ(stats["png"]["width"], width);
    EXPECT_EQ(stats["png"]["height"], height);
    EXPECT_GE(stats["png"]["colors"].get<int>(), 3);
    EXPECT_GT(stats["png"]["non_white"].get<double>(), 0.01);
  }

  static bool has_text(const nlohmann::json& stats, const std::string& text) {
    for (const auto& t : stats["texts"])
      if (t.get<std::string>() == text) return true;
    return false;
  }

  // Files in the directory other than the given ones (a left-over temporary file would show here).
  std::vector<std::string> files_except(const std::vector<std::string>& known) {
    std::vector<std::string> extra;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const std::string name = entry.path().filename().string();
      if (std::find(known.begin(), known.end(), name) == known.end()) extra.push_back(name);
    }
    return extra;
  }
};

std::string one_line_error(const Result& r) {
  return r.err.rfind("deepnet: error: ", 0) == 0 && std::count(r.err.begin(), r.err.end(), '\n') == 1 ? "" : r.err;
}

// ---------------------------------------------------------------- history

TEST_F(PlotCli, HistoryOfAMiniBatchRunHasCostAndAccuracyPanels) {
  ASSERT_EQ(run("train --data iris --layers 8 --epochs 30 --val-split 0.2 --history h.csv --quiet").status, 0);
  const Result r = run("plot history --history h.csv -o h.svg");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const nlohmann::json stats = inspect("h.svg");
  expect_picture(stats, 640, 480);
  // One point per epoch in each curve.
  EXPECT_EQ(stats["polylines"]["training cost"], 30) << stats.dump();
  EXPECT_EQ(stats["polylines"]["validation cost"], 30);
  EXPECT_EQ(stats["polylines"]["validation accuracy"], 30);
  EXPECT_TRUE(has_text(stats, "learning curves: h.csv"));
  EXPECT_TRUE(has_text(stats, "epoch"));
  EXPECT_TRUE(has_text(stats, "cost"));
  EXPECT_TRUE(has_text(stats, "validation accuracy"));
  EXPECT_TRUE(has_text(stats, "training cost"));  // the legend
}

TEST_F(PlotCli, DiagnosticsDrawAPanelPerQuantityAndALinePerLayer) {
  ASSERT_EQ(run("train --data breast-cancer --layers 16,8 --epochs 12 --diagnose --history h.csv --quiet").status, 0);
  const Result r = run("plot diagnostics --history h.csv -o d.svg");
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json stats = inspect("d.svg");
  expect_picture(stats, 900, 960);
  // Layers 1 and 2 (relu) appear in 6 panels (dead, mean, std, dW, W, ratio), layer 3
  // (the output) in 5 (no dead share): 12 points in each line.
  EXPECT_EQ(stats["polylines"]["layer 1"], 12 * 6) << stats.dump();
  EXPECT_EQ(stats["polylines"]["layer 2"], 12 * 6);
  EXPECT_EQ(stats["polylines"]["layer 3"], 12 * 5);
  for (const char* label : {"dead ReLU share", "mean of A[l]", "std of A[l]", "||dW[l]||", "||W[l]||", "update/weight",
                            "training diagnostics: h.csv"})
    EXPECT_TRUE(has_text(stats, label)) << label;
  // A history without the diagnostics columns: a data error naming the file and its columns.
  ASSERT_EQ(run("train --data iris --layers 8 --epochs 3 --history plain.csv --quiet").status, 0);
  const Result bad = run("plot diagnostics --history plain.csv -o p.svg");
  EXPECT_EQ(bad.status, 3) << bad.err;
  EXPECT_NE(bad.err.find("plain.csv: no diagnostics column"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("epoch,train_cost"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(dir_ / "p.svg"));
}

TEST_F(PlotCli, HistoryReadsJsonAndTakesTitleAndSize) {
  ASSERT_EQ(run("train --data iris --layers 8 --epochs 5 --history h.json --quiet").status, 0);
  const Result r = run("plot history --history h.json -o h.svg --width 800 --height 300 "
                       "--title 'iris <5 epochs> & \"adam\"'");
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json stats = inspect("h.svg");
  expect_picture(stats, 800, 300);
  EXPECT_EQ(stats["polylines"]["training cost"], 5) << stats.dump();
  EXPECT_FALSE(stats["polylines"].contains("validation cost"));  // no validation part: no curve
  EXPECT_TRUE(has_text(stats, "iris <5 epochs> & \"adam\""));
}

TEST_F(PlotCli, HistoryOfTheCourseLoopIsCostAgainstIteration) {
  ASSERT_EQ(run("train --data planar --layers 4 --hidden-activation tanh --lr 1.2 --iterations 500 "
                "--print-every 100 --history h.csv --quiet").status, 0);
  const Result r = run("plot history --history h.csv -o h.svg");
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json stats = inspect("h.svg");
  expect_picture(stats, 640, 480);
  EXPECT_EQ(stats["polylines"]["cost"], 6) << stats.dump();  // iterations 0, 100, ..., 400 and 499
  EXPECT_TRUE(has_text(stats, "iteration"));
}

TEST_F(PlotCli, BadHistoryIsADataErrorNamingTheLineAndTheOldPictureStays) {
  write("h.svg", "old picture");
  write("bad.csv", "epoch,train_cost,val_cost\n1,0.9,1.0\n2,oops,0.8\n");
  const Result r = run("plot history --history bad.csv -o h.svg");
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(r.err, "deepnet: error: bad.csv: line 3, column 2 ('train_cost'): expected a number, got 'oops'\n");
  EXPECT_EQ(read("h.svg"), "old picture");

  write("short.csv", "epoch,train_cost\n1,0.9\n2\n");
  const Result s = run("plot history --history short.csv -o h.svg");
  EXPECT_EQ(s.status, 3);
  EXPECT_EQ(s.err, "deepnet: error: short.csv: line 3: expected 2 fields like the header, got 1\n");

  write("other.csv", "a,b\n1,2\n");
  const Result o = run("plot history --history other.csv -o h.svg");
  EXPECT_EQ(o.status, 3);
  EXPECT_EQ(one_line_error(o), "");
  EXPECT_NE(o.err.find("other.csv: line 1: expected a column 'epoch' or 'iteration'"), std::string::npos) << o.err;

  write("bad.json", "[{\"epoch\": 1, \"train_cost\": 0.5},\n {\"epoch\": 2, \"train_cost\": \"x\"}]");
  const Result j = run("plot history --history bad.json -o h.svg");
  EXPECT_EQ(j.status, 3);
  EXPECT_EQ(j.err, "deepnet: error: bad.json: entry 2, \"train_cost\": expected a number or null, got \"x\"\n");

  write("broken.json", "[{\"epoch\": 1,\n \"train_cost\": }]");
  const Result b = run("plot history --history broken.json -o h.svg");
  EXPECT_EQ(b.status, 3);
  EXPECT_EQ(one_line_error(b), "");
  EXPECT_NE(b.err.find("broken.json: parse error at line 2"), std::string::npos) << b.err;

  const Result m = run("plot history --history missing.csv -o h.svg");
  EXPECT_EQ(m.status, 3);
  EXPECT_EQ(m.err, "deepnet: error: missing.csv: cannot open the file for reading\n");

  EXPECT_EQ(read("h.svg"), "old picture");
  EXPECT_EQ(files_except({"svg_stats.py", "stdout.txt", "stderr.txt", "h.svg", "bad.csv", "short.csv", "other.csv",
                          "bad.json", "broken.json"}),
            std::vector<std::string>{});
}

// ---------------------------------------------------------------- lines

TEST_F(PlotCli, LinesDrawEachColumnAgainstTheFirstOnLogAxesWithGaps) {
  // The shape scripts/bench --sweep writes: x, then one column per system; an empty field is a gap.
  write("sweep.csv", "batch_size,deepnet,pytorch\n1,3053,1998\n4,9000,\n64,30194,22713\n4096,68999,39676\n");
  const Result r = run("plot lines --data sweep.csv --log-x --log-y --y-label 'training examples/s' -o s.svg");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const nlohmann::json stats = inspect("s.svg");
  expect_picture(stats, 640, 480);
  EXPECT_EQ(stats["polylines"]["deepnet"], 4) << stats.dump();
  // One value is missing: the line breaks there, and the lone point before the gap is a marker only.
  EXPECT_EQ(stats["polylines"]["pytorch"], 2) << stats.dump();
  for (const char* label : {"1", "10", "100", "1000", "10k", "100k", "batch_size", "training examples/s",
                            "sweep.csv", "deepnet", "pytorch"})
    EXPECT_TRUE(has_text(stats, label)) << label << "\n" << stats.dump();
}

TEST_F(PlotCli, LinesPickColumnsAndLabelsAndDrawLinearAxes) {
  write("t.csv", "a,b,c\n0,1,5\n1,2,-5\n2,4,0\n");
  const Result r = run("plot lines --data t.csv --x c --y b --x-label 'the c' --title 'b against c' -o t.svg");
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json stats = inspect("t.svg");
  expect_picture(stats, 640, 480);
  EXPECT_EQ(stats["polylines"]["b"], 3) << stats.dump();
  EXPECT_FALSE(stats["polylines"].contains("a"));
  EXPECT_TRUE(has_text(stats, "the c"));
  EXPECT_TRUE(has_text(stats, "b against c"));
  EXPECT_TRUE(has_text(stats, "b"));  // one series: its name labels the y axis
}

TEST_F(PlotCli, LinesRefuseWhatTheyCannotDrawAndTheOldPictureStays) {
  write("s.svg", "old picture");
  write("t.csv", "x,y\n1,2\n0,3\n");
  const Result zero = run("plot lines --data t.csv --log-x -o s.svg");
  EXPECT_EQ(zero.status, 3);
  EXPECT_EQ(zero.err, "deepnet: error: t.csv: column 'x', row 2: 0.000000 cannot be drawn on a logarithmic axis "
                      "(--log-x): expected values > 0\n");
  const Result column = run("plot lines --data t.csv --y z -o s.svg");
  EXPECT_EQ(column.status, 3);
  EXPECT_EQ(column.err, "deepnet: error: t.csv: --y z: no such column (the header has: x,y)\n");
  write("bad.csv", "x,y\n1,2\n2,two\n");
  const Result bad = run("plot lines --data bad.csv -o s.svg");
  EXPECT_EQ(bad.status, 3);
  EXPECT_EQ(bad.err, "deepnet: error: bad.csv: line 3, column 2 ('y'): expected a number, got 'two'\n");
  write("one.csv", "x\n1\n");
  const Result one = run("plot lines --data one.csv -o s.svg");
  EXPECT_EQ(one.status, 3);
  EXPECT_EQ(one_line_error(one), "");
  EXPECT_NE(one.err.find("expected at least two columns"), std::string::npos) << one.err;
  write("empty.csv", "x,y\n1,\n2,\n");
  const Result empty = run("plot lines --data empty.csv -o s.svg");
  EXPECT_EQ(empty.status, 3);
  EXPECT_EQ(empty.err, "deepnet: error: empty.csv: no value to draw in the series columns\n");
  EXPECT_EQ(read("s.svg"), "old picture");
}

// ---------------------------------------------------------------- boundary

TEST_F(PlotCli, BoundaryOfThePlanarNetShowsBothRegionsAndEveryExample) {
  ASSERT_EQ(run("train --data planar --layers 4 --hidden-activation tanh --lr 1.2 --iterations 2000 "
                "--out p.dnn --quiet").status, 0);
  const Result r = run("plot boundary --model p.dnn --data planar -o b.svg");
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json stats = inspect("b.svg");
  expect_picture(stats, 640, 480);
  EXPECT_EQ(stats["points"], 400) << stats.dump();  // one circle per example
  EXPECT_EQ(stats["point_groups"]["0"], 200);         // coloured by the true class
  EXPECT_EQ(stats["point_groups"]["1"], 200);
  // Both decision regions are drawn in their light colours and cover a good part of the picture.
  ASSERT_EQ(stats["region_fills"].size(), 2u) << stats.dump();
  for (const auto& [fill, share] : stats["png"]["fill_share"].items()) EXPECT_GT(share.get<double>(), 0.05) << fill;
  EXPECT_LT(fs::file_size(dir_ / "b.svg"), 300u * 1024);
  EXPECT_TRUE(has_text(stats, "x1"));
  EXPECT_TRUE(has_text(stats, "x2"));
}

TEST_F(PlotCli, BoundaryOfAThreeClassCsvNamesTheClasses) {
  std::string csv = "a,b,kind\n";
  const char* names[] = {"cat", "dog", "emu"};
  for (int k = 0; k < 60; ++k) {
    const int cls = k % 3;
    csv += std::to_string(cls * 2.0 + 0.1 * (k % 5)) + "," + std::to_string(-cls + 0.05 * (k % 7)) + "," +
           names[cls] + "\n";
  }
  write("three.csv", csv);
  ASSERT_EQ(run("train --data three.csv --layers 8 --lr 0.5 --iterations 300 --out t.dnn --quiet").status, 0);
  const Result r = run("plot boundary --model t.dnn --data three.csv -o b.svg --grid 50 --width 500 --height 400");
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json stats = inspect("b.svg");
  expect_picture(stats, 500, 400);
  EXPECT_EQ(stats["points"], 60);
  // The grid of 50 x 50 cells covers the plot area exactly (to a hundredth of a pixel).
  EXPECT_NEAR(stats["region_scale"][0].get<double>() * 50, stats["region_area"][0].get<double>(), 0.01) << stats.dump();
  EXPECT_NEAR(stats["region_scale"][1].get<double>() * 50, stats["region_area"][1].get<double>(), 0.01);
  for (const char* name : names) {
    EXPECT_EQ(stats["point_groups"][name], 20) << name;
    EXPECT_TRUE(has_text(stats, name)) << name;  // the legend
  }
}

TEST_F(PlotCli, BoundaryRejectsDataWithoutExactlyTwoFeatures) {
  ASSERT_EQ(run("train --data iris --layers 4 --iterations 10 --out i.dnn --quiet").status, 0);
  const Result r = run("plot boundary --model i.dnn --data iris -o b.svg");
  EXPECT_EQ(r.status, 3);
  EXPECT_EQ(one_line_error(r), "");
  EXPECT_NE(r.err.find("iris: has 4 features; a decision-boundary plot needs exactly 2"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "b.svg"));
}

// ---------------------------------------------------------------- confusion

TEST_F(PlotCli, ConfusionCellsHoldTheCountsEvaluateReports) {
  ASSERT_EQ(run("train --data iris --layers 8 --normalize standard --lr 0.5 --iterations 300 --out i.dnn --quiet")
                .status, 0);
  const Result e = run("evaluate --model i.dnn --data iris --json");
  ASSERT_EQ(e.status, 0) << e.err;
  const nlohmann::json evaluation = nlohmann::json::parse(e.out);
  std::vector<long long> expected;
  for (const auto& row : evaluation["confusion_matrix"])
    for (const auto& n : row) expected.push_back(n.get<long long>());
  ASSERT_EQ(expected.size(), 9u);

  const Result r = run("plot confusion --model i.dnn --data iris -o c.svg");
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json stats = inspect("c.svg");
  expect_picture(stats, 640, 480);
  EXPECT_EQ(stats["counts"].get<std::vector<long long>>(), expected);  // row by row: true class, then predicted
  EXPECT_TRUE(has_text(stats, "true class"));
  EXPECT_TRUE(has_text(stats, "predicted class"));
  for (const auto& name : evaluation["classes"]) EXPECT_TRUE(has_text(stats, name["class"]));
}

// ---------------------------------------------------------------- flags and errors

TEST_F(PlotCli, UsageAndModelErrors) {
  for (const std::string& args :
       {std::string("plot"), std::string("plot pie -o x.svg"), std::string("plot history -o x.svg"),
        std::string("plot history --history h.csv"), std::string("plot history --history h.csv -o x.svg --width 10"),
        std::string("plot history --history h.csv -o x.svg --height abc")}) {
    const Result r = run(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.err;
    EXPECT_EQ(one_line_error(r), "") << args;
  }
  const Result m = run("plot confusion --model nowhere.dnn --data iris -o c.svg");
  EXPECT_EQ(m.status, 4);
  EXPECT_NE(m.err.find("nowhere.dnn"), std::string::npos) << m.err;

  write("reg.csv", "x,y\n0,0.5\n1,1.5\n2,2.25\n3,3.75\n");
  ASSERT_EQ(run("train --data reg.csv --layers 2 --iterations 10 --out r.dnn --quiet").status, 0);
  const Result g = run("plot confusion --model r.dnn --data reg.csv -o c.svg");
  EXPECT_EQ(g.status, 2);
  EXPECT_EQ(g.err, "deepnet: error: r.dnn: is a regression model (linear output); a confusion matrix needs a classifier\n");
  EXPECT_FALSE(fs::exists(dir_ / "c.svg"));

  write("h.csv", "epoch,train_cost\n1,0.5\n2,0.4\n");
  const Result d = run("plot history --history h.csv -o no/such/dir/h.svg");
  EXPECT_EQ(d.status, 4);  // a failed write, as everywhere
  EXPECT_EQ(one_line_error(d), "");
  EXPECT_NE(d.err.find("no/such/dir/h.svg"), std::string::npos) << d.err;
}

// ---------------------------------------------------------------- output format

TEST_F(PlotCli, PngNameGivesARealPngOfTheRequestedSize) {
  write("h.csv", "epoch,train_cost,val_cost\n1,0.7,0.72\n2,0.5,0.55\n3,0.4,0.47\n4,0.35,0.45\n");
  const Result png = run("plot history --history h.csv -o curves.PNG --width 420 --height 260");
  ASSERT_EQ(png.status, 0) << png.err;
  const std::string bytes = read("curves.PNG");
  ASSERT_GE(bytes.size(), 33u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  const auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) v = v << 8 | static_cast<unsigned char>(bytes[at + k]);
    return v;
  };
  EXPECT_EQ(be32(16), 420u);
  EXPECT_EQ(be32(20), 260u);
  // The same picture as SVG; the PNG (decoded in Python) shows it: several colours, not blank.
  ASSERT_EQ(run("plot history --history h.csv -o curves.svg --width 420 --height 260").status, 0);
  ASSERT_EQ(shell("/usr/bin/python3 svg_stats.py curves.svg curves.PNG >stats.txt 2>stats-err.txt"), 0)
      << read("stats-err.txt");
  expect_picture(nlohmann::json::parse(read("stats.txt")), 420, 260);
  EXPECT_EQ(files_except({"h.csv", "svg_stats.py", "stdout.txt", "stderr.txt", "stats.txt", "stats-err.txt",
                          "curves.PNG", "curves.svg"}),
            std::vector<std::string>{});
}

TEST_F(PlotCli, OtherExtensionsAreRefusedBeforeAnyWork) {
  // The model does not exist: a refusal before any work exits 2, not 4.
  for (const std::string& out : {std::string("b.jpg"), std::string("b"), std::string("b.svg.gz")}) {
    const Result r = run("plot boundary --model nowhere.dnn --data planar -o " + out);
    EXPECT_EQ(r.status, 2) << out << "\n" << r.err;
    EXPECT_EQ(one_line_error(r), "") << out;
    EXPECT_NE(r.err.find("-o " + out + ": "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(".svg or .png"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_ / out));
  }
  const Result jpg = run("plot history --history h.csv -o h.jpg");
  EXPECT_EQ(jpg.status, 2);
  EXPECT_EQ(jpg.err, "deepnet: error: -o h.jpg: unknown extension '.jpg'; the extension picks the format: .svg or .png\n");
}

TEST_F(PlotCli, HelpListsTheKindsAndTheirFlags) {
  const Result top = run("plot --help");
  ASSERT_EQ(top.status, 0);
  for (const char* kind : {"history", "boundary", "confusion", "search", "lines"})
    EXPECT_NE(top.out.find(kind), std::string::npos) << kind;
  const Result b = run("plot boundary --help");
  ASSERT_EQ(b.status, 0);
  for (const char* flag : {"--model", "--data", "--grid", "--out", "--title", "--width", "--height"})
    EXPECT_NE(b.out.find(flag), std::string::npos) << flag;
  const Result l = run("plot lines --help");
  ASSERT_EQ(l.status, 0);
  for (const char* flag : {"--data", "--x", "--y", "--log-x", "--log-y", "--x-label", "--y-label", "--out"})
    EXPECT_NE(l.out.find(flag), std::string::npos) << flag;
}

}  // namespace
