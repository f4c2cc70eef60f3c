// The matrix product: oneDNN's sgemm for float (CPU kernels chosen at run
// time), Eigen otherwise; fixed column blocks shared out among threads.
#include "deepnet/gemm.hpp"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef DEEPNET_WITH_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#include "core/thread_pool.hpp"
#include "deepnet/error.hpp"

namespace deepnet {

namespace {

std::atomic<int> thread_count{1};

// Blocks never outnumber the machine's cores, so a product is split the same
// way whatever --threads says (the count depends on the shapes and the
// machine only).
Eigen::Index hardware_blocks() {
  static const Eigen::Index cores = std::max<Eigen::Index>(1, std::thread::hardware_concurrency());
  return cores;
}

// While deepnet runs blocks, an OpenMP backend (oneDNN, Eigen) called on the
// calling thread must stay on it: it would otherwise start a team of every core.
class SingleThreadedBackends {
 public:
  SingleThreadedBackends() {
#ifdef _OPENMP
    saved_ = omp_get_max_threads();
    if (saved_ != 1) omp_set_num_threads(1);
#endif
  }
  ~SingleThreadedBackends() {
#ifdef _OPENMP
    if (saved_ != 1) omp_set_num_threads(saved_);
#endif
  }
  SingleThreadedBackends(const SingleThreadedBackends&) = delete;
  SingleThreadedBackends& operator=(const SingleThreadedBackends&) = delete;

