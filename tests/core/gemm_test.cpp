// The matrix product behind the layers, its threads, and identical bits at any
// thread count.
#include <gtest/gtest.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/init.hpp"
#include "deepnet/network.hpp"
#include "deepnet/rng.hpp"
#include "deepnet/train.hpp"
#include "core/thread_pool.hpp"  // run_together

namespace deepnet {
namespace {

// Restores the thread count a test changed.
struct ThreadsGuard {
  int saved = threads();
  ~ThreadsGuard() { set_threads(saved); }
};

template <typename T>
std::vector<T> random_values(std::size_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(rng.uniform() * 2 - 1);
  return v;
}

// C = alpha op(A) op(B) + beta C by the definition, in long double.
template <typename T>
std::vector<T> reference_gemm(bool ta, bool tb, Eigen::Index m, Eigen::Index n, Eigen::Index k,
                              T alpha, const std::vector<T>& A, Eigen::Index lda,
                              const std::vector<T>& B, Eigen::Index ldb, T beta,
                              std::vector<T> C, Eigen::Index ldc) {
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < m; ++i) {
      long double sum = 0;
      for (Eigen::Index p = 0; p < k; ++p) {
        const T a = ta ? A[p + i * lda] : A[i + p * lda];
        const T b = tb ? B[j + p * ldb] : B[p + j * ldb];
        sum += static_cast<long double>(a) * b;
      }
      T& c = C[i + j * ldc];
      c = static_cast<T>(alpha * sum + (beta == T(0) ? 0.0L : static_cast<long double>(beta) * c));
    }
  return C;
}

template <typename T>
void check_against_reference(Eigen::Index m, Eigen::Index n, Eigen::Index k, T alpha, T beta) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      // Leading dimensions larger than the rows, as for a block of a bigger matrix.
      const Eigen::Index lda = (ta ? k : m) + 3, ldb = (tb ? n : k) + 2, ldc = m + 1;
      const auto A = random_values<T>(static_cast<std::size_t>(lda * (ta ? m : k)), 1);
      const auto B = random_values<T>(static_cast<std::size_t>(ldb * (tb ? k : n)), 2);
      auto C = random_values<T>(static_cast<std::size_t>(ldc * n), 3);
      if (beta == T(0)) C[0] = std::numeric_limits<T>::quiet_NaN();  // beta = 0 ignores C
      const auto expected = reference_gemm<T>(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
      gemm<T>(ta, tb, m, n, k, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
      const double tolerance = (sizeof(T) == 4 ? 2e-5 : 1e-12) * static_cast<double>(k + 1);
      for (Eigen::Index j = 0; j < n; ++j)
        for (Eigen::Index i = 0; i < ldc; ++i) {
          const std::size_t at = static_cast<std::size_t>(i + j * ldc);
          if (i >= m) {  // padding rows are never written
            ASSERT_EQ(C[at], expected[at]) << "padding row " << i << " column " << j << " was written";
            continue;
          }
          ASSERT_NEAR(C[at], expected[at], tolerance)
              << "op(A) " << (ta ? "A^T" : "A") << ", op(B) " << (tb ? "B^T" : "B") << ", (" << m
              << " x " << n << " x " << k << "), element (" << i << ", " << j << ")";
        }
    }
}

TEST(Gemm, MatchesTheDefinitionForEveryTransposeSmallAndSplitShapes) {
  ThreadsGuard guard;
  for (int t : {1, 2}) {
    set_threads(t);
    check_against_reference<float>(3, 5, 7, 1.0f, 0.0f);
    check_against_reference<double>(3, 5, 7, 0.5, 2.0);
    check_against_reference<float>(1, 1, 1, -2.0f, 1.0f);
    // Big enough to be cut into column blocks (work >= 2^21 multiply-adds, n >= 32).
    check_against_reference<float>(129, 97, 300, 0.25f, 1.0f);
    check_against_reference<double>(129, 97, 300, 1.0, 0.0);
    // One column (a single example), big enough for its rows to be shared out.
    check_against_reference<float>(300, 1, 800, 1.0f, 0.0f);
    check_against_reference<double>(257, 1, 513, 0.5, 1.0);
  }
}

TEST(Gemm, EmptyInnerDimensionScalesC) {
  std::vector<float> C = {1, 2, 3, 4};
  gemm<float>(false, false, 2, 2, 0, 1.0f, nullptr, 2, nullptr, 1, 3.0f, C.data(), 2);
  EXPECT_EQ(C, (std::vector<float>{3, 6, 9, 12}));
  gemm<float>(false, false, 2, 2, 0, 1.0f, nullptr, 2, nullptr, 1, 0.0f, C.data(), 2);
  EXPECT_EQ(C, (std::vector<float>{0, 0, 0, 0}));
}

TEST(Gemm, SameBitsWithAnyThreadCount) {
  ThreadsGuard guard;
  for (const Eigen::Index n : {Eigen::Index(200), Eigen::Index(1)}) {
  const Eigen::Index m = 256, k = 784;
  const auto A = random_values<float>(static_cast<std::size_t>(m * k), 4);
  const auto B = random_values<float>(static_cast<std::size_t>(k * n), 5);
  std::vector<float> first;
  for (int t : {1, 2, 3, 8}) {
    set_threads(t);
    std::vector<float> C(static_cast<std::size_t>(m * n));
    gemm<float>(false, false, m, n, k, 1.0f, A.data(), m, B.data(), k, 0.0f, C.data(), m);
    if (first.empty()) first = C;
    ASSERT_EQ(0, std::memcmp(first.data(), C.data(), C.size() * sizeof(float)))
        << t << " threads changed the bits of the product (n = " << n << ")";
  }
  }
}

// ---------------------------------------------------------------- bf16 products

struct ProductsGuard {
  FloatProducts saved = float_products();
  ~ProductsGuard() { set_float_products(saved); }
};

// float32 -> bfloat16 -> float32, round to nearest even, written from the format's definition.
float bf16_round(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const std::uint32_t lower = bits & 0xffffu, upper = bits & 0xffff0000u;
  std::uint32_t rounded = upper;
  if (lower > 0x8000u || (lower == 0x8000u && (upper & 0x10000u))) rounded += 0x10000u;
  float y;
  std::memcpy(&y, &rounded, sizeof y);
  return y;
}

TEST(GemmBf16, InputsRoundedToBfloat16AndSummedInFloat32OrARefusalSayingWhy) {
  ProductsGuard guard;
  ThreadsGuard threads_guard;
  std::string why;
  if (!bf16_products_available(&why)) {
    EXPECT_FALSE(why.empty());
    try {
      set_float_products(FloatProducts::bf16);
      FAIL() << "bf16 products accepted on a CPU without them";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("bf16 products are not available"), std::string::npos) << e.what();
    }
    EXPECT_EQ(float_products(), FloatProducts::float32);
    return;
  }
  set_float_products(FloatProducts::bf16);
  ASSERT_EQ(float_products(), FloatProducts::bf16);
  for (int t : {1, 2})
    for (const auto& [m, n, k] : {std::tuple<Eigen::Index, Eigen::Index, Eigen::Index>{3, 5, 7}, {129, 97, 300}, {300, 1, 800}})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          set_threads(t);
          const Eigen::Index lda = (ta ? k : m) + 3, ldb = (tb ? n : k) + 2, ldc = m + 1;
          const auto A = random_values<float>(static_cast<std::size_t>(lda * (ta ? m : k)), 11);
          const auto B = random_values<float>(static_cast<std::size_t>(ldb * (tb ? k : n)), 12);
          auto C = random_values<float>(static_cast<std::size_t>(ldc * n), 13);
          std::vector<float> Ar(A), Br(B);
          for (float& x : Ar) x = bf16_round(x);
          for (float& x : Br) x = bf16_round(x);
          const auto exact = reference_gemm<float>(ta, tb, m, n, k, 0.5f, A, lda, B, ldb, 2.0f, C, ldc);
          const auto expected = reference_gemm<float>(ta, tb, m, n, k, 0.5f, Ar, lda, Br, ldb, 2.0f, C, ldc);
          gemm<float>(ta, tb, m, n, k, 0.5f, A.data(), lda, B.data(), ldb, 2.0f, C.data(), ldc);
          double far_from_exact = 0;
          for (Eigen::Index j = 0; j < n; ++j)
            for (Eigen::Index i = 0; i < ldc; ++i) {
              const std::size_t at = static_cast<std::size_t>(i + j * ldc);
              if (i >= m) {
                ASSERT_EQ(C[at], expected[at]) << "padding row written";
                continue;
              }
              // The products of bfloat16 values are exact in float32; only the float32 sums round.
              ASSERT_NEAR(C[at], expected[at], 2e-5 * static_cast<double>(k + 1))
                  << "(" << m << " x " << n << " x " << k << ") " << ta << tb << " element (" << i << ", " << j << ")";
              far_from_exact = std::max(far_from_exact, std::abs(double(C[at]) - double(exact[at])));
            }
          if (k >= 300) {
            EXPECT_GT(far_from_exact, 1e-4) << "the product looks like float32, not bfloat16";
          }
        }
}

