// `deepnet plot KIND`: pictures as self-contained SVG files, or PNG files
// rendered from that SVG in-process; -o's extension picks (docs/plots.md).
//
// Each kind is a sub-subcommand with its own flags plus the picture flags
// (-o, --title, --width, --height); adding a kind is one add_*_kind function
// and one line in the table in add_plot_command. The drawing itself is
// src/plot/svg.hpp (Svg, Chart) and, for the decision boundary, src/plot/boundary.hpp;
// this file reads the inputs and lays out panels.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cli/json_out.hpp"
#include "cli/plot_pieces.hpp"
#include "deepnet/files.hpp"
#include "deepnet/metrics.hpp"
#include "deepnet/model_file.hpp"
#include "plot/boundary.hpp"
#include "plot/png.hpp"
#include "plot/svg.hpp"
#include "cli/search/search_log.hpp"
#include "cli/search/search_picture.hpp"

namespace deepnet::cli {

namespace {

using namespace deepnet::plot;

// ---------------------------------------------------------------- picture flags and output

struct PictureFlags {
  std::string out;
  std::string title;
  int width = picture_width;
  int height = picture_height;
};

void add_picture_flags(CLI::App& cmd, PictureFlags& f) {
  cmd.add_option("-o,--out", f.out, "Write the picture here: NAME.svg (SVG) or NAME.png (PNG, rendered by librsvg); atomically, never a half-written file")->required();
  cmd.add_option("--title", f.title, "Title of the picture (default: from the kind and the input file names)");
  cmd.add_option("--width", f.width, "Width in pixels (200 to 10000)")->capture_default_str();
  cmd.add_option("--height", f.height, "Height in pixels (150 to 10000)")->capture_default_str();
}

// The output's format, from the extension of its name: ".svg" or ".png" (any case).
enum class PictureFormat { svg, png };

PictureFormat picture_format(const std::string& out) {
  std::string extension = std::filesystem::path(out).extension().string();
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (extension == ".svg") return PictureFormat::svg;
  if (extension == ".png") return PictureFormat::png;
  throw CliError(exit_usage, "-o " + out + ": " +
                                 (extension.empty() ? std::string("the name has no extension")
                                                    : "unknown extension '" + std::filesystem::path(out).extension().string() + "'") +
                                 "; the extension picks the format: .svg or .png");
}

void check_picture_flags(const PictureFlags& f) {
  picture_format(f.out);
  if (f.width < 200 || f.width > 10000)
    throw CliError(exit_usage, "--width: expected 200 to 10000 pixels, got " + std::to_string(f.width));
  if (f.height < 150 || f.height > 10000)
    throw CliError(exit_usage, "--height: expected 150 to 10000 pixels, got " + std::to_string(f.height));
}

// The last part of a path ("runs/h.csv" -> "h.csv"); a built-in set name stays as it is.
std::string base_name(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  return name.empty() ? path : name;
}

std::string fixed(double value, int decimals) {
  char text[48];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// Writes the picture in the format its name asks for: the SVG document, or
// that document rendered to PNG by librsvg (plot/png.hpp) at the SVG's size.
int write_svg(const PictureFlags& f, const Svg& svg) {
  std::string bytes = svg.str();  // the whole file first, then one atomic write
  if (picture_format(f.out) == PictureFormat::png) {
    try {
      bytes = render_png(bytes, static_cast<int>(svg.width()), static_cast<int>(svg.height()));
    } catch (const std::runtime_error& e) {
      throw CliError(exit_other, f.out + ": cannot make the PNG: " + e.what());
    }
  }
  with_exit_code(exit_model, [&] {
    io::write_file_atomically(f.out, bytes);
    return 0;
  });
  return exit_ok;
}

// The picture's frame: title at the top, the rest (inset by a margin) for panels.
Rect frame(Svg& svg, const PictureFlags& f, const std::string& default_title) {
  return draw_frame(svg, f.title.empty() ? default_title : f.title);
}

// ---------------------------------------------------------------- history

// A training history: the x column (epoch or iteration) and the other columns,
// NaN where a value is missing (empty CSV field, JSON null or absent key).
struct History {
  std::string x_name;
  std::vector<double> x;
  struct Column {
    std::string name;
    std::vector<double> values;
  };
  std::vector<Column> columns;
};

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(value);
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ",") + item;
  return text;
}

// ---------------------------------------------------------------- CSV files of numbers (history, lines)

// The lines of a CSV text (a UTF-8 byte-order mark dropped).
std::vector<std::string> csv_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

// The trimmed names of the header line.
std::vector<std::string> csv_header(const std::string& line) {
  std::vector<std::string> header = split_list(line);
  for (std::string& name : header) name = trim(name);
  return header;
}

// The rows after the header as one column of numbers per header name; blank
// lines are skipped, an empty field is NaN except in column `required`.
std::vector<std::vector<double>> csv_columns(const std::string& path, const std::vector<std::string>& lines,
                                             const std::vector<std::string>& header, std::size_t required) {
  std::vector<std::vector<double>> columns(header.size());
  for (std::size_t l = 1; l < lines.size(); ++l) {
    if (trim(lines[l]).empty()) continue;
    const std::string where = path + ": line " + std::to_string(l + 1);
    const std::vector<std::string> fields = split_list(lines[l]);
    if (fields.size() != header.size())
      throw CliError(exit_data, where + ": expected " + std::to_string(header.size()) + " fields like the header, got " +
                                    std::to_string(fields.size()));
    for (std::size_t c = 0; c < fields.size(); ++c) {
      const std::string field = trim(fields[c]);
      double value = std::nan("");
      if (!parse_number(field, value) && (c == required || !field.empty()))
        throw CliError(exit_data, where + ", column " + std::to_string(c + 1) + " ('" + header[c] +
                                      "'): expected a number, got '" + field + "'");
      columns[c].push_back(value);
    }
  }
  return columns;
}

History parse_history_csv(const std::string& path, const std::string& text) {
  const std::vector<std::string> lines = csv_lines(text);
  if (lines.empty() || trim(lines[0]).empty())
    throw CliError(exit_data, path + ": line 1: expected a header such as 'epoch,train_cost,val_cost,val_accuracy' "
                                     "(written by 'deepnet train --history'), got an empty line");
  const std::vector<std::string> header = csv_header(lines[0]);
  History h;
  std::size_t x_column = header.size();
  for (std::size_t c = 0; c < header.size(); ++c)
    if (header[c] == "epoch" || header[c] == "iteration") {
      x_column = c;
      break;
    }
  if (x_column == header.size())
    throw CliError(exit_data, path + ": line 1: expected a column 'epoch' or 'iteration' (the history 'deepnet "
                                     "train --history' writes), got '" + trim(lines[0]) + "'");
  h.x_name = header[x_column];
  std::vector<std::vector<double>> columns = csv_columns(path, lines, header, x_column);
  h.x = std::move(columns[x_column]);
  for (std::size_t c = 0; c < header.size(); ++c)
    if (c != x_column) h.columns.push_back({header[c], std::move(columns[c])});
  if (h.x.empty()) throw CliError(exit_data, path + ": no rows after the header");
  return h;
}

History parse_history_json(const std::string& path, const std::string& text) {
  nlohmann::ordered_json rows;
  try {
    rows = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string message = e.what();
    if (const auto end = message.find("] "); message.rfind("[json.exception", 0) == 0 && end != std::string::npos)
      message = message.substr(end + 2);
    throw CliError(exit_data, path + ": " + message);
  }
  if (!rows.is_array())
    throw CliError(exit_data, path + ": expected a JSON array of per-epoch objects, got " + std::string(rows.type_name()));
  if (rows.empty()) throw CliError(exit_data, path + ": the array has no entries");
  History h;
  std::map<std::string, std::size_t> index;  // column name -> position in h.columns
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string where = path + ": entry " + std::to_string(r + 1);
    if (!row.is_object()) throw CliError(exit_data, where + ": expected an object, got " + std::string(row.type_name()));
    if (r == 0) h.x_name = row.contains("epoch") ? "epoch" : row.contains("iteration") ? "iteration" : "";
    if (h.x_name.empty())
      throw CliError(exit_data, where + ": expected a key \"epoch\" or \"iteration\" (the history 'deepnet train "
                                        "--history' writes)");
    for (const auto& [key, value] : row.items()) {
      double number = std::nan("");
      if (value.is_number()) {
        number = value.get<double>();
      } else if (!value.is_null() || key == h.x_name) {
        throw CliError(exit_data, where + ", \"" + key + "\": expected a number" + (key == h.x_name ? "" : " or null") +
                                      ", got " + dump_json(value));
      }
      if (!std::isfinite(number) && !value.is_null())
        throw CliError(exit_data, where + ", \"" + key + "\": expected a finite number, got " + dump_json(value));
      if (key == h.x_name) {
        h.x.push_back(number);
        continue;
      }
      auto it = index.find(key);
      if (it == index.end()) {
        it = index.emplace(key, h.columns.size()).first;
        h.columns.push_back({key, std::vector<double>(r, std::nan(""))});  // missing in earlier entries
      }
      h.columns[it->second].values.push_back(number);
    }
    if (h.x.size() != r + 1) throw CliError(exit_data, where + ": has no \"" + h.x_name + "\"");
    for (History::Column& column : h.columns) column.values.resize(r + 1, std::nan(""));  // absent keys
  }
  return h;
}

