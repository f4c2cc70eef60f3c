#pragma once
// A small SVG writer of our own for `deepnet plot` (docs/plots.md).
//
// Svg collects shapes and text into one self-contained SVG document (no
// external fonts, images or style sheets). Everything written is escaped, so
// the document is well-formed XML whatever the text holds.
//
// Chart maps data to pixels inside one panel of a picture and draws its axes:
// a frame, ticks at "nice" numbers (1, 2 or 5 times a power of ten) with tick
// labels, axis labels, light grid lines, the series (lines and/or markers)
// and a legend. A picture with two panels is two Charts on one Svg.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deepnet::plot {

// ---------------------------------------------------------------- text

// Text for XML content and attribute values: & < > " ' escaped, control
// characters XML 1.0 does not allow dropped, and bytes that are not valid
// UTF-8 replaced by U+FFFD, so any input gives well-formed XML.
std::string escape(std::string_view text);

// A coordinate: fixed point with at most `decimals` decimals, trailing zeros dropped
// ("12.5", "3", "-0.25"); 2 is a hundredth of a pixel.
std::string num(double value, int decimals = 2);

// Rough width in pixels of `text` at `size` px in a sans-serif font (0.6 em per character).
double text_width(std::string_view text, double size);

// ---------------------------------------------------------------- colours

// Colours for series (lines) and classes (regions and points): cycle after 10.
std::string series_color(int index);
std::string class_color(int index);
// class_color mixed with white (for decision regions under the points).
std::string light_class_color(int index);
// A sequential scale from white (t = 0) to dark blue (t = 1), t clamped to [0, 1].
std::string heat_color(double t);

// ---------------------------------------------------------------- the writer

struct Point {
  double x = 0, y = 0;
};

struct Rect {
  double x = 0, y = 0, width = 0, height = 0;
  double right() const { return x + width; }
  double bottom() const { return y + height; }
};

// Presentation attributes; an empty string or a negative number is not written
// (so a group's children inherit from it). Built with the chained setters:
// Style().fill("#fff").stroke("#444", 1).css("axes").
struct Style {
  std::string fill_color;
  std::string stroke_color;
  double stroke_width = -1;
  double opacity_value = -1;  // fill and stroke together (opacity attribute)
  std::string dash_array;     // stroke-dasharray, e.g. "4 3"
  std::string css_class;      // class attribute (tests and readers find elements by it)
  std::string data_name;      // data-name attribute: the series or class an element shows

  Style& fill(std::string color) { fill_color = std::move(color); return *this; }
  Style& stroke(std::string color, double width = 1) {
    stroke_color = std::move(color);
    stroke_width = width;
    return *this;
  }
  Style& opacity(double value) { opacity_value = value; return *this; }
  Style& dash(std::string pattern) { dash_array = std::move(pattern); return *this; }
  Style& css(std::string name) { css_class = std::move(name); return *this; }
  Style& name(std::string text) { data_name = std::move(text); return *this; }
};

enum class Anchor { start, middle, end };

struct TextStyle {
  double font_size = 12;
  Anchor text_anchor = Anchor::start;
  std::string fill_color = "#222222";
  bool bold_font = false;
  double rotation = 0;              // degrees, about the text's anchor point
  bool vertically_centred = false;  // the anchor point is the middle of the line, not the baseline
  std::string css_class;

  explicit TextStyle(double size = 12, Anchor anchor = Anchor::start) : font_size(size), text_anchor(anchor) {}
  TextStyle& fill(std::string color) { fill_color = std::move(color); return *this; }
  TextStyle& bold() { bold_font = true; return *this; }
  TextStyle& rotate(double degrees) { rotation = degrees; return *this; }
  TextStyle& centred() { vertically_centred = true; return *this; }
  TextStyle& css(std::string name) { css_class = std::move(name); return *this; }
};

class Svg {
 public:
  // A document of width x height pixels with a white background.
  Svg(double width, double height);

  void line(double x1, double y1, double x2, double y2, const Style& style);
  // At least one point; fill defaults to none.
  void polyline(const std::vector<Point>& points, const Style& style);
  void circle(double cx, double cy, double r, const Style& style);
  void rect(double x, double y, double width, double height, const Style& style);
  void rect(const Rect& r, const Style& style) { rect(r.x, r.y, r.width, r.height, style); }
  void text(double x, double y, std::string_view content, const TextStyle& style);
  // <g> with inherited attributes, an optional transform ("translate(10 20) scale(2)")
  // and shape-rendering="crispEdges" (no hairline seams between touching rectangles).
  void begin_group(const Style& style = {}, const std::string& transform = "", bool crisp_edges = false);
  void end_group();

  double width() const { return width_; }
  double height() const { return height_; }
  // The complete document. Throws std::logic_error while a group is still open.
  std::string str() const;

 private:
  void attributes(const Style& style);
  double width_, height_;
  std::string body_;
  int open_groups_ = 0;
};

// ---------------------------------------------------------------- axes

// One axis: its data range (lo may exceed hi: a reversed axis), the tick
// positions and their labels.
struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  std::vector<std::string> labels;  // one per tick
  bool grid = true;                 // light grid lines at the ticks
};

