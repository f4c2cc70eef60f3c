// The SVG writer and chart helper of `deepnet plot` (see svg.hpp).
#include "plot/svg.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace deepnet::plot {

// ---------------------------------------------------------------- text

namespace {

// Length of the valid UTF-8 sequence starting at s[i] that XML 1.0 allows, or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  // U+FFFE and U+FFFF are not XML characters.
  if (n == 3 && c == 0xEF && byte(i + 1) == 0xBF && byte(i + 2) >= 0xBE) return 0;
  return n;
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
          if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    const std::size_t n = utf8_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string num(double value, int decimals) {
  if (!std::isfinite(value)) return "0";
  char text[400];
  std::snprintf(text, sizeof text, "%.*f", std::clamp(decimals, 0, 17), value);
  std::string s = text;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

double text_width(std::string_view text, double size) {
  std::size_t characters = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;  // count UTF-8 lead bytes
  return 0.6 * size * static_cast<double>(characters);
}

// ---------------------------------------------------------------- colours

namespace {

struct Rgb {
  double r, g, b;
};

Rgb parse_hex(const std::string& hex) {
  const auto part = [&](int k) { return static_cast<double>(std::stoi(hex.substr(1 + 2 * k, 2), nullptr, 16)); };
  return {part(0), part(1), part(2)};
}

std::string to_hex(Rgb c) {
  const auto clamp = [](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 255.0))); };
  char text[8];
  std::snprintf(text, sizeof text, "#%02x%02x%02x", clamp(c.r), clamp(c.g), clamp(c.b));
  return text;
}

Rgb mix(Rgb a, Rgb b, double t) { return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t}; }

std::size_t wrap(int index, std::size_t n) {
  const long k = static_cast<long>(index) % static_cast<long>(n);
  return static_cast<std::size_t>(k < 0 ? k + static_cast<long>(n) : k);
}

}  // namespace

std::string series_color(int index) {
  static const std::array<const char*, 10> palette = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return palette[wrap(index, palette.size())];
}

std::string class_color(int index) {
  // Class 0 red and class 1 blue, as in the course's planar flower figure.
  static const std::array<const char*, 10> palette = {"#d7191c", "#2b83ba", "#1a9641", "#fdae61", "#7b3294",
                                                      "#a6611a", "#e7298a", "#4d4d4d", "#b8b800", "#01a0a0"};
  return palette[wrap(index, palette.size())];
}

std::string light_class_color(int index) { return to_hex(mix(parse_hex(class_color(index)), {255, 255, 255}, 0.6)); }

std::string heat_color(double t) {
  static const std::array<Rgb, 5> stops = {
      Rgb{247, 251, 255}, Rgb{198, 219, 239}, Rgb{107, 174, 214}, Rgb{33, 113, 181}, Rgb{8, 48, 107}};
  if (!std::isfinite(t)) t = 0;
  t = std::clamp(t, 0.0, 1.0) * static_cast<double>(stops.size() - 1);
  const std::size_t k = std::min(static_cast<std::size_t>(t), stops.size() - 2);
  return to_hex(mix(stops[k], stops[k + 1], t - static_cast<double>(k)));
}

// ---------------------------------------------------------------- the writer

Svg::Svg(double width, double height) : width_(width), height_(height) {
  rect(0, 0, width, height, Style().fill("#ffffff"));
}

void Svg::attributes(const Style& s) {
  if (!s.css_class.empty()) body_ += " class=\"" + escape(s.css_class) + "\"";
  if (!s.data_name.empty()) body_ += " data-name=\"" + escape(s.data_name) + "\"";
  if (!s.fill_color.empty()) body_ += " fill=\"" + escape(s.fill_color) + "\"";
  if (!s.stroke_color.empty()) body_ += " stroke=\"" + escape(s.stroke_color) + "\"";
  if (s.stroke_width >= 0) body_ += " stroke-width=\"" + num(s.stroke_width) + "\"";
  if (s.opacity_value >= 0) body_ += " opacity=\"" + num(s.opacity_value) + "\"";
  if (!s.dash_array.empty()) body_ += " stroke-dasharray=\"" + escape(s.dash_array) + "\"";
}

