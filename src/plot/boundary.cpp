// The decision-boundary picture (plot/boundary.hpp): a classifier's answers on
// labelled examples, and its regions drawn as merged rectangles of grid cells
// under the examples.
#include "plot/boundary.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <tuple>

#include "deepnet/error.hpp"
#include "deepnet/preprocess.hpp"

namespace deepnet::plot {

ClassifiedExamples classify_examples(const Model& model, const Dataset& data) {
  ClassifiedExamples c;
  if (data.features() != model.architecture.sizes.front())
    throw Error(data.source + ": has " + std::to_string(data.features()) + " features but the model expects n[0] = " +
                std::to_string(model.architecture.sizes.front()));
  c.prediction = predict(model, data);
  const Matrix<double> labels = encode_labels<double>(model.encoding, targets_in_encoding(data, model.encoding));
  std::size_t right = 0;
  for (Eigen::Index j = 0; j < labels.cols(); ++j) {
    c.truth.push_back(static_cast<int>(labels(0, j)));
    c.predicted.push_back(static_cast<int>(c.prediction.labels[static_cast<std::size_t>(j)]));
    right += c.truth.back() == c.predicted.back() ? 1 : 0;
  }
  c.accuracy = static_cast<double>(right) / static_cast<double>(c.truth.size());
  return c;
}

std::string boundary_title(const std::string& model_path, const std::string& data_path, double accuracy) {
  // The last part of a path ("runs/h.csv" -> "h.csv"); a built-in set name stays as it is.
  const auto base_name = [](const std::string& path) {
    const std::string name = std::filesystem::path(path).filename().string();
    return name.empty() ? path : name;
  };
  char text[48];
  std::snprintf(text, sizeof text, "%.4f", accuracy);
  return "decision boundary: " + base_name(model_path) + " on " + base_name(data_path) + ", accuracy " + text;
}

void draw_boundary(Svg& svg, const std::string& title, const Model& model, const Matrix<double>& X,
                   const std::vector<int>& truth, const std::vector<std::string>& feature_names, int grid) {
  const std::vector<std::string>& classes = model.encoding.class_names;
  const int K = static_cast<int>(classes.size());
  const Eigen::Index m = X.cols();

  Rect outer = draw_frame(svg, title);
  std::vector<LegendEntry> legend;
  for (int k = 0; k < K; ++k) legend.push_back({classes[static_cast<std::size_t>(k)], class_color(k), false, ""});
  const double legend_width = Chart::legend_size(legend).x;
  outer.width -= legend_width + 10;  // the legend stands right of the plot

  Extent e0, e1;
  for (Eigen::Index j = 0; j < m; ++j) {
    e0.add(X(0, j));
    e1.add(X(1, j));
  }
  const auto axis = [](const Extent& e, int ticks) {
    // The data with a margin of 5% on each side; a constant feature gets a range around its value.
    const Extent padded = e.padded(0.05);
    Axis a = nice_axis(padded.lo, padded.hi, ticks, e.lo == e.hi);
    a.grid = false;  // the regions are the background
    return a;
  };
  const auto feature = [&](std::size_t i) {
    return i < feature_names.size() && !feature_names[i].empty() ? feature_names[i] : "feature " + std::to_string(i + 1);
  };
  const Chart chart(outer, axis(e0, x_tick_target(outer.width)), axis(e1, y_tick_target(outer.height)), feature(0),
                    feature(1));
  const Rect& area = chart.area();

  // The classifier on an N x N grid of cell centres, row 0 at the top.
  const int N = grid;
  const Axis& xa = chart.x_axis();
  const Axis& ya = chart.y_axis();
  Matrix<double> cells(2, static_cast<Eigen::Index>(N) * N);
  for (int r = 0; r < N; ++r)
    for (int i = 0; i < N; ++i) {
      const Eigen::Index k = static_cast<Eigen::Index>(r) * N + i;
      cells(0, k) = xa.lo + (i + 0.5) / N * (xa.hi - xa.lo);
      cells(1, k) = ya.hi - (r + 0.5) / N * (ya.hi - ya.lo);
    }
  const Prediction regions = predict(model, cells);
  const auto cell = [&](int r, int i) {
    return static_cast<int>(regions.labels[static_cast<std::size_t>(r) * static_cast<std::size_t>(N) + static_cast<std::size_t>(i)]);
  };
  // The most common class is the background; the others are rectangles of
  // merged cells: runs along a row, grown downwards while the next row has the same run.
  std::vector<std::size_t> count(static_cast<std::size_t>(K), 0);
  for (double label : regions.labels) ++count.at(static_cast<std::size_t>(label));
  const int background = static_cast<int>(std::max_element(count.begin(), count.end()) - count.begin());
  struct Box {
    int x0, x1, y0, y1, cls;
  };
  std::vector<Box> boxes;
  std::map<std::tuple<int, int, int>, std::size_t> open;  // (x0, x1, class) -> box reaching the previous row
  for (int r = 0; r < N; ++r) {
    std::map<std::tuple<int, int, int>, std::size_t> next;
    for (int i = 0; i < N;) {
      const int cls = cell(r, i);
      int end = i + 1;
      while (end < N && cell(r, end) == cls) ++end;
      if (cls != background) {
        const auto key = std::make_tuple(i, end, cls);
        if (const auto it = open.find(key); it != open.end()) {
          boxes[it->second].y1 = r + 1;
          next[key] = it->second;
        } else {
          boxes.push_back({i, end, r, r + 1, cls});
          next[key] = boxes.size() - 1;
        }
      }
      i = end;
    }
    open = std::move(next);
  }
  svg.begin_group(Style().css("regions"));
  svg.rect(area, Style().fill(light_class_color(background)).name(classes[static_cast<std::size_t>(background)]));
  // Cells in grid units; the scale needs more digits than a coordinate (x N cells).
  svg.begin_group({}, "translate(" + num(area.x) + " " + num(area.y) + ") scale(" + num(area.width / N, 6) + " " +
                          num(area.height / N, 6) + ")", true);
  for (int k = 0; k < K; ++k) {
    if (k == background || count[static_cast<std::size_t>(k)] == 0) continue;
    svg.begin_group(Style().fill(light_class_color(k)).name(classes[static_cast<std::size_t>(k)]));
    for (const Box& b : boxes)
      if (b.cls == k) svg.rect(b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0, {});
    svg.end_group();
  }
  svg.end_group();
  svg.end_group();

  chart.draw_axes(svg);
  // The examples on top, coloured by their true class.
  const double radius = m <= 500 ? 3.2 : m <= 2000 ? 2.4 : 1.6;
  svg.begin_group(Style().css("points"));
  for (int k = 0; k < K; ++k) {
    svg.begin_group(Style().fill(class_color(k)).stroke("#222222", 0.5).name(classes[static_cast<std::size_t>(k)]));
    for (Eigen::Index j = 0; j < m; ++j)
      if (truth[static_cast<std::size_t>(j)] == k) svg.circle(chart.px(X(0, j)), chart.py(X(1, j)), radius, {});
    svg.end_group();
  }
  svg.end_group();
  Chart::draw_legend_at(svg, legend, area.right() + 10, area.y);
}

}  // namespace deepnet::plot