// An axis over [lo, hi] with about `target` ticks at nice numbers. extend:
// widen the range to the ticks just outside the data; integer: no ticks between
// whole numbers (epochs). An empty or one-point range is widened first.
// Non-finite bounds give the axis [0, 1].
Axis nice_axis(double lo, double hi, int target = 6, bool extend = true, bool integer = false);
// A logarithmic axis over the data range [lo, hi] (both > 0), in log10 units: a chart
// given this axis is given log10 of the data. Ticks at the powers of ten (every 2nd,
// 3rd, ... power when there are more than about `target`), and also at 2 and 5 times
// them when the range spans two decades or less; labels are the data values
// ("1", "20", "500", "1000", "10k", "2.5M"...). extend: widen the range to the
// powers of ten just outside the data. Bounds that are not finite and > 0 give [1, 10].
Axis log_axis(double lo, double hi, int target = 6, bool extend = true);
// A data value as a short label: up to 4 significant digits, k/M/G from 10000 on ("10k", "2.5M").
std::string short_number(double value);
// Categories 0..n-1 as cells [k, k+1] with ticks at k + 0.5 labelled with the names;
// reversed puts category 0 at the top (y) instead of the bottom.
Axis category_axis(const std::vector<std::string>& names, bool reversed = false);

// The smallest and largest finite value (lo > hi when there is none).
struct Extent {
  double lo = 1, hi = 0;
  bool empty() const { return lo > hi; }
  void add(double v);
  Extent padded(double fraction) const;  // each side widened by fraction x span
};

// ---------------------------------------------------------------- charts

enum class SeriesKind { line, markers, line_and_markers };

// One named data series: x[i], y[i] pairs (non-finite values leave a gap in a line).
struct Series {
  std::string name;
  std::vector<double> x, y;
  std::string color;
  SeriesKind kind = SeriesKind::line;
  double marker_radius = 2.5;
  std::string dash;

  Series(std::string name, std::vector<double> x, std::vector<double> y, std::string color,
         SeriesKind kind = SeriesKind::line)
      : name(std::move(name)), x(std::move(x)), y(std::move(y)), color(std::move(color)), kind(kind) {}
};

struct LegendEntry {
  std::string name;
  std::string color;
  bool line = true;  // a short line; otherwise a filled square
  std::string dash;
};

enum class Corner { top_right, top_left, bottom_right, bottom_left };

class Chart {
 public:
  // A panel filling `outer`: the plot area is what is left after room for the
  // tick labels and the axis labels (an empty label takes no room). min_left:
  // at least this much room on the left (lines up the plot areas of stacked panels).
  Chart(const Rect& outer, Axis x, Axis y, std::string x_label, std::string y_label, double min_left = 0);

  const Rect& area() const { return area_; }  // the plot area in pixels
  double left_margin() const { return left_; }  // room taken left of the plot area
  const Axis& x_axis() const { return x_; }
  const Axis& y_axis() const { return y_; }
  // Data to pixels (y grows upwards in data, downwards in pixels).
  double px(double x) const;
  double py(double y) const;

  // Grid lines, frame, ticks, tick labels and axis labels.
  void draw_axes(Svg& svg, bool tick_labels_x = true) const;
  // Each series as a <polyline class="series" data-name="NAME"> (one per unbroken
  // run) and/or <circle> markers inside a <g class="markers" data-name="NAME">.
  void draw_series(Svg& svg, const std::vector<Series>& series) const;
  // A framed legend inside the plot area, in the given corner.
  void draw_legend(Svg& svg, const std::vector<LegendEntry>& entries, Corner corner) const;
  // The corner where a legend of these entries covers the fewest points of the series' lines.
  Corner emptiest_corner(const std::vector<Series>& series, const std::vector<LegendEntry>& entries) const;

  // Legend entries for series (line or square by kind).
  static std::vector<LegendEntry> legend_for(const std::vector<Series>& series);
  // Width and height in pixels of a legend with these entries.
  static Point legend_size(const std::vector<LegendEntry>& entries);
  // Draws a legend with its top-left corner at (x, y) (also outside any chart).
  static void draw_legend_at(Svg& svg, const std::vector<LegendEntry>& entries, double x, double y);

  static constexpr double tick_font = 11;
  static constexpr double label_font = 12;

 private:
  Rect area_;
  double left_ = 0;
  Axis x_, y_;
  std::string x_label_, y_label_;
  double x_label_rotation_ = 0;  // x tick labels turn when they do not fit side by side
};

// The title centred at the top of the picture (bold, 15 px); returns the height it takes.
double draw_title(Svg& svg, std::string_view title);
// The picture's frame: draws the title at the top and returns the rest, inset by a margin, for panels.
Rect draw_frame(Svg& svg, std::string_view title);

// About how many ticks an axis of this many pixels gets: one per 90 pixels
// across (x), one per 70 up (y: labels are one line high), at least 3.
int x_tick_target(double pixels);
int y_tick_target(double pixels);

// The size of a picture unless told otherwise (`deepnet plot`'s --width and --height).
inline constexpr int picture_width = 640;
inline constexpr int picture_height = 480;

}  // namespace deepnet::plot
