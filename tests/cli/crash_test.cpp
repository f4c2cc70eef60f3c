// Crash safety tested with real kills (issue #7). Runs `deepnet train` (the
// test copy deepnet_cli_testhooks, the CLI with the test-only write hook)
// with a checkpoint every epoch and a model file, SIGKILLs it at random moments
// (many of them in the middle of an atomic write: the test-only hook
// DEEPNET_TEST_SLOW_WRITE_MS makes the writer pause half-way through the
// temporary file), and checks after every kill that
//  - the checkpoint and the model on disk are absent (never written yet) or
//    complete: they load (the loaders check the CRC-32C), the checkpoint's
//    epoch never goes back, and the model is byte for byte the finished one;
//  - the only other files are the writer's hidden temporaries
//    (".NAME.tmp-XXXXXX"), at most one per target (the next write of a target
//    removes the one a killed writer left);
// and at the end that resuming from the last checkpoint gives a model whose
// parameters are bit-identical to those of an uninterrupted run.
//
// DEEPNET_CRASH_TEST_SEED=N replays another sequence of kill moments.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "deepnet/error.hpp"
#include "deepnet/model_file.hpp"
#include "fixture.hpp"
#include "test_util.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using deepnet::test::describe_status;
using deepnet::test::read_bytes;

constexpr int total_epochs = 30;
constexpr int slow_write_ms = 10;  // DEEPNET_TEST_SLOW_WRITE_MS for the killed runs
constexpr int kills_wanted = 60;
const std::string checkpoint_name = "run.ckpt";
const std::string model_name = "model.dnn";

// breast-cancer (569 x 30), 9 mini-batches per epoch; adam and dropout, so a
// resume has optimizer moments and two RNG states to restore.
std::vector<std::string> train_args(bool resume) {
  std::vector<std::string> args = {DEEPNET_BINARY, "train", "--data", "breast-cancer", "--layers", "16,8",
                                   "--normalize", "standard", "--batch-size", "64", "--optimizer", "adam",
                                   "--dropout", "0.1", "--epochs", std::to_string(total_epochs), "--seed", "7",
                                   "--threads", "1", "--quiet", "--checkpoint", checkpoint_name,
                                   "--checkpoint-every", "1", "--out", model_name};
  if (resume) {
    args.push_back("--resume");
    args.push_back(checkpoint_name);
  }
  return args;
}

// The child's run: stdout to /dev/null, stderr appended to `log`, and the
// write hook set to slow_ms (or removed when it is 0).
pid_t spawn(const std::vector<std::string>& args, const fs::path& cwd, int slow_ms, const fs::path& log) {
  const std::string hook = "DEEPNET_TEST_SLOW_WRITE_MS";
  return deepnet::test::spawn(args, cwd, {slow_ms > 0 ? hook + "=" + std::to_string(slow_ms) : hook}, log);
}

// Polls (about every 0.2 ms) until the child exits, `stop` returns true or the
// deadline passes. True when the child exited; its wait status is in *status.
bool wait_until(pid_t pid, int* status, Clock::time_point deadline, const std::function<bool()>& stop = nullptr) {
  for (;;) {
    const pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) throw std::runtime_error("waitpid failed");
    if (stop && stop()) return false;
    const auto now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(deadline - now, std::chrono::microseconds(200)));
  }
}

// The atomic writer's temporaries of `target` in `dir`: ".TARGET.tmp-XXXXXX".
std::set<std::string> temporaries(const fs::path& dir, const std::string& target) {
  const std::string prefix = "." + target + ".tmp-";
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == prefix.size() + 6 && name.compare(0, prefix.size(), prefix) == 0) names.insert(name);
  }
  return names;
}

// Files in `dir` other than the checkpoint, the model and their temporaries.
std::vector<std::string> other_files(const fs::path& dir) {
  const auto ckpt_temps = temporaries(dir, checkpoint_name), model_temps = temporaries(dir, model_name);
  std::vector<std::string> others;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name != checkpoint_name && name != model_name && !ckpt_temps.count(name) && !model_temps.count(name))
      others.push_back(name);
  }
  return others;
}

bool new_name_in(const std::set<std::string>& after, const std::set<std::string>& before) {
  for (const std::string& name : after)
    if (!before.count(name)) return true;
  return false;
}

