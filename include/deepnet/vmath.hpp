#pragma once
// Vectorised exp, tanh, sigmoid and log1p over contiguous arrays, for the
// activation functions and the costs.
//
// Backends: deepnet's own kernels (src/core/vmath_kernels.inc) compiled for
// AVX-512 ("avx512"), AVX2 with FMA ("avx2") and the build's baseline
// ("portable", SSE2 on x86-64, 16-byte vectors without FMA); the widest one
// the CPU runs is picked once, at the first call. For comparison, on x86-64
// with glibc >= 2.35 glibc's libmvec ("libmvec avx512", "libmvec avx2",
// "libmvec sse") and std:: element by element ("scalar") can be chosen by name.
// The own kernels also carry the small-net path of Network (network.hpp),
// which runs only while one of them is the backend.
//
// Accuracy: every backend is tested to libmvec's criterion, a 4-ulp maximum
// error in round-to-nearest (std:: is within 1-2 ulp; the own kernels'
// measured errors are in docs/performance.md), so results can differ from
// std::tanh / std::exp in the last bits, and between backends (an AVX2 machine
// and an AVX-512 machine give different bits). For a given backend every
// element is computed by the same vector function: the result for x[i] does
// not depend on n, on i, or on the neighbouring elements, and two calls give
// the same bits. NaN, +-inf and +-0 behave like std:: (tanh(+-inf) = +-1,
// exp(-inf) = 0, exp(x) = inf past the overflow threshold, log1p(-1) = -inf,
// log1p(x < -1) = NaN, NaN -> NaN).
//
// y may equal x (in place); otherwise the arrays must not overlap.
#include <cstddef>
#include <string_view>

namespace deepnet {

// y[i] = tanh(x[i]), i < n
void vtanh(const double* x, double* y, std::size_t n);
void vtanh(const float* x, float* y, std::size_t n);

// y[i] = 1 / (1 + exp(-x[i])), computed from e = exp(-|x|) as 1 / (1 + e) for
// x >= 0 and e / (1 + e) below, so it never overflows: 1 for large x, 0 (or a
// subnormal) for large negative x, never NaN for finite x.
void vsigmoid(const double* x, double* y, std::size_t n);
void vsigmoid(const float* x, float* y, std::size_t n);

// y[i] = exp(x[i]), i < n
void vexp(const double* x, double* y, std::size_t n);
void vexp(const float* x, float* y, std::size_t n);

// y[i] = log(1 + x[i]), i < n
void vlog1p(const double* x, double* y, std::size_t n);
void vlog1p(const float* x, float* y, std::size_t n);

// The backend in use: "avx512", "avx2", "portable", "libmvec avx512",
// "libmvec avx2", "libmvec sse" or "scalar".
const char* vmath_backend();

// For tests and benchmarks: use the backend with this name from now on, or
// "auto" for the CPU's best again. Returns false (and changes nothing) when
// this build or CPU cannot run it. Not meant to be called while another
// thread is inside a vmath function or a Network pass.
bool vmath_set_backend(std::string_view name);

}  // namespace deepnet
