// `deepnet search`'s trials: TrialRunner trains each setting with the
// library's fit on every part (fold) and scores it, on up to --jobs threads,
// takes the trials the log already holds from it, appends each finished
// trial to the log and prints its progress line.
#include "cli/search/runner.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <thread>

#include "cli/cli.hpp"
#include "cli/json_out.hpp"
#include "deepnet/fit.hpp"
#include "deepnet/search.hpp"

namespace deepnet::cli::search {

namespace {

// Trains a setting with the library's fit and scores it on the held-out part
// (or, when it is the training part itself, on the training data).
double train_and_score(const TrialSpec& spec, const Dataset& train, const Dataset& held_out, bool same) {
  const FitResult result = fit(train, nullptr, spec.fit);
  const PartScore score = same ? result.scores.front() : score_model(result.model, held_out, "held-out");
  return score.name.empty() || std::isnan(score.accuracy) ? score.mse : score.accuracy;
}

}  // namespace

int TrialRunner::stop_logging() {
  mutex_.lock();  // never unlocked: the caller ends the process
  return done_;
}

void TrialRunner::run(std::vector<Trial*>& batch) {
  std::unique_lock lock(mutex_);  // done_ and stderr, as the workers' finish() has them
  for (Trial* t : batch) {
    t->record.setting = t->setting;
    t->record.context = context_;
    t->record.metric = metric_;
    const auto found = logged_.find(t->record.key());
    if (found != logged_.end()) {
      const int trial = t->record.trial, round = t->record.round;
      t->record = found->second;
      t->record.trial = trial;
      t->record.round = round;
      t->from_log = true;
      ++from_log_;
      progress(*t);
    }
  }
  lock.unlock();
  struct Task {
    Trial* trial;
    std::size_t part;
  };
  std::vector<Task> tasks;
  for (Trial* t : batch)
    if (!t->from_log)
      for (std::size_t p = 0; p < parts_.size(); ++p) tasks.push_back({t, p});
  if (tasks.empty()) return;

  struct Pending {
    std::vector<double> scores;
    std::vector<std::string> errors;
    std::vector<double> seconds;
    int remaining = 0;
  };
  std::map<Trial*, Pending> pending;
  for (const Task& task : tasks) {
    Pending& p = pending[task.trial];
    p.scores.assign(parts_.size(), std::nan(""));
    p.errors.assign(parts_.size(), "");
    p.seconds.assign(parts_.size(), 0.0);
    p.remaining = static_cast<int>(parts_.size());
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr failure;
  auto work = [&] {
    for (;;) {
      const std::size_t k = next.fetch_add(1);
      if (k >= tasks.size() || stop.load()) return;
      const Task& task = tasks[k];
      const Part& part = parts_[task.part];
      double score = std::nan("");
      std::string error;
      const auto start = std::chrono::steady_clock::now();
      try {
        score = train_and_score(task.trial->spec, *part.train, *part.held_out, part.train == part.held_out);
        if (!std::isfinite(score)) error = "the score is not a finite number";
      } catch (const std::exception& e) {
        error = e.what();
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const std::lock_guard lock(mutex_);
      Pending& p = pending[task.trial];
      p.scores[task.part] = score;
      p.errors[task.part] = error;
      p.seconds[task.part] = seconds;
      if (--p.remaining > 0) continue;
      try {
        finish(*task.trial, p.scores, p.errors, p.seconds);
      } catch (...) {
        if (!failure) failure = std::current_exception();
        stop.store(true);
      }
    }
  };
  const int workers = std::max(1, std::min<int>(jobs_, static_cast<int>(tasks.size())));
  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

void TrialRunner::finish(Trial& t, const std::vector<double>& scores, const std::vector<std::string>& errors,
                         const std::vector<double>& seconds) {
  SearchRecord& r = t.record;
  r.seconds = 0;
  for (double x : seconds) r.seconds += x;
  r.seconds = std::round(r.seconds * 1000) / 1000;
  r.error.clear();
  for (std::size_t p = 0; p < errors.size() && r.error.empty(); ++p)
    if (!errors[p].empty()) r.error = (parts_.size() > 1 ? "fold " + std::to_string(p + 1) + ": " : "") + errors[p];
  if (r.failed()) {
    r.scores.clear();
    r.mean = r.std = std::nan("");
  } else {
    r.scores = scores;
    const MeanStd ms = mean_std(scores);
    r.mean = ms.mean;
    r.std = ms.std;
  }
  if (log_) log_->append(dump_json(r.to_json()));
  progress(t);
}

void TrialRunner::progress(const Trial& t) {
  ++done_;
  if (quiet_) return;
  const SearchRecord& r = t.record;
  std::string line = "[" + std::to_string(done_) + (total_ > 0 ? "/" + std::to_string(total_) : "") + "] trial " +
                     std::to_string(r.trial) + ": " + describe(r.setting) + ": ";
  char text[96];
  if (r.failed()) {
    line += "failed: " + r.error;
  } else {
    std::snprintf(text, sizeof text, metric_ == "accuracy" ? "%s %.4f +- %.4f" : "%s %.6g +- %.3g", metric_.c_str(),
                  r.mean, r.std);
    line += text;
  }
  if (t.from_log) {
    line += " (from the log)";
  } else {
    std::snprintf(text, sizeof text, " (%.2f s)", r.seconds);
    line += text;
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace deepnet::cli::search
