// The SVG writer and chart helper of `deepnet plot` (src/plot/svg.hpp): escaping,
// number formatting, nice ticks, the pixel mapping, and that what it writes is
// well-formed XML (checked with Python's XML parser, as a reader would).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "plot/svg.hpp"

namespace {

namespace fs = std::filesystem;
using namespace deepnet::plot;

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// Whether Python's XML parser accepts the document (exit status 0).
bool parses_as_xml(const std::string& document) {
  std::string pattern = (fs::temp_directory_path() / "deepnet-plot-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return false;
  const fs::path dir = pattern;
  std::ofstream(dir / "doc.svg", std::ios::binary) << document;
  const std::string command = "/usr/bin/python3 -c \"import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])\" '" +
                              (dir / "doc.svg").string() + "' 2>/dev/null";
  const int raw = std::system(command.c_str());
  fs::remove_all(dir);
  return WIFEXITED(raw) && WEXITSTATUS(raw) == 0;
}

TEST(Escape, EscapesMarkupCharacters) {
  EXPECT_EQ(escape("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;");
  EXPECT_EQ(escape("plain text 1.5"), "plain text 1.5");
}

TEST(Escape, DropsControlCharactersXmlForbidsButKeepsWhitespace) {
  EXPECT_EQ(escape(std::string("a\x01\x1f" "b\tc\nd", 9)), "ab\tc\nd");
  EXPECT_EQ(escape(std::string("x\0y", 3)), "xy");
}

TEST(Escape, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(escape("caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x98\x80");
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(escape("a\xFF" "b"), "a" + replacement + "b");             // not a UTF-8 byte
  EXPECT_EQ(escape("a\xC3"), "a" + replacement);                       // truncated sequence
  EXPECT_EQ(escape("\xC0\xAF"), replacement + replacement);            // overlong '/'
  EXPECT_EQ(escape("\xED\xA0\x80"), replacement + replacement + replacement);  // a surrogate
  EXPECT_EQ(escape("\xEF\xBF\xBF"), replacement + replacement + replacement);  // U+FFFF is not XML
}

TEST(Num, UsesAtMostTwoDecimalsWithoutTrailingZeros) {
  EXPECT_EQ(num(12.5), "12.5");
  EXPECT_EQ(num(3.0), "3");
  EXPECT_EQ(num(-0.25), "-0.25");
  EXPECT_EQ(num(1.23456), "1.23");
  EXPECT_EQ(num(-0.001), "0");
  EXPECT_EQ(num(100), "100");
  EXPECT_EQ(num(std::nan("")), "0");
  EXPECT_EQ(num(0.412, 6), "0.412");
  EXPECT_EQ(num(2.0 / 3, 6), "0.666667");
  EXPECT_EQ(num(1e300).size(), 301u);  // no overflow of the buffer
}

TEST(Colors, HaveTheirDocumentedEnds) {
  EXPECT_EQ(heat_color(0), "#f7fbff");
  EXPECT_EQ(heat_color(1), "#08306b");
  EXPECT_EQ(heat_color(-3), heat_color(0));
  EXPECT_EQ(heat_color(7), heat_color(1));
  EXPECT_EQ(class_color(0), "#d7191c");  // red and blue, as in the course's planar figure
  EXPECT_EQ(class_color(1), "#2b83ba");
  EXPECT_EQ(class_color(10), class_color(0));
  EXPECT_EQ(light_class_color(0), "#efa3a4");
  EXPECT_NE(series_color(0), series_color(1));
}

TEST(NiceAxis, PicksOneTwoOrFiveTimesAPowerOfTen) {
  const Axis a = nice_axis(0, 1, 6);
  EXPECT_EQ(a.labels, (std::vector<std::string>{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}));
  EXPECT_DOUBLE_EQ(a.lo, 0);
  EXPECT_DOUBLE_EQ(a.hi, 1);

  const Axis b = nice_axis(0.3, 9.7, 5);  // extended to the ticks outside the data
  EXPECT_DOUBLE_EQ(b.lo, 0);
  EXPECT_DOUBLE_EQ(b.hi, 10);
  EXPECT_EQ(b.labels, (std::vector<std::string>{"0", "2", "4", "6", "8", "10"}));

  const Axis c = nice_axis(0.3, 9.7, 5, false);  // not extended: ticks inside the range only
  EXPECT_DOUBLE_EQ(c.lo, 0.3);
  EXPECT_DOUBLE_EQ(c.hi, 9.7);
  EXPECT_EQ(c.labels, (std::vector<std::string>{"2", "4", "6", "8"}));

  const Axis d = nice_axis(-0.013, 0.021, 4);
  EXPECT_EQ(d.labels, (std::vector<std::string>{"-0.02", "-0.01", "0.00", "0.01", "0.02", "0.03"}));
}

TEST(NiceAxis, AnAxisThatIsNotExtendedStillGetsThreeTicks) {
  // 9.2 / 3 = 3.07 would round to a step of 5: only 0 lies inside; a step of 2 gives five ticks.
  EXPECT_EQ(nice_axis(-4.6, 4.6, 3, false).labels, (std::vector<std::string>{"-4", "-2", "0", "2", "4"}));
  EXPECT_EQ(nice_axis(0.12, 0.19, 3, false).labels, (std::vector<std::string>{"0.12", "0.14", "0.16", "0.18"}));
}

TEST(NiceAxis, IntegerAxesHaveNoTicksBetweenWholeNumbers) {
  const Axis a = nice_axis(1, 3, 8, false, true);
  EXPECT_EQ(a.labels, (std::vector<std::string>{"1", "2", "3"}));
  const Axis b = nice_axis(0, 9999, 6, false, true);
  EXPECT_EQ(b.labels, (std::vector<std::string>{"0", "2000", "4000", "6000", "8000"}));
}

TEST(NiceAxis, WidensEmptyRangesAndSurvivesNonFiniteBounds) {
  const Axis one = nice_axis(5, 5);
  EXPECT_LT(one.lo, 5);
  EXPECT_GT(one.hi, 5);
  EXPECT_GE(one.ticks.size(), 2u);
  const Axis zero = nice_axis(0, 0);
  EXPECT_LT(zero.lo, 0);
  EXPECT_GT(zero.hi, 0);
  const Axis epoch = nice_axis(1, 1, 6, false, true);  // one epoch
  EXPECT_DOUBLE_EQ(epoch.lo, 0);
  EXPECT_DOUBLE_EQ(epoch.hi, 2);
  const Axis bad = nice_axis(std::nan(""), INFINITY);
  EXPECT_DOUBLE_EQ(bad.lo, 0);
  EXPECT_DOUBLE_EQ(bad.hi, 1);
  for (const std::string& label : nice_axis(-1, 1).labels) EXPECT_NE(label, "-0.0");
}

TEST(LogAxis, TicksAtThePowersOfTenInLog10Units) {
  // Batch sizes 1..4096, not extended: the range is the data's, ticks at 1, 10, 100, 1000.
  const Axis a = log_axis(1, 4096, 6, false);
  EXPECT_DOUBLE_EQ(a.lo, 0);
  EXPECT_DOUBLE_EQ(a.hi, std::log10(4096.0));
  EXPECT_EQ(a.labels, (std::vector<std::string>{"1", "10", "100", "1000"}));
  ASSERT_EQ(a.ticks.size(), 4u);
  for (std::size_t k = 0; k < a.ticks.size(); ++k) EXPECT_DOUBLE_EQ(a.ticks[k], static_cast<double>(k));

  // Extended to the powers of ten around the data; k and M from 10000 on.
  const Axis b = log_axis(3000, 400000, 6);
  EXPECT_DOUBLE_EQ(b.lo, 3);
  EXPECT_DOUBLE_EQ(b.hi, 6);
  EXPECT_EQ(b.labels, (std::vector<std::string>{"1000", "10k", "100k", "1M"}));
}

TEST(LogAxis, FewDecadesAlsoGetTwoAndFiveManyGetEveryOtherPower) {
  const Axis a = log_axis(20, 800, 6);  // 10 .. 1000: two decades
  EXPECT_EQ(a.labels, (std::vector<std::string>{"10", "20", "50", "100", "200", "500", "1000"}));
  EXPECT_DOUBLE_EQ(a.ticks[1], std::log10(20.0));
  const Axis b = log_axis(1e-3, 1e9, 5);  // 13 powers of ten, about 5 ticks wanted: every 3rd
  EXPECT_EQ(b.labels, (std::vector<std::string>{"0.001", "1", "1000", "1M", "1G"}));
}

TEST(LogAxis, SurvivesBoundsThatCannotBeLogarithmic) {
  const Axis a = log_axis(0, 100);
  EXPECT_DOUBLE_EQ(a.lo, 0);
  EXPECT_DOUBLE_EQ(a.hi, 1);
  const Axis one = log_axis(50, 50);  // one value: a decade around it
  EXPECT_LT(one.lo, std::log10(50.0));
  EXPECT_GT(one.hi, std::log10(50.0));
  EXPECT_FALSE(one.ticks.empty());
}

TEST(ShortNumber, KeepsFourDigitsAndUsesKMG) {
  EXPECT_EQ(short_number(1), "1");
  EXPECT_EQ(short_number(0.25), "0.25");
  EXPECT_EQ(short_number(4096), "4096");
  EXPECT_EQ(short_number(10000), "10k");
  EXPECT_EQ(short_number(157000), "157k");
  EXPECT_EQ(short_number(2.5e6), "2.5M");
  EXPECT_EQ(short_number(3e9), "3G");
  EXPECT_EQ(short_number(-20000), "-20k");
}

TEST(NiceAxis, KeepsAReversedRangeReversed) {
  const Axis a = nice_axis(10, 0, 5);
  EXPECT_DOUBLE_EQ(a.lo, 10);
  EXPECT_DOUBLE_EQ(a.hi, 0);
}

TEST(CategoryAxis, PutsOneTickInTheMiddleOfEachCell) {
  const Axis a = category_axis({"cat", "dog", "emu"});
  EXPECT_EQ(a.ticks, (std::vector<double>{0.5, 1.5, 2.5}));
  EXPECT_EQ(a.labels, (std::vector<std::string>{"cat", "dog", "emu"}));
  EXPECT_FALSE(a.grid);
  const Axis r = category_axis({"cat", "dog", "emu"}, true);
  EXPECT_DOUBLE_EQ(r.lo, 3);
  EXPECT_DOUBLE_EQ(r.hi, 0);
}

TEST(Extent, IgnoresNonFiniteValuesAndPads) {
  Extent e;
  EXPECT_TRUE(e.empty());
  e.add(std::nan(""));
  e.add(INFINITY);
  EXPECT_TRUE(e.empty());
  e.add(2);
  e.add(-2);
  EXPECT_DOUBLE_EQ(e.lo, -2);
  EXPECT_DOUBLE_EQ(e.hi, 2);
  const Extent p = e.padded(0.25);
  EXPECT_DOUBLE_EQ(p.lo, -3);
  EXPECT_DOUBLE_EQ(p.hi, 3);
}

TEST(Chart, MapsTheAxisRangeOntoThePlotArea) {
  const Rect outer{10, 40, 600, 400};
  const Chart chart(outer, nice_axis(0, 10, 5), nice_axis(-1, 1, 4), "epoch", "cost");
  const Rect& a = chart.area();
  EXPECT_GT(a.x, outer.x);  // room for the y tick labels and label
  EXPECT_LE(a.right(), outer.right());
  EXPECT_GE(a.y, outer.y);
  EXPECT_LT(a.bottom(), outer.bottom());  // room for the x tick labels and label
  EXPECT_DOUBLE_EQ(chart.px(0), a.x);
  EXPECT_DOUBLE_EQ(chart.px(10), a.right());
  EXPECT_DOUBLE_EQ(chart.py(-1), a.bottom());  // y grows upwards
  EXPECT_DOUBLE_EQ(chart.py(1), a.y);
  EXPECT_DOUBLE_EQ(chart.px(5), a.x + a.width / 2);
}

TEST(Chart, MinLeftLinesUpStackedPanels) {
  const Rect outer{0, 0, 500, 200};
  const Chart narrow(outer, nice_axis(0, 1), nice_axis(0, 1), "", "a");
  const Chart wide(outer, nice_axis(0, 1), nice_axis(0, 100000), "", "a");
  EXPECT_LT(narrow.left_margin(), wide.left_margin());
  const Chart aligned(outer, nice_axis(0, 1), nice_axis(0, 1), "", "a", wide.left_margin());
  EXPECT_DOUBLE_EQ(aligned.area().x, wide.area().x);
}

TEST(Chart, DrawsOnePolylinePointPerFiniteValueAndBreaksAtGaps) {
  Svg svg(400, 300);
  const Chart chart({0, 0, 400, 300}, nice_axis(0, 5), nice_axis(0, 1), "x", "y");
  Series s{"train", {0, 1, 2, 3, 4, 5}, {0.9, 0.7, std::nan(""), 0.5, 0.4, 0.3}, series_color(0)};
  chart.draw_series(svg, {s});
  const std::string doc = svg.str();
  std::smatch m;
  std::vector<int> sizes;
  const std::regex polyline(R"re(<polyline points="([^"]*)")re");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), polyline); it != std::sregex_iterator(); ++it)
    sizes.push_back(count((*it)[1].str(), ",") );
  EXPECT_EQ(sizes, (std::vector<int>{2, 3}));
  EXPECT_EQ(count(doc, "data-name=\"train\""), 2);
  EXPECT_EQ(count(doc, "fill=\"none\""), 2);
}

TEST(Chart, MarkersAreCirclesInANamedGroup) {
  Svg svg(400, 300);
  const Chart chart({0, 0, 400, 300}, nice_axis(0, 5), nice_axis(0, 1), "x", "y");
  chart.draw_series(svg, {Series{"points", {1, 2, 3}, {0.1, 0.5, 0.9}, "#123456", SeriesKind::markers}});
  const std::string doc = svg.str();
  EXPECT_EQ(count(doc, "<circle"), 3);
  EXPECT_EQ(count(doc, "<polyline"), 0);
  EXPECT_NE(doc.find("<g class=\"markers\" data-name=\"points\" fill=\"#123456\">"), std::string::npos);
}

TEST(Chart, LegendGoesWhereTheLinesAreNot) {
  const Chart chart({0, 0, 400, 300}, nice_axis(0, 10), nice_axis(0, 1), "x", "y");
  // A falling curve (top left to bottom right) and a flat one along the bottom: top right is free.
  const std::vector<Series> falling{{"a", {0, 10}, {1, 0}, "#000000"}, {"b", {0, 10}, {0.05, 0.05}, "#ff0000"}};
  EXPECT_EQ(chart.emptiest_corner(falling, Chart::legend_for(falling)), Corner::top_right);
  // A rising curve along the top: the bottom right is free.
  const std::vector<Series> rising{{"a", {0, 10}, {0.5, 1}, "#000000"}, {"b", {0, 10}, {0.9, 0.95}, "#ff0000"}};
  const Corner c = chart.emptiest_corner(rising, Chart::legend_for(rising));
  EXPECT_TRUE(c == Corner::bottom_right || c == Corner::bottom_left);
}

TEST(Svg, WritesAWellFormedSelfContainedDocument) {
  Svg svg(640, 480);
  draw_title(svg, "title with <markup> & \"quotes\" and caf\xC3\xA9 and a bad byte \xFF");
  const Chart chart({8, 32, 624, 440}, nice_axis(1, 30, 6, false, true), nice_axis(0.2, 1.7), "epoch", "cost");
  chart.draw_axes(svg);
  const std::vector<Series> series{{"training <cost>", {1, 2, 3}, {1.5, 1.0, 0.5}, series_color(0)},
                                   {"validation & cost", {1, 2, 3}, {1.6, 1.2, 0.9}, series_color(1), SeriesKind::line_and_markers}};
  chart.draw_series(svg, series);
  chart.draw_legend(svg, Chart::legend_for(series), Corner::top_right);
  svg.begin_group(Style().fill("#ff0000"), "translate(1 2) scale(3 4)", true);
  svg.rect(0, 0, 2, 1, {});
  svg.end_group();
  const std::string doc = svg.str();
  EXPECT_EQ(doc.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(doc.find("width=\"640\" height=\"480\" viewBox=\"0 0 640 480\""), std::string::npos);
  EXPECT_NE(doc.find("title with &lt;markup&gt; &amp; &quot;quotes&quot;"), std::string::npos);
  EXPECT_NE(doc.find("shape-rendering=\"crispEdges\""), std::string::npos);
  EXPECT_EQ(doc.find("href"), std::string::npos);  // nothing external
  EXPECT_EQ(doc.find("<image"), std::string::npos);
  EXPECT_EQ(count(doc, "<g"), count(doc, "</g>"));
  EXPECT_TRUE(parses_as_xml(doc));
  EXPECT_FALSE(parses_as_xml(doc.substr(0, doc.size() / 2)));  // the check can fail
}

TEST(Svg, RefusesAnUnbalancedGroup) {
  Svg svg(100, 100);
  EXPECT_THROW(svg.end_group(), std::logic_error);
  svg.begin_group();
  EXPECT_THROW((void)svg.str(), std::logic_error);
  svg.end_group();
  EXPECT_NO_THROW((void)svg.str());
  EXPECT_THROW(svg.polyline({}, {}), std::invalid_argument);
}

TEST(Svg, TextTurnsAboutItsAnchor) {
  Svg svg(100, 100);
  svg.text(10, 20, "y label", TextStyle(12, Anchor::middle).rotate(-90));
  EXPECT_NE(svg.str().find("<text x=\"10\" y=\"20\" font-size=\"12\" text-anchor=\"middle\" fill=\"#222222\" "
                           "transform=\"rotate(-90 10 20)\">y label</text>"),
            std::string::npos)
      << svg.str();
}

}  // namespace
