// deepnet's worker threads (see thread_pool.hpp).
#include "core/thread_pool.hpp"

#include <algorithm>
#include <chrono>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace deepnet::detail {

namespace {

thread_local bool inside_job = false;

constexpr std::uint64_t generation_of(std::uint64_t state) { return state >> 32; }
constexpr std::int64_t block_of(std::uint64_t state) {
  return static_cast<std::int64_t>(state & 0xffffffffu);
}

inline void pause() { cpu_pause(); }

// How long an idle worker keeps spinning before it sleeps: a training step
// asks for parallel work every few tens of microseconds.
constexpr auto spin_time = std::chrono::microseconds(300);
// For the first part of it, the spin has no pause instruction: a pause costs
// a worker about 0.3 us of reaction time on the 2-core VM of the benchmarks
// (a spinning hand-off with work on both sides: 0.13 us of overhead without
// pauses, 0.44 us with them), which a small net's step (a few us) notices.
constexpr auto hot_spin_time = std::chrono::microseconds(50);

}  // namespace

ThreadPool::~ThreadPool() { resize(0); }

void ThreadPool::resize(int workers) {
  if (static_cast<int>(workers_.size()) == workers) return;
  stop_.store(true);
  state_.fetch_add(std::uint64_t(1) << 32);  // wake everyone
  wake_sleepers();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  stop_.store(false);
  // A worker starts from the generation of now: it may begin running after the
  // next job (or the next resize) is already announced, and must not miss it.
  const std::uint64_t now = generation_of(state_.load());
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this, now] { worker_loop(now); });
}

void ThreadPool::wake_sleepers() {
  { const std::lock_guard lock(sleep_mutex_); }  // a worker between its check and its wait holds it
  wake_.notify_all();
}

std::int64_t ThreadPool::claim_and_run(std::uint64_t generation, bool worker) {
  std::int64_t ran = 0;
  for (;;) {
    std::uint64_t state = state_.load(std::memory_order_acquire);
    if (generation_of(state) != generation) return ran;
    const std::int64_t block = block_of(state);
    // Read before the claim; valid if the claim succeeds (the job cannot
    // change while one of its blocks is unclaimed).
    const std::int64_t count = count_.load(std::memory_order_acquire);
    const FunctionRef<void(Eigen::Index)>* job = job_.load(std::memory_order_acquire);
    if (block >= count) return ran;
    if (!state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel)) continue;
    (*job)(block);
    ++ran;
    if (worker) done_.fetch_add(1, std::memory_order_release);
  }
}

void ThreadPool::worker_loop(std::uint64_t seen) {
  inside_job = true;  // parallel work asked for inside a block runs inline
#ifdef _OPENMP
  omp_set_num_threads(1);  // an OpenMP backend called here stays on this thread
#endif
  for (;;) {
    // Wait for a new job: spin a while, then sleep on the state word.
    auto spin_start = std::chrono::steady_clock::now();
    bool hot = true;
    for (unsigned spins = 0;; ++spins) {
      const std::uint64_t state = state_.load(std::memory_order_acquire);
      if (generation_of(state) != seen) {
        seen = generation_of(state);  // before looking at stop_, which is set before the bump
        break;
      }
      if ((spins & 255) == 255) {
        const auto spun = std::chrono::steady_clock::now() - spin_start;
        hot = spun < hot_spin_time;
        if (spun > spin_time) {
          std::unique_lock lock(sleep_mutex_);
          sleepers_.fetch_add(1);
          wake_.wait(lock, [&] { return generation_of(state_.load()) != seen; });
          sleepers_.fetch_sub(1);
          spin_start = std::chrono::steady_clock::now();
          hot = true;
          continue;
        }
      }
      if (!hot) pause();
    }
    if (stop_.load()) return;
    claim_and_run(seen, true);
  }
}

void ThreadPool::run(int threads, std::int64_t count, FunctionRef<void(Eigen::Index)> f) {
  if (threads <= 1 || count <= 1 || inside_job || !busy_.try_lock()) {
    for (std::int64_t block = 0; block < count; ++block) f(block);
    return;
  }
  run_locked(threads, count, f, true);
}

bool ThreadPool::run_together(int threads, FunctionRef<void(Eigen::Index)> f) {
  if (threads <= 1 || inside_job || !busy_.try_lock()) return false;
  // The caller runs block 0 only and leaves blocks 1.. to the workers. The
  // pool keeps the workers it has (a team is often smaller than the thread
  // count, and the next job asks for all of them again): idle ones find no
  // block to claim.
  together_.fetch_add(1, std::memory_order_relaxed);
  run_locked(std::max(threads, static_cast<int>(workers_.size()) + 1), threads, f, false);
  return true;
}

void ThreadPool::run_locked(int threads, std::int64_t count, FunctionRef<void(Eigen::Index)> f,
                            bool caller_claims) {
  std::lock_guard lock(busy_, std::adopt_lock);
  resize(threads - 1);
  inside_job = true;
  count_.store(count, std::memory_order_relaxed);
  job_.store(&f, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  const std::uint64_t generation = generation_of(state_.load()) + 1;
  // Announced with block 0 already claimed by the caller, which runs it at
  // once: the caller writes the state word once per job, so a worker's claim
  // never waits for the line to come back from the caller's own claim.
  state_.store(generation << 32 | 1);  // seq_cst: pairs with sleepers_ in worker_loop
  if (sleepers_.load() > 0) wake_sleepers();
  f(0);
  const std::int64_t mine = 1 + (caller_claims ? claim_and_run(generation, false) : 0);
  // Every block is claimed; wait for those still running on workers (done_
  // counts the workers' blocks). (No pause in the first 4096 spins: see hot_spin_time.)
  for (unsigned spins = 0; done_.load(std::memory_order_acquire) < count - mine; ++spins) {
    if ((spins & 1023) == 1023 && spins > 4096) std::this_thread::yield();
    else if (spins > 4096) pause();
  }
  inside_job = false;
}

ThreadPool& thread_pool() {
  static ThreadPool pool;
  return pool;
}

}  // namespace deepnet::detail
