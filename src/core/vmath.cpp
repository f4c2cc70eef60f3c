// Vectorised exp, tanh, sigmoid and log1p: deepnet's own kernels
// (kernels.hpp: AVX-512, AVX2 or the portable baseline, chosen at run time for
// the CPU), or, when asked for by name, glibc's libmvec or scalar std::.
// See vmath.hpp for the guarantees.
//
// Build: the library must link libmvec on x86-64 glibc (CMakeLists.txt):
//   find_library(DEEPNET_MVEC_LIBRARY mvec)
//   if(DEEPNET_MVEC_LIBRARY)
//     target_link_libraries(deepnet PRIVATE ${DEEPNET_MVEC_LIBRARY})
//   else()
//     set_source_files_properties(src/core/vmath.cpp
//                                 PROPERTIES COMPILE_DEFINITIONS DEEPNET_NO_LIBMVEC)
//   endif()
// (glibc's libm.so linker script pulls libmvec in AS_NEEDED, so a shared link
// works without it; a static link needs -lmvec.)
//
// The file is compiled for baseline x86-64. Only the small libmvec wrappers
// below are compiled for AVX-512 / AVX2 (target attributes), and they hold
// nothing but intrinsics and the libmvec call: no inline function or template
// shared with other files is ever compiled for a wider ISA than the build's.
#include "deepnet/vmath.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <string_view>

#include "core/kernels.hpp"

// libmvec's tanh variants arrived in glibc 2.35 (exp in 2.22).
#if defined(__x86_64__) && defined(__GLIBC__) && !defined(DEEPNET_NO_LIBMVEC)
#if __GLIBC_PREREQ(2, 35)
#define DEEPNET_VMATH_LIBMVEC 1
#endif
#endif

#ifdef DEEPNET_VMATH_LIBMVEC
#include <immintrin.h>
#endif

