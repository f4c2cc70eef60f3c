// deepnet's vector kernels (kernels.hpp) for AVX2 with FMA: every function
// carries the target attribute, and the set is used only on a CPU that
// reports these features (vmath.cpp).
#include "core/kernels.hpp"

#ifdef DEEPNET_KERNELS_X86
#include <immintrin.h>

#define DEEPNET_KERNEL_TARGET __attribute__((target("avx2,fma")))
#define DEEPNET_VECTOR_BYTES 32
#define DEEPNET_FMA_D(a, b, c) _mm256_fmadd_pd(a, b, c)
#define DEEPNET_FMA_F(a, b, c) _mm256_fmadd_ps(a, b, c)
#define DEEPNET_ANY_D(mask) (!_mm256_testz_si256((__m256i)(mask), (__m256i)(mask)))
#define DEEPNET_ANY_F(mask) (!_mm256_testz_si256((__m256i)(mask), (__m256i)(mask)))

namespace deepnet::detail {
namespace avx2_impl {
#include "core/vmath_kernels.inc"
#include "core/small_net_kernels.inc"

bool supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
}  // namespace avx2_impl

#define DEEPNET_KERNEL_SET avx2_kernels
#define DEEPNET_KERNEL_IMPL avx2_impl
#define DEEPNET_KERNEL_NAME "avx2"
#define DEEPNET_KERNEL_SUPPORTED avx2_impl::supported
#include "core/kernels_table.inc"

}  // namespace deepnet::detail
#endif
