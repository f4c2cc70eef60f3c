#pragma once
// deepnet's own vector kernels, compiled once per instruction set: the
// element-wise math behind vmath.hpp (exp, tanh, sigmoid, log1p) and the
// small-net path of Network (forward, cost and backward of nets whose layers
// are at most small_net_max_width wide, docs/performance.md "Small nets").
//
// The kernels are written once, in vmath_kernels.inc and
// small_net_kernels.inc, and compiled by kernels_avx512.cpp, kernels_avx2.cpp
// (each function with a target attribute; chosen at run time only on a CPU
// that runs it) and kernels_portable.cpp (the build's baseline, any CPU).
//
// This header is included by those files, so it holds declarations and plain
// data only: no inline function or template body that a wider instruction set
// could compile and the linker then share with baseline code.
#include <cstddef>

// The AVX-512 and AVX2 sets are built on x86-64 with GCC or Clang.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DEEPNET_KERNELS_X86 1
#endif

namespace deepnet::detail {

// Activation codes of the kernels: the order of deepnet::Activation.
enum KernelActivation : int { k_sigmoid, k_tanh, k_relu, k_leaky_relu, k_linear, k_softmax };
// Output/loss codes: the order of deepnet::Output.
enum KernelOutput : int { k_out_sigmoid, k_out_softmax, k_out_linear };

// One pass of the small-net path over unit-major buffers: row i of a layer
// buffer holds unit i for every example, row stride `ld` (the batch size m
// rounded up to small_net_granularity<T>; columns m..ld-1 are padding). Buffers are
// given as offsets into `work`, parameters as offsets into `params`, so the
// tables stay valid when a Network is copied.
//   A[0] = X^T (n[0] rows), Z[l], A[l], dZ[l] (n[l] rows), l = 1..L;
//   W[l] = params + weight_offset[l] (column-major), b[l] right after it.
inline constexpr std::size_t no_mask = ~std::size_t(0);
template <typename T>
struct SmallNetPass {  // an aggregate: the driver fills every field
  int layers;                       // L
  const int* units;                 // n[0..L]
  const int* activation;            // g[1..L] as KernelActivation (index 0 unused)
  T leaky_slope;
  const T* params;
  const std::size_t* weight_offset;  // [l], l = 1..L
  T* work;
  const std::size_t* Z;              // [l], l = 1..L
  const std::size_t* A;              // [l], l = 0..L
  const std::size_t* dZ;             // [l], l = 1..L
  const std::size_t* mask;           // [l]: inverted-dropout keep scales of hidden layer l, or no_mask
  std::size_t E;                     // e^-|Z[L]| (sigmoid output, for the cost), or no_mask
  std::size_t ld;
  std::size_t m;                     // real examples (columns < m)
};

// The examples are processed in chunks of at most small_net_chunk columns,
// as even as multiples of the type's column granularity allow (the last one
// may be shorter): 400 examples are two chunks of 200 in double (multiples of
// 8) and 208 + 192 in float (multiples of 16), not 256 and 144, so two
// threads share them evenly. The layout depends on ld and the type alone;
// each chunk's parameter-gradient sums are kept apart and added in chunk
// order, so results never depend on which thread ran a chunk.
inline constexpr std::size_t small_net_columns = 16;  // the widest vector of float, a multiple of every granularity
inline constexpr std::size_t small_net_chunk = 256;   // a multiple of small_net_columns
// Columns come in multiples of the widest vector of T: 16 floats, 8 doubles.
template <typename T>
inline constexpr std::size_t small_net_granularity = 64 / sizeof(T);

struct SmallNetChunks {
  std::size_t count = 0, width = 0;  // chunk c is columns [c width, min(ld, (c + 1) width))
};
// ld: a multiple of granularity (small_net_granularity<T>).
inline SmallNetChunks small_net_chunks(std::size_t ld, std::size_t granularity) {
  SmallNetChunks chunks;
  chunks.count = (ld + small_net_chunk - 1) / small_net_chunk;
  if (chunks.count == 0) return chunks;
  const std::size_t even = (ld + chunks.count - 1) / chunks.count;
  chunks.width = (even + granularity - 1) / granularity * granularity;
  chunks.count = (ld + chunks.width - 1) / chunks.width;  // rounding up may leave one fewer
  return chunks;
}

// Targets Y and example weights are read where the caller keeps them: Y(i, j)
// at Y[i + j * y_stride] (column-major), weights[j] (m values, or null).
template <typename T>
struct SmallNetKernels {
  // Z[l] = W[l] A[l-1] + b[l], A[l] = g[l](Z[l]) (times the dropout mask) for
  // l = 1..L, columns [j0, j1) (multiples of small_net_granularity<T>, j1 <= ld).
  void (*forward)(const SmallNetPass<T>& pass, std::size_t j0, std::size_t j1);
  // For columns [j0, j1): dZ[L] = (A[L] - Y) w (zero in the padding), then for
  // l = L..1 the sums over these columns
  //   sum_dW[l](i, k) = sum_j dZ[l](i, j) A[l-1](k, j),  sum_db[l](i) = sum_j dZ[l](i, j)
  // written (not added) into `sums` in the layout of the parameter buffer, and
  // dZ[l-1] = (W[l]^T dZ[l]) * g'[l-1] (masked) for l > 1. When dA0 is
  // non-null it receives W[1]^T dZ[1] (n[0] rows, stride ld).
  void (*backward)(const SmallNetPass<T>& pass, const T* Y, std::size_t y_stride, const T* weights, T* sums,
                   T* dA0, std::size_t j0, std::size_t j1);
  // Sum over columns [j0, j1) (j < m only) of w_j times the loss of example j,
  // from Z[L], in double (the formulas of loss.cpp).
  double (*loss_sum)(const SmallNetPass<T>& pass, int output, const T* Y, std::size_t y_stride, const T* weights,
                     std::size_t j0, std::size_t j1);
};

// Array kernels: `blocks` whole vectors of the kernel set's width.
template <typename T>
using ArrayKernel = void (*)(const T* x, T* y, std::size_t blocks);

struct KernelSet {
  const char* name;          // "avx512", "avx2", "portable"
  std::size_t width_double;  // elements per vector
  std::size_t width_float;
  bool (*supported)();
  ArrayKernel<double> tanh_double, exp_double, sigmoid_double, log1p_double;
  ArrayKernel<float> tanh_float, exp_float, sigmoid_float, log1p_float;
  SmallNetKernels<double> small_double;
  SmallNetKernels<float> small_float;
};

// Defined by kernels_*.cpp (the AVX ones with DEEPNET_KERNELS_X86).
#ifdef DEEPNET_KERNELS_X86
extern const KernelSet avx512_kernels;
extern const KernelSet avx2_kernels;
#endif
extern const KernelSet portable_kernels;

// The kernel set of the current vmath backend (vmath_set_backend), or null
// when that backend is not one of deepnet's own (libmvec, scalar): the small-
// net path is then not taken. Defined in vmath.cpp.
const KernelSet* active_kernels();

}  // namespace deepnet::detail