TEST(GemmBf16, SameBitsWithAnyThreadCountAndOnRepeat) {
  if (!bf16_products_available()) GTEST_SKIP() << "no bfloat16 dot products on this CPU (the refusal is tested above)";
  ProductsGuard guard;
  ThreadsGuard threads_guard;
  set_float_products(FloatProducts::bf16);
  const Eigen::Index m = 256, k = 784, n = 200;
  const auto A = random_values<float>(static_cast<std::size_t>(m * k), 4);
  const auto B = random_values<float>(static_cast<std::size_t>(k * n), 5);
  std::vector<float> first;
  for (int t : {1, 2, 1, 3}) {
    set_threads(t);
    std::vector<float> C(static_cast<std::size_t>(m * n));
    gemm<float>(false, false, m, n, k, 1.0f, A.data(), m, B.data(), k, 0.0f, C.data(), m);
    if (first.empty()) first = C;
    ASSERT_EQ(0, std::memcmp(first.data(), C.data(), C.size() * sizeof(float))) << t << " threads";
  }
}

TEST(Gemm, BlocksSplitByShapeOnly) {
  ThreadsGuard guard;
  set_threads(1);
  const ColumnBlocks one = column_blocks(128, 256.0 * 128 * 784);
  set_threads(7);
  const ColumnBlocks seven = column_blocks(128, 256.0 * 128 * 784);
  EXPECT_EQ(one.count, seven.count);
  EXPECT_EQ(column_blocks(1, 1e12).count, 1) << "a single column is never split";
  EXPECT_EQ(column_blocks(1000, 10).count, 1) << "tiny products are not split";
  // The blocks cover the columns exactly once.
  const ColumnBlocks b = column_blocks(1001, 1e12);
  EXPECT_EQ(b.begin(0), 0);
  EXPECT_EQ(b.end(b.count - 1), 1001);
  for (Eigen::Index i = 0; i + 1 < b.count; ++i) EXPECT_EQ(b.end(i), b.begin(i + 1));
}