History read_history(const std::string& path) {
  const std::string text = with_exit_code(exit_data, [&] { return io::read_whole_file(path); });
  const auto first = text.find_first_not_of(" \t\r\n");
  const bool json = first != std::string::npos && (text[first] == '[' || text[first] == '{');
  return json ? parse_history_json(path, text) : parse_history_csv(path, text);
}

// "train_cost" -> "training cost", "val_accuracy" -> "validation accuracy".
std::string pretty_name(std::string name) {
  std::replace(name.begin(), name.end(), '_', ' ');
  if (name.rfind("train ", 0) == 0) name = "training " + name.substr(6);
  if (name.rfind("val ", 0) == 0) name = "validation " + name.substr(4);
  return name;
}

// The same colour for a part's cost and accuracy: training 0, validation 1, test 2.
int role_color(const std::string& name) {
  if (name.find("val") != std::string::npos) return 1;
  if (name.find("test") != std::string::npos) return 2;
  return 0;
}

struct HistorySettings {
  std::string history;
  PictureFlags picture;
};

int draw_history(const History& h, const std::string& source, const PictureFlags& picture);

int run_history(const HistorySettings& s) {
  check_picture_flags(s.picture);
  return draw_history(read_history(s.history), s.history, s.picture);
}

int draw_history(const History& h, const std::string& source, const PictureFlags& picture) {
  std::vector<Series> costs, accuracies;
  const bool few = h.x.size() <= 40;
  for (const History::Column& column : h.columns) {
    const bool cost = column.name.find("cost") != std::string::npos;
    const bool accuracy = column.name.find("accuracy") != std::string::npos;
    if ((!cost && !accuracy) || std::none_of(column.values.begin(), column.values.end(), [](double v) { return std::isfinite(v); }))
      continue;
    Series series{pretty_name(column.name), h.x, column.values, series_color(role_color(column.name)),
                  few ? SeriesKind::line_and_markers : SeriesKind::line};
    (cost ? costs : accuracies).push_back(std::move(series));
  }
  if (costs.empty() && accuracies.empty()) {
    std::vector<std::string> names;
    for (const History::Column& column : h.columns) names.push_back(column.name);
    throw CliError(exit_data, source + ": no cost or accuracy column with a value to plot (columns: " +
                                  h.x_name + (names.empty() ? "" : "," + join(names)) + ")");
  }

  Svg svg(picture.width, picture.height);
  const Rect all = frame(svg, picture, "learning curves: " + base_name(source));
  Extent xs;
  for (double x : h.x) xs.add(x);
  const Axis x_axis = nice_axis(xs.lo, xs.hi, x_tick_target(all.width), false, true);

  // One panel per quantity: cost on top, accuracy below (when present).
  struct Panel {
    std::vector<Series>* series;
    std::string label;
    bool accuracy;
  };
  std::vector<Panel> panels;
  if (!costs.empty()) panels.push_back({&costs, costs.size() == 1 ? costs[0].name : "cost", false});
  if (!accuracies.empty()) panels.push_back({&accuracies, accuracies.size() == 1 ? accuracies[0].name : "accuracy", true});
  std::vector<Rect> outers;
  if (panels.size() == 1) {
    outers.push_back(all);
  } else {
    const double top_height = std::round(all.height * 0.58);
    outers.push_back({all.x, all.y, all.width, top_height});
    outers.push_back({all.x, all.y + top_height + 6, all.width, all.height - top_height - 6});
  }
  std::vector<Axis> y_axes;
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const Panel& panel = panels[p];
    Extent ys;
    for (const Series& series : *panel.series)
      for (double v : series.y) ys.add(v);
    const Extent padded = ys.padded(0.05);
    Axis axis = nice_axis(padded.lo, padded.hi, y_tick_target(outers[p].height));
    if (panel.accuracy) axis.lo = std::max(axis.lo, 0.0), axis.hi = std::min(axis.hi, 1.0);
    if (axis.hi <= axis.lo) axis = nice_axis(0, 1, 3);
    y_axes.push_back(axis);
  }
  // The same left margin for every panel, so their x axes line up.
  double left = 0;
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const bool last = p + 1 == panels.size();
    left = std::max(left, Chart(outers[p], x_axis, y_axes[p], last ? h.x_name : "", panels[p].label).left_margin());
  }
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const bool last = p + 1 == panels.size();
    const Chart chart(outers[p], x_axis, y_axes[p], last ? h.x_name : "", panels[p].label, left);
    chart.draw_axes(svg);
    chart.draw_series(svg, *panels[p].series);
    if (panels[p].series->size() > 1) {
      const std::vector<LegendEntry> entries = Chart::legend_for(*panels[p].series);
      chart.draw_legend(svg, entries, chart.emptiest_corner(*panels[p].series, entries));
    }
  }
  return write_svg(picture, svg);
}

