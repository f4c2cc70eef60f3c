// deepnet's double product for AVX2 + FMA (dgemm.hpp): tiles of 8 x 6, 12 of
// the 16 vector registers accumulating. Compiled with -mavx2 -mfma
// (CMakeLists.txt) and called only when the CPU has both (gemm.cpp); without
// DEEPNET_DGEMM_SIMD (a build for another architecture) the file is empty.
#ifdef DEEPNET_DGEMM_SIMD
#include <immintrin.h>

#include "core/dgemm_kernel.hpp"

namespace deepnet::detail {
namespace {

struct Avx2 {
  using type = __m256d;
  static constexpr int width = 4;
  static type zero() { return _mm256_setzero_pd(); }
  static type load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, type v) { _mm256_storeu_pd(p, v); }
  static type broadcast(double x) { return _mm256_set1_pd(x); }
  static type fma(type a, type b, type c) { return _mm256_fmadd_pd(a, b, c); }
  static type mul(type a, type b) { return _mm256_mul_pd(a, b); }
  // The first `count` lanes (none for count <= 0, all from `width` on):
  // lane i is taken when i < count (maskload/maskstore read the sign bit).
  using mask = __m256i;
  static mask first(Index count) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), _mm256_set_epi64x(3, 2, 1, 0));
  }
  // Each mask would hold a vector register of the 16 (and vmaskmovpd stores
  // are slow on AMD): op(A) is always packed.
  static constexpr bool masked_loads_are_cheap = false;
  static type load_masked(const double* p, mask m) { return _mm256_maskload_pd(p, m); }
  static type load_first(const double* p, Index count) {
    return count >= width ? load(p) : load_masked(p, first(count));
  }
  static void store_first(double* p, type v, Index count) {
    if (count >= width) _mm256_storeu_pd(p, v);
    else _mm256_maskstore_pd(p, first(count), v);
  }
};

}  // namespace

void dgemm_avx2(const DgemmCall& call, double* workspace) {
  blocked_product<Avx2, 2, 6>(call, workspace);
}

}  // namespace deepnet::detail
#endif
