// The single-example predictor's portable kernels (predictor_kernels.hpp):
// plain loops over the same packed layout, for any CPU (the compiler
// vectorises them for the build's baseline). CMakeLists.txt compiles this
// file with -ffp-contract=off, so each step is a product then a sum (two
// roundings) even in a -march=native build: the reference the tests check
// the other kernels against, bit for bit, is written the same way.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/predictor_kernels.hpp"

namespace deepnet::detail {
namespace {

constexpr int float_panel = 16;
constexpr int double_panel = 8;

template <typename T>
T activate(T z, Fused fused, T slope) {
  if (fused == Fused::relu) return z > T(0) ? z : T(0);
  if (fused == Fused::leaky_relu) return z > T(0) ? z : slope * z;
  return z;
}

// The float a bfloat16 is the high half of.
float widen(std::uint16_t bits) {
  const std::uint32_t word = static_cast<std::uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &word, sizeof value);
  return value;
}

// One tile of `g` panels of P rows.
template <typename T, int P>
void dense_tile(const T* w, const T* bias, const T* x, T* z, int inputs, int g, Fused fused, T slope) {
  constexpr int max_rows = dense_tile_panels * P;
  T acc[max_rows] = {};
  const int rows = g * P;
  for (int k = 0; k < inputs; ++k, w += rows) {
    const T xk = x[k];
    for (int r = 0; r < rows; ++r) acc[r] += w[r] * xk;
  }
  for (int r = 0; r < rows; ++r) z[r] = activate(acc[r] + bias[r], fused, slope);
}

template <typename T, int P>
void dense_panels(const T* w, const T* bias, const T* x, T* z, int inputs, int panels, Fused fused, T slope) {
  while (panels > 0) {
    const int g = panels < dense_tile_panels ? panels : dense_tile_panels;
    dense_tile<T, P>(w, bias, x, z, inputs, g, fused, slope);
    w += static_cast<std::ptrdiff_t>(g) * P * inputs;
    bias += g * P;
    z += g * P;
    panels -= g;
  }
}

// bfloat16 weights: per input pair and panel, 2P values in groups of 8: rows
// 4j..4j+3 of input k, then the same rows of input k + 1.
void bfloat16_tile(const std::uint16_t* w, const float* bias, const float* x, float* z, int inputs, int g,
                   Fused fused, float slope) {
  constexpr int P = float_panel;
  float acc[bfloat16_tile_panels * P] = {};
  const int rows = g * P;
  for (int k = 0; k < inputs; k += 2, w += 2 * rows) {
    for (int panel = 0; panel < g; ++panel) {
      const std::uint16_t* v = w + 2 * P * panel;
      float* a = acc + P * panel;
      for (int r = 0; r < P; ++r) a[r] += widen(v[8 * (r / 4) + r % 4]) * x[k];
      if (k + 1 < inputs)
        for (int r = 0; r < P; ++r) a[r] += widen(v[8 * (r / 4) + 4 + r % 4]) * x[k + 1];
    }
  }
  for (int r = 0; r < rows; ++r) z[r] = activate(acc[r] + bias[r], fused, slope);
}

void bfloat16_panels(const std::uint16_t* w, const float* bias, const float* x, float* z, int inputs, int panels,
                     Fused fused, float slope) {
  const std::ptrdiff_t padded_inputs = inputs + inputs % 2;
  while (panels > 0) {
    const int g = panels < bfloat16_tile_panels ? panels : bfloat16_tile_panels;
    bfloat16_tile(w, bias, x, z, inputs, g, fused, slope);
    w += g * float_panel * padded_inputs;
    bias += g * float_panel;
    z += g * float_panel;
    panels -= g;
  }
}

}  // namespace

const PredictorKernels predictor_kernels_portable{"portable", float_panel, double_panel,
                                                  dense_panels<float, float_panel>, bfloat16_panels,
                                                  dense_panels<double, double_panel>};

}  // namespace deepnet::detail
