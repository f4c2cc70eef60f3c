// No heap allocation inside the training loop: every malloc of the process
// (operator new, Eigen, oneDNN, ...) is counted by interposing malloc and its
// relatives, and training with 4x more steps per epoch must not allocate more.
// oneDNN's sgemm allocates (and frees) its packing buffers inside every call;
// those allocations, recognised by their caller's address inside libdnnl, are
// counted apart and reported (docs/performance.md), everything else must be 0.
// A separate binary, because it replaces the process's allocator entry points;
// not built under the sanitizers, which replace them themselves.
#include <gtest/gtest.h>

#include <link.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>

#include "deepnet/gemm.hpp"
#include "deepnet/init.hpp"
#include "deepnet/model.hpp"
#include "deepnet/network.hpp"
#include "deepnet/predictor.hpp"
#include "deepnet/rng.hpp"
#include "deepnet/diagnostics.hpp"
#include "deepnet/fit.hpp"
#include "deepnet/train.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
std::atomic<long long> live_bytes{0}, peak_live_bytes{0};  // bytes allocated and not yet freed (usable sizes)
std::atomic<long long> allocations{0};       // all but oneDNN's own
std::atomic<long long> dnnl_allocations{0};  // called from inside libdnnl
std::uintptr_t dnnl_begin = 0, dnnl_end = 0;  // libdnnl's loaded code

inline void tally(void* caller) {
  const auto at = reinterpret_cast<std::uintptr_t>(caller);
  if (at >= dnnl_begin && at < dnnl_end) dnnl_allocations.fetch_add(1, std::memory_order_relaxed);
  else allocations.fetch_add(1, std::memory_order_relaxed);
}

void* counted(void* p) {
  if (p) {
    const long long now = live_bytes.fetch_add(static_cast<long long>(malloc_usable_size(p))) +
                          static_cast<long long>(malloc_usable_size(p));
    long long peak = peak_live_bytes.load();
    while (now > peak && !peak_live_bytes.compare_exchange_weak(peak, now)) {
    }
  }
  return p;
}
void uncounted(void* p) {
  if (p) live_bytes.fetch_sub(static_cast<long long>(malloc_usable_size(p)));
}

int find_dnnl(dl_phdr_info* info, std::size_t, void*) {
  if (!info->dlpi_name || !std::strstr(info->dlpi_name, "libdnnl")) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    const std::uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
    if (!dnnl_begin || begin < dnnl_begin) dnnl_begin = begin;
    dnnl_end = std::max<std::uintptr_t>(dnnl_end, begin + ph.p_memsz);
  }
  return 0;
}
// libdnnl is loaded on the first float product (src/core/onednn.hpp): asking
// for the float backend's name loads it, then its code is looked up.
void locate_dnnl() {
  (void)deepnet::gemm_backend(true);
  dl_iterate_phdr(find_dnnl, nullptr);
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) {
  tally(__builtin_return_address(0));
  return counted(__libc_malloc(n));
}
void* calloc(std::size_t items, std::size_t n) {
  tally(__builtin_return_address(0));
  return counted(__libc_calloc(items, n));
}
void* realloc(void* p, std::size_t n) {
  tally(__builtin_return_address(0));
  const long long before = p ? static_cast<long long>(malloc_usable_size(p)) : 0;
  void* q = __libc_realloc(p, n);
  if (q || n == 0) live_bytes.fetch_sub(before);  // p was freed (or moved)
  else return q;                                  // failed: p is untouched
  return counted(q);
}
void free(void* p) {
  uncounted(p);
  __libc_free(p);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  tally(__builtin_return_address(0));
  void* p = counted(__libc_memalign(alignment, n));
  if (!p) return 12;  // ENOMEM
  *out = p;
  return 0;
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
  tally(__builtin_return_address(0));
  return counted(__libc_memalign(alignment, n));
}
void* memalign(std::size_t alignment, std::size_t n) {
  tally(__builtin_return_address(0));
  return counted(__libc_memalign(alignment, n));
}
}