Runner add_history_kind(CLI::App& cmd) {
  auto s = std::make_shared<HistorySettings>();
  cmd.add_option("--history", s->history,
                 "History file written by 'deepnet train --history': CSV (epoch,train_cost,val_cost,val_accuracy,"
                 "... or iteration,cost) or JSON")
      ->required();
  add_picture_flags(cmd, s->picture);
  return [s] { return run_history(*s); };
}

// ---------------------------------------------------------------- diagnostics

// The per-layer columns 'deepnet train --diagnose --history' writes: QUANTITY_LAYER.
struct DiagnosticQuantity {
  const char* column;
  const char* label;
  bool log;       // drawn on a logarithmic axis
  bool fraction;  // a share in [0, 1]
};
constexpr DiagnosticQuantity kDiagnosticQuantities[] = {
    {"dead", "dead ReLU share", false, true},          {"saturated", "saturated share", false, true},
    {"a_mean", "mean of A[l]", false, false},           {"a_std", "std of A[l]", false, false},
    {"dw_norm", "||dW[l]||", true, false},              {"w_norm", "||W[l]||", true, false},
    {"update_ratio", "update/weight", true, false},
};

// The layer of a column QUANTITY_LAYER, or 0 when the name is not one.
int diagnostic_layer(const std::string& name, const std::string& quantity) {
  if (name.size() <= quantity.size() + 1 || name.compare(0, quantity.size(), quantity) != 0 || name[quantity.size()] != '_')
    return 0;
  const std::string digits = name.substr(quantity.size() + 1);
  if (digits.size() > 6 || digits.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::atoi(digits.c_str());
}

int draw_diagnostics(const History& h, const std::string& source, const PictureFlags& picture) {
  struct Panel {
    const DiagnosticQuantity* quantity;
    std::vector<std::pair<int, Series>> series;  // by layer
    Extent ys;
  };
  std::vector<Panel> panels;
  const bool few = h.x.size() <= 40;
  for (const DiagnosticQuantity& q : kDiagnosticQuantities) {
    Panel panel{&q, {}, {}};
    for (const History::Column& column : h.columns) {
      const int layer = diagnostic_layer(column.name, q.column);
      if (layer < 1) continue;
      std::vector<double> y = column.values;
      for (double& v : y)
        if (q.log) v = v > 0 && std::isfinite(v) ? std::log10(v) : std::nan("");
      if (std::none_of(y.begin(), y.end(), [](double v) { return std::isfinite(v); })) continue;
      for (double v : y) panel.ys.add(v);
      panel.series.emplace_back(layer, Series("layer " + std::to_string(layer), h.x, std::move(y),
                                              series_color(layer - 1),
                                              few ? SeriesKind::line_and_markers : SeriesKind::line));
    }
    if (panel.series.empty()) continue;
    std::sort(panel.series.begin(), panel.series.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    panels.push_back(std::move(panel));
  }
  if (panels.empty()) {
    std::vector<std::string> names;
    for (const History::Column& column : h.columns) names.push_back(column.name);
    throw CliError(exit_data, source + ": no diagnostics column with a value to plot (dead_1, a_mean_1, "
                                       "update_ratio_1, ...: written by 'deepnet train --diagnose --history'); the "
                                       "columns are: " + h.x_name + (names.empty() ? "" : "," + join(names)));
  }

  Svg svg(picture.width, picture.height);
  const Rect all = frame(svg, picture, "training diagnostics: " + base_name(source));
  const std::size_t columns = panels.size() > 1 ? 2 : 1, rows = (panels.size() + columns - 1) / columns;
  constexpr double gap = 12;
  const double cell_width = (all.width - gap * static_cast<double>(columns - 1)) / static_cast<double>(columns);
  const double cell_height = (all.height - gap * static_cast<double>(rows - 1)) / static_cast<double>(rows);
  Extent xs;
  for (double x : h.x) xs.add(x);
  const Axis x_axis = nice_axis(xs.lo, xs.hi, x_tick_target(cell_width), false, true);
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const Panel& panel = panels[p];
    const Rect outer{all.x + static_cast<double>(p % columns) * (cell_width + gap),
                     all.y + static_cast<double>(p / columns) * (cell_height + gap), cell_width, cell_height};
    Extent ys = panel.ys;
    if (ys.hi - ys.lo < 1e-12) ys = panel.quantity->log ? Extent{ys.lo - 0.5, ys.hi + 0.5} : Extent{ys.lo - 0.5, ys.hi + 0.5};
    Axis y_axis = panel.quantity->fraction ? nice_axis(0, 1, y_tick_target(outer.height))
                  : panel.quantity->log
                      ? log_axis(std::pow(10.0, ys.lo), std::pow(10.0, ys.hi), y_tick_target(outer.height))
                      : nice_axis(ys.padded(0.05).lo, ys.padded(0.05).hi, y_tick_target(outer.height));
    std::vector<Series> series;
    for (const auto& [layer, one] : panel.series) series.push_back(one);
    const Chart chart(outer, x_axis, y_axis, p + columns >= panels.size() ? h.x_name : "", panel.quantity->label);
    chart.draw_axes(svg);
    chart.draw_series(svg, series);
    if (series.size() > 1) {
      const std::vector<LegendEntry> entries = Chart::legend_for(series);
      chart.draw_legend(svg, entries, chart.emptiest_corner(series, entries));
    }
  }
  return write_svg(picture, svg);
}

Runner add_diagnostics_kind(CLI::App& cmd) {
  auto s = std::make_shared<HistorySettings>();
  s->picture.width = 900;
  s->picture.height = 960;
  cmd.add_option("--history", s->history,
                 "History file written by 'deepnet train --diagnose --history' (CSV or JSON): its per-layer "
                 "columns dead_L, saturated_L, a_mean_L, a_std_L, dw_norm_L, w_norm_L, update_ratio_L")
      ->required();
  add_picture_flags(cmd, s->picture);
  return [s] {
    check_picture_flags(s->picture);
    return draw_diagnostics(read_history(s->history), s->history, s->picture);
  };
}

// ---------------------------------------------------------------- lines

// Lines from any CSV file of numbers: one column against others, each a series,
// on linear or logarithmic axes (scripts/bench --sweep draws its pictures so).
struct LinesSettings {
  std::string data;
  std::string x;               // the x column (default: the first)
  std::vector<std::string> y;  // the series (default: every other column)
  bool log_x = false, log_y = false;
  std::string x_label, y_label;
  PictureFlags picture;
};

// The position of `name` in the header, or a data error listing the columns there are.
std::size_t column_index(const std::string& path, const std::vector<std::string>& header, const std::string& name,
                         const std::string& flag) {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end())
    throw CliError(exit_data, path + ": " + flag + " " + name + ": no such column (the header has: " + join(header) + ")");
  return static_cast<std::size_t>(it - header.begin());
}

