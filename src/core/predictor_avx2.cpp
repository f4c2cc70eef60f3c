// The single-example predictor's AVX2 kernels (predictor_kernels.hpp).
// CMakeLists.txt compiles this file alone with -mavx2 -mfma on x86-64;
// predictor.cpp calls the table only on a CPU that has both. Nothing here has
// external linkage but the table, which is constant data.
#include <cstddef>
#include <cstdint>

#include "core/predictor_kernels.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

namespace deepnet::detail {
namespace {

struct F32 {
  using T = float;
  using V = __m256;
  static constexpr int P = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static V broadcast(T value) { return _mm256_set1_ps(value); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V relu(V z) { return _mm256_max_ps(z, _mm256_setzero_ps()); }  // NaN -> 0, like z > 0 ? z : 0
  static V leaky(V z, V slope) {
    const V positive = _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GT_OQ);
    return _mm256_blendv_ps(_mm256_mul_ps(slope, z), z, positive);
  }
  static void store(T* p, V value) { _mm256_storeu_ps(p, value); }
  // A bfloat16 in the high half of a 32-bit lane is that float exactly.
  static void widen(const std::uint16_t* p, V& k0, V& k1) {
    const __m256i packed = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i zero = _mm256_setzero_si256();
    k0 = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, packed));
    k1 = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, packed));
  }
};

struct F64 {
  using T = double;
  using V = __m256d;
  static constexpr int P = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V broadcast(T value) { return _mm256_set1_pd(value); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V relu(V z) { return _mm256_max_pd(z, _mm256_setzero_pd()); }
  static V leaky(V z, V slope) {
    const V positive = _mm256_cmp_pd(z, _mm256_setzero_pd(), _CMP_GT_OQ);
    return _mm256_blendv_pd(_mm256_mul_pd(slope, z), z, positive);
  }
  static void store(T* p, V value) { _mm256_storeu_pd(p, value); }
};

#include "core/predictor_simd.inl"

}  // namespace

const PredictorKernels predictor_kernels_avx2{"avx2", F32::P, F64::P, dense_panels<F32>, bfloat16_panels<F32>,
                                              dense_panels<F64>};

}  // namespace deepnet::detail

#else

namespace deepnet::detail {
const PredictorKernels predictor_kernels_avx2{"avx2", 8, 4, nullptr, nullptr, nullptr};
}  // namespace deepnet::detail

#endif
