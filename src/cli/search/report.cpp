// What a finished `deepnet search` prints on stdout: the ranking of trials,
// the table sorted by score, and the JSON result of --json.
#include "cli/search/report.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/json_out.hpp"
#include "cli/search/space.hpp"
#include "cli/search/settings.hpp"

namespace deepnet::cli::search {

namespace {

void print_table(const std::vector<const SearchRecord*>& rows, const std::vector<std::string>& columns, bool rounds,
                 const std::string& metric) {
  std::vector<std::string> header{"rank", "trial"};
  for (const std::string& c : columns) header.push_back(c);
  if (rounds) header.push_back("round");
  header.push_back(metric);
  header.push_back("std");
  header.push_back("seconds");
  std::vector<std::vector<std::string>> cells;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const SearchRecord& r = *rows[k];
    std::vector<std::string> line{std::to_string(k + 1), std::to_string(r.trial)};
    for (const std::string& c : columns) {
      std::string v = r.setting.contains(c) ? shown(r.setting[c]) : "";
      line.push_back(v.empty() && c == "layers" ? "none" : v);
    }
    if (rounds) line.push_back(std::to_string(r.round));
    line.push_back(r.failed() ? "failed" : score_text(metric, r.mean));
    line.push_back(r.failed() ? "-" : score_text(metric, r.std));
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f", r.seconds);
    line.push_back(seconds);
    cells.push_back(std::move(line));
  }
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& line : cells) width[c] = std::max(width[c], line[c].size());
  }
  auto print_line = [&](const std::vector<std::string>& line) {
    std::string text;
    for (std::size_t c = 0; c < line.size(); ++c) {
      const bool last = c + 1 == line.size();
      text += line[c];
      if (!last) text += std::string(width[c] - line[c].size() + 2, ' ');
    }
    std::printf("%s\n", text.c_str());
  };
  print_line(header);
  for (const auto& line : cells) print_line(line);
}

}  // namespace

// Better first: higher accuracy (lower mse), failed trials last, ties by trial number.
bool better(const SearchRecord& a, const SearchRecord& b) {
  if (a.failed() != b.failed()) return !a.failed();
  if (!a.failed() && a.mean != b.mean) return a.metric == "mse" ? a.mean < b.mean : a.mean > b.mean;
  return a.trial < b.trial;
}

std::string score_text(const std::string& metric, double v) {
  char text[48];
  std::snprintf(text, sizeof text, metric == "accuracy" ? "%.4f" : "%.6g", v);
  return text;
}

void print_result(const SearchResult& r) {
  std::printf("search: %s, %zu trials, %s (mean and std over %zu %s)\n", r.strategy.c_str(), r.trials,
              r.scoring.c_str(), r.parts, r.parts == 1 ? "part" : "folds");
  print_table(r.rows, r.columns, r.strategy == "halving", r.metric);
  for (const SearchRecord* row : r.rows)
    if (row->failed()) std::printf("trial %d failed: %s\n", row->trial, row->error.c_str());
  const SearchRecord& best = *r.best;
  std::printf("best: trial %d: %s: %s %s (std %s)\n", best.trial, describe(best.setting).c_str(), r.metric.c_str(),
              score_text(r.metric, best.mean).c_str(), score_text(r.metric, best.std).c_str());
  if (!r.model.empty())
    std::printf("model saved to %s (the best setting retrained on all %lld examples)\n", r.model.c_str(), r.examples);
  if (!r.picture.empty()) std::printf("picture: %s\n", r.picture.c_str());
}

void print_json_result(const SearchResult& r) {
  const SearchRecord& best = *r.best;
  json j;
  j["strategy"] = r.strategy;
  j["evaluation"] = r.evaluation;
  j["metric"] = r.metric;
  j["trials"] = r.trials;
  json b;
  b["trial"] = best.trial;
  b["setting"] = best.setting;
  b["mean"] = best.mean;
  b["std"] = best.std;
  b["scores"] = best.scores;
  j["best"] = b;
  if (!r.log.empty()) j["log"] = r.log;
  if (!r.model.empty()) j["model"] = r.model;
  if (!r.picture.empty()) j["plot"] = r.picture;
  std::cout << dump_json(j) << '\n';
}

}  // namespace deepnet::cli::search
