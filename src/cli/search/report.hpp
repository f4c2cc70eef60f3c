#pragma once
// What a finished `deepnet search` reports: the trials ranked, the table, the
// best setting, and the same as one JSON object (--json).
#include <string>
#include <vector>

#include "cli/search/search_log.hpp"

namespace deepnet::cli::search {

// Better first: higher accuracy (lower mse), failed trials last, ties by trial number.
bool better(const SearchRecord& a, const SearchRecord& b);

// A score as the table shows it: accuracy to 4 decimals, mse to 6 digits.
std::string score_text(const std::string& metric, double v);

// The result of a search, for print_result.
struct SearchResult {
  std::string strategy;    // grid, random or halving
  std::string evaluation;  // "5-fold", "val-split 0.2" or "training"
  std::string metric;      // accuracy or mse
  std::string scoring;     // the title line's words for how settings were scored
  std::size_t trials = 0;  // trials run (or taken from the log)
  std::size_t parts = 0;   // folds (1: one split or the training data)
  std::vector<std::string> columns;        // the searched parameters
  std::vector<const SearchRecord*> rows;   // the table's rows, best first
  const SearchRecord* best = nullptr;
  std::string log, model, picture;  // the files written; empty when not
  long long examples = 0;           // the model's training examples
};

// stdout: the title line, the table, the failed trials, the best setting and the files written.
void print_result(const SearchResult& r);
// stdout: the result as one JSON object (--json).
void print_json_result(const SearchResult& r);

}  // namespace deepnet::cli::search
