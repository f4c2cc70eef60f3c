// The search picture (`deepnet plot search`, `deepnet search --plot`): the mean
// score with +- std error bars against each parameter that varies.
#include "cli/search/search_picture.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>

#include "cli/cli.hpp"
#include "cli/json_out.hpp"

namespace deepnet::cli {

// ---------------------------------------------------------------- the picture

namespace {

using namespace deepnet::plot;

std::string text_of(const nlohmann::ordered_json& v) {
  std::string text = v.is_string() ? v.get<std::string>() : dump_json(v);
  if (v.is_number_float() && text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) text.resize(text.size() - 2);
  return text;
}

bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value);
}

bool log_param(const std::string& name) { return name == "lr" || name == "l2" || name == "init-scale"; }

// The parameters to draw: `param` alone, or each that varies (all when none does).
std::vector<std::string> panel_params(const std::vector<const SearchRecord*>& records, std::string param) {
  std::vector<std::string> names;
  std::map<std::string, std::set<std::string>> values;
  for (const SearchRecord* r : records)
    for (const auto& [key, value] : r->setting.items()) {
      if (!values.count(key)) names.push_back(key);
      values[key].insert(dump_json(value));
    }
  if (!param.empty()) {
    std::replace(param.begin(), param.end(), '_', '-');
    if (param == "learning-rate") param = "lr";
    if (!values.count(param)) {
      std::string known;
      for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
      throw CliError(exit_usage, "--param: '" + param + "' is not a parameter of the trials in the log (they have: " +
                                     (known.empty() ? "none" : known) + ")");
    }
    return {param};
  }
  std::vector<std::string> varying;
  for (const std::string& n : names)
    if (values[n].size() > 1) varying.push_back(n);
  return varying.empty() ? names : varying;
}

std::vector<const SearchRecord*> drawable(const std::vector<SearchRecord>& records) {
  std::vector<const SearchRecord*> out;
  for (const SearchRecord& r : records)
    if (!r.failed() && std::isfinite(r.mean)) out.push_back(&r);
  return out;
}

std::pair<int, int> grid_of(std::size_t panels) {
  const int cols = panels <= 1 ? 1 : panels <= 4 ? 2 : 3;
  const int rows = static_cast<int>((panels + static_cast<std::size_t>(cols) - 1) / static_cast<std::size_t>(cols));
  return {cols, std::max(rows, 1)};
}

std::string short_number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

// A log10 axis over [lo, hi] (both > 0): ticks at 1, 2, 5 x 10^k for up to
// two decades, else at the powers of ten.
Axis log_axis(double lo, double hi) {
  Axis axis;
  double a = std::floor(std::log10(lo) + 1e-9), b = std::ceil(std::log10(hi) - 1e-9);
  if (b <= a) b = a + 1;
  axis.lo = a;
  axis.hi = b;
  const bool fine = b - a <= 2;
  for (double k = a; k <= b + 1e-9; k += 1)
    for (double m : fine ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
      const double t = k + std::log10(m);
      if (t > b + 1e-9) break;
      axis.ticks.push_back(t);
      axis.labels.push_back(short_number(m * std::pow(10.0, k)));
    }
  // A little room on both sides, so that points at the ends stay off the frame.
  axis.lo -= 0.04 * (b - a);
  axis.hi += 0.04 * (b - a);
  return axis;
}

}  // namespace

std::pair<int, int> search_plot_size(const std::vector<SearchRecord>& records, const std::string& param) {
  const auto points = drawable(records);
  const std::size_t n = points.empty() ? 1 : panel_params(points, param).size();
  const auto [cols, rows] = grid_of(n);
  return {std::max(640, 420 * cols), std::max(480, 340 * rows + 40)};
}