 private:
  int saved_ = 1;
};

template <typename T>
void eigen_gemm(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, T alpha,
                const T* A, Eigen::Index lda, const T* B, Eigen::Index ldb, T beta, T* C,
                Eigen::Index ldc) {
  using Stride = Eigen::OuterStride<>;
  using CMap = Eigen::Map<const Matrix<T>, 0, Stride>;
  Eigen::Map<Matrix<T>, 0, Stride> c(C, m, n, Stride(ldc));
  const CMap a(A, trans_a ? k : m, trans_a ? m : k, Stride(lda));
  const CMap b(B, trans_b ? n : k, trans_b ? k : n, Stride(ldb));
  auto product = [&](const auto& x, const auto& y) {
    if (beta == T(0)) {  // no pass over C before the product
      if (alpha == T(1)) c.noalias() = x * y;
      else c.noalias() = alpha * (x * y);
      return;
    }
    if (beta != T(1)) c *= beta;
    c.noalias() += alpha * (x * y);
  };
  if (!trans_a && !trans_b) product(a, b);
  else if (!trans_a && trans_b) product(a, b.transpose());
  else if (trans_a && !trans_b) product(a.transpose(), b);
  else product(a.transpose(), b.transpose());
}

// y = alpha W x + beta y for one column x (W: m x k, column-major): the
// single-example forward pass. Streams W once, four columns at a time, with y
// in cache; sums in a fixed order. Compiled for AVX-512, AVX2 and baseline
// x86-64 (no FMA contraction, so every clone gives the same bits).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define DEEPNET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DEEPNET_CLONES
#endif

template <typename T>
inline __attribute__((always_inline)) void gemv_columns(Eigen::Index m, Eigen::Index k, T alpha,
                                                        const T* __restrict W, Eigen::Index ldw,
                                                        const T* __restrict x, T beta,
                                                        T* __restrict y) {
  if (beta == T(0))
    for (Eigen::Index i = 0; i < m; ++i) y[i] = T(0);
  else if (beta != T(1))
    for (Eigen::Index i = 0; i < m; ++i) y[i] *= beta;
  Eigen::Index p = 0;
  for (; p + 4 <= k; p += 4) {
    const T x0 = alpha * x[p], x1 = alpha * x[p + 1], x2 = alpha * x[p + 2], x3 = alpha * x[p + 3];
    const T* __restrict w0 = W + p * ldw;
    const T* __restrict w1 = w0 + ldw;
    const T* __restrict w2 = w1 + ldw;
    const T* __restrict w3 = w2 + ldw;
    for (Eigen::Index i = 0; i < m; ++i) y[i] += ((w0[i] * x0 + w1[i] * x1) + (w2[i] * x2 + w3[i] * x3));
  }
  for (; p < k; ++p) {
    const T xp = alpha * x[p];
    const T* w = W + p * ldw;
    for (Eigen::Index i = 0; i < m; ++i) y[i] += w[i] * xp;
  }
}

DEEPNET_CLONES void gemv(Eigen::Index m, Eigen::Index k, float alpha, const float* W, Eigen::Index ldw,
                         const float* x, float beta, float* y) {
  gemv_columns<float>(m, k, alpha, W, ldw, x, beta, y);
}
DEEPNET_CLONES void gemv(Eigen::Index m, Eigen::Index k, double alpha, const double* W, Eigen::Index ldw,
                         const double* x, double beta, double* y) {
  gemv_columns<double>(m, k, alpha, W, ldw, x, beta, y);
}

template <typename T>
void gemm_block(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, T alpha,
                const T* A, Eigen::Index lda, const T* B, Eigen::Index ldb, T beta, T* C,
                Eigen::Index ldc) {
  const SingleThreadedBackends guard;
  if (k <= 0) {  // an empty sum: C = beta C
    Eigen::Map<Matrix<T>, 0, Eigen::OuterStride<>> c(C, m, n, Eigen::OuterStride<>(ldc));
    if (beta == T(0)) c.setZero();
    else c *= beta;
    return;
  }
  if (n == 1 && !trans_a && !trans_b) {  // one example: a matrix-vector product of our own
    gemv(m, k, alpha, A, lda, B, beta, C);
    return;
  }
#ifdef DEEPNET_WITH_DNNL
  if constexpr (sizeof(T) == sizeof(float)) {
    // oneDNN is row-major: column-major C = op(A) op(B) is row-major C^T = op(B)^T op(A)^T.
    if (dnnl_sgemm(trans_b ? 'T' : 'N', trans_a ? 'T' : 'N', n, m, k, alpha, B, ldb, A, lda, beta,
                   C, ldc) == dnnl_success)
      return;
    // oneDNN refused (it should not for valid shapes): Eigen computes the block instead.
  }
#endif
  eigen_gemm<T>(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace

void set_threads(int threads) {
  if (threads < 1) throw Error("threads: expected at least 1, got " + std::to_string(threads));
  thread_count.store(threads, std::memory_order_relaxed);
}

int threads() { return thread_count.load(std::memory_order_relaxed); }

const char* gemm_backend(bool single_precision) {
#ifdef DEEPNET_WITH_DNNL
  if (single_precision) {
    static const std::string name = [] {
      const dnnl_version_t* v = dnnl_version();
      return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
             std::to_string(v->patch) + " sgemm";
    }();
    return name.c_str();
  }
#endif
  (void)single_precision;
  static const std::string eigen = "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
                                   std::to_string(EIGEN_MAJOR_VERSION) + "." +
                                   std::to_string(EIGEN_MINOR_VERSION) + " (" +
                                   Eigen::SimdInstructionSetsInUse() + ")";
  return eigen.c_str();
}

ColumnBlocks column_blocks(Eigen::Index n, double work) {
  // Each block at least ~2^20 multiply-adds (threads cost microseconds to wake)
  // and 16 columns wide.
  ColumnBlocks blocks;
  blocks.n = n;
  const auto by_work = static_cast<Eigen::Index>(work / double(1 << 20));
  blocks.count = std::max<Eigen::Index>(1, std::min({hardware_blocks(), by_work, n / 16}));
  return blocks;
}

template <typename T>
void gemm(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, T alpha,
          const T* A, Eigen::Index lda, const T* B, Eigen::Index ldb, T beta, T* C, Eigen::Index ldc) {
  if (m <= 0 || n <= 0) return;
  if (n == 1 && !trans_a && !trans_b) {
    // One column: rows are shared out instead (each row's sum is the same
    // whichever block holds it), so that W is streamed by every core at once.
    const Eigen::Index count =
        std::max<Eigen::Index>(1, std::min({hardware_blocks(), m / 64, Eigen::Index(double(m) * double(k) / 65536.0)}));
    parallel_blocks(count, [&](Eigen::Index i) {
      const Eigen::Index r0 = i * m / count, r1 = (i + 1) * m / count;
      gemm_block<T>(false, false, r1 - r0, 1, k, alpha, A + r0, lda, B, ldb, beta, C + r0, ldc);
    });
    return;
  }
  const ColumnBlocks blocks = column_blocks(n, double(m) * double(n) * double(k));
  // Column j of op(B) starts at B + j*ldb (B not transposed) or B + j (transposed).
  const Eigen::Index b_step = trans_b ? 1 : ldb;
  parallel_blocks(blocks.count, [&](Eigen::Index i) {
    const Eigen::Index j0 = blocks.begin(i), j1 = blocks.end(i);
    gemm_block<T>(trans_a, trans_b, m, j1 - j0, k, alpha, A, lda, B + j0 * b_step, ldb, beta,
                  C + j0 * ldc, ldc);
  });
}

void parallel_blocks(Eigen::Index count, FunctionRef<void(Eigen::Index)> f) {
  const SingleThreadedBackends guard;
  detail::thread_pool().run(threads(), count, f);
}

template <typename T>
void gemm_serial(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k,
                 T alpha, const T* A, Eigen::Index lda, const T* B, Eigen::Index ldb, T beta, T* C,
                 Eigen::Index ldc) {
  if (m <= 0 || n <= 0) return;
  gemm_block<T>(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

template void gemm<float>(bool, bool, Eigen::Index, Eigen::Index, Eigen::Index, float, const float*,
                          Eigen::Index, const float*, Eigen::Index, float, float*, Eigen::Index);
template void gemm<double>(bool, bool, Eigen::Index, Eigen::Index, Eigen::Index, double,
                           const double*, Eigen::Index, const double*, Eigen::Index, double,
                           double*, Eigen::Index);
template void gemm_serial<float>(bool, bool, Eigen::Index, Eigen::Index, Eigen::Index, float,
                                 const float*, Eigen::Index, const float*, Eigen::Index, float,
                                 float*, Eigen::Index);
template void gemm_serial<double>(bool, bool, Eigen::Index, Eigen::Index, Eigen::Index, double,
                                  const double*, Eigen::Index, const double*, Eigen::Index, double,
                                  double*, Eigen::Index);

}  // namespace deepnet
