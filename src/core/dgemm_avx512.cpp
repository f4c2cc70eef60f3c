// deepnet's double product for AVX-512F + FMA (dgemm.hpp): tiles of 24 x 8,
// 24 of the 32 vector registers accumulating. Compiled with -mavx512f -mfma
// (CMakeLists.txt) and called only when the CPU has both (gemm.cpp); without
// DEEPNET_DGEMM_SIMD (a build for another architecture) the file is empty.
#ifdef DEEPNET_DGEMM_SIMD
#include <immintrin.h>

#include "core/dgemm_kernel.hpp"

namespace deepnet::detail {
namespace {

struct Avx512 {
  using type = __m512d;
  static constexpr int width = 8;
  static type zero() { return _mm512_setzero_pd(); }
  static type load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, type v) { _mm512_storeu_pd(p, v); }
  static type broadcast(double x) { return _mm512_set1_pd(x); }
  static type fma(type a, type b, type c) { return _mm512_fmadd_pd(a, b, c); }
  static type mul(type a, type b) { return _mm512_mul_pd(a, b); }
  // The first `count` lanes (none for count <= 0, all from `width` on).
  using mask = __mmask8;
  static mask first(Index count) {
    return static_cast<mask>(count >= width ? 0xff : count <= 0 ? 0 : (1u << count) - 1);
  }
  static constexpr bool masked_loads_are_cheap = true;  // a load like any other
  static type load_masked(const double* p, mask m) { return _mm512_maskz_loadu_pd(m, p); }
  static type load_first(const double* p, Index count) { return load_masked(p, first(count)); }
  static void store_first(double* p, type v, Index count) { _mm512_mask_storeu_pd(p, first(count), v); }
};

}  // namespace

void dgemm_avx512(const DgemmCall& call, double* workspace) {
  blocked_product<Avx512, 3, 8>(call, workspace);
}

}  // namespace deepnet::detail
#endif