void Svg::line(double x1, double y1, double x2, double y2, const Style& style) {
  body_ += "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" + num(y2) + "\"";
  attributes(style);
  body_ += "/>\n";
}

void Svg::polyline(const std::vector<Point>& points, const Style& style) {
  if (points.empty()) throw std::invalid_argument("Svg::polyline: no points");
  body_ += "<polyline points=\"";
  for (std::size_t k = 0; k < points.size(); ++k) {
    if (k > 0) body_ += ' ';
    body_ += num(points[k].x) + "," + num(points[k].y);
  }
  body_ += "\"";
  Style s = style;
  if (s.fill_color.empty()) s.fill_color = "none";
  attributes(s);
  body_ += " stroke-linejoin=\"round\"/>\n";
}

void Svg::circle(double cx, double cy, double r, const Style& style) {
  body_ += "<circle cx=\"" + num(cx) + "\" cy=\"" + num(cy) + "\" r=\"" + num(r) + "\"";
  attributes(style);
  body_ += "/>\n";
}

void Svg::rect(double x, double y, double width, double height, const Style& style) {
  body_ += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(std::max(0.0, width)) +
           "\" height=\"" + num(std::max(0.0, height)) + "\"";
  attributes(style);
  body_ += "/>\n";
}

void Svg::text(double x, double y, std::string_view content, const TextStyle& style) {
  // Vertical centring by a baseline shift (renderers differ on dominant-baseline).
  const double baseline = style.vertically_centred ? y + 0.35 * style.font_size : y;
  body_ += "<text x=\"" + num(x) + "\" y=\"" + num(baseline) + "\" font-size=\"" + num(style.font_size) + "\"";
  if (style.text_anchor == Anchor::middle) body_ += " text-anchor=\"middle\"";
  if (style.text_anchor == Anchor::end) body_ += " text-anchor=\"end\"";
  if (!style.fill_color.empty()) body_ += " fill=\"" + escape(style.fill_color) + "\"";
  if (style.bold_font) body_ += " font-weight=\"bold\"";
  if (style.rotation != 0)
    body_ += " transform=\"rotate(" + num(style.rotation) + " " + num(x) + " " + num(y) + ")\"";
  if (!style.css_class.empty()) body_ += " class=\"" + escape(style.css_class) + "\"";
  body_ += ">" + escape(content) + "</text>\n";
}

void Svg::begin_group(const Style& style, const std::string& transform, bool crisp_edges) {
  body_ += "<g";
  attributes(style);
  if (!transform.empty()) body_ += " transform=\"" + escape(transform) + "\"";
  if (crisp_edges) body_ += " shape-rendering=\"crispEdges\"";
  body_ += ">\n";
  ++open_groups_;
}

void Svg::end_group() {
  if (open_groups_ == 0) throw std::logic_error("Svg::end_group: no open group");
  body_ += "</g>\n";
  --open_groups_;
}

std::string Svg::str() const {
  if (open_groups_ != 0) throw std::logic_error("Svg::str: " + std::to_string(open_groups_) + " groups still open");
  const std::string w = num(width_), h = num(height_);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + w + "\" height=\"" + h +
         "\" viewBox=\"0 0 " + w + " " + h + "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n" +
         body_ + "</svg>\n";
}

// ---------------------------------------------------------------- axes

