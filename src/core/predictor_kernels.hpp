#pragma once
// The matrix-vector kernels of the single-example predictor
// (deepnet/predictor.hpp), one table per instruction set. Private to core.
//
// Packed layout (written by src/core/predictor.cpp, read by the kernels).
// A layer's rows are cut into panels of P rows (P = one vector register of
// the kernel: 16 floats or 8 doubles for AVX-512, 8 / 4 for AVX2, 16 / 8 for
// the portable kernel) and panels into tiles of up to tile_panels(bfloat16)
// panels; the rows past n[l] in the last panel are zero. Tiles follow each other; inside a
// tile (g panels, g <= tile_panels):
//   float / double: for k = 0..n[l-1]-1: for each panel: the P values W(row, k)
//   bfloat16:       for each pair k, k+1 (k even; the last pair of an odd
//                   n[l-1] has zeros for k+1): for each panel: 2P bfloat16 in
//                   groups of 8 (one 128-bit lane each): group j holds
//                   W(4j..4j+3, k) then W(4j..4j+3, k+1) of the panel's rows.
// So a tile is read front to back once, and its start is
//   (first panel) * P * n[l-1] values (float/double), or
//   (first panel) * P * 2 * ceil(n[l-1] / 2) bfloat16.
//
// Every kernel computes, for each row r of the panels it is given,
//   z[r] = (((W(r,0) x[0] + W(r,1) x[1]) + ...) + W(r,n-1) x[n-1]) + b[r]
// summed in that order starting from 0 (one product and sum per k: fused
// multiply-adds in the AVX-512 and AVX2 kernels, a product then a sum in the
// portable one), then the fused activation. So the AVX-512 and AVX2 kernels
// give the same bits, and a row's value does not depend on which thread or
// which call computes it.
#include <cstdint>

namespace deepnet::detail {

// Panels per tile: one accumulator each, all in flight together. 4 keep the
// float kernels fed by the cache; bfloat16 makes two dependent multiply-adds
// per input pair, and 8 accumulators hide their latency (measured: 4.0 us
// against 4.6 us for a 256 x 784 layer).
constexpr int dense_tile_panels = 4;
constexpr int bfloat16_tile_panels = 8;
constexpr int tile_panels(bool bfloat16) { return bfloat16 ? bfloat16_tile_panels : dense_tile_panels; }

// The activation applied in the kernel after the bias: none (the caller
// applies tanh, sigmoid or softmax afterwards), relu = max(z, 0), or
// leaky_relu = z > 0 ? z : slope z.
enum class Fused : int { none = 0, relu = 1, leaky_relu = 2 };

// Computes `panels` panels of rows starting at the beginning of a tile:
// weights points at that tile, bias and z at its first row (P * panels values
// each, z written in full). x: n[l-1] values; inputs = n[l-1].
template <typename T, typename W>
using PanelKernel = void (*)(const W* weights, const T* bias, const T* x, T* z, int inputs, int panels,
                             Fused fused, T slope);

struct PredictorKernels {
  const char* name;
  int panel_float;   // P for float and bfloat16 weights
  int panel_double;  // P for double weights
  // Null when this build cannot compile the kernel (not x86-64, or an old compiler).
  PanelKernel<float, float> float32;
  PanelKernel<float, std::uint16_t> bfloat16;
  PanelKernel<double, double> float64;
};

// Constant tables (no code runs to make them): the CPU check is the caller's.
extern const PredictorKernels predictor_kernels_avx512;  // needs avx512f, avx512bw
extern const PredictorKernels predictor_kernels_avx2;    // needs avx2, fma
extern const PredictorKernels predictor_kernels_portable;

}  // namespace deepnet::detail
