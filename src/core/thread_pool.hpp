#pragma once
// deepnet's worker threads: run f(0..count-1) on the caller and the workers.
//
// Blocks are claimed one at a time from a shared counter, so a worker that the
// OS has not scheduled yet (another process holds its core) never holds up the
// caller: the caller takes the remaining blocks itself and waits only for
// blocks already started. Which thread runs a block never changes what the
// block computes, so results do not depend on the thread count or timing.
//
// One job at a time: a second caller that finds the pool busy (another user
// thread, or a block that itself asks for parallel work) runs its blocks
// inline on its own thread. Idle workers spin briefly, then sleep.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "deepnet/gemm.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace deepnet::detail {

// The spin-wait hint (x86's pause; nothing elsewhere).
inline void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

class ThreadPool {
 public:
  ~ThreadPool();
  // Runs f(block) for block = 0..count-1 using up to `threads` threads
  // (the caller included).
  void run(int threads, std::int64_t count, FunctionRef<void(Eigen::Index)> f);
  // Runs f(0..threads-1) at once, each block on a thread of its own (block 0
  // on the caller), so blocks may wait for each other. Returns false, running
  // nothing, where that cannot be promised: threads < 2, a call from inside a
  // block, or the pool busy with another caller's job.
  bool run_together(int threads, FunctionRef<void(Eigen::Index)> f);
  // How many run_together calls ran (for tests).
  std::int64_t together_runs() const { return together_.load(std::memory_order_relaxed); }

 private:
  void resize(int workers);
  // busy_ held; caller_claims: the caller runs blocks after block 0 too.
  void run_locked(int threads, std::int64_t count, FunctionRef<void(Eigen::Index)> f, bool caller_claims);
  void worker_loop(std::uint64_t seen);
  // Claims and runs blocks of job `generation` until none is left; returns
  // how many it ran. A worker counts each in done_.
  std::int64_t claim_and_run(std::uint64_t generation, bool worker);

  std::mutex busy_;  // held by the caller while a job runs
  std::vector<std::thread> workers_;
  // What a worker reads to take part, on one cache line: high 32 bits of
  // state_: job generation; low 32 bits: next block to claim.
  alignas(64) std::atomic<std::uint64_t> state_{0};
  std::atomic<std::int64_t> count_{0};
  std::atomic<const FunctionRef<void(Eigen::Index)>*> job_{nullptr};
  // Blocks the workers finished, on a line of its own (the caller spins on it).
  alignas(64) std::atomic<std::int64_t> done_{0};
  void wake_sleepers();
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> together_{0};
};

ThreadPool& thread_pool();

}  // namespace deepnet::detail