void Extent::add(double v) {
  if (!std::isfinite(v)) return;
  if (empty()) {
    lo = hi = v;
  } else {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
}

Extent Extent::padded(double fraction) const {
  if (empty()) return *this;
  const double pad = (hi - lo) * fraction;
  return {lo - pad, hi + pad};
}

namespace {

std::string tick_label(double value, double step) {
  char text[64];
  const double largest = std::abs(value);
  if (largest >= 1e7 || (step < 1e-6 && step > 0)) {
    std::snprintf(text, sizeof text, "%.6g", value);
  } else {
    const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
  }
  return text;
}

}  // namespace

Axis nice_axis(double lo, double hi, int target, bool extend, bool integer) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  const bool reversed = lo > hi;
  if (reversed) std::swap(lo, hi);
  if (hi - lo <= 1e-12 * std::max(1.0, std::abs(lo))) {  // one value: widen around it
    const double pad = integer ? 1.0 : (lo == 0 ? 0.5 : std::abs(lo) * 0.1);
    lo -= pad;
    hi += pad;
  }
  target = std::max(target, 2);
  // The nice number nearest to an even spread of `target` ticks ...
  const double raw = (hi - lo) / target;
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / magnitude;
  double mantissa = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  const auto step_of = [&] { return integer ? std::max(mantissa * magnitude, 1.0) : mantissa * magnitude; };
  double step = step_of();
  double first = std::ceil(lo / step - 1e-9), last = std::floor(hi / step + 1e-9);
  // ... and, when the range is not extended, at least 3 ticks inside it (5 -> 2 -> 1 -> 0.5 ...).
  const double wanted = std::min(3, target);
  for (int k = 0; !extend && k < 4 && last - first + 1 < wanted; ++k) {
    if (mantissa >= 5) {
      mantissa = mantissa == 10 ? 5 : 2;
    } else if (mantissa == 2) {
      mantissa = 1;
    } else {
      mantissa = 5;
      magnitude /= 10;
    }
    if (step_of() == step) break;  // integer axes stop at 1
    step = step_of();
    first = std::ceil(lo / step - 1e-9);
    last = std::floor(hi / step + 1e-9);
  }
  if (extend) {
    first = std::floor(lo / step + 1e-9);
    last = std::ceil(hi / step - 1e-9);
    lo = first * step;
    hi = last * step;
  }
  Axis axis;
  axis.lo = lo;
  axis.hi = hi;
  for (double k = first; k <= last && axis.ticks.size() < 1000; k += 1) {
    double v = k * step;
    if (std::abs(v) < step * 1e-9) v = 0;  // no "-0.0"
    axis.ticks.push_back(v);
    axis.labels.push_back(tick_label(v, step));
  }
  if (reversed) std::swap(axis.lo, axis.hi);
  return axis;
}

