#pragma once
// `deepnet search`'s trials: each setting trained with the library's fit on
// each part (fold) and scored, on up to --jobs threads, each finished trial
// appended to the log and reported on stderr.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cli/search/search_log.hpp"
#include "cli/search/settings.hpp"
#include "deepnet/data.hpp"
#include "deepnet/distributed.hpp"

namespace deepnet::cli::search {

// One way of scoring: train on `train`, score on `held_out`.
struct Part {
  std::shared_ptr<const Dataset> train, held_out;  // the same object when scoring on the training data
};

struct Trial {
  Setting setting;
  TrialSpec spec;
  SearchRecord record;
  bool from_log = false;
};

class TrialRunner {
 public:
  // jobs: threads; quiet: no progress lines; context and metric go into each
  // record; logged: the records of the log (--resume) by key; log: where
  // finished trials are appended (none without --log).
  // comm: the ranks of an MPI job (null alone): each rank trains every N-th
  // task (trial and part) of a batch, then all gather the results and finish
  // the trials in the batch's order, so every rank holds every record; only
  // the rank given a log writes it.
  TrialRunner(int jobs, bool quiet, const std::vector<Part>& parts, json context, std::string metric,
              std::map<std::string, SearchRecord> logged, LogWriter* log, Communicator* comm = nullptr)
      : jobs_(jobs), quiet_(quiet), parts_(parts), context_(std::move(context)), metric_(std::move(metric)),
        logged_(std::move(logged)), log_(log), comm_(comm) {}

  // Runs the trials (those the log already holds are taken from it), on up to --jobs threads.
  void run(std::vector<Trial*>& batch);

  int from_log() const { return from_log_; }
  // For an interrupted search: waits until no log line is being written, keeps
  // every thread from writing another for good (the process is ending), and
  // returns the trials finished so far, those taken from the log included.
  int stop_logging();
  // The number of trials of the search, for the progress lines ([3/12]).
  void set_total(int total) { total_ = total; }

 private:
  void finish(Trial& t, const std::vector<double>& scores, const std::vector<std::string>& errors,
              const std::vector<double>& seconds);
  void progress(const Trial& t);

  int jobs_;
  bool quiet_;
  const std::vector<Part>& parts_;
  json context_;
  std::string metric_;
  std::map<std::string, SearchRecord> logged_;
  LogWriter* log_;
  Communicator* comm_;
  std::mutex mutex_;
  int from_log_ = 0;
  int done_ = 0;
  int total_ = 0;
};

}  // namespace deepnet::cli::search
