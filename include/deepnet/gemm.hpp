#pragma once
// The matrix product behind every layer, and the thread count it runs with.
//
// gemm() is BLAS's product on column-major storage (Eigen's default):
//   C = alpha op(A) op(B) + beta C,  op(X) = X or X^T,  op(A): (m, k), op(B): (k, n).
// float goes to oneDNN's sgemm when deepnet was built with it (it picks
// AVX-512, AVX2 or SSE kernels for the CPU at run time); double goes to
// deepnet's own kernels for AVX-512 or AVX2 (x86-64, chosen at the first
// product for the CPU), else to Eigen's, compiled for the build's baseline
// (SSE2 in the portable build); float without oneDNN goes to Eigen's.
//
// Double bits: a kernel gives the same bits for the same call. deepnet's
// AVX-512 and AVX2 kernels do the same operations in the same order (for each
// element, one chain of FMAs per block of 256 inner indices, the blocks' sums
// added to C in order; core/dgemm.hpp), so they give the same bits as each
// other, wherever the element lies in C.
// Eigen's (no FMA in the portable build) rounds differently: the two agree to
// rounding, within about k units in the last place of sum |a_ip b_pj|.
//
// Threads and determinism: a large product is cut into column blocks whose
// number and width depend on the shapes only, never on the thread count; each
// block is one single-threaded product, and threads share out the blocks. The
// inner dimension k is never split, so every element of C is summed in the
// same order whatever the thread count: 1, 2 or 16 threads give identical bits.
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "deepnet/matrix.hpp"

namespace deepnet {

// Threads for deepnet's products and element-wise passes (default 1). Applies
// to the whole process. Throws Error below 1.
void set_threads(int threads);
int threads();

// Precision of float products (process-wide, like set_threads; double
// products are never affected):
//   float32 (default): float32 inputs and sums.
//   bf16: mixed precision: op(A) and op(B) rounded to bfloat16 (round to
//   nearest even) and summed in float32 by oneDNN's matmul. Parameters,
//   activations, gradients and optimizer state stay float32; only the
//   products' inputs lose precision (8 bits of mantissa). Only where the CPU
//   has bfloat16 dot products (AVX512_BF16 or AMX-BF16), where it is about
//   twice float32's peak. Same shapes, same thread count: same bits.
enum class FloatProducts { float32, bf16 };
// Throws Error saying why when bf16 is asked for and this CPU or build lacks it.
void set_float_products(FloatProducts products);
FloatProducts float_products();
// Whether bf16 products are available here; otherwise the reason in *why.
bool bf16_products_available(std::string* why = nullptr);

// What gemm<T> uses: "oneDNN <version> sgemm", "deepnet dgemm avx512
// (tiles 24x8)", "deepnet dgemm avx2 (tiles 8x6)" or "Eigen <version>
// (<its SIMD instruction sets>)".
const char* gemm_backend(bool single_precision);

// For tests and benchmarks: use this kernel for double products from now on:
// "avx512", "avx2", "eigen", or "auto" for the CPU's best again. Returns false
// (and changes nothing) when this build or CPU cannot run it. Not meant to be
// called while another thread is inside gemm.
bool gemm_set_double_kernel(std::string_view name);

template <typename T>
void gemm(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, T alpha,
          const T* A, Eigen::Index lda, const T* B, Eigen::Index ldb, T beta, T* C, Eigen::Index ldc);

// Column blocks [begin, end) of an n-column result with `work` multiply-adds:
// the split gemm() uses, exposed so that element-wise passes can follow it.
struct ColumnBlocks {
  Eigen::Index n = 0, count = 1;
  Eigen::Index begin(Eigen::Index block) const { return block * n / count; }
  Eigen::Index end(Eigen::Index block) const { return (block + 1) * n / count; }
};
ColumnBlocks column_blocks(Eigen::Index n, double work);

// A non-owning reference to a callable (no allocation, unlike std::function).
template <typename Signature>
class FunctionRef;
template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F>
  FunctionRef(F&& f)  // NOLINT: implicit, like a reference
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

// Runs f(block) for block = 0..count-1, shared out statically among threads()
// threads; a backend called inside f runs single-threaded. f must not throw.
void parallel_blocks(Eigen::Index count, FunctionRef<void(Eigen::Index)> f);

// One product on the calling thread, not split: for use inside parallel_blocks.
template <typename T>
void gemm_serial(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k,
                 T alpha, const T* A, Eigen::Index lda, const T* B, Eigen::Index ldb, T beta, T* C,
                 Eigen::Index ldc);

}  // namespace deepnet