TEST(ParallelBlocks, RunsEveryBlockOnceAlsoFromManyCallersAtOnce) {
  ThreadsGuard guard;
  set_threads(4);
  constexpr int callers = 8, count = 37, rounds = 200;
  std::vector<std::vector<std::atomic<int>>> hits(callers);
  for (auto& h : hits) h = std::vector<std::atomic<int>>(count);
  std::vector<std::thread> pool;
  for (int c = 0; c < callers; ++c)
    pool.emplace_back([&, c] {
      for (int r = 0; r < rounds; ++r)
        parallel_blocks(count, [&](Eigen::Index block) {
          hits[c][static_cast<std::size_t>(block)].fetch_add(1);
          // A block that asks for parallel work itself runs it inline.
          parallel_blocks(2, [](Eigen::Index) {});
        });
    });
  for (std::thread& t : pool) t.join();
  for (int c = 0; c < callers; ++c)
    for (int b = 0; b < count; ++b) ASSERT_EQ(hits[c][static_cast<std::size_t>(b)].load(), rounds);
}

// run_together (Network::descend's teams): every block at once on a thread of
// its own, block 0 on the caller, so blocks can wait for each other; a refusal
// (running nothing) where that cannot be promised.
TEST(ThreadPool, RunTogetherPutsEachBlockOnAThreadOfItsOwnOrRefuses) {
  ThreadsGuard guard;
  for (int threads : {2, 3}) {
    std::vector<std::thread::id> ids(static_cast<std::size_t>(threads));
    std::atomic<int> started{0};
    const bool ran = detail::thread_pool().run_together(threads, [&](Eigen::Index block) {
      ids[static_cast<std::size_t>(block)] = std::this_thread::get_id();
      started.fetch_add(1);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (started.load() < threads && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    });
    ASSERT_TRUE(ran) << threads;
    ASSERT_EQ(started.load(), threads) << "the blocks did not all run at once";
    EXPECT_EQ(ids[0], std::this_thread::get_id());
    std::vector<std::thread::id> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end()) << "two blocks on one thread";
  }
  int calls = 0;
  EXPECT_FALSE(detail::thread_pool().run_together(1, [&](Eigen::Index) { ++calls; }));
  set_threads(2);
  std::atomic<int> inner_refused{0};
  parallel_blocks(2, [&](Eigen::Index) {  // inside a block: no second team
    if (!detail::thread_pool().run_together(2, [&](Eigen::Index) { ++calls; })) inner_refused.fetch_add(1);
  });
  EXPECT_EQ(inner_refused.load(), 2);
  // while another thread's job holds the pool: refused
  std::atomic<bool> holding{false}, release{false};
  std::thread other([&] {
    parallel_blocks(2, [&](Eigen::Index block) {
      if (block != 0) return;
      holding.store(true);
      while (!release.load()) std::this_thread::yield();
    });
  });
  while (!holding.load()) std::this_thread::yield();
  EXPECT_FALSE(detail::thread_pool().run_together(2, [&](Eigen::Index) { ++calls; }));
  release.store(true);
  other.join();
  EXPECT_EQ(calls, 0);
}

