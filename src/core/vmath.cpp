// Vectorised exp and tanh through glibc's libmvec, chosen at run time for the
// CPU, with a scalar fallback. See vmath.hpp for the guarantees.
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
// The file is compiled for baseline x86-64. Only the small kernels below are
// compiled for AVX-512 / AVX2 (target attributes), and they hold nothing but
// intrinsics and the libmvec call: no inline function or template shared with
// other files is ever compiled for a wider ISA than the build's.
#include "deepnet/vmath.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <string_view>

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
namespace {

// A kernel computes `blocks` whole vectors of its backend's width.
template <typename T>
using Kernel = void (*)(const T* x, T* y, std::size_t blocks);

struct Backend {
  const char* name;
  std::size_t width_double;  // elements per vector
  std::size_t width_float;
  Kernel<double> tanh_double;
  Kernel<double> exp_double;
  Kernel<float> tanh_float;
  Kernel<float> exp_float;
  bool (*supported)();
};

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
bool always() { return true; }

constexpr Backend scalar_backend{"scalar", 1, 1, tanh_scalar<double>, exp_scalar<double>,
                                 tanh_scalar<float>, exp_scalar<float>, always};

#ifdef DEEPNET_VMATH_LIBMVEC

// glibc's vector variants, named by the x86-64 vector function ABI:
// _ZGV <isa: b SSE, d AVX2, e AVX-512> N <lanes> v _ <function>. The target
// attributes give the ABI of their vector arguments (Clang insists).
#define DEEPNET_AVX2 __attribute__((target("avx2,fma")))
#define DEEPNET_AVX512 __attribute__((target("avx512f")))
extern "C" {
__m128d _ZGVbN2v_tanh(__m128d);
__m128d _ZGVbN2v_exp(__m128d);
__m128 _ZGVbN4v_tanhf(__m128);
__m128 _ZGVbN4v_expf(__m128);
DEEPNET_AVX2 __m256d _ZGVdN4v_tanh(__m256d);
DEEPNET_AVX2 __m256d _ZGVdN4v_exp(__m256d);
DEEPNET_AVX2 __m256 _ZGVdN8v_tanhf(__m256);
DEEPNET_AVX2 __m256 _ZGVdN8v_expf(__m256);
DEEPNET_AVX512 __m512d _ZGVeN8v_tanh(__m512d);
DEEPNET_AVX512 __m512d _ZGVeN8v_exp(__m512d);
DEEPNET_AVX512 __m512 _ZGVeN16v_tanhf(__m512);
DEEPNET_AVX512 __m512 _ZGVeN16v_expf(__m512);
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

constexpr Backend avx512_backend{"libmvec avx512", 8, 16, tanh_avx512_d, exp_avx512_d,
                                 tanh_avx512_f, exp_avx512_f, has_avx512};
constexpr Backend avx2_backend{"libmvec avx2", 4, 8, tanh_avx2_d, exp_avx2_d,
                               tanh_avx2_f, exp_avx2_f, has_avx2};
constexpr Backend sse_backend{"libmvec sse", 2, 4, tanh_sse_d, exp_sse_d,
                              tanh_sse_f, exp_sse_f, always};

constexpr const Backend* backends[] = {&avx512_backend, &avx2_backend, &sse_backend,
                                       &scalar_backend};
#else
constexpr const Backend* backends[] = {&scalar_backend};
#endif

// The first backend (best first) this CPU runs.
const Backend* detect() {
  for (const Backend* b : backends)
    if (b->supported()) return b;
  return &scalar_backend;
}

std::atomic<const Backend*> forced{nullptr};  // set by vmath_set_backend

const Backend& backend() {
  if (const Backend* b = forced.load(std::memory_order_acquire)) return *b;
  static const Backend* const detected = detect();  // thread-safe, once
  return *detected;
}

// y = f(x) for n elements: whole vectors in place, then the tail through one
// zero-padded vector of the same kernel, so every element is computed the same
// way whatever n and its position (0 is on every function's fast path).
template <typename T>
void apply(Kernel<T> kernel, std::size_t width, const T* x, T* y, std::size_t n) {
  const std::size_t blocks = n / width;
  if (blocks > 0) kernel(x, y, blocks);
  const std::size_t done = blocks * width;
  if (done == n) return;
  alignas(64) T lane[max_width] = {};
  std::copy(x + done, x + n, lane);
  kernel(lane, lane, 1);
  std::copy(lane, lane + (n - done), y + done);
}

// sigmoid from e = exp(-|x|) in chunks on the stack; y may alias x because
// each x[i] is read before y[i] is written. Chunks are whole vectors, so the
// exp of each element does not depend on where the chunks fall.
template <typename T>
void sigmoid(Kernel<T> exp_kernel, std::size_t width, const T* x, T* y, std::size_t n) {
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

void vtanh(const double* x, double* y, std::size_t n) {
  const Backend& b = backend();
  apply(b.tanh_double, b.width_double, x, y, n);
}

void vtanh(const float* x, float* y, std::size_t n) {
  const Backend& b = backend();
  apply(b.tanh_float, b.width_float, x, y, n);
}

void vexp(const double* x, double* y, std::size_t n) {
  const Backend& b = backend();
  apply(b.exp_double, b.width_double, x, y, n);
}

void vexp(const float* x, float* y, std::size_t n) {
  const Backend& b = backend();
  apply(b.exp_float, b.width_float, x, y, n);
}

void vsigmoid(const double* x, double* y, std::size_t n) {
  const Backend& b = backend();
  sigmoid(b.exp_double, b.width_double, x, y, n);
}

void vsigmoid(const float* x, float* y, std::size_t n) {
  const Backend& b = backend();
  sigmoid(b.exp_float, b.width_float, x, y, n);
}

const char* vmath_backend() { return backend().name; }

bool vmath_set_backend(std::string_view name) {
  if (name == "auto") {
    forced.store(nullptr, std::memory_order_release);
    return true;
  }
  for (const Backend* b : backends)
    if (name == b->name && b->supported()) {
      forced.store(b, std::memory_order_release);
      return true;
    }
  return false;
}

}  // namespace deepnet
