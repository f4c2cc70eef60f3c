// The single-example predictor's AVX-512 kernels (predictor_kernels.hpp).
// CMakeLists.txt compiles this file alone with -mavx512f -mavx512bw on
// x86-64; predictor.cpp calls the table only on a CPU that has both. Nothing
// here has external linkage but the table, which is constant data.
#include <cstddef>
#include <cstdint>

#include "core/predictor_kernels.hpp"

#if defined(__AVX512F__) && defined(__AVX512BW__)
#include <immintrin.h>

namespace deepnet::detail {
namespace {

struct F32 {
  using T = float;
  using V = __m512;
  static constexpr int P = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static V broadcast(T value) { return _mm512_set1_ps(value); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V relu(V z) { return _mm512_max_ps(z, _mm512_setzero_ps()); }  // NaN -> 0, like z > 0 ? z : 0
  static V leaky(V z, V slope) {
    const __mmask16 positive = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_GT_OQ);
    return _mm512_mask_blend_ps(positive, _mm512_mul_ps(slope, z), z);
  }
  static void store(T* p, V value) { _mm512_storeu_ps(p, value); }
  // A bfloat16 in the high half of a 32-bit lane is that float exactly.
  static void widen(const std::uint16_t* p, V& k0, V& k1) {
    const __m512i packed = _mm512_loadu_si512(p);
    const __m512i zero = _mm512_setzero_si512();
    k0 = _mm512_castsi512_ps(_mm512_unpacklo_epi16(zero, packed));
    k1 = _mm512_castsi512_ps(_mm512_unpackhi_epi16(zero, packed));
  }
};

struct F64 {
  using T = double;
  using V = __m512d;
  static constexpr int P = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static V broadcast(T value) { return _mm512_set1_pd(value); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V relu(V z) { return _mm512_max_pd(z, _mm512_setzero_pd()); }
  static V leaky(V z, V slope) {
    const __mmask8 positive = _mm512_cmp_pd_mask(z, _mm512_setzero_pd(), _CMP_GT_OQ);
    return _mm512_mask_blend_pd(positive, _mm512_mul_pd(slope, z), z);
  }
  static void store(T* p, V value) { _mm512_storeu_pd(p, value); }
};

#include "core/predictor_simd.inl"

}  // namespace

const PredictorKernels predictor_kernels_avx512{"avx512", F32::P, F64::P, dense_panels<F32>, bfloat16_panels<F32>,
                                                dense_panels<F64>};

}  // namespace deepnet::detail

#else

namespace deepnet::detail {
const PredictorKernels predictor_kernels_avx512{"avx512", 16, 8, nullptr, nullptr, nullptr};
}  // namespace deepnet::detail

#endif