// log10 of every value for a logarithmic axis; NaN (a gap) stays NaN, a value <= 0 is a data error.
std::vector<double> to_log(const std::string& path, const std::string& column, const std::string& flag,
                           std::vector<double> values) {
  for (std::size_t row = 0; row < values.size(); ++row) {
    if (std::isnan(values[row])) continue;
    if (values[row] <= 0)
      throw CliError(exit_data, path + ": column '" + column + "', row " + std::to_string(row + 1) + ": " +
                                    fixed(values[row], 6) + " cannot be drawn on a logarithmic axis (" + flag +
                                    "): expected values > 0");
    values[row] = std::log10(values[row]);
  }
  return values;
}

int run_lines(const LinesSettings& s) {
  check_picture_flags(s.picture);
  const std::string text = with_exit_code(exit_data, [&] { return io::read_whole_file(s.data); });
  const std::vector<std::string> lines = csv_lines(text);
  if (lines.empty() || trim(lines[0]).empty())
    throw CliError(exit_data, s.data + ": line 1: expected a header naming the columns, got an empty line");
  const std::vector<std::string> header = csv_header(lines[0]);
  if (header.size() < 2)
    throw CliError(exit_data, s.data + ": line 1: expected at least two columns (x and one series), got '" +
                                  trim(lines[0]) + "'");
  const std::size_t x_column = s.x.empty() ? 0 : column_index(s.data, header, s.x, "--x");
  std::vector<std::size_t> y_columns;
  for (const std::string& name : s.y) y_columns.push_back(column_index(s.data, header, name, "--y"));
  if (s.y.empty())
    for (std::size_t c = 0; c < header.size(); ++c)
      if (c != x_column) y_columns.push_back(c);
  const std::vector<std::vector<double>> columns = csv_columns(s.data, lines, header, x_column);
  if (columns[x_column].empty()) throw CliError(exit_data, s.data + ": no rows after the header");

  const std::vector<double> x =
      s.log_x ? to_log(s.data, header[x_column], "--log-x", columns[x_column]) : columns[x_column];
  std::vector<Series> series;
  Extent xs, ys;
  for (double v : x) xs.add(v);
  const bool few = x.size() <= 40;
  for (std::size_t c : y_columns) {
    std::vector<double> y = s.log_y ? to_log(s.data, header[c], "--log-y", columns[c]) : columns[c];
    for (double v : y) ys.add(v);
    series.emplace_back(header[c], x, std::move(y), series_color(static_cast<int>(series.size())),
                        few ? SeriesKind::line_and_markers : SeriesKind::line);
  }
  if (ys.empty()) throw CliError(exit_data, s.data + ": no value to draw in the series columns");

  Svg svg(s.picture.width, s.picture.height);
  const Rect all = frame(svg, s.picture, base_name(s.data));
  // Logarithmic data arrives as log10: the axes are laid out in those units.
  const Extent x_padded = xs.padded(0.03);
  const Axis x_axis = s.log_x ? log_axis(std::pow(10.0, x_padded.lo), std::pow(10.0, x_padded.hi),
                                         x_tick_target(all.width), false)
                              : nice_axis(x_padded.lo, x_padded.hi, x_tick_target(all.width), false);
  const Axis y_axis = s.log_y ? log_axis(std::pow(10.0, ys.lo), std::pow(10.0, ys.hi), y_tick_target(all.height))
                              : nice_axis(ys.padded(0.05).lo, ys.padded(0.05).hi, y_tick_target(all.height));
  const std::string y_label = !s.y_label.empty() ? s.y_label : series.size() == 1 ? series[0].name : "";
  const Chart chart(all, x_axis, y_axis, s.x_label.empty() ? header[x_column] : s.x_label, y_label);
  chart.draw_axes(svg);
  chart.draw_series(svg, series);
  if (series.size() > 1) {
    const std::vector<LegendEntry> entries = Chart::legend_for(series);
    chart.draw_legend(svg, entries, chart.emptiest_corner(series, entries));
  }
  return write_svg(s.picture, svg);
}

