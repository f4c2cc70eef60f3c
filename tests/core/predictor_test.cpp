// The single-example predictor (deepnet/predictor.hpp): each kernel against a
// plain reference with the same summation order (bit for bit), agreement with
// Network::forward within the documented rounding bound, 1 vs 2 threads, the
// bfloat16 weights, and the errors.
//
// This file is compiled with -ffp-contract=off (tests/CMakeLists.txt): the
// reference of the portable kernel rounds each product and each sum apart.
#include "deepnet/predictor.hpp"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/init.hpp"
#include "deepnet/rng.hpp"
#include "deepnet/vmath.hpp"
#include "test_util.hpp"

namespace deepnet {
namespace {

using test::contains;
using test::message_of;

// Restores one thread when a test ends, whatever happens in it.
struct ThreadsGuard {
  ~ThreadsGuard() { set_threads(1); }
};

// A net with he-initialised weights, random biases (so none is 0) and the
// given activations.
template <typename T>
Network<T> random_net(std::vector<int> sizes, std::vector<Activation> hidden, Output output, std::uint64_t seed,
                      double leaky_slope = 0.01) {
  Architecture arch{std::move(sizes), std::move(hidden), output};
  arch.leaky_slope = leaky_slope;
  Network<T> net(arch);
  Rng rng(seed);
  initialize(net, InitScheme::he, rng);
  for (int l = 1; l <= net.layers(); ++l)
    for (Eigen::Index r = 0; r < net.b(l).rows(); ++r) net.b(l)(r, 0) = static_cast<T>(rng.uniform() - 0.5);
  return net;
}

// m examples of n features in [-1, 2): some negative, so relu cuts some units.
template <typename T>
Matrix<T> random_inputs(int n, int m, std::uint64_t seed) {
  Rng rng(seed);
  Matrix<T> X(n, m);
  for (Eigen::Index j = 0; j < m; ++j)
    for (Eigen::Index i = 0; i < n; ++i) X(i, j) = static_cast<T>(3 * rng.uniform() - 1);
  return X;
}

// The predictor's computation written plainly: per row, from 0, input k =
// 0, 1, ... (one fused multiply-add, or a product then a sum), then the bias,
// then the activation with the same functions as the predictor and forward().
template <typename T>
std::vector<T> sequential_reference(const Network<T>& net, const T* x, bool fused) {
  const Architecture& arch = net.architecture();
  std::vector<T> a(x, x + net.units(0));
  for (int l = 1; l <= net.layers(); ++l) {
    const auto W = net.W(l);
    const auto b = net.b(l);
    std::vector<T> z(static_cast<std::size_t>(net.units(l)));
    for (int r = 0; r < net.units(l); ++r) {
      T sum = T(0);
      for (int k = 0; k < net.units(l - 1); ++k) {
        if (fused) {
          sum = std::fma(W(r, k), a[static_cast<std::size_t>(k)], sum);
        } else {
          const T product = W(r, k) * a[static_cast<std::size_t>(k)];
          sum = sum + product;
        }
      }
      z[static_cast<std::size_t>(r)] = sum + b(r, 0);
    }
    const Activation g = arch.activation(l);
    const std::size_t n = z.size();
    switch (g) {
      case Activation::relu:
        for (T& v : z) v = v > T(0) ? v : T(0);
        break;
      case Activation::leaky_relu:
        for (T& v : z) v = v > T(0) ? v : static_cast<T>(arch.leaky_slope) * v;
        break;
      case Activation::tanh:
        vtanh(z.data(), z.data(), n);
        break;
      case Activation::sigmoid:
        vsigmoid(z.data(), z.data(), n);
        break;
      case Activation::linear:
        break;
      case Activation::softmax: {
        T shift = z[0];
        for (T v : z) shift = v > shift ? v : shift;
        for (T& v : z) v -= shift;
        vexp(z.data(), z.data(), n);
        T total = T(0);
        for (T v : z) total += v;
        for (T& v : z) v /= total;
        break;
      }
    }
    a = std::move(z);
  }
  return a;
}

struct NetCase {
  std::vector<int> sizes;
  std::vector<Activation> hidden;
  Output output;
};

// Shapes around the panel and tile sizes (16 or 8 rows; 4 or 8 panels), odd input
// counts, one layer, layers large enough to be split between two threads,
// and every hidden activation and output.
std::vector<NetCase> net_cases() {
  using A = Activation;
  return {
      {{784, 256, 128, 10}, {A::relu}, Output::softmax},
      {{5, 3, 1}, {A::tanh}, Output::sigmoid},
      {{13, 37, 2}, {A::sigmoid}, Output::softmax},
      {{7, 1}, {A::relu}, Output::linear},
      {{300, 200, 65, 3}, {A::leaky_relu, A::tanh}, Output::linear},
      {{129, 17, 33, 4}, {A::linear, A::relu}, Output::sigmoid},
      {{64, 64, 64, 64, 10}, {A::tanh, A::sigmoid, A::leaky_relu}, Output::softmax},
      {{1, 1, 1}, {A::relu}, Output::sigmoid},
      {{257, 512, 9}, {A::relu}, Output::softmax},
      {{31, 100, 90, 5}, {A::relu, A::leaky_relu}, Output::softmax},  // 7 and 6 panels of 16 rows
  };
}

const char* const kernel_names[] = {"avx512", "avx2", "portable"};

template <typename T>
void expect_kernels_match_reference() {
  const ThreadsGuard guard;
  int checked = 0;
  for (const char* kernel : kernel_names) {
    if (!predictor_kernel_available(kernel)) continue;
    const bool fused = std::string(kernel) != "portable";
    for (const int threads : {1, 2}) {
      set_threads(threads);
      std::uint64_t seed = 11;
      for (const NetCase& c : net_cases()) {
        Network<T> net = random_net<T>(c.sizes, c.hidden, c.output, ++seed);
        PredictorOptions options;
        options.kernel = kernel;
        Predictor<T> predictor(net, options);
        EXPECT_STREQ(predictor.kernel(), kernel);
        const Matrix<T> X = random_inputs<T>(c.sizes.front(), 3, seed + 100);
        std::vector<T> out(static_cast<std::size_t>(c.sizes.back()));
        for (Eigen::Index j = 0; j < X.cols(); ++j) {
          predictor.predict_one(X.col(j).data(), out.data());
          const std::vector<T> expected = sequential_reference(net, X.col(j).data(), fused);
          for (std::size_t i = 0; i < out.size(); ++i)
            ASSERT_EQ(out[i], expected[i]) << kernel << ", " << threads << " thread(s), net "
                                           << net.architecture().describe() << ", example " << j << ", output " << i;
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(Predictor, EveryKernelEqualsTheSequentialReferenceBitForBitFloat) { expect_kernels_match_reference<float>(); }
TEST(Predictor, EveryKernelEqualsTheSequentialReferenceBitForBitDouble) { expect_kernels_match_reference<double>(); }

// The documented bound (predictor.hpp) between the predictor's outputs and
// forward()'s: |y - y'| <= tolerance (1 + |y'|).
template <typename T>
constexpr double agreement_tolerance() {
  return sizeof(T) == sizeof(float) ? 1e-5 : 1e-13;
}

template <typename T>
void expect_agreement_with_forward(const char* kernel) {
  if (!predictor_kernel_available(kernel)) GTEST_SKIP() << kernel << " does not run here";
  std::uint64_t seed = 40;
  double worst = 0;
  for (const NetCase& c : net_cases()) {
    Network<T> net = random_net<T>(c.sizes, c.hidden, c.output, ++seed);
    PredictorOptions options;
    options.kernel = kernel;
    Predictor<T> predictor(net, options);
    const Matrix<T> X = random_inputs<T>(c.sizes.front(), 8, seed + 7);
    const Matrix<T> A = net.forward(X);
    std::vector<T> out(static_cast<std::size_t>(c.sizes.back()));
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      predictor.predict_one(X.col(j).data(), out.data());
      for (std::size_t i = 0; i < out.size(); ++i) {
        const double reference = A(static_cast<Eigen::Index>(i), j);
        const double difference = std::abs(double(out[i]) - reference);
        ASSERT_LE(difference, agreement_tolerance<T>() * (1 + std::abs(reference))) << kernel << ", net " << net.architecture().describe() << ", example " << j
                                        << ", output " << i;
        worst = std::max(worst, difference / (1 + std::abs(reference)));
      }
    }
  }
  ::testing::Test::RecordProperty("largest_difference", std::to_string(worst));
  std::printf("[ info     ] %s %s: largest |y - forward| / (1 + |forward|) = %.3g\n", kernel,
              sizeof(T) == sizeof(float) ? "float" : "double", worst);
}

TEST(Predictor, AgreesWithForwardWithinTheRoundingBoundAvx512) { expect_agreement_with_forward<float>("avx512"); }
TEST(Predictor, AgreesWithForwardWithinTheRoundingBoundAvx2) { expect_agreement_with_forward<float>("avx2"); }
TEST(Predictor, AgreesWithForwardWithinTheRoundingBoundPortable) { expect_agreement_with_forward<float>("portable"); }
TEST(Predictor, AgreesWithForwardWithinTheRoundingBoundDouble) {
  expect_agreement_with_forward<double>("auto");
  expect_agreement_with_forward<double>("portable");
}

TEST(Predictor, TheToleranceSeesAOneWeightChange) {
  // The agreement check above would miss a broken kernel if its tolerance
  // were loose: one output weight of a trained-size net changed by 1e-3 (on
  // the most active unit of layer 2) must break it.
  Network<float> net = random_net<float>({784, 256, 128, 10}, {Activation::relu}, Output::linear, 3);
  const Matrix<float> X = random_inputs<float>(784, 1, 4);
  const Matrix<float> A = net.forward(X);
  Eigen::Index unit = 0;
  net.A(2).col(0).maxCoeff(&unit);
  net.W(3)(2, unit) += 1e-3f;
  Predictor<float> predictor(net);
  std::vector<float> out(10);
  predictor.predict_one(X.data(), out.data());
  const double reference = A(2, 0);
  EXPECT_GT(std::abs(double(out[2]) - reference), agreement_tolerance<float>() * (1 + std::abs(reference)));
}

TEST(Predictor, OneAndTwoThreadsGiveTheSameBits) {
  const ThreadsGuard guard;
  for (const char* kernel : kernel_names) {
    if (!predictor_kernel_available(kernel)) continue;
    Network<float> net = random_net<float>({784, 256, 128, 10}, {Activation::relu}, Output::softmax, 5);
    PredictorOptions options;
    options.kernel = kernel;
    Predictor<float> predictor(net, options);
    const Matrix<float> X = random_inputs<float>(784, 50, 6);
    Matrix<float> one(10, 50), two(10, 50);
    set_threads(1);
    for (Eigen::Index j = 0; j < X.cols(); ++j) predictor.predict_one(X.col(j).data(), one.col(j).data());
    set_threads(2);
    for (Eigen::Index j = 0; j < X.cols(); ++j) predictor.predict_one(X.col(j).data(), two.col(j).data());
    EXPECT_EQ(one, two) << kernel;
  }
}

TEST(Predictor, CopiesShareTheWeightsAndComputeAlone) {
  Network<double> net = random_net<double>({20, 30, 3}, {Activation::tanh}, Output::softmax, 8);
  Predictor<double> first(net);
  Predictor<double> second = first;
  net.W(1).setZero();  // packed at construction: later changes are not seen
  const Matrix<double> X = random_inputs<double>(20, 2, 9);
  std::vector<double> a(3), b(3), c(3);
  first.predict_one(X.col(0).data(), a.data());
  second.predict_one(X.col(1).data(), b.data());
  second.predict_one(X.col(0).data(), c.data());
  EXPECT_EQ(a, c);
  EXPECT_NE(a, b);
  EXPECT_EQ(first.inputs(), 20);
  EXPECT_EQ(first.outputs(), 3);
}

TEST(Predictor, RoundsToBfloat16ToNearestEven) {
  EXPECT_EQ(round_to_bfloat16(1.0f), 1.0f);
  EXPECT_EQ(round_to_bfloat16(1.0f + 0x1p-8f), 1.0f);                // a tie: to the even 1.0
  EXPECT_EQ(round_to_bfloat16(1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f);  // a tie: to the even 1 + 2^-6
  EXPECT_EQ(round_to_bfloat16(1.0f + 0x1p-8f + 0x1p-20f), 1.0f + 0x1p-7f);
  EXPECT_EQ(round_to_bfloat16(-0.3f), -0.30078125f);
  EXPECT_EQ(round_to_bfloat16(FLT_MAX), std::numeric_limits<float>::infinity());
  EXPECT_EQ(round_to_bfloat16(-std::numeric_limits<float>::infinity()), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(round_to_bfloat16(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(std::signbit(round_to_bfloat16(-0.0f)));
}

TEST(Predictor, Bfloat16WeightsEqualAFloatPredictorOnRoundedWeights) {
  // The bfloat16 path changes only W: the result is bit for bit the float
  // path's on a network whose W[l] were rounded to bfloat16 (biases kept).
  for (const char* kernel : kernel_names) {
    if (!predictor_kernel_available(kernel)) continue;
    std::uint64_t seed = 60;
    for (const NetCase& c : net_cases()) {
      Network<float> net = random_net<float>(c.sizes, c.hidden, c.output, ++seed);
      Network<float> rounded = net;
      for (int l = 1; l <= rounded.layers(); ++l)
        for (float& w : rounded.W(l).reshaped()) w = round_to_bfloat16(w);
      PredictorOptions options;
      options.kernel = kernel;
      Predictor<float> reference(rounded, options);
      options.bfloat16_weights = true;
      Predictor<float> half(net, options);
      EXPECT_TRUE(half.bfloat16_weights());
      const Matrix<float> X = random_inputs<float>(c.sizes.front(), 3, seed);
      std::vector<float> expected(static_cast<std::size_t>(c.sizes.back())), out(expected.size());
      for (Eigen::Index j = 0; j < X.cols(); ++j) {
        reference.predict_one(X.col(j).data(), expected.data());
        half.predict_one(X.col(j).data(), out.data());
        ASSERT_EQ(out, expected) << kernel << ", net " << net.architecture().describe() << ", example " << j;
      }
    }
  }
}

TEST(Predictor, RefusesWhatItCannotDo) {
  Network<double> net = random_net<double>({4, 3, 2}, {Activation::relu}, Output::softmax, 1);
  PredictorOptions options;
  options.bfloat16_weights = true;
  EXPECT_TRUE(contains(message_of([&] { Predictor<double> p(net, options); }), "bfloat16_weights is for float"));
  options = {};
  options.kernel = "sse9";
  EXPECT_TRUE(contains(message_of([&] { Predictor<double> p(net, options); }), "expected kernel auto, avx512"));
  EXPECT_FALSE(predictor_kernel_available("sse9"));
  EXPECT_TRUE(predictor_kernel_available("portable"));
  EXPECT_TRUE(predictor_kernel_available(predictor_best_kernel()));
  for (const char* kernel : kernel_names)
    if (!predictor_kernel_available(kernel)) {
      options.kernel = kernel;
      EXPECT_TRUE(contains(message_of([&] { Predictor<double> p(net, options); }), "does not run on this"));
    }
}

}  // namespace
}  // namespace deepnet
