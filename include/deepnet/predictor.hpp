#pragma once
// The single-example path: a trained Network's forward pass for one example
// at a time, with the weights packed once for the kernel and nothing
// allocated per call.
//
//   Predictor<float> predictor(net);       // packs W[1..L] and b[1..L] once
//   predictor.predict_one(x, out);         // x: n[0] values, out: n[L] values = A[L]
//
// Network::forward on one column runs a general matrix product per layer and
// keeps caches for backward(); a Predictor keeps each W[l] in panels of rows
// laid out in the order its kernel reads them (one pass, front to back) and
// fuses the bias and the hidden activation into the pass. Its kernel is
// chosen at run time: "avx512" (needs AVX512F and AVX512BW), "avx2" (AVX2 and
// FMA) or "portable" (plain loops, any CPU).
//
// Results: the same sums as forward(), in a fixed order (per row, input
// k = 0, 1, ... from 0, then the bias), so they differ from forward()'s, whose
// product engine sums in its own order, by rounding only. The bound checked
// by tests/core/predictor_test.cpp on nets with every activation and output
// (random he-initialised weights, up to 784 inputs and 4 layers): each output
// y agrees with forward()'s y' to |y - y'| <= 1e-5 (1 + |y'|) for float and
// 1e-13 (1 + |y'|) for double (seen: 3e-7 and 8e-16). It is a tested bound for
// nets like these, not a guarantee for any weights: the worst case of two
// summation orders grows with n[l-1] and with |W| |a|. "avx512" and "avx2" give the same bits
// (each step one fused multiply-add); "portable" rounds the product and the
// sum apart. The activations use vmath.hpp's functions, as forward() does.
//
// Threads: with threads() >= 2 (gemm.hpp), a layer of at least 2^16 weights
// is split by rows between the caller and one of deepnet's worker threads,
// each always taking the same rows, so each core keeps its half of W in its
// own cache. Rows are summed the same way on any thread: 1 and 2 threads give
// the same bits. The workers spin for a while after each call and then sleep
// (core/thread_pool.hpp); a call that finds them asleep runs both halves on
// the caller rather than wait.
//
// bfloat16 weights (opt-in, float only): W[l] stored as bfloat16 (rounded to
// nearest, ties to even: round_to_bfloat16), widened to float in registers;
// the activations, the biases and every sum stay float. This halves the bytes
// read per example (the kernel is bound by reading W from the cache) and
// changes results: exactly those of a float Predictor whose W[l] were first
// rounded to bfloat16 (docs/performance.md gives the accuracy measured on
// Fashion-MNIST).
//
// Thread safety: predict_one uses the Predictor's own scratch, so one object
// must not be used by two threads at once (like Network). Copies share the
// packed weights and get their own scratch: one copy per thread is cheap.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "deepnet/network.hpp"

namespace deepnet {

struct PredictorOptions {
  // "auto" (the best kernel this CPU runs), "avx512", "avx2" or "portable".
  // A kernel this build or CPU cannot run is an Error.
  std::string kernel = "auto";
  // Store W[l] as bfloat16 (float networks only; an Error for double).
  bool bfloat16_weights = false;
};

// Whether this build and CPU run `kernel` ("auto" always).
bool predictor_kernel_available(std::string_view kernel);
// The kernel "auto" picks here: "avx512", "avx2" or "portable".
const char* predictor_best_kernel();

// The float nearest to x that a bfloat16 holds (round to nearest, ties to
// even; NaN stays NaN, and values past the largest bfloat16 become infinite).
float round_to_bfloat16(float x);

template <typename T>
class Predictor {
 public:
  // Packs the network's current parameters (a later change to the network is
  // not seen). Throws Error for an unknown or unavailable kernel, or
  // bfloat16_weights with T = double.
  explicit Predictor(const Network<T>& network, const PredictorOptions& options = {});
  Predictor(const Predictor& other);  // shares the packed weights; its own scratch
  Predictor& operator=(const Predictor& other);
  Predictor(Predictor&&) noexcept = default;
  Predictor& operator=(Predictor&&) noexcept = default;
  ~Predictor();

  const Architecture& architecture() const;
  int inputs() const;   // n[0]
  int outputs() const;  // n[L]
  const char* kernel() const;  // "avx512", "avx2" or "portable"
  bool bfloat16_weights() const;

  // out = A[L] for one example: x holds n[0] values, out receives n[L]
  // (softmax: the class probabilities; sigmoid: per unit; linear: Z[L]).
  // No allocation. x and out must not overlap the Predictor's scratch (they
  // cannot, being the caller's).
  void predict_one(const T* x, T* out);

 private:
  struct Packed;
  std::shared_ptr<const Packed> packed_;
  std::vector<T> scratch_;  // the activations of every layer, each padded to whole panels
};

extern template class Predictor<float>;
extern template class Predictor<double>;

}  // namespace deepnet