Runner add_lines_kind(CLI::App& cmd) {
  auto s = std::make_shared<LinesSettings>();
  cmd.add_option("--data", s->data,
                 "CSV file of numbers with a header row: one column for x, the others series (an empty field is a "
                 "gap)")
      ->required();
  cmd.add_option("--x", s->x, "The x column (default: the first)");
  cmd.add_option("--y", s->y, "The series to draw, comma-separated column names (default: every other column)")
      ->delimiter(',');
  cmd.add_flag("--log-x", s->log_x, "Logarithmic x axis (values must be > 0)");
  cmd.add_flag("--log-y", s->log_y, "Logarithmic y axis (values must be > 0)");
  cmd.add_option("--x-label", s->x_label, "Label of the x axis (default: the x column's name)");
  cmd.add_option("--y-label", s->y_label, "Label of the y axis (default: the series' name when there is one)");
  add_picture_flags(cmd, s->picture);
  return [s] { return run_lines(*s); };
}

// ---------------------------------------------------------------- a classifier on labelled data

struct ClassifierSettings {
  std::string model;
  DataFlags data;
  PictureFlags picture;
  int grid = boundary_grid;
};

struct Classified {
  Model model;
  Dataset data;
  std::vector<int> truth;      // true class index per example
  std::vector<int> predicted;  // predicted class index per example
  Prediction prediction;
  double accuracy = 0;
};

