#pragma once
// The search log of `deepnet search --log` (docs/search.md): one JSON line per
// finished trial, written as each finishes, read back for --resume and for
// `deepnet plot search`.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

// Appends the lines of a search log.
class LogWriter {
 public:
  // Starts a new log (truncate) or appends to one whose complete lines end at
  // `keep` bytes. Throws CliError (exit 1) naming the file.
  LogWriter(const std::string& path, bool append, std::size_t keep);
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // One line, written with one write() where possible and synced, so a crash
  // leaves whole lines and at most one torn last line.
  void append(const std::string& line);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace deepnet::cli
