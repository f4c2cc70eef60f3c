// The matrix product: oneDNN's sgemm for float and deepnet's own kernels for
// double (both chosen at run time for the CPU), Eigen otherwise; fixed column
// blocks shared out among threads.
#include "deepnet/gemm.hpp"

#include <algorithm>
#include <atomic>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef DEEPNET_WITH_DNNL
#include <pthread.h>

#include <csignal>
#endif

#include "core/gemm_bf16.hpp"
#include "core/dgemm.hpp"
#include "core/onednn.hpp"
#include "core/thread_pool.hpp"
#include "deepnet/error.hpp"

namespace deepnet {

namespace {

std::atomic<int> thread_count{1};
std::atomic<FloatProducts> float_product_kind{FloatProducts::float32};

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

#ifdef DEEPNET_WITH_DNNL
// oneDNN's JIT sgemm kernels (Debian's 2.6) keep data below the stack pointer,
// past the 128-byte red zone a signal handler leaves alone: a signal handled
// on this thread during the call (Ctrl-C under Python or in `deepnet search`,
// a profiler's SIGPROF, SIGCHLD, ...) overwrote it and corrupted the heap
// (reproduced with a no-op SIGINT handler and dnnl_sgemm alone; gone with an
// alternate signal stack). The asynchronous signals are held for the length
// of the call and delivered right after it; faults still arrive at once.
class AsyncSignalsHeld {
 public:
  AsyncSignalsHeld() {
    sigset_t held;
    sigfillset(&held);
    for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS}) sigdelset(&held, fault);
    pthread_sigmask(SIG_BLOCK, &held, &saved_);
  }
  ~AsyncSignalsHeld() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }
  AsyncSignalsHeld(const AsyncSignalsHeld&) = delete;
  AsyncSignalsHeld& operator=(const AsyncSignalsHeld&) = delete;

 private:
  sigset_t saved_;
};
#endif

// The double-product kernels, best first. deepnet's own (core/dgemm.hpp) are
// compiled for their instruction set in their own files and run only where
// __builtin_cpu_supports (which also checks that the OS saves the wide
// registers) finds it; Eigen's, compiled for the build's baseline (SSE2 in the
// portable build), runs everywhere.
struct DoubleKernel {
  const char* name;         // for gemm_set_double_kernel
  const char* description;  // for gemm_backend; nullptr: Eigen's, described there
  void (*run)(const detail::DgemmCall&, double* workspace);  // nullptr: Eigen
  bool (*supported)();
};

bool always() { return true; }
constexpr DoubleKernel eigen_kernel{"eigen", nullptr, nullptr, always};
#ifdef DEEPNET_DGEMM_SIMD
bool has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
}
bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
constexpr DoubleKernel avx512_kernel{"avx512", "deepnet dgemm avx512 (tiles 24x8)", detail::dgemm_avx512,
                                     has_avx512};
constexpr DoubleKernel avx2_kernel{"avx2", "deepnet dgemm avx2 (tiles 8x6)", detail::dgemm_avx2, has_avx2};
constexpr const DoubleKernel* double_kernels[] = {&avx512_kernel, &avx2_kernel, &eigen_kernel};
#else
constexpr const DoubleKernel* double_kernels[] = {&eigen_kernel};
#endif

std::atomic<const DoubleKernel*> forced_double_kernel{nullptr};  // gemm_set_double_kernel

const DoubleKernel& double_kernel() {
  if (const DoubleKernel* k = forced_double_kernel.load(std::memory_order_acquire)) return *k;
  static const DoubleKernel* const detected = [] {  // thread-safe, once
    for (const DoubleKernel* k : double_kernels)
      if (k->supported()) return k;
    return &eigen_kernel;
  }();
  return *detected;
}

// The packing space of deepnet's double kernels: one per thread, allocated at
// the thread's first double product and kept until the thread ends.
constexpr std::align_val_t dgemm_workspace_alignment{64};
double* dgemm_workspace() {
  struct Workspace {
    double* data = static_cast<double*>(::operator new(
        sizeof(double) * detail::dgemm_workspace_doubles, dgemm_workspace_alignment));
    ~Workspace() { ::operator delete(data, dgemm_workspace_alignment); }
  };
  thread_local Workspace workspace;
  return workspace.data;
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
#ifdef DEEPNET_WITH_DNNL
  // (Where libdnnl cannot be loaded, Eigen computes every float product:
  // gemm_backend says so.)
  if constexpr (sizeof(T) == sizeof(float)) {
    if (const detail::OneDnn& dnnl = detail::onednn(); dnnl.loaded()) {
      // oneDNN is row-major: column-major C = op(A) op(B) is row-major C^T = op(B)^T op(A)^T.
      const AsyncSignalsHeld held;
      if (float_product_kind.load(std::memory_order_relaxed) == FloatProducts::bf16 &&
          detail::gemm_bf16_block(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc))
        return;
      if (dnnl.dnnl_sgemm(trans_b ? 'T' : 'N', trans_a ? 'T' : 'N', n, m, k, alpha, B, ldb, A, lda, beta,
                          C, ldc) == dnnl_success)
        return;
      // oneDNN refused (it should not for valid shapes): Eigen computes the block instead.
    }
  }
#endif
  if constexpr (std::is_same_v<T, double>) {
    if (const DoubleKernel& kernel = double_kernel(); kernel.run) {
      kernel.run({trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc}, dgemm_workspace());
      return;
    }
  }
  eigen_gemm<T>(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace

void set_threads(int threads) {
  if (threads < 1) throw Error("threads: expected at least 1, got " + std::to_string(threads));
  thread_count.store(threads, std::memory_order_relaxed);
}

int threads() { return thread_count.load(std::memory_order_relaxed); }

bool bf16_products_available(std::string* why) {
  const char* reason = "";
  const bool available = detail::bf16_products_supported(&reason);
  if (!available && why) *why = reason;
  return available;
}

void set_float_products(FloatProducts products) {
  std::string why;
  if (products == FloatProducts::bf16 && !bf16_products_available(&why))
    throw Error("bf16 products are not available: " + why + "; use float32 products");
  float_product_kind.store(products, std::memory_order_relaxed);
}

FloatProducts float_products() { return float_product_kind.load(std::memory_order_relaxed); }

namespace {
std::string eigen_description() {
  return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION) + " (" + Eigen::SimdInstructionSetsInUse() + ")";
}
}  // namespace

const char* gemm_backend(bool single_precision) {
#ifdef DEEPNET_WITH_DNNL
  if (single_precision) {
    static const std::string name = []() -> std::string {
      const detail::OneDnn& dnnl = detail::onednn();
      if (!dnnl.loaded()) return "";
      const dnnl_version_t* v = dnnl.dnnl_version();
      return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
             std::to_string(v->patch) + " sgemm";
    }();
    if (!name.empty()) return name.c_str();
    static const std::string eigen = eigen_description() + "; oneDNN could not be loaded: " + detail::onednn().failure;
    return eigen.c_str();
  }
#endif
  if (!single_precision) {
    if (const char* description = double_kernel().description) return description;
  }
  static const std::string eigen = eigen_description();
  return eigen.c_str();
}

bool gemm_set_double_kernel(std::string_view name) {
  if (name == "auto") {
    forced_double_kernel.store(nullptr, std::memory_order_release);
    return true;
  }
  for (const DoubleKernel* k : double_kernels)
    if (name == k->name && k->supported()) {
      forced_double_kernel.store(k, std::memory_order_release);
      return true;
    }
  return false;
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