void add_classifier_flags(CLI::App& cmd, ClassifierSettings& s) {
  cmd.add_option("--model", s.model, "Model file written by 'deepnet train --out' (a classifier)")->required();
  add_data_flags(cmd, s.data, "Labelled data: a CSV file or a built-in set name");
  add_picture_flags(cmd, s.picture);
}

// Loads the model (exit 4) and the data (exit 3); `features`, when not 0, is
// the feature count the picture needs. `what` names the picture in messages.
Classified classify_loaded(Model model, Dataset data, const std::string& model_name, int features,
                           const std::string& what);

Classified classify(const ClassifierSettings& s, int features, const std::string& what) {
  return classify_loaded(with_exit_code(exit_model, [&] { return load_model(s.model); }), load_data(s.data, s.data.data),
                         s.model, features, what);
}

Classified classify_loaded(Model model, Dataset data, const std::string& model_name, int features,
                           const std::string& what) {
  Classified c{std::move(model), std::move(data), {}, {}, {}, 0};
  if (c.model.architecture.output == Output::linear)
    throw CliError(exit_usage, model_name + ": is a regression model (linear output); a " + what + " needs a classifier");
  if (features != 0 && c.data.features() != features)
    throw CliError(exit_data, c.data.source + ": has " + std::to_string(c.data.features()) + " features; a " + what +
                                  " needs exactly " + std::to_string(features));
  if (c.data.examples() == 0) throw CliError(exit_data, c.data.source + ": has no examples");
  with_exit_code(exit_data, [&] {
    if (c.data.features() != c.model.architecture.sizes.front())
      throw Error(c.data.source + ": has " + std::to_string(c.data.features()) + " features but the model " + model_name +
                  " expects n[0] = " + std::to_string(c.model.architecture.sizes.front()));
    ClassifiedExamples answers = classify_examples(c.model, c.data);
    c.truth = std::move(answers.truth);
    c.predicted = std::move(answers.predicted);
    c.prediction = std::move(answers.prediction);
    c.accuracy = answers.accuracy;
    return 0;
  });
  return c;
}