namespace deepnet {
namespace {

struct TrainingRun {
  long long allocations = 0, dnnl_allocations = 0;
  long long steps = 0;
};

// Allocations made by one whole train_minibatch call. small: a 32-16-8-4 net
// (the small-net path) instead of 32-300-64-4 (the general path).
template <typename T = float>
TrainingRun count_training(long long batch_size, OptimizerKind kind, int threads, double dropout, bool small = false,
                           TrainingHealth* health = nullptr) {
  set_threads(threads);
  const Eigen::Index m = 800;
  Rng data_rng(5);
  Matrix<T> X(32, m), Y = Matrix<T>::Zero(4, m);
  for (Eigen::Index j = 0; j < m; ++j) {
    for (Eigen::Index i = 0; i < X.rows(); ++i) X(i, j) = static_cast<T>(data_rng.normal());
    Y(j % 4, j) = 1;
  }
  Network<T> net(Architecture{small ? std::vector<int>{32, 16, 8, 4} : std::vector<int>{32, 300, 64, 4},
                              {Activation::relu}, Output::softmax});
  EXPECT_EQ(net.small_net_path(), small);
  Rng rng(1);
  initialize(net, InitScheme::he, rng);
  MiniBatchOptions options;
  options.epochs = 3;
  options.batch_size = batch_size;
  options.optimizer.kind = kind;
  if (dropout > 0) options.dropout = {dropout};
  options.health = health;
  const long long before = allocations.load(), dnnl_before = dnnl_allocations.load();
  train_minibatch(net, X, Y, ValidationSet{}, options);
  TrainingRun run;
  run.allocations = allocations.load() - before;
  run.dnnl_allocations = dnnl_allocations.load() - dnnl_before;
  run.steps = options.epochs * (m / batch_size);
  return run;
}

TEST(NoAllocation, CountingWorks) {
  const long long before = allocations.load();
  static void* volatile sink;
  sink = std::malloc(16);
  std::free(sink);
  int* volatile q = new int(3);
  delete q;
  EXPECT_EQ(allocations.load() - before, 2) << "the interposed malloc does not see allocations";
  locate_dnnl();
#ifdef DEEPNET_WITH_DNNL
  EXPECT_LT(dnnl_begin, dnnl_end) << "libdnnl's code was not found among the loaded objects";
#endif
}

class NoAllocationInTrainingLoop
    : public ::testing::TestWithParam<std::tuple<OptimizerKind, int, double, bool>> {};

TEST_P(NoAllocationInTrainingLoop, FourTimesTheStepsAllocateNoMore) {
  const auto [kind, threads, dropout, small] = GetParam();
  locate_dnnl();
  count_training(200, kind, threads, dropout, small);  // first use: thread pool, backend set-up
  const TrainingRun few = count_training(200, kind, threads, dropout, small);
  const TrainingRun many = count_training(50, kind, threads, dropout, small);
  ASSERT_EQ(many.steps, 4 * few.steps);
  EXPECT_GT(few.allocations, 0) << "set-up allocates (workspaces, optimizer state)";
  EXPECT_EQ(many.allocations, few.allocations)
      << few.steps << " steps made " << few.allocations << " allocations, " << many.steps
      << " steps made " << many.allocations << ": something allocates inside the loop";
  // Reported, not asserted: oneDNN's sgemm allocates its packing buffers per call.
  const double per_step = double(many.dnnl_allocations - few.dnnl_allocations) / double(many.steps - few.steps);
  std::cout << "[ oneDNN   ] " << per_step << " allocations per training step inside oneDNN's sgemm\n";
  RecordProperty("dnnl_allocations_per_step", std::to_string(per_step));
}

// Makes each of `threads` threads (the caller and the pool's workers) run a
// double product, so that each holds its packing space before counting starts.
// Blocks are claimed dynamically: in a warm-up training run a worker the OS did
// not schedule in time may claim no block at all and then allocate its packing
// space in the measured run. Here block 0 (the caller's) waits until every
// block has started, so the other blocks go to the workers.
void every_thread_runs_a_double_product(int threads) {
  set_threads(threads);
  std::atomic<int> started{0};
  parallel_blocks(threads, [&](Eigen::Index) {
    const double a[4] = {1, 2, 3, 4};
    double c[4];
    gemm_serial<double>(false, false, 2, 2, 2, 1.0, a, 2, a, 2, 0.0, c, 2);
    started.fetch_add(1);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (started.load() < threads && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  });
  ASSERT_EQ(started.load(), threads) << "the pool's workers did not each take a block within 60 s";
}

// Double products run deepnet's own kernels (AVX-512 or AVX2 where the CPU
// has them), whose packing space is allocated once per thread: none per step.
TEST(NoAllocation, DoubleTrainingAllocatesNothingPerStep) {
  locate_dnnl();
  std::cout << "[ double   ] products: " << gemm_backend(false) << "\n";
  for (int threads : {1, 2}) {
    every_thread_runs_a_double_product(threads);
    count_training<double>(200, OptimizerKind::adam, threads, 0.0);  // first use
    const TrainingRun few = count_training<double>(200, OptimizerKind::adam, threads, 0.0);
    const TrainingRun many = count_training<double>(50, OptimizerKind::adam, threads, 0.0);
    ASSERT_EQ(many.steps, 4 * few.steps);
    EXPECT_EQ(many.allocations + many.dnnl_allocations, few.allocations + few.dnnl_allocations)
        << threads << " threads: " << few.steps << " steps made " << few.allocations << " allocations, "
        << many.steps << " steps made " << many.allocations;
  }
}

// Training-health diagnostics gather into buffers allocated before the loop:
// on both paths (the small-net path lays its caches out for them), four times
// the steps allocate no more.
TEST(NoAllocation, DiagnosticsAllocateNothingPerStep) {
  locate_dnnl();
  for (bool small : {false, true}) {
    TrainingHealth health;
    health.gather = true;
    count_training(200, OptimizerKind::adam, 1, 0.0, small, &health);  // first use
    const TrainingRun few = count_training(200, OptimizerKind::adam, 1, 0.0, small, &health);
    const std::size_t warnings = health.warnings.size();
    const TrainingRun many = count_training(50, OptimizerKind::adam, 1, 0.0, small, &health);
    ASSERT_EQ(many.steps, 4 * few.steps);
    EXPECT_EQ(health.records(), 3u);
    EXPECT_EQ(health.warnings.size(), warnings) << "a rule fired in one run only: its message allocates";
    EXPECT_EQ(many.allocations, few.allocations)
        << (small ? "small-net path: " : "general path: ") << few.steps << " steps made " << few.allocations
        << " allocations, " << many.steps << " steps made " << many.allocations;
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, NoAllocationInTrainingLoop,
    ::testing::Values(std::make_tuple(OptimizerKind::sgd, 1, 0.0, false),
                      std::make_tuple(OptimizerKind::adam, 1, 0.0, false),
                      std::make_tuple(OptimizerKind::adam, 2, 0.0, false),
                      std::make_tuple(OptimizerKind::momentum, 2, 0.3, false),
                      std::make_tuple(OptimizerKind::sgd, 1, 0.0, true),
                      std::make_tuple(OptimizerKind::adam, 2, 0.3, true)));

// The course's full-batch loop on a small net (the small-net path), the cost
// taken every iteration, or every 25th (the steps between in Network::descend,
// with a team of threads and a progress callback): four times the iterations
// allocate no more.
long long count_gradient_descent(int iterations, int record_every = 1, int threads = 1) {
  set_threads(threads);
  const Eigen::Index m = 400;
  Rng data_rng(9);
  Matrix<double> X(2, m), Y(1, m);
  for (Eigen::Index j = 0; j < m; ++j) {
    X(0, j) = data_rng.normal();
    X(1, j) = data_rng.normal();
    Y(0, j) = X(0, j) * X(1, j) > 0 ? 1 : 0;
  }
  Network<double> net(Architecture{{2, 4, 1}, {Activation::tanh}, Output::sigmoid});
  EXPECT_TRUE(net.small_net_path());
  Rng rng(2);
  initialize(net, InitScheme::small, rng, 0.01);
  GradientDescentOptions options;
  options.learning_rate = 1.2;
  options.iterations = iterations;
  options.record_every = record_every;
  int completed = 0;
  if (record_every > 1) options.on_iteration = [&completed](int done) { completed = done; };
  const long long before = allocations.load();
  train_gradient_descent(net, X, Y, options);
  const long long made = allocations.load() - before;
  if (record_every > 1) {
    EXPECT_EQ(completed, iterations);
  }
  set_threads(1);
  return made;
}

TEST(NoAllocation, FullBatchGradientDescentOnASmallNet) {
  count_gradient_descent(10);
  const long long few = count_gradient_descent(100), many = count_gradient_descent(400);
  EXPECT_GT(few, 0) << "set-up allocates (workspaces, the history)";
  EXPECT_EQ(many, few) << "100 iterations made " << few << " allocations, 400 made " << many;
  for (int threads : {1, 2}) {
    count_gradient_descent(100, 25, threads);
    const long long few_steps = count_gradient_descent(100, 25, threads);
    const long long many_steps = count_gradient_descent(400, 25, threads);
    EXPECT_EQ(many_steps, few_steps) << threads << " threads, a record every 25 iterations: 100 iterations made "
                                     << few_steps << " allocations, 400 made " << many_steps;
  }
}

// Calls f until 100 calls in a row allocate nothing, at most 50 times: the
// first calls with 2 threads start the worker, which allocates once when it
// begins to run (its OpenMP state), whenever the OS schedules it.
template <typename F>
void warm_up(F&& f) {
  for (int round = 0; round < 50; ++round) {
    const long long before = allocations.load();
    for (int call = 0; call < 100; ++call) f();
    if (allocations.load() == before) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// The single-example path allocates nothing per call (predictor.hpp): the
// Predictor, with every kernel this CPU runs, float and bfloat16 weights, on 1
// and 2 threads, and PreparedModel::predict_one on top of it.
TEST(NoAllocation, PredictOneAllocatesNothing) {
  Network<float> net(Architecture{{784, 256, 128, 10}, {Activation::relu}, Output::softmax});
  Rng rng(2);
  initialize(net, InitScheme::he, rng);
  Matrix<float> x(784, 1);
  for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = static_cast<float>(rng.uniform());
  float out[10];
  for (const char* kernel : {"avx512", "avx2", "portable"}) {
    if (!predictor_kernel_available(kernel)) continue;
    for (const bool bfloat16 : {false, true}) {
      PredictorOptions options;
      options.kernel = kernel;
      options.bfloat16_weights = bfloat16;
      Predictor<float> predictor(net, options);
      for (const int threads : {1, 2}) {
        set_threads(threads);
        warm_up([&] { predictor.predict_one(x.data(), out); });
        const long long before = allocations.load();
        for (int call = 0; call < 100; ++call) predictor.predict_one(x.data(), out);
        EXPECT_EQ(allocations.load() - before, 0) << kernel << (bfloat16 ? " bfloat16" : "") << ", " << threads
                                                  << " thread(s)";
      }
    }
  }
  Model model;
  model.set_parameters(net);
  model.encoding.output = Output::softmax;
  const PreparedModel prepared(model);
  const Matrix<double> x_double = x.cast<double>();
  double outputs[10];
  for (const int threads : {1, 2}) {
    set_threads(threads);
    warm_up([&] { prepared.predict_one(x_double.data(), outputs); });
    const long long before = allocations.load();
    for (int call = 0; call < 100; ++call) prepared.predict_one(x_double.data(), outputs);
    EXPECT_EQ(allocations.load() - before, 0) << "PreparedModel::predict_one, " << threads << " thread(s)";
  }
  set_threads(1);
}

TEST(LiveMemory, CountingWorks) {
  const long long before = live_bytes.load();
  static void* volatile sink;
  sink = std::malloc(1 << 20);
  EXPECT_GE(live_bytes.load() - before, 1 << 20);
  std::free(sink);
  EXPECT_EQ(live_bytes.load(), before);
}

// Scoring (the training score of fit, score_model for the test data) runs the
// examples through the network a chunk at a time, the chunk sized to the net:
// a wide net's chunk no longer holds 4096 examples' Z and A caches (here 72 MB;
// for the bench's 1024-2048-2048-10, 134 MB of a 480 MB peak), but about 32 MB.
TEST(LiveMemory, ScoringAWideNetKeepsItsWorkspaceNear32MB) {
  set_threads(2);
  const Eigen::Index n = 256, m = 6144;
  auto make = [&](Eigen::Index count) {
    Dataset data;
    data.X.resize(n, count);
    Rng rng(3);
    for (Eigen::Index j = 0; j < count; ++j) {
      for (Eigen::Index i = 0; i < n; ++i) data.X(i, j) = rng.normal();
      data.targets.push_back(static_cast<double>(j % 10));
    }
    data.source = "wide";
    return data;
  };
  FitSettings s;
  s.hidden_layers = {1024, 1024};
  s.epochs = 1;
  s.batch_size = 32;
  s.optimizer.kind = OptimizerKind::sgd;
  const Model model = fit(make(64), nullptr, s).model;
  const Dataset big = make(m);
  const long long before = live_bytes.load();
  peak_live_bytes.store(before);
  const PartScore score = score_model(model, big, "test");
  const long long peak = peak_live_bytes.load() - before;
  EXPECT_EQ(score.examples, m);
  EXPECT_TRUE(std::isfinite(score.cost));
  // One chunk: the input and Z, A of 256 + 2 (1024 + 1024 + 10) float units per
  // example, 32 MiB of them (1856 examples); the network (parameters and gradients
  // in float); 16 MiB for the rest (labels, targets, the products' packing
  // buffers, which depend on the CPU and may be held by two threads). With
  // 4096-example chunks, dZ kept by forward passes and a second workspace for the
  // last short chunk, this was 161 MiB.
  const long long network_bytes = 2 * static_cast<long long>(model.parameters.size()) * 4;
  EXPECT_LT(peak, (48ll << 20) + network_bytes) << "peak live bytes while scoring: " << peak;
  EXPECT_GT(peak, 16ll << 20) << "the measurement sees the workspace";
  set_threads(1);
}

}  // namespace
}  // namespace deepnet