std::string short_number(double value) {
  char text[48];
  const double magnitude = std::abs(value);
  static const struct {
    double scale;
    const char* suffix;
  } units[] = {{1e9, "G"}, {1e6, "M"}, {1e4, "k"}};
  for (const auto& unit : units)
    if (magnitude >= unit.scale && magnitude < 1e13) {
      const double scale = unit.scale == 1e4 ? 1e3 : unit.scale;
      std::snprintf(text, sizeof text, "%.4g%s", value / scale, unit.suffix);
      return text;
    }
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

Axis log_axis(double lo, double hi, int target, bool extend) {
  if (!(std::isfinite(lo) && std::isfinite(hi) && lo > 0 && hi > 0)) lo = 1, hi = 10;
  if (lo > hi) std::swap(lo, hi);
  double a = std::log10(lo), b = std::log10(hi);
  if (b - a < 1e-9) a -= 0.5, b += 0.5;  // one value: half a decade on each side
  if (extend) a = std::floor(a + 1e-9), b = std::ceil(b - 1e-9);
  Axis axis;
  axis.lo = a;
  axis.hi = b;
  target = std::max(target, 2);
  const int first = static_cast<int>(std::ceil(a - 1e-9)), last = static_cast<int>(std::floor(b + 1e-9));
  const int decades = last - first + 1;
  const int every = std::max(1, static_cast<int>(std::ceil(static_cast<double>(decades) / target)));
  const bool fine = b - a <= 2 + 1e-9;  // also 2 and 5 times the powers of ten
  for (int k = static_cast<int>(std::floor(a)); k <= static_cast<int>(std::ceil(b)); ++k)
    for (double m : {1.0, 2.0, 5.0}) {
      if (m != 1 && !fine) continue;
      if (m == 1 && (k - first) % every != 0) continue;
      const double t = k + std::log10(m);
      if (t < a - 1e-9 || t > b + 1e-9) continue;
      axis.ticks.push_back(t);
      axis.labels.push_back(short_number(m * std::pow(10.0, k)));
    }
  return axis;
}

Axis category_axis(const std::vector<std::string>& names, bool reversed) {
  Axis axis;
  const double n = static_cast<double>(std::max<std::size_t>(names.size(), 1));
  axis.lo = reversed ? n : 0;
  axis.hi = reversed ? 0 : n;
  axis.grid = false;
  for (std::size_t k = 0; k < names.size(); ++k) {
    axis.ticks.push_back(static_cast<double>(k) + 0.5);
    axis.labels.push_back(names[k]);
  }
  return axis;
}

// ---------------------------------------------------------------- charts

namespace {

constexpr double tick_length = 5;
constexpr double legend_row = 16;
constexpr double legend_swatch = 18;
constexpr double legend_pad = 6;
constexpr double x_rotation = -40;

double widest(const std::vector<std::string>& labels, double size) {
  double w = 0;
  for (const std::string& label : labels) w = std::max(w, text_width(label, size));
  return w;
}

}  // namespace

Chart::Chart(const Rect& outer, Axis x, Axis y, std::string x_label, std::string y_label, double min_left)
    : x_(std::move(x)), y_(std::move(y)), x_label_(std::move(x_label)), y_label_(std::move(y_label)) {
  const double left =
      std::max(min_left, (y_label_.empty() ? 0 : label_font + 8) + widest(y_.labels, tick_font) + tick_length + 4);
  left_ = left;
  const double right = std::max(8.0, (x_.labels.empty() ? 0 : text_width(x_.labels.back(), tick_font) / 2) + 2);
  area_.x = outer.x + left;
  area_.width = std::max(10.0, outer.width - left - right);
  // Tick labels turn when they do not fit side by side.
  const double x_widest = widest(x_.labels, tick_font);
  if (x_.ticks.size() > 1 && x_widest + 6 > area_.width / static_cast<double>(x_.ticks.size()))
    x_label_rotation_ = x_rotation;
  const double angle = std::abs(x_label_rotation_) * 3.14159265358979 / 180;
  const double tick_labels = x_label_rotation_ == 0 ? tick_font + 4
                                                    : x_widest * std::sin(angle) + tick_font * std::cos(angle) + 4;
  const double bottom = tick_length + tick_labels + (x_label_.empty() ? 0 : label_font + 8);
  const double top = tick_font / 2 + 2;
  area_.y = outer.y + top;
  area_.height = std::max(10.0, outer.height - top - bottom);
}

double Chart::px(double x) const { return area_.x + (x - x_.lo) / (x_.hi - x_.lo) * area_.width; }

double Chart::py(double y) const { return area_.y + (y_.hi - y) / (y_.hi - y_.lo) * area_.height; }

void Chart::draw_axes(Svg& svg, bool tick_labels_x) const {
  const auto inside = [](double v, double a, double b) {
    return v >= std::min(a, b) - 1e-9 * std::abs(b - a) && v <= std::max(a, b) + 1e-9 * std::abs(b - a);
  };
  svg.begin_group(Style().css("axes"));
  const Style grid = Style().stroke("#e6e6e6");
  if (x_.grid)
    for (double t : x_.ticks)
      if (inside(t, x_.lo, x_.hi)) svg.line(px(t), area_.y, px(t), area_.bottom(), grid);
  if (y_.grid)
    for (double t : y_.ticks)
      if (inside(t, y_.lo, y_.hi)) svg.line(area_.x, py(t), area_.right(), py(t), grid);
  svg.rect(area_, Style().fill("none").stroke("#444444"));
  const Style tick = Style().stroke("#444444");
  for (std::size_t k = 0; k < x_.ticks.size(); ++k) {
    const double t = x_.ticks[k];
    if (!inside(t, x_.lo, x_.hi)) continue;
    const double x = px(t);
    svg.line(x, area_.bottom(), x, area_.bottom() + tick_length, tick);
    if (!tick_labels_x || k >= x_.labels.size()) continue;
    if (x_label_rotation_ == 0)
      svg.text(x, area_.bottom() + tick_length + tick_font + 1, x_.labels[k],
               TextStyle(tick_font, Anchor::middle).css("tick"));
    else
      svg.text(x, area_.bottom() + tick_length + 4, x_.labels[k],
               TextStyle(tick_font, Anchor::end).rotate(x_label_rotation_).centred().css("tick"));
  }
  for (std::size_t k = 0; k < y_.ticks.size(); ++k) {
    const double t = y_.ticks[k];
    if (!inside(t, y_.lo, y_.hi)) continue;
    const double y = py(t);
    svg.line(area_.x - tick_length, y, area_.x, y, tick);
    if (k < y_.labels.size())
      svg.text(area_.x - tick_length - 3, y, y_.labels[k],
               TextStyle(tick_font, Anchor::end).centred().css("tick"));
  }
  if (!x_label_.empty()) {
    const double angle = std::abs(x_label_rotation_) * 3.14159265358979 / 180;
    const double labels_height = x_label_rotation_ == 0 ? tick_font + 4
                                                        : widest(x_.labels, tick_font) * std::sin(angle) +
                                                              tick_font * std::cos(angle) + 4;
    svg.text(area_.x + area_.width / 2, area_.bottom() + tick_length + labels_height + label_font + 2, x_label_,
             TextStyle(label_font, Anchor::middle).css("axis-label"));
  }
  if (!y_label_.empty()) {
    const double x = area_.x - tick_length - 4 - widest(y_.labels, tick_font) - 8;
    const double y = area_.y + area_.height / 2;
    svg.text(x, y, y_label_,
             TextStyle(label_font, Anchor::middle).rotate(-90).css("axis-label"));
  }
  svg.end_group();
}

void Chart::draw_series(Svg& svg, const std::vector<Series>& series) const {
  for (const Series& s : series) {
    const std::size_t n = std::min(s.x.size(), s.y.size());
    const bool lines = s.kind != SeriesKind::markers;
    const bool markers = s.kind != SeriesKind::line;
    if (lines) {
      const Style style = Style().stroke(s.color, 2).dash(s.dash).css("series").name(s.name);
      std::vector<Point> run;
      const auto flush = [&] {
        if (run.size() >= 2) {
          svg.polyline(run, style);
        } else if (run.size() == 1 && !markers) {  // a lone point still shows
          svg.circle(run[0].x, run[0].y, 2.5, Style().fill(s.color).name(s.name));
        }
        run.clear();
      };
      for (std::size_t k = 0; k < n; ++k) {
        if (std::isfinite(s.x[k]) && std::isfinite(s.y[k]))
          run.push_back({px(s.x[k]), py(s.y[k])});
        else
          flush();
      }
      flush();
    }
    if (markers) {
      svg.begin_group(Style().fill(s.color).css("markers").name(s.name));
      for (std::size_t k = 0; k < n; ++k)
        if (std::isfinite(s.x[k]) && std::isfinite(s.y[k])) svg.circle(px(s.x[k]), py(s.y[k]), s.marker_radius, {});
      svg.end_group();
    }
  }
}

std::vector<LegendEntry> Chart::legend_for(const std::vector<Series>& series) {
  std::vector<LegendEntry> entries;
  for (const Series& s : series)
    entries.push_back(LegendEntry{s.name, s.color, s.kind != SeriesKind::markers, s.dash});
  return entries;
}

Point Chart::legend_size(const std::vector<LegendEntry>& entries) {
  double text = 0;
  for (const LegendEntry& e : entries) text = std::max(text, text_width(e.name, tick_font));
  return {legend_pad + legend_swatch + legend_pad + text + legend_pad,
          legend_pad + legend_row * static_cast<double>(entries.size()) + legend_pad / 2};
}

void Chart::draw_legend_at(Svg& svg, const std::vector<LegendEntry>& entries, double x, double y) {
  const Point size = legend_size(entries);
  svg.begin_group(Style().css("legend"));
  svg.rect(x, y, size.x, size.y, Style().fill("#ffffff").stroke("#bbbbbb").opacity(0.9));
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const LegendEntry& e = entries[k];
    const double cy = y + legend_pad + legend_row * (static_cast<double>(k) + 0.5);
    const double sx = x + legend_pad;
    if (e.line)
      svg.line(sx, cy, sx + legend_swatch, cy, Style().stroke(e.color, 2).dash(e.dash));
    else
      svg.rect(sx + legend_swatch / 2 - 5, cy - 5, 10, 10, Style().fill(e.color).stroke("#333333", 0.5));
    svg.text(sx + legend_swatch + legend_pad, cy, e.name, TextStyle(tick_font).centred());
  }
  svg.end_group();
}