// ---------------------------------------------------------------- boundary

int draw_boundary_of(const Classified& c, const std::string& model_name, const std::string& data_name,
                     const PictureFlags& picture, int grid);

int run_boundary(const ClassifierSettings& s) {
  check_picture_flags(s.picture);
  if (s.grid < 10 || s.grid > 1000)
    throw CliError(exit_usage, "--grid: expected 10 to 1000 cells per side, got " + std::to_string(s.grid));
  return draw_boundary_of(classify(s, 2, "decision-boundary plot"), s.model, s.data.data, s.picture, s.grid);
}

int draw_boundary_of(const Classified& c, const std::string& model_name, const std::string& data_name,
                     const PictureFlags& picture, int grid) {
  Svg svg(picture.width, picture.height);
  const std::string title = picture.title.empty() ? boundary_title(model_name, data_name, c.accuracy) : picture.title;
  with_exit_code(exit_data, [&] {
    draw_boundary(svg, title, c.model, c.data.values(), c.truth, c.data.feature_names, grid);
    return 0;
  });
  return write_svg(picture, svg);
}

Runner add_boundary_kind(CLI::App& cmd) {
  auto s = std::make_shared<ClassifierSettings>();
  add_classifier_flags(cmd, *s);
  cmd.add_option("--grid", s->grid, "Cells per side of the grid the model is evaluated on (10 to 1000)")
      ->capture_default_str();
  return [s] { return run_boundary(*s); };
}

// ---------------------------------------------------------------- confusion

int draw_confusion_of(const Classified& c, const std::string& model_name, const std::string& data_name,
                      const PictureFlags& picture);

int run_confusion(const ClassifierSettings& s) {
  check_picture_flags(s.picture);
  return draw_confusion_of(classify(s, 0, "confusion matrix"), s.model, s.data.data, s.picture);
}

int draw_confusion_of(const Classified& c, const std::string& model_name, const std::string& data_name,
                      const PictureFlags& picture) {
  const std::vector<std::string>& classes = c.model.encoding.class_names;
  const ClassificationReport report = with_exit_code(
      exit_data, [&] { return classification_report(c.truth, c.predicted, c.prediction.outputs, classes); });
  const std::size_t K = classes.size();
  std::int64_t largest = 1;
  for (const auto& row : report.confusion)
    for (std::int64_t n : row) largest = std::max(largest, n);

  Svg svg(picture.width, picture.height);
  Rect outer = frame(svg, picture,
                     "confusion matrix: " + base_name(model_name) + " on " + base_name(data_name) + ", accuracy " +
                         fixed(report.accuracy, 4));
  const Axis x = category_axis(classes), y = category_axis(classes, true);
  // Square cells: shrink the panel to a square plot area, centred.
  for (int pass = 0; pass < 2; ++pass) {
    const Rect area = Chart(outer, x, y, "predicted class", "true class").area();
    const double side = std::min(area.width, area.height);
    outer.x += (area.width - side) / 2;
    outer.width -= area.width - side;
    outer.y += (area.height - side) / 2;
    outer.height -= area.height - side;
  }
  const Chart chart(outer, x, y, "predicted class", "true class");
  const double cell = std::min(chart.area().width, chart.area().height) / static_cast<double>(std::max<std::size_t>(K, 1));
  const double font = std::clamp(cell * 0.3, 7.0, 16.0);
  svg.begin_group(Style().css("cells"));
  for (std::size_t t = 0; t < K; ++t)
    for (std::size_t p = 0; p < K; ++p) {
      const std::int64_t n = report.confusion[t][p];
      const double share = static_cast<double>(n) / static_cast<double>(largest);
      const double x0 = chart.px(static_cast<double>(p)), x1 = chart.px(static_cast<double>(p) + 1);
      const double y0 = chart.py(static_cast<double>(t)), y1 = chart.py(static_cast<double>(t) + 1);
      svg.rect(x0, y0, x1 - x0, y1 - y0, Style().fill(heat_color(share)).stroke("#ffffff"));
      svg.text((x0 + x1) / 2, (y0 + y1) / 2, std::to_string(n),
               TextStyle(font, Anchor::middle).fill(share > 0.55 ? "#ffffff" : "#222222").centred().css("count"));
    }
  svg.end_group();
  chart.draw_axes(svg);
  return write_svg(picture, svg);
}