bool bit_identical(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

std::string tail(const fs::path& log) {
  const std::string text = read_bytes(log.string());
  return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

TEST(Crash, RandomKillsLeaveCompleteFilesAndResumingGivesTheUninterruptedModel) {
  const auto started = Clock::now();
  std::uint64_t seed = 20240607;
  if (const char* s = std::getenv("DEEPNET_CRASH_TEST_SEED")) seed = std::strtoull(s, nullptr, 10);
  SCOPED_TRACE("DEEPNET_CRASH_TEST_SEED=" + std::to_string(seed));

  deepnet::test::TempDir tmp("deepnet-crash");
  const fs::path reference_dir = tmp.path() / "reference", work = tmp.path() / "work";
  const fs::path log = tmp.path() / "stderr.log";
  fs::create_directories(reference_dir);
  fs::create_directories(work);
  const fs::path checkpoint = work / checkpoint_name, model = work / model_name;

  // The uninterrupted run, without the hook (so also: the hook changes no result).
  int status = 0;
  const pid_t reference_pid = spawn(train_args(false), reference_dir, 0, log);
  ASSERT_TRUE(wait_until(reference_pid, &status, Clock::now() + std::chrono::seconds(60)));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_status(status) << "\n" << tail(log);
  const std::string reference = read_bytes((reference_dir / model_name).string());
  const deepnet::Model reference_model = deepnet::load_model((reference_dir / model_name).string());

  std::mt19937_64 prng(seed);
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(prng); };
  int kills = 0, kills_in_checkpoint_write = 0, kills_in_model_write = 0, kills_before_first_checkpoint = 0;
  int finished_runs = 0, finished_in_checkpoint_only = 0, runs = 0;
  int epochs = 0;           // epochs in the checkpoint of the current chain of runs (0: none written yet)
  bool model_seen = false;  // once a model file is there, a kill may never remove it
  while (kills < kills_wanted || epochs == 0 || epochs == total_epochs) {
    ASSERT_LT(Clock::now() - started, std::chrono::seconds(150)) << "too slow: " << kills << " kills so far";
    ++runs;
    SCOPED_TRACE("run " + std::to_string(runs) + ", " + std::to_string(kills) + " kills before it");
    const auto checkpoint_temps_before = temporaries(work, checkpoint_name);
    const auto model_temps_before = temporaries(work, model_name);
    const pid_t pid = spawn(train_args(epochs > 0), work, slow_write_ms, log);
    const auto spawned = Clock::now();

    // The kill moment: half the runs after a plain random delay (start-up, data
    // loading, training, writes), the others in or just after the k-th write of
    // the checkpoint (k = 1..4) or the write of the model.
    bool exited = false;
    const double mode = uniform(0, 1);
    if (mode < 0.5) {
      const auto delay = std::chrono::microseconds(static_cast<long long>(uniform(0, 300e3)));
      exited = wait_until(pid, &status, spawned + delay);
    } else {
      const bool at_model = mode >= 0.85;
      const std::string& target = at_model ? model_name : checkpoint_name;
      const auto& before = at_model ? model_temps_before : checkpoint_temps_before;
      const std::size_t k = at_model ? 1 : static_cast<std::size_t>(uniform(1, 5));
      std::set<std::string> seen;
      exited = wait_until(pid, &status, spawned + std::chrono::seconds(30), [&] {
        for (const std::string& name : temporaries(work, target))
          if (!before.count(name)) seen.insert(name);
        return seen.size() >= k;
      });
      if (!exited) {
        const auto extra = std::chrono::microseconds(static_cast<long long>(uniform(0, 1.2e3 * slow_write_ms)));
        exited = wait_until(pid, &status, Clock::now() + extra);
      }
    }
    if (!exited) {
      ASSERT_EQ(::kill(pid, SIGKILL), 0);
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    }

    const bool killed = WIFSIGNALED(status);
    if (killed) {
      ASSERT_EQ(WTERMSIG(status), SIGKILL) << describe_status(status);
      ++kills;
      // A temporary that was not there before the run: the kill came between the
      // writer's mkstemp and its rename, i.e. during a write.
      if (new_name_in(temporaries(work, checkpoint_name), checkpoint_temps_before)) ++kills_in_checkpoint_write;
      if (new_name_in(temporaries(work, model_name), model_temps_before)) ++kills_in_model_write;
    } else {
      // Finished before its kill moment.
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_status(status) << "\n" << tail(log);
      ++finished_runs;
    }

    // What a user finds on disk now.
    const auto checkpoint_temps = temporaries(work, checkpoint_name), model_temps = temporaries(work, model_name);
    EXPECT_LE(checkpoint_temps.size(), 1u) << "temporaries pile up";
    EXPECT_LE(model_temps.size(), 1u) << "temporaries pile up";
    if (!killed) {
      EXPECT_TRUE(checkpoint_temps.empty() && model_temps.empty()) << "a finished run left temporaries";
    }
    EXPECT_EQ(other_files(work), std::vector<std::string>{});
    if (fs::exists(checkpoint)) {
      try {
        const deepnet::Checkpoint c = deepnet::load_checkpoint(checkpoint.string());
        EXPECT_GE(c.state.epochs_done, std::max(epochs, 1)) << "the checkpoint went back";
        EXPECT_LE(c.state.epochs_done, total_epochs);
        EXPECT_EQ(static_cast<int>(c.state.history.size()), c.state.epochs_done);
        EXPECT_EQ(c.model.parameters.size(), reference_model.parameters.size());
        epochs = c.state.epochs_done;
        if (epochs == total_epochs) {
          // The last epoch's checkpoint holds the finished model.
          EXPECT_EQ(deepnet::serialize_model(c.model), reference) << "the finished checkpoint's model differs";
          if (killed) ++finished_in_checkpoint_only;
        }
      } catch (const deepnet::Error& e) {
        ADD_FAILURE() << "the checkpoint does not load after a kill: " << e.what();
        epochs = 0;
        fs::remove(checkpoint);
      }
    } else {
      EXPECT_EQ(epochs, 0) << "the checkpoint disappeared";
      if (killed) ++kills_before_first_checkpoint;
    }
    if (fs::exists(model)) {
      model_seen = true;
      try {
        EXPECT_TRUE(bit_identical(deepnet::load_model(model.string()).parameters, reference_model.parameters));
      } catch (const deepnet::Error& e) {
        ADD_FAILURE() << "the model does not load after a kill: " << e.what();
      }
      EXPECT_EQ(read_bytes(model.string()), reference) << "the model file is not the finished model";
    } else {
      EXPECT_FALSE(model_seen) << "the model file disappeared";
      EXPECT_TRUE(killed) << "a finished run wrote no model";
    }
    if (testing::Test::HasFailure()) {
      std::printf("stopping after the first failing run; children's stderr:\n%s\n", tail(log).c_str());
      return;
    }
    // A chain of runs ends with a finished run, or with a kill after the last
    // epoch's checkpoint (a resume would refuse: "already holds 30 epochs").
    // The next chain starts afresh; the model file stays to be replaced.
    if (epochs == total_epochs) {
      fs::remove(checkpoint);
      epochs = 0;
    }
  }

  // Resume from the last checkpoint (0 < epochs < total) until done.
  const pid_t last = spawn(train_args(true), work, slow_write_ms, log);
  ASSERT_TRUE(wait_until(last, &status, Clock::now() + std::chrono::seconds(60)));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe_status(status) << "\n" << tail(log);
  const deepnet::Model resumed = deepnet::load_model(model.string());
  EXPECT_TRUE(bit_identical(resumed.parameters, reference_model.parameters))
      << "resuming after the kills does not give the uninterrupted run's parameters";
  EXPECT_EQ(read_bytes(model.string()), reference);
  EXPECT_EQ(deepnet::load_checkpoint(checkpoint.string()).state.epochs_done, total_epochs);
  EXPECT_TRUE(temporaries(work, checkpoint_name).empty());
  EXPECT_TRUE(temporaries(work, model_name).empty());
  EXPECT_EQ(other_files(work), std::vector<std::string>{});

  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("crash test (seed %llu): %d runs, %d kills (%d during a checkpoint write, %d during a model write, "
              "%d before the chain's first checkpoint, %d after the last epoch's checkpoint but before the model), "
              "%d runs finished, resumed from epoch %d of %d, %.1f s\n",
              static_cast<unsigned long long>(seed), runs, kills, kills_in_checkpoint_write, kills_in_model_write,
              kills_before_first_checkpoint, finished_in_checkpoint_only, finished_runs, epochs, total_epochs, seconds);
  EXPECT_GE(kills, 50);
  EXPECT_GE(kills_in_checkpoint_write, 10) << "too few kills landed during a write to test atomicity";
}

}  // namespace