namespace deepnet {

namespace detail {
namespace {

using ::deepnet::detail::ArrayKernel;

constexpr std::size_t max_width = 16;  // floats in a 512-bit vector

// --- scalar: std:: element by element, width 1
template <typename T>
void tanh_scalar(const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
template <typename T>
void exp_scalar(const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}
template <typename T>
void log1p_scalar(const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = std::log1p(x[i]);
}
bool always() { return true; }

// libmvec and scalar sets have no sigmoid kernel (vsigmoid builds it from
// exp) and no small-net kernels (the small-net path needs deepnet's own).
constexpr KernelSet scalar_backend{"scalar", 1, 1, always,
                                   tanh_scalar<double>, exp_scalar<double>, nullptr, log1p_scalar<double>,
                                   tanh_scalar<float>, exp_scalar<float>, nullptr, log1p_scalar<float>,
                                   {}, {}};
#ifdef DEEPNET_VMATH_LIBMVEC

// glibc's vector variants, named by the x86-64 vector function ABI:
// _ZGV <isa: b SSE, d AVX2, e AVX-512> N <lanes> v _ <function>. The target
// attributes give the ABI of their vector arguments (Clang insists).
#define DEEPNET_AVX2 __attribute__((target("avx2,fma")))
#define DEEPNET_AVX512 __attribute__((target("avx512f")))
extern "C" {
__m128d _ZGVbN2v_tanh(__m128d);
__m128d _ZGVbN2v_exp(__m128d);
__m128d _ZGVbN2v_log1p(__m128d);
__m128 _ZGVbN4v_tanhf(__m128);
__m128 _ZGVbN4v_expf(__m128);
__m128 _ZGVbN4v_log1pf(__m128);
DEEPNET_AVX2 __m256d _ZGVdN4v_tanh(__m256d);
DEEPNET_AVX2 __m256d _ZGVdN4v_exp(__m256d);
DEEPNET_AVX2 __m256d _ZGVdN4v_log1p(__m256d);
DEEPNET_AVX2 __m256 _ZGVdN8v_tanhf(__m256);
DEEPNET_AVX2 __m256 _ZGVdN8v_expf(__m256);
DEEPNET_AVX2 __m256 _ZGVdN8v_log1pf(__m256);
DEEPNET_AVX512 __m512d _ZGVeN8v_tanh(__m512d);
DEEPNET_AVX512 __m512d _ZGVeN8v_exp(__m512d);
DEEPNET_AVX512 __m512d _ZGVeN8v_log1p(__m512d);
DEEPNET_AVX512 __m512 _ZGVeN16v_tanhf(__m512);
DEEPNET_AVX512 __m512 _ZGVeN16v_expf(__m512);
DEEPNET_AVX512 __m512 _ZGVeN16v_log1pf(__m512);
}
#undef DEEPNET_AVX2
#undef DEEPNET_AVX512

// Load, call, store, for each block; unaligned loads and stores.
#define DEEPNET_VMATH_KERNEL(NAME, ISA, T, WIDTH, LOAD, STORE, FN)                \
  __attribute__((target(ISA))) void NAME(const T* x, T* y, std::size_t blocks) { \
    for (std::size_t b = 0; b < blocks; ++b, x += WIDTH, y += WIDTH)             \
      STORE(y, FN(LOAD(x)));                                                     \
  }

DEEPNET_VMATH_KERNEL(tanh_sse_d, "sse2", double, 2, _mm_loadu_pd, _mm_storeu_pd, _ZGVbN2v_tanh)
DEEPNET_VMATH_KERNEL(exp_sse_d, "sse2", double, 2, _mm_loadu_pd, _mm_storeu_pd, _ZGVbN2v_exp)
DEEPNET_VMATH_KERNEL(log1p_sse_d, "sse2", double, 2, _mm_loadu_pd, _mm_storeu_pd, _ZGVbN2v_log1p)
DEEPNET_VMATH_KERNEL(log1p_sse_f, "sse2", float, 4, _mm_loadu_ps, _mm_storeu_ps, _ZGVbN4v_log1pf)
DEEPNET_VMATH_KERNEL(log1p_avx2_d, "avx2,fma", double, 4, _mm256_loadu_pd, _mm256_storeu_pd,
                     _ZGVdN4v_log1p)
DEEPNET_VMATH_KERNEL(log1p_avx2_f, "avx2,fma", float, 8, _mm256_loadu_ps, _mm256_storeu_ps,
                     _ZGVdN8v_log1pf)
DEEPNET_VMATH_KERNEL(log1p_avx512_d, "avx512f", double, 8, _mm512_loadu_pd, _mm512_storeu_pd,
                     _ZGVeN8v_log1p)
DEEPNET_VMATH_KERNEL(log1p_avx512_f, "avx512f", float, 16, _mm512_loadu_ps, _mm512_storeu_ps,
                     _ZGVeN16v_log1pf)
DEEPNET_VMATH_KERNEL(tanh_sse_f, "sse2", float, 4, _mm_loadu_ps, _mm_storeu_ps, _ZGVbN4v_tanhf)
DEEPNET_VMATH_KERNEL(exp_sse_f, "sse2", float, 4, _mm_loadu_ps, _mm_storeu_ps, _ZGVbN4v_expf)
DEEPNET_VMATH_KERNEL(tanh_avx2_d, "avx2,fma", double, 4, _mm256_loadu_pd, _mm256_storeu_pd,
                     _ZGVdN4v_tanh)
DEEPNET_VMATH_KERNEL(exp_avx2_d, "avx2,fma", double, 4, _mm256_loadu_pd, _mm256_storeu_pd,
                     _ZGVdN4v_exp)
DEEPNET_VMATH_KERNEL(tanh_avx2_f, "avx2,fma", float, 8, _mm256_loadu_ps, _mm256_storeu_ps,
                     _ZGVdN8v_tanhf)
DEEPNET_VMATH_KERNEL(exp_avx2_f, "avx2,fma", float, 8, _mm256_loadu_ps, _mm256_storeu_ps,
                     _ZGVdN8v_expf)
DEEPNET_VMATH_KERNEL(tanh_avx512_d, "avx512f", double, 8, _mm512_loadu_pd, _mm512_storeu_pd,
                     _ZGVeN8v_tanh)
DEEPNET_VMATH_KERNEL(exp_avx512_d, "avx512f", double, 8, _mm512_loadu_pd, _mm512_storeu_pd,
                     _ZGVeN8v_exp)
DEEPNET_VMATH_KERNEL(tanh_avx512_f, "avx512f", float, 16, _mm512_loadu_ps, _mm512_storeu_ps,
                     _ZGVeN16v_tanhf)
DEEPNET_VMATH_KERNEL(exp_avx512_f, "avx512f", float, 16, _mm512_loadu_ps, _mm512_storeu_ps,
                     _ZGVeN16v_expf)

#undef DEEPNET_VMATH_KERNEL

// __builtin_cpu_supports also checks that the OS saves the wide registers.
// The AVX-512 variants need AVX512DQ for glibc's own AVX-512 code (without it
// glibc runs them as two AVX2 halves), so ask for it here too.
bool has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
}
bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

constexpr KernelSet libmvec_avx512{"libmvec avx512", 8, 16, has_avx512,
                                   tanh_avx512_d, exp_avx512_d, nullptr, log1p_avx512_d,
                                   tanh_avx512_f, exp_avx512_f, nullptr, log1p_avx512_f, {}, {}};
constexpr KernelSet libmvec_avx2{"libmvec avx2", 4, 8, has_avx2,
                                 tanh_avx2_d, exp_avx2_d, nullptr, log1p_avx2_d,
                                 tanh_avx2_f, exp_avx2_f, nullptr, log1p_avx2_f, {}, {}};
constexpr KernelSet libmvec_sse{"libmvec sse", 2, 4, always,
                                tanh_sse_d, exp_sse_d, nullptr, log1p_sse_d,
                                tanh_sse_f, exp_sse_f, nullptr, log1p_sse_f, {}, {}};
#endif

// Best first: the first one this CPU runs is the default. libmvec's and the
// scalar set are only used when asked for by name.
const KernelSet* const backends[] = {
#ifdef DEEPNET_KERNELS_X86
    &avx512_kernels, &avx2_kernels,
#endif
    &portable_kernels,
#ifdef DEEPNET_VMATH_LIBMVEC
    &libmvec_avx512, &libmvec_avx2, &libmvec_sse,
#endif
    &scalar_backend};

const KernelSet* detect() {
  for (const KernelSet* b : backends)
    if (b->supported()) return b;
  return &portable_kernels;
}

std::atomic<const KernelSet*> forced{nullptr};  // set by vmath_set_backend

const KernelSet& backend() {
  if (const KernelSet* b = forced.load(std::memory_order_acquire)) return *b;
  static const KernelSet* const detected = detect();  // thread-safe, once
  return *detected;
}

// y = f(x) for n elements: whole vectors in place, then the tail through one
// zero-padded vector of the same kernel, so every element is computed the same
// way whatever n and its position (0 is on every function's fast path).
template <typename T>
void apply(ArrayKernel<T> kernel, std::size_t width, const T* x, T* y, std::size_t n) {
  const std::size_t blocks = n / width;
  if (blocks > 0) kernel(x, y, blocks);
  const std::size_t done = blocks * width;
  if (done == n) return;
  alignas(64) T lane[max_width] = {};
  std::copy(x + done, x + n, lane);
  kernel(lane, lane, 1);
  std::copy(lane, lane + (n - done), y + done);
}

// sigmoid from e = exp(-|x|) in chunks on the stack, for the sets without a
// sigmoid kernel; y may alias x because each x[i] is read before y[i] is
// written. Chunks are whole vectors, so the exp of each element does not
// depend on where the chunks fall. (The own kernels' sigmoid does the same
// operations in registers.)
template <typename T>
void sigmoid(ArrayKernel<T> exp_kernel, std::size_t width, const T* x, T* y, std::size_t n) {
  constexpr std::size_t chunk = 256;
  alignas(64) T e[chunk];
  for (std::size_t start = 0; start < n; start += chunk) {
    const std::size_t m = std::min(chunk, n - start);
    const T* xs = x + start;
    T* ys = y + start;
    for (std::size_t i = 0; i < m; ++i) e[i] = -std::abs(xs[i]);
    apply(exp_kernel, width, e, e, m);
    for (std::size_t i = 0; i < m; ++i) {
      const T numerator = xs[i] >= T(0) ? T(1) : e[i];  // one division per element
      ys[i] = numerator / (T(1) + e[i]);
    }
  }
}

}  // namespace

const KernelSet* active_kernels() {
  const KernelSet& b = backend();
  return b.small_double.forward ? &b : nullptr;
}

}  // namespace detail

using detail::apply;
using detail::backend;

void vtanh(const double* x, double* y, std::size_t n) {
  const auto& b = backend();
  apply(b.tanh_double, b.width_double, x, y, n);
}

void vtanh(const float* x, float* y, std::size_t n) {
  const auto& b = backend();
  apply(b.tanh_float, b.width_float, x, y, n);
}

void vexp(const double* x, double* y, std::size_t n) {
  const auto& b = backend();
  apply(b.exp_double, b.width_double, x, y, n);
}

void vexp(const float* x, float* y, std::size_t n) {
  const auto& b = backend();
  apply(b.exp_float, b.width_float, x, y, n);
}

void vsigmoid(const double* x, double* y, std::size_t n) {
  const auto& b = backend();
  if (b.sigmoid_double) apply(b.sigmoid_double, b.width_double, x, y, n);
  else detail::sigmoid(b.exp_double, b.width_double, x, y, n);
}

void vsigmoid(const float* x, float* y, std::size_t n) {
  const auto& b = backend();
  if (b.sigmoid_float) apply(b.sigmoid_float, b.width_float, x, y, n);
  else detail::sigmoid(b.exp_float, b.width_float, x, y, n);
}

void vlog1p(const double* x, double* y, std::size_t n) {
  const auto& b = backend();
  apply(b.log1p_double, b.width_double, x, y, n);
}

void vlog1p(const float* x, float* y, std::size_t n) {
  const auto& b = backend();
  apply(b.log1p_float, b.width_float, x, y, n);
}

const char* vmath_backend() { return backend().name; }

bool vmath_set_backend(std::string_view name) {
  if (name == "auto") {
    detail::forced.store(nullptr, std::memory_order_release);
    return true;
  }
  for (const detail::KernelSet* b : detail::backends)
    if (name == b->name && b->supported()) {
      detail::forced.store(b, std::memory_order_release);
      return true;
    }
  return false;
}

}  // namespace deepnet