void draw_search_plot(Svg& svg, const std::vector<SearchRecord>& records, const std::string& param,
                      const std::string& title) {
  const std::vector<const SearchRecord*> points = drawable(records);
  if (points.empty()) throw CliError(exit_data, "the log has no finished trial with a score to draw");
  const std::vector<std::string> names = panel_params(points, param);
  if (names.empty()) throw CliError(exit_data, "the trials in the log have no parameters to draw against");
  const std::string metric = points.front()->metric;

  const Rect all = draw_frame(svg, title);
  const auto [cols, rows] = grid_of(names.size());
  const double cell_w = all.width / cols, cell_h = all.height / rows;

  // Rounds of successive halving get a colour each (with a legend); one round is one colour.
  std::set<int> round_set;
  for (const SearchRecord* r : points) round_set.insert(r->round);
  const std::vector<int> rounds(round_set.begin(), round_set.end());

  // The y axis: the same for every panel.
  Extent ys;
  for (const SearchRecord* r : points) {
    ys.add(r->mean - (std::isfinite(r->std) ? r->std : 0));
    ys.add(r->mean + (std::isfinite(r->std) ? r->std : 0));
  }
  const Extent padded = ys.padded(0.08);
  Axis y_axis = nice_axis(padded.lo, padded.hi, std::max(3, static_cast<int>(cell_h / 70)));
  if (metric == "accuracy") y_axis.lo = std::max(y_axis.lo, 0.0), y_axis.hi = std::min(y_axis.hi, 1.0);
  if (!(y_axis.hi > y_axis.lo)) y_axis = nice_axis(0, 1, 3);
  {  // drop ticks the clamping left outside
    Axis kept = y_axis;
    kept.ticks.clear();
    kept.labels.clear();
    for (std::size_t k = 0; k < y_axis.ticks.size(); ++k)
      if (y_axis.ticks[k] >= y_axis.lo - 1e-12 && y_axis.ticks[k] <= y_axis.hi + 1e-12) {
        kept.ticks.push_back(y_axis.ticks[k]);
        kept.labels.push_back(y_axis.labels[k]);
      }
    y_axis = kept;
  }
  const std::string y_label = "mean " + metric + " (+- std)";

  for (std::size_t p = 0; p < names.size(); ++p) {
    const std::string& name = names[p];
    const Rect outer{all.x + cell_w * static_cast<double>(p % static_cast<std::size_t>(cols)),
                     all.y + cell_h * static_cast<double>(p / static_cast<std::size_t>(cols)), cell_w, cell_h};
    // The x position of each point: numbers (log10 for wide positive ranges), or categories.
    std::vector<std::string> texts;
    for (const SearchRecord* r : points) texts.push_back(r->setting.contains(name) ? text_of(r->setting[name]) : "");
    bool numeric = true;
    std::vector<double> values(texts.size(), 0);
    for (std::size_t k = 0; k < texts.size() && numeric; ++k) numeric = parse_number(texts[k], values[k]);
    std::string x_label = name;
    if (numeric && name == "layers") x_label = "hidden units, one hidden layer";
    Axis x_axis;
    std::vector<double> xs(texts.size(), 0);
    if (numeric) {
      Extent e;
      for (double v : values) e.add(v);
      const bool log = e.lo > 0 && (log_param(name) || (e.hi / e.lo >= 20));
      if (log) {
        x_axis = log_axis(e.lo, e.hi);
        for (std::size_t k = 0; k < values.size(); ++k) xs[k] = std::log10(values[k]);
        x_label += " (log scale)";
      } else {
        const Extent pe = e.padded(0.05);
        x_axis = nice_axis(pe.lo, pe.hi, std::max(3, static_cast<int>(cell_w / 90)), true,
                           name == "epochs" || name == "iterations" || name == "batch-size" || name == "layers");
        xs = values;
      }
    } else {
      std::vector<std::string> categories;
      for (const std::string& t : texts)
        if (std::find(categories.begin(), categories.end(), t) == categories.end()) categories.push_back(t);
      std::vector<std::string> labels = categories;
      for (std::string& l : labels)
        if (l.empty()) l = name == "layers" ? "none" : "\"\"";
      x_axis = category_axis(labels);
      // Points of one category side by side inside its cell.
      std::map<std::string, int> count, seen;
      for (const std::string& t : texts) ++count[t];
      for (std::size_t k = 0; k < texts.size(); ++k) {
        const double c = static_cast<double>(count[texts[k]]);
        const double spread = std::min(0.7 / c, 0.12);
        const auto index = std::find(categories.begin(), categories.end(), texts[k]) - categories.begin();
        xs[k] = static_cast<double>(index) + 0.5 + (seen[texts[k]]++ - (c - 1) / 2) * spread;
      }
    }
    const Chart chart(outer, x_axis, y_axis, x_label, y_label);
    chart.draw_axes(svg);
    // Error bars under the points.
    svg.begin_group(Style().css("errorbars").stroke("#555555", 1).name(name));
    for (std::size_t k = 0; k < points.size(); ++k) {
      const SearchRecord& r = *points[k];
      if (!(std::isfinite(r.std) && r.std > 0)) continue;
      const double x = chart.px(xs[k]);
      const double y0 = chart.py(std::max(r.mean - r.std, y_axis.lo)), y1 = chart.py(std::min(r.mean + r.std, y_axis.hi));
      svg.line(x, y0, x, y1, {});
      svg.line(x - 3, y0, x + 3, y0, {});
      svg.line(x - 3, y1, x + 3, y1, {});
    }
    svg.end_group();
    svg.begin_group(Style().css("points").name(name));
    std::vector<Series> series;
    for (std::size_t ri = 0; ri < rounds.size(); ++ri) {
      const int round = rounds[ri];
      const std::string color = series_color(static_cast<int>(ri));
      std::string label = "all trials";
      if (rounds.size() > 1) {
        label = "round " + std::to_string(round);
        for (const SearchRecord* r : points)
          if (r->round == round) {
            for (const char* budget : {"epochs", "iterations"})
              if (r->setting.contains(budget)) label += " (" + std::string(budget) + " " + text_of(r->setting[budget]) + ")";
            break;
          }
      }
      Series s(label, {}, {}, color, SeriesKind::markers);
      svg.begin_group(Style().fill(color).stroke("#222222", 0.5).name(label));
      for (std::size_t k = 0; k < points.size(); ++k)
        if (points[k]->round == round) {
          svg.circle(chart.px(xs[k]), chart.py(points[k]->mean), 3.5, {});
          s.x.push_back(xs[k]);
          s.y.push_back(points[k]->mean);
        }
      svg.end_group();
      series.push_back(std::move(s));
    }
    svg.end_group();
    if (rounds.size() > 1 && p == 0) {
      const std::vector<LegendEntry> entries = Chart::legend_for(series);
      chart.draw_legend(svg, entries, chart.emptiest_corner(series, entries));
    }
  }
}

}  // namespace deepnet::cli