// Signals handled on a thread while it multiplies must change nothing: oneDNN's
// sgemm keeps data below the stack pointer, and a handler's frame on the same
// stack corrupted the heap (Ctrl-C under Python, SIGPROF, SIGCHLD). The products
// run with the asynchronous signals held (src/core/gemm.cpp).
std::atomic<int> signals_handled{0};
extern "C" void count_signal(int) { signals_handled.fetch_add(1, std::memory_order_relaxed); }

TEST(Gemm, SignalsDuringFloatProductsChangeNothing) {
  struct sigaction action {}, previous{};
  action.sa_handler = count_signal;
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &action, &previous), 0);
  const Eigen::Index m = 256, n = 512, k = 100;
  std::vector<float> A(m * k), B(k * n);
  for (std::size_t i = 0; i < A.size(); ++i) A[i] = static_cast<float>(i % 17) * 0.25f - 2.0f;
  for (std::size_t i = 0; i < B.size(); ++i) B[i] = static_cast<float>(i % 13) * 0.5f - 3.0f;
  std::vector<float> expected(m * n);
  gemm<float>(false, false, m, n, k, 1.0f, A.data(), m, B.data(), k, 0.0f, expected.data(), m);

  const pthread_t self = pthread_self();
  std::atomic<bool> done{false};
  std::thread sender([&] {
    while (!done.load()) {
      pthread_kill(self, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  bool same = true;
  for (int round = 0; round < 3000 && same; ++round) {
    auto* scratch = new std::vector<float>(1000 + static_cast<std::size_t>(round % 100));  // heap traffic beside the products
    std::vector<float> C(m * n, 1.0f);
    gemm<float>(false, false, m, n, k, 1.0f, A.data(), m, B.data(), k, 0.0f, C.data(), m);
    same = std::memcmp(C.data(), expected.data(), C.size() * sizeof(float)) == 0;
    delete scratch;
  }
  done.store(true);
  sender.join();
  sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_TRUE(same);
  EXPECT_GT(signals_handled.load(), 0);  // the signals did arrive (after each product)
}

TEST(Threads, RejectsZero) {
  EXPECT_THROW(set_threads(0), Error);
  EXPECT_GE(threads(), 1);
}

// Mini-batch training with 1 and 2 threads ends with the same weights, bit for bit.
TEST(Threads, TrainingGivesIdenticalWeightsWithOneAndTwoThreads) {
  ThreadsGuard guard;
  const Eigen::Index m = 600;
  Rng data_rng(7);
  Matrix<float> X(64, m), Y = Matrix<float>::Zero(3, m);
  for (Eigen::Index j = 0; j < m; ++j) {
    for (Eigen::Index i = 0; i < X.rows(); ++i) X(i, j) = static_cast<float>(data_rng.normal());
    Y(j % 3, j) = 1;
  }
  std::vector<std::vector<float>> weights;
  for (int t : {1, 2}) {
    set_threads(t);
    Network<float> net(Architecture{{64, 256, 128, 3}, {Activation::relu}, Output::softmax});
    Rng rng(3);
    initialize(net, InitScheme::he, rng);
    MiniBatchOptions options;
    options.epochs = 3;
    options.batch_size = 200;
    options.seed = 11;
    train_minibatch(net, X, Y, ValidationSet{}, options);
    weights.emplace_back(net.parameters().begin(), net.parameters().end());
  }
  ASSERT_EQ(weights[0].size(), weights[1].size());
  EXPECT_EQ(0, std::memcmp(weights[0].data(), weights[1].data(), weights[0].size() * sizeof(float)))
      << "2 threads trained different weights than 1 thread";
}


// --- the double kernels (core/dgemm.hpp): each one the CPU runs, forced in turn.

// Restores the automatic choice of double kernel.
struct DoubleKernelGuard {
  ~DoubleKernelGuard() { gemm_set_double_kernel("auto"); }
};

// The double kernels this build and CPU run, best first; "eigen" always.
std::vector<std::string> runnable_double_kernels() {
  DoubleKernelGuard guard;
  std::vector<std::string> names;
  for (const char* name : {"avx512", "avx2", "eigen"})
    if (gemm_set_double_kernel(name)) names.emplace_back(name);
  return names;
}

TEST(GemmDoubleKernels, TheCpusBestIsChosenAndNamedAndEachCanBeForced) {
  DoubleKernelGuard guard;
  const auto names = runnable_double_kernels();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names.back(), "eigen") << "the portable kernel runs everywhere";
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  // On x86-64 deepnet's kernels are built in, and run where the CPU has their instructions.
  __builtin_cpu_init();
  const bool fma = __builtin_cpu_supports("fma");
  EXPECT_EQ(gemm_set_double_kernel("avx512"), fma && __builtin_cpu_supports("avx512f"));
  EXPECT_EQ(gemm_set_double_kernel("avx2"), fma && __builtin_cpu_supports("avx2"));
#endif
  ASSERT_TRUE(gemm_set_double_kernel("auto"));
  const std::string chosen = gemm_backend(false);
  if (names.front() == "eigen")
    EXPECT_EQ(chosen.rfind("Eigen ", 0), 0u) << chosen;
  else
    EXPECT_EQ(chosen.rfind("deepnet dgemm " + names.front() + " ", 0), 0u) << chosen;
  for (const std::string& name : names) {
    ASSERT_TRUE(gemm_set_double_kernel(name));
    const std::string backend = gemm_backend(false);
    EXPECT_EQ(backend.rfind(name == "eigen" ? std::string("Eigen ") : "deepnet dgemm " + name + " ", 0), 0u)
        << name << " reported as " << backend;
  }
  // The float product is not theirs.
  EXPECT_EQ(std::string(gemm_backend(true)).find("dgemm"), std::string::npos);
  const std::string before = gemm_backend(false);
  EXPECT_FALSE(gemm_set_double_kernel("avx1024"));
  EXPECT_FALSE(gemm_set_double_kernel(""));
  EXPECT_EQ(gemm_backend(false), before) << "a refused name changes nothing";
}

TEST(GemmDoubleKernels, EachMatchesTheDefinitionAtEveryEdgeOfItsTilesAndBlocks) {
  ThreadsGuard threads_guard;
  DoubleKernelGuard guard;
  for (const std::string& name : runnable_double_kernels()) {
    SCOPED_TRACE("double kernel " + name);
    ASSERT_TRUE(gemm_set_double_kernel(name));
    for (int t : {1, 2}) {
      set_threads(t);
      // Rows around the tiles (8, 24) and the block of rows (144); columns
      // around the tiles' widths (6, 8); inner dimensions around the block of
      // 256; beta 0 (C not read), 1 (the backward pass's dW +=) and other.
      for (const Eigen::Index m : {1, 5, 20, 23, 24, 25, 145, 300})
        check_against_reference<double>(m, 9, 7, 0.5, 2.0);
      for (const Eigen::Index n : {1, 2, 3, 5, 6, 7, 8, 13, 17, 209})
        check_against_reference<double>(20, n, 31, 1.0, 1.0);
      for (const Eigen::Index k : {1, 255, 256, 257, 600})
        check_against_reference<double>(26, 11, k, -1.5, 0.0);
      check_against_reference<double>(150, 70, 520, 0.25, -1.0);
    }
  }
}

// |alpha| sum_p |op(A)(i, p)| |op(B)(p, j)| + |beta C(i, j)|: what the rounding
// error of a product is proportional to.
std::vector<double> magnitudes(bool ta, bool tb, Eigen::Index m, Eigen::Index n, Eigen::Index k,
                               double alpha, const std::vector<double>& A, Eigen::Index lda,
                               const std::vector<double>& B, Eigen::Index ldb, double beta,
                               const std::vector<double>& C, Eigen::Index ldc) {
  std::vector<double> out(static_cast<std::size_t>(ldc * n), 0.0);
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < m; ++i) {
      double sum = 0;
      for (Eigen::Index p = 0; p < k; ++p)
        sum += std::abs(ta ? A[p + i * lda] : A[i + p * lda]) * std::abs(tb ? B[j + p * ldb] : B[p + j * ldb]);
      out[i + j * ldc] = std::abs(alpha) * sum + std::abs(beta * C[i + j * ldc]);
    }
  return out;
}

// The products of the deep-fullbatch benchmark (12288-20-7-5-1, m = 209; the
// backward pass's dW[1] with fewer columns), in every kernel and in Eigen's
// portable one: they differ by rounding only. Each of the two is within
// (k + 2) u of the exact value, times the magnitudes above (u = 2^-53), so
// they are within twice that of each other. deepnet's own kernels (AVX-512,
// AVX2) do the same operations in the same order: they agree bit for bit.
TEST(GemmDoubleKernels, EachAgreesWithThePortableKernelOnTheDeepNetsProducts) {
  ThreadsGuard threads_guard;
  DoubleKernelGuard guard;
  set_threads(2);
  struct Shape {
    bool ta, tb;
    Eigen::Index m, n, k;
    double alpha, beta;
  };
  const Shape shapes[] = {
      {false, false, 20, 209, 12288, 1.0, 0.0},     // Z[1] = W[1] X
      {false, true, 20, 1500, 209, 1.0 / 209, 1.0},  // dW[1] += (1/m) dZ[1] X^T
      {false, false, 7, 209, 20, 1.0, 0.0},          // Z[2] = W[2] A[1]
      {true, false, 20, 209, 7, 1.0, 0.0},           // dA[1] = W[2]^T dZ[2]
  };
  const double u = std::ldexp(1.0, -53);
  for (const Shape& s : shapes) {
    const Eigen::Index lda = s.ta ? s.k : s.m, ldb = s.tb ? s.n : s.k, ldc = s.m;
    const auto A = random_values<double>(static_cast<std::size_t>(lda * (s.ta ? s.m : s.k)), 21);
    const auto B = random_values<double>(static_cast<std::size_t>(ldb * (s.tb ? s.k : s.n)), 22);
    const auto C0 = random_values<double>(static_cast<std::size_t>(ldc * s.n), 23);
    const auto scale = magnitudes(s.ta, s.tb, s.m, s.n, s.k, s.alpha, A, lda, B, ldb, s.beta, C0, ldc);
    auto run = [&](const std::string& name) {
      EXPECT_TRUE(gemm_set_double_kernel(name));
      std::vector<double> C = C0;
      gemm<double>(s.ta, s.tb, s.m, s.n, s.k, s.alpha, A.data(), lda, B.data(), ldb, s.beta, C.data(), ldc);
      return C;
    };
    const auto portable = run("eigen");
    std::vector<double> first_deepnet;  // deepnet's kernels share one arithmetic: the same bits
    for (const std::string& name : runnable_double_kernels()) {
      if (name == "eigen") continue;
      const auto C = run(name);
      if (first_deepnet.empty()) first_deepnet = C;
      EXPECT_EQ(0, std::memcmp(first_deepnet.data(), C.data(), C.size() * sizeof(double)))
          << name << " gave other bits than " << runnable_double_kernels().front();
      double worst = 0;  // the largest difference, in units of the bound
      for (std::size_t at = 0; at < C.size(); ++at) {
        const double bound = 2 * double(s.k + 2) * u * scale[at] + std::numeric_limits<double>::denorm_min();
        ASSERT_LE(std::abs(C[at] - portable[at]), bound)
            << name << " vs eigen, (" << s.m << " x " << s.n << " x " << s.k << "), element " << at;
        worst = std::max(worst, std::abs(C[at] - portable[at]) / bound);
      }
      std::cout << "[          ] " << name << " vs eigen (" << s.m << " x " << s.n << " x " << s.k
                << "): largest difference " << worst << " of the bound\n";
    }
  }
}

// deepnet's kernels sum every element the same way wherever it lies
// (core/dgemm.hpp): computing C whole, one column at a time, or in two parts of
// rows gives the same bits, so does any thread count.
TEST(GemmDoubleKernels, DeepnetsKernelsGiveTheSameBitsWhateverTheSplitOrThreads) {
  ThreadsGuard threads_guard;
  DoubleKernelGuard guard;
  const Eigen::Index m = 50, n = 37, k = 600;
  for (const std::string& name : runnable_double_kernels()) {
    if (name == "eigen") continue;  // Eigen promises no such thing
    SCOPED_TRACE("double kernel " + name);
    ASSERT_TRUE(gemm_set_double_kernel(name));
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        const Eigen::Index lda = ta ? k : m, ldb = tb ? n : k;
        const auto A = random_values<double>(static_cast<std::size_t>(m * k), 31);
        const auto B = random_values<double>(static_cast<std::size_t>(k * n), 32);
        const auto C0 = random_values<double>(static_cast<std::size_t>(m * n), 33);
        std::vector<double> whole = C0, by_column = C0, by_rows = C0;
        set_threads(1);
        gemm_serial<double>(ta, tb, m, n, k, 0.75, A.data(), lda, B.data(), ldb, 1.5, whole.data(), m);
        for (Eigen::Index j = 0; j < n; ++j)
          gemm_serial<double>(ta, tb, m, 1, k, 0.75, A.data(), lda, B.data() + j * (tb ? 1 : ldb), ldb, 1.5,
                              by_column.data() + j * m, m);
        const Eigen::Index top = 13;  // rows [0, 13) and [13, 50): the tiles shift
        gemm_serial<double>(ta, tb, top, n, k, 0.75, A.data(), lda, B.data(), ldb, 1.5, by_rows.data(), m);
        gemm_serial<double>(ta, tb, m - top, n, k, 0.75, A.data() + top * (ta ? lda : 1), lda, B.data(), ldb,
                            1.5, by_rows.data() + top, m);
        EXPECT_EQ(0, std::memcmp(whole.data(), by_column.data(), whole.size() * sizeof(double)))
            << "one column at a time changed the bits (" << ta << tb << ")";
        EXPECT_EQ(0, std::memcmp(whole.data(), by_rows.data(), whole.size() * sizeof(double)))
            << "two parts of rows changed the bits (" << ta << tb << ")";
        for (int t : {1, 2, 3}) {
          set_threads(t);
          std::vector<double> threaded = C0;
          gemm<double>(ta, tb, m, n, k, 0.75, A.data(), lda, B.data(), ldb, 1.5, threaded.data(), m);
          EXPECT_EQ(0, std::memcmp(whole.data(), threaded.data(), whole.size() * sizeof(double)))
              << t << " threads changed the bits (" << ta << tb << ")";
        }
      }
  }
}

