// Micro-benchmark of vmath.hpp against std:: element by element, in ns per
// element, on arrays of 1600 values (the planar net's hidden layer: 4 units x
// 400 examples), for every backend this CPU runs.
//
// Built as the CMake target vmath_bench (build/release/vmath_bench).
// Usage: vmath_bench [n]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "deepnet/vmath.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// Keeps the compiler from dropping or hoisting the work on p.
void escape(void* p) { asm volatile("" : : "g"(p) : "memory"); }

// Best of 9 trials of ~20 ms, in ns per element.
template <typename F>
double ns_per_element(std::size_t n, F&& step) {
  std::size_t reps = 1;
  for (;;) {  // calibrate
    const auto t0 = Clock::now();
    for (std::size_t r = 0; r < reps; ++r) step();
    if (Clock::now() - t0 > std::chrono::milliseconds(20)) break;
    reps *= 2;
  }
  double best = INFINITY;
  for (int trial = 0; trial < 9; ++trial) {
    const auto t0 = Clock::now();
    for (std::size_t r = 0; r < reps; ++r) step();
    const std::chrono::duration<double, std::nano> t = Clock::now() - t0;
    best = std::min(best, t.count() / static_cast<double>(reps * n));
  }
  return best;
}

// sigmoid as activation.hpp's SigmoidFn computes it, element by element.
template <typename T>
T sigmoid_scalar(T z) {
  if (z >= T(0)) return T(1) / (T(1) + std::exp(-z));
  const T e = std::exp(z);
  return e / (T(1) + e);
}

template <typename T>
void bench_type(const char* type, std::size_t n) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(-5, 5);  // typical pre-activations
  std::vector<T> x(n), y(n);
  for (T& v : x) v = static_cast<T>(u(rng));

  auto loop = [&](auto fn) {
    return ns_per_element(n, [&] {
      for (std::size_t i = 0; i < n; ++i) y[i] = fn(x[i]);
      escape(y.data());
    });
  };
  std::vector<T> x_positive(n);  // log1p's arguments: |x|
  for (std::size_t i = 0; i < n; ++i) x_positive[i] = std::abs(x[i]);
  auto call = [&](auto fn, const std::vector<T>& in) {
    return ns_per_element(n, [&] {
      fn(in.data(), y.data(), n);
      escape(y.data());
    });
  };

  std::printf("%-6s %-16s %8.2f %8.2f %8.2f %8.2f\n", type, "std:: loop",
              loop([](T v) { return std::tanh(v); }), loop([](T v) { return std::exp(v); }),
              loop([](T v) { return sigmoid_scalar(v); }), loop([](T v) { return std::log1p(std::abs(v)); }));
  for (const char* backend :
       {"avx512", "avx2", "portable", "libmvec avx512", "libmvec avx2", "libmvec sse", "scalar"}) {
    if (!deepnet::vmath_set_backend(backend)) continue;
    std::printf("%-6s %-16s %8.2f %8.2f %8.2f %8.2f\n", type, backend,
                call([](const T* a, T* b, std::size_t m) { deepnet::vtanh(a, b, m); }, x),
                call([](const T* a, T* b, std::size_t m) { deepnet::vexp(a, b, m); }, x),
                call([](const T* a, T* b, std::size_t m) { deepnet::vsigmoid(a, b, m); }, x),
                call([](const T* a, T* b, std::size_t m) { deepnet::vlog1p(a, b, m); }, x_positive));
  }
  deepnet::vmath_set_backend("auto");
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1600;
  std::printf("vmath_bench: n = %zu, automatic backend: %s\n", n, deepnet::vmath_backend());
  std::printf("%-6s %-16s %8s %8s %8s %8s   (ns per element, best of 9)\n", "type", "backend", "tanh",
              "exp", "sigmoid", "log1p");
  bench_type<double>("double", n);
  bench_type<float>("float", n);
}
