// deepnet's vector kernels (kernels.hpp) for the build's baseline (SSE2 on
// x86-64, 16-byte vectors): no target attribute and no FMA, so they run on
// any CPU the library runs on. The fallback when the CPU has neither AVX-512
// nor AVX2, and what tests force to check that path (vmath_set_backend("portable")).
#include "core/kernels.hpp"

#define DEEPNET_KERNEL_TARGET
#define DEEPNET_VECTOR_BYTES 16
#define DEEPNET_FMA_D(a, b, c) ((a) * (b) + (c))
#define DEEPNET_FMA_F(a, b, c) ((a) * (b) + (c))
#define DEEPNET_ANY_D(mask) deepnet::detail::portable_impl::any_lane(mask)
#define DEEPNET_ANY_F(mask) deepnet::detail::portable_impl::any_lane(mask)

namespace deepnet::detail {
namespace portable_impl {
template <typename M>
inline bool any_lane(M mask) {
  bool any = false;
  for (std::size_t i = 0; i < sizeof(M) / sizeof(mask[0]); ++i) any = any || mask[i] != 0;
  return any;
}
#include "core/vmath_kernels.inc"
#include "core/small_net_kernels.inc"

bool supported() { return true; }
}  // namespace portable_impl

#define DEEPNET_KERNEL_SET portable_kernels
#define DEEPNET_KERNEL_IMPL portable_impl
#define DEEPNET_KERNEL_NAME "portable"
#define DEEPNET_KERNEL_SUPPORTED portable_impl::supported
#include "core/kernels_table.inc"

}  // namespace deepnet::detail