void Chart::draw_legend(Svg& svg, const std::vector<LegendEntry>& entries, Corner corner) const {
  if (entries.empty()) return;
  const Point size = legend_size(entries);
  const double margin = 8;
  const bool right = corner == Corner::top_right || corner == Corner::bottom_right;
  const bool top = corner == Corner::top_right || corner == Corner::top_left;
  const double x = right ? area_.right() - margin - size.x : area_.x + margin;
  const double y = top ? area_.y + margin : area_.bottom() - margin - size.y;
  draw_legend_at(svg, entries, x, y);
}

Corner Chart::emptiest_corner(const std::vector<Series>& series, const std::vector<LegendEntry>& entries) const {
  // Points along every line (10 per segment) and every marker, in pixels.
  std::vector<Point> points;
  for (const Series& s : series) {
    const std::size_t n = std::min(s.x.size(), s.y.size());
    for (std::size_t k = 0; k < n; ++k) {
      if (!std::isfinite(s.x[k]) || !std::isfinite(s.y[k])) continue;
      const Point a{px(s.x[k]), py(s.y[k])};
      points.push_back(a);
      if (s.kind == SeriesKind::markers || k + 1 >= n || !std::isfinite(s.x[k + 1]) || !std::isfinite(s.y[k + 1]))
        continue;
      const Point b{px(s.x[k + 1]), py(s.y[k + 1])};
      for (int j = 1; j < 10; ++j)
        points.push_back({a.x + (b.x - a.x) * j / 10.0, a.y + (b.y - a.y) * j / 10.0});
    }
  }
  const Point size = legend_size(entries);
  const double margin = 8;
  Corner best = Corner::top_right;
  std::size_t fewest = static_cast<std::size_t>(-1);
  for (Corner corner : {Corner::top_right, Corner::top_left, Corner::bottom_right, Corner::bottom_left}) {
    const bool right = corner == Corner::top_right || corner == Corner::bottom_right;
    const bool top = corner == Corner::top_right || corner == Corner::top_left;
    const double x = right ? area_.right() - margin - size.x : area_.x + margin;
    const double y = top ? area_.y + margin : area_.bottom() - margin - size.y;
    const std::size_t covered = static_cast<std::size_t>(std::count_if(points.begin(), points.end(), [&](Point p) {
      return p.x >= x - 4 && p.x <= x + size.x + 4 && p.y >= y - 4 && p.y <= y + size.y + 4;
    }));
    if (covered < fewest) {
      fewest = covered;
      best = corner;
    }
  }
  return best;
}

double draw_title(Svg& svg, std::string_view title) {
  double size = 15;
  const double room = svg.width() - 20;
  const double width = text_width(title, size);
  if (width > room && width > 0) size = std::max(8.0, size * room / width);
  svg.text(svg.width() / 2, 22, title,
           TextStyle(size, Anchor::middle).bold().css("title"));
  return 32;
}

Rect draw_frame(Svg& svg, std::string_view title) {
  const double top = draw_title(svg, title);
  const double margin = 8;
  return Rect{margin, top, svg.width() - 2 * margin, svg.height() - top - margin};
}

int x_tick_target(double pixels) { return std::max(3, static_cast<int>(pixels / 90)); }
int y_tick_target(double pixels) { return std::max(3, static_cast<int>(pixels / 70)); }

}  // namespace deepnet::plot
