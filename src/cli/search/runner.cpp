// `deepnet search`'s trials: TrialRunner trains each setting with the
// library's fit on every part (fold) and scores it, on up to --jobs threads,
// takes the trials the log already holds from it, appends each finished
// trial to the log and prints its progress line.
#include "cli/search/runner.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
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
  // The training data's own score is the final weights' (a pass, not the last
  // epoch's running figures); a held-out part needs none from fit.
  FitSettings settings = spec.fit;
  settings.training_score = same ? TrainingScore::pass : TrainingScore::none;
  const FitResult result = fit(train, nullptr, settings);
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
  // Under MPI rank r trains the tasks k with k % N == r and the trials are
  // finished after all results are gathered; alone each trial is finished as
  // soon as its last part is done.
  const int ranks = comm_ ? comm_->size() : 1, me = comm_ ? comm_->rank() : 0;
  const bool distributed = ranks > 1;
  std::vector<std::size_t> mine;
  for (std::size_t k = 0; k < tasks.size(); ++k)
    if (static_cast<int>(k % static_cast<std::size_t>(ranks)) == me) mine.push_back(k);
  std::vector<double> task_score(tasks.size(), std::nan("")), task_seconds(tasks.size(), 0.0);
  std::vector<std::string> task_error(tasks.size());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr failure;
  auto work = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= mine.size() || stop.load()) return;
      const std::size_t k = mine[i];
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
      if (distributed) {  // (each task's own slots: no lock needed)
        task_score[k] = score;
        task_error[k] = error;
        task_seconds[k] = seconds;
        continue;
      }
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
  const int workers = std::max(1, std::min<int>(jobs_, static_cast<int>(mine.size())));
  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  if (!distributed) return;

  // Every rank's results to every rank: per task [u64 k][f64 score][f64 seconds][u64 length][error].
  std::vector<unsigned char> bytes, all;
  auto put = [&bytes](const void* p, std::size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    bytes.insert(bytes.end(), c, c + n);
  };
  for (std::size_t k : mine) {
    const std::uint64_t index = k, length = task_error[k].size();
    put(&index, 8);
    put(&task_score[k], 8);
    put(&task_seconds[k], 8);
    put(&length, 8);
    put(task_error[k].data(), task_error[k].size());
  }
  std::vector<unsigned char> size_of_mine(8);
  const std::uint64_t n = bytes.size();
  std::memcpy(size_of_mine.data(), &n, 8);
  comm_->allgather(size_of_mine, std::vector<std::size_t>(static_cast<std::size_t>(ranks), 8), all);
  std::vector<std::size_t> counts(static_cast<std::size_t>(ranks));
  for (std::size_t r = 0; r < counts.size(); ++r) {
    std::uint64_t c = 0;
    std::memcpy(&c, all.data() + 8 * r, 8);
    counts[r] = c;
  }
  comm_->allgather(bytes, counts, all);
  for (std::size_t at = 0; at + 32 <= all.size();) {
    std::uint64_t k = 0, length = 0;
    std::memcpy(&k, all.data() + at, 8);
    std::memcpy(&length, all.data() + at + 24, 8);
    if (k >= tasks.size() || at + 32 + length > all.size()) throw Error("search: the ranks' results do not fit (internal error)");
    std::memcpy(&task_score[k], all.data() + at + 8, 8);
    std::memcpy(&task_seconds[k], all.data() + at + 16, 8);
    task_error[k].assign(reinterpret_cast<const char*>(all.data()) + at + 32, length);
    at += 32 + length;
  }
  // The trials in the batch's order, on every rank alike.
  lock.lock();
  for (std::size_t k = 0; k < tasks.size(); ++k) {
    Pending& p = pending[tasks[k].trial];
    p.scores[tasks[k].part] = task_score[k];
    p.errors[tasks[k].part] = task_error[k];
    p.seconds[tasks[k].part] = task_seconds[k];
    if (--p.remaining == 0) finish(*tasks[k].trial, p.scores, p.errors, p.seconds);
  }
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
  if (log_) {
    try {
      log_->append(dump_json(r.to_json()));
    } catch (const std::exception& e) {
      // Under MPI the other ranks are already on their way to the next round's
      // exchange: a log that cannot be written ends the whole job at once.
      if (!comm_ || comm_->size() == 1) throw;
      std::fprintf(stderr, "deepnet: error: %s\n", e.what());
      std::fflush(stderr);
      end_job_after_error(exit_model, false, e.what());
      throw;
    }
  }
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
