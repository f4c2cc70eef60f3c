// Each activation's value and derivative, checked against independent formulas
// and finite differences.
#include "deepnet/activation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "deepnet/error.hpp"

namespace deepnet {
namespace {

TEST(Activation, ValuesMatchTheirDefinitions) {
  for (double z : {-3.0, -0.5, 0.0, 0.25, 2.0}) {
    EXPECT_NEAR(SigmoidFn{}.value(z), 1.0 / (1.0 + std::exp(-z)), 1e-15);
    EXPECT_NEAR(TanhFn{}.value(z), std::tanh(z), 1e-15);
    EXPECT_EQ(ReluFn{}.value(z), std::max(0.0, z));
    EXPECT_EQ(LeakyReluFn{0.01}.value(z), z > 0 ? z : 0.01 * z);
    EXPECT_EQ(LeakyReluFn{0.2}.value(z), z > 0 ? z : 0.2 * z);
    EXPECT_EQ(LinearFn{}.value(z), z);
  }
}

TEST(Activation, DerivativesMatchCentredDifferences) {
  const double h = 1e-6;
  for (Activation g : {Activation::sigmoid, Activation::tanh, Activation::relu,
                       Activation::leaky_relu, Activation::linear}) {
    dispatch_activation(g, 0.05, [&](auto fn) {
      for (double z : {-2.5, -0.3, 0.4, 1.7}) {
        const double numeric = (fn.value(z + h) - fn.value(z - h)) / (2 * h);
        EXPECT_NEAR(fn.derivative(z, fn.value(z)), numeric, 1e-8) << to_string(g) << " at " << z;
      }
      return 0;
    });
  }
}

TEST(Activation, ReluDerivativeIsZeroAtZeroLikeTheCourse) {
  EXPECT_EQ(ReluFn{}.derivative(0.0, 0.0), 0.0);
  EXPECT_EQ(LeakyReluFn{0.01}.derivative(0.0, 0.0), 0.01);
}

TEST(Activation, SigmoidNeverOverflows) {
  EXPECT_EQ(SigmoidFn{}.value(1e4), 1.0);
  EXPECT_EQ(SigmoidFn{}.value(-1e4), 0.0);
  EXPECT_EQ(SigmoidFn{}.value(1e4f), 1.0f);
  EXPECT_FALSE(std::isnan(SigmoidFn{}.value(-1e30)));
}

TEST(Activation, SoftmaxColumnsSumToOneEvenForHugeLogits) {
  Matrix<double> Z(3, 2);
  Z << 1.0, 1000.0, 2.0, 1001.0, 3.0, -1e4;
  Matrix<double> A(3, 2);
  activation_forward<double>(Activation::softmax, Z, A);
  const double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0);
  EXPECT_NEAR(A(0, 0), e1 / (e1 + e2 + e3), 1e-15);
  EXPECT_NEAR(A(2, 0), e3 / (e1 + e2 + e3), 1e-15);
  EXPECT_NEAR(A.col(1).sum(), 1.0, 1e-15);
  EXPECT_NEAR(A(1, 1), 1.0 / (1.0 + std::exp(-1.0)), 1e-15);
  EXPECT_EQ(A(2, 1), 0.0);
}

TEST(Activation, BackwardMultipliesByTheDerivative) {
  Matrix<double> Z(2, 2), dA(2, 2), dZ(2, 2);
  Z << -1.0, 2.0, 0.5, -0.2;
  dA << 0.3, -0.7, 1.1, 2.0;
  activation_backward<double>(Activation::tanh, dA, Z, dZ);
  for (int k = 0; k < 4; ++k) {
    const double t = std::tanh(Z(k));
    EXPECT_NEAR(dZ(k), dA(k) * (1 - t * t), 1e-15);
  }
  EXPECT_THROW(activation_backward<double>(Activation::softmax, dA, Z, dZ), Error);
  Matrix<double> wrong(3, 2);
  EXPECT_THROW(activation_backward<double>(Activation::tanh, dA, Z, wrong), Error);
}

TEST(Activation, NamesRoundTrip) {
  for (Activation g : {Activation::sigmoid, Activation::tanh, Activation::relu,
                       Activation::leaky_relu, Activation::linear, Activation::softmax})
    EXPECT_EQ(parse_activation(to_string(g)), g);
  EXPECT_THROW(parse_activation("swish"), Error);
}

}  // namespace
}  // namespace deepnet
