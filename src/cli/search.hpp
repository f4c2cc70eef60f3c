#pragma once
// `deepnet search` (docs/search.md): the search log's records, read back for
// --resume and for `deepnet plot search`, and the search picture both draw.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plot/svg.hpp"

namespace deepnet::cli {

// One finished trial: one JSON line of the search log (--log FILE.jsonl).
struct SearchRecord {
  int trial = 0;                   // position in the search (0-based)
  int round = 0;                   // successive halving's round; 0 otherwise
  nlohmann::ordered_json setting;  // parameter name -> value (number or text), in the space's order
  nlohmann::ordered_json context;  // what else decides the result: data, evaluation, seed, rng, ...
  std::string metric = "accuracy";  // accuracy (higher is better) or mse (lower is better)
  std::vector<double> scores;       // one per fold
  double mean = 0, std = 0;         // NaN when the trial failed
  double seconds = 0;               // training and scoring, all folds
  std::string error;                // why the trial failed; empty when it did not

  bool failed() const { return !error.empty(); }
  // Identifies the trial's result: the setting and the context, canonical (sorted keys).
  std::string key() const;
  nlohmann::ordered_json to_json() const;
  // Throws std::runtime_error naming the missing or malformed field.
  static SearchRecord from_json(const nlohmann::json& line);
};

// A search log read back. Every complete line must be a record (CliError with
// exit 3 naming the line otherwise); a last line without its newline is what
// a crash left half-written: it is skipped, and complete_bytes tells where the
// complete lines end. A missing file is a data error unless missing_ok.
struct SearchLog {
  std::vector<SearchRecord> records;
  std::size_t complete_bytes = 0;
  bool torn = false;  // a half-written last line was skipped
};
SearchLog read_search_log(const std::string& path, bool missing_ok = false);

// Draws the search picture on svg: the mean score (error bars: +- the standard
// deviation over folds) against each parameter that varies, one panel each,
// or against `param` alone. A layers sweep of one hidden layer is drawn
// against the number of hidden units. Failed trials are not drawn. Throws
// CliError (usage) for a `param` the records do not have, (data) for no records.
void draw_search_plot(plot::Svg& svg, const std::vector<SearchRecord>& records, const std::string& param,
                      const std::string& title);
// The picture size search --plot uses for n panels.
// The decision-boundary picture of `deepnet plot boundary` (plot.cpp), for search --plot.
int plot_boundary(const std::string& model, const DataFlags& data, const std::string& out, const std::string& title);

std::pair<int, int> search_plot_size(const std::vector<SearchRecord>& records, const std::string& param);

}  // namespace deepnet::cli
