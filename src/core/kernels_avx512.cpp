// deepnet's vector kernels (kernels.hpp) for AVX-512 (F and DQ, with FMA):
// every function carries the target attribute, and the set is used only on
// a CPU that reports these features (vmath.cpp). Nothing else is compiled
// here, so no code of a wider instruction set can reach baseline callers.
#include "core/kernels.hpp"

#ifdef DEEPNET_KERNELS_X86
#include <immintrin.h>

#define DEEPNET_KERNEL_TARGET __attribute__((target("avx512f,avx512dq,fma")))
#define DEEPNET_VECTOR_BYTES 64
#define DEEPNET_FMA_D(a, b, c) _mm512_fmadd_pd(a, b, c)
#define DEEPNET_FMA_F(a, b, c) _mm512_fmadd_ps(a, b, c)
#define DEEPNET_ANY_D(mask) (_mm512_test_epi64_mask((__m512i)(mask), (__m512i)(mask)) != 0)
#define DEEPNET_ANY_F(mask) (_mm512_test_epi32_mask((__m512i)(mask), (__m512i)(mask)) != 0)
#define DEEPNET_PERMUTE16_D(lo8, hi8, index) ((vd)_mm512_permutex2var_pd((lo8), (__m512i)(index), (hi8)))

namespace deepnet::detail {
namespace avx512_impl {
#include "core/vmath_kernels.inc"
#include "core/small_net_kernels.inc"

// __builtin_cpu_supports also checks that the OS saves the wide registers.
bool supported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("fma");
}
}  // namespace avx512_impl

#define DEEPNET_KERNEL_SET avx512_kernels
#define DEEPNET_KERNEL_IMPL avx512_impl
#define DEEPNET_KERNEL_NAME "avx512"
#define DEEPNET_KERNEL_SUPPORTED avx512_impl::supported
#include "core/kernels_table.inc"

}  // namespace deepnet::detail
#endif