// Full-batch double training (the deep-fullbatch net, narrower input) with 1
// and 2 threads ends with the same weights under every kernel, and every
// kernel's weights agree with the portable kernel's to rounding.
TEST(GemmDoubleKernels, TrainingGivesTheSameBitsWithOneAndTwoThreadsUnderEveryKernel) {
  ThreadsGuard threads_guard;
  DoubleKernelGuard guard;
  const Eigen::Index m = 209;
  Rng data_rng(5);
  Matrix<double> X(600, m), Y(1, m);
  for (Eigen::Index j = 0; j < m; ++j) {
    for (Eigen::Index i = 0; i < X.rows(); ++i) X(i, j) = data_rng.uniform();
    Y(0, j) = double(j % 2);
  }
  std::vector<double> portable;
  for (const std::string& name : runnable_double_kernels()) {
    SCOPED_TRACE("double kernel " + name);
    ASSERT_TRUE(gemm_set_double_kernel(name));
    std::vector<std::vector<double>> weights;
    for (int t : {1, 2}) {
      set_threads(t);
      Network<double> net(Architecture{{600, 20, 7, 5, 1}, {Activation::relu}, Output::sigmoid});
      Rng rng(1);
      initialize(net, InitScheme::he, rng);
      GradientDescentOptions options;
      options.learning_rate = 0.0075;
      options.iterations = 30;
      train_gradient_descent(net, X, Y, options);
      weights.emplace_back(net.parameters().begin(), net.parameters().end());
    }
    ASSERT_EQ(0, std::memcmp(weights[0].data(), weights[1].data(), weights[0].size() * sizeof(double)))
        << "2 threads trained different weights than 1 thread";
    if (name == "eigen") portable = weights[0];
  }
  // The kernels differ in the last bits of each product; after 30 steps the
  // weights still agree to far better than the 5e-7 of the course's tests.
  for (const std::string& name : runnable_double_kernels()) {
    if (name == "eigen") continue;
    ASSERT_TRUE(gemm_set_double_kernel(name));
    set_threads(2);
    Network<double> net(Architecture{{600, 20, 7, 5, 1}, {Activation::relu}, Output::sigmoid});
    Rng rng(1);
    initialize(net, InitScheme::he, rng);
    GradientDescentOptions options;
    options.learning_rate = 0.0075;
    options.iterations = 30;
    train_gradient_descent(net, X, Y, options);
    ASSERT_EQ(portable.size(), static_cast<std::size_t>(net.parameters().size()));
    for (std::size_t i = 0; i < portable.size(); ++i)
      ASSERT_NEAR(net.parameters()[i], portable[i], 1e-12 * (1 + std::abs(portable[i])))
          << name << " vs eigen, parameter " << i;
  }
}

}  // namespace
}  // namespace deepnet