Runner add_confusion_kind(CLI::App& cmd) {
  auto s = std::make_shared<ClassifierSettings>();
  add_classifier_flags(cmd, *s);
  return [s] { return run_confusion(*s); };
}

// ---------------------------------------------------------------- search (drawn by cli/search/search_picture.cpp)

Runner add_search_kind(CLI::App& cmd) {
  struct SearchPlotSettings {
    std::string log, param;
    PictureFlags picture;
  };
  auto s = std::make_shared<SearchPlotSettings>();
  cmd.add_option("--log", s->log, "Search log written by 'deepnet search --log' (JSON lines)")->required();
  cmd.add_option("--param", s->param, "Draw the score against this parameter only (default: each that varies)");
  add_picture_flags(cmd, s->picture);
  return [s] {
    check_picture_flags(s->picture);
    const SearchLog log = read_search_log(s->log);
    Svg svg(s->picture.width, s->picture.height);
    draw_search_plot(svg, log.records, s->param, s->picture.title.empty() ? "search: " + base_name(s->log) : s->picture.title);
    return write_svg(s->picture, svg);
  };
}

}  // namespace

// ---------------------------------------------------------------- pictures of a training run (cli/plot_pieces.hpp)

namespace {
PictureFlags picture_at(const std::string& out, int width = picture_width, int height = picture_height) {
  PictureFlags f;
  f.out = out;
  f.width = width;
  f.height = height;
  return f;
}
}  // namespace

void plot_learning_curve(const std::string& history_csv, const std::string& source, const std::string& out) {
  draw_history(parse_history_csv(source, history_csv), source, picture_at(out));
}

void plot_training_diagnostics(const std::string& history_csv, const std::string& source, const std::string& out) {
  draw_diagnostics(parse_history_csv(source, history_csv), source, picture_at(out, 900, 960));
}

void plot_confusion(const Model& model, const Dataset& data, const std::string& model_name, const std::string& out) {
  draw_confusion_of(classify_loaded(model, data, model_name, 0, "confusion matrix"), model_name, data.source,
                    picture_at(out));
}

void plot_boundary(const Model& model, const Dataset& data, const std::string& model_name, const std::string& out) {
  draw_boundary_of(classify_loaded(model, data, model_name, 2, "decision-boundary plot"), model_name, data.source,
                   picture_at(out), boundary_grid);
}

Runner add_plot_command(CLI::App& app) {
  CLI::App* plot = app.add_subcommand(
      "plot", "Pictures as self-contained SVG or PNG: learning curves, training diagnostics, decision boundary, confusion matrix, "
              "search results, lines from a CSV file");
  plot->require_subcommand(1);
  struct Kind {
    const char* name;
    const char* help;
    Runner (*add)(CLI::App&);
  };
  static const Kind kinds[] = {
      {"history", "Learning curves from 'deepnet train --history': cost (training, validation) against epoch or "
                  "iteration, and validation accuracy on a second panel when present",
       add_history_kind},
      {"diagnostics", "Training health from 'deepnet train --diagnose --history': a panel per quantity (dead "
                      "ReLUs, saturated units, mean and std of A, ||dW||, ||W||, update/weight ratio), a line per "
                      "layer",
       add_diagnostics_kind},
      {"boundary", "Decision regions of a classifier on 2-feature data (the model on a grid), with the examples "
                   "on top coloured by their true class",
       add_boundary_kind},
      {"confusion", "Confusion matrix as a heat map with the counts in the cells (rows: true class, columns: "
                    "predicted)",
       add_confusion_kind},
      {"search", "Hyperparameter search from 'deepnet search --log': mean score (+- std) against each parameter "
                 "that varies, or --param NAME", add_search_kind},
      {"lines", "Lines from a CSV file of numbers: one column against the others, each a series, on linear or "
                "logarithmic axes (--log-x, --log-y)",
       add_lines_kind},
  };
  auto runners = std::make_shared<std::vector<std::pair<CLI::App*, Runner>>>();
  for (const Kind& kind : kinds) {
    CLI::App* cmd = plot->add_subcommand(kind.name, kind.help);
    runners->emplace_back(cmd, kind.add(*cmd));
  }
  return [runners] {
    for (const auto& [cmd, run] : *runners)
      if (cmd->parsed()) return run();
    throw CliError(exit_usage, "plot: no picture kind given (history, diagnostics, boundary, confusion, search, lines)");
  };
}

}  // namespace deepnet::cli
