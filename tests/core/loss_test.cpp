// Costs: the stable forms agree with the course formulas where those are
// finite, and stay finite and exact where those overflow.
#include "deepnet/loss.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "deepnet/error.hpp"
#include "deepnet/rng.hpp"

namespace deepnet {
namespace {

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

TEST(Loss, StableBinaryCrossEntropyEqualsCourseFormulaWhereFinite) {
  // |z| up to about 12: there the course formula itself is accurate to ~1e-11
  // (for larger |z| its log(1 - a) loses digits; the stable form does not).
  Rng rng(3);
  Matrix<double> Z(3, 50), Y(3, 50), A(3, 50);
  for (int k = 0; k < Z.size(); ++k) {
    Z(k) = 3.0 * rng.normal();
    Y(k) = rng.uniform() < 0.5 ? 0.0 : 1.0;
    A(k) = sigmoid(Z(k));
  }
  const double course = binary_cross_entropy<double>(A, Y);
  ASSERT_TRUE(std::isfinite(course));
  EXPECT_NEAR(cost_from_logits<double>(Output::sigmoid, Z, Y), course, 1e-10 * std::abs(course));
}

TEST(Loss, BinaryCrossEntropyHasNoLogOfZeroOrOverflowUpTo1e4) {
  Matrix<double> Z(1, 4), Y(1, 4);
  Z << 1e4, -1e4, 1e4, -1e4;
  Y << 1, 0, 0, 1;  // two right with certainty, two wrong by 1e4
  EXPECT_NEAR(cost_from_logits<double>(Output::sigmoid, Z, Y), (0 + 0 + 1e4 + 1e4) / 4, 1e-9);
  Matrix<float> Zf = Z.cast<float>(), Yf = Y.cast<float>();
  EXPECT_NEAR(cost_from_logits<float>(Output::sigmoid, Zf, Yf), 5000.0, 1e-3);
}

TEST(Loss, CourseComputeCostCase) {
  Matrix<double> Y(1, 3), AL(1, 3);
  Y << 1, 1, 1;
  AL << 0.8, 0.9, 0.4;
  EXPECT_NEAR(binary_cross_entropy<double>(AL, Y), 0.414931599615397, 1e-12);
}

TEST(Loss, SoftmaxCrossEntropyEqualsNaiveFormulaAndSurvivesHugeLogits) {
  Matrix<double> Z(3, 2), Y(3, 2);
  Z << 0.1, 2.0, -1.0, 0.5, 2.0, -3.0;
  Y << 0, 1, 0, 0, 1, 0;
  double naive = 0;
  for (int j = 0; j < 2; ++j) {
    double total = 0;
    for (int i = 0; i < 3; ++i) total += std::exp(Z(i, j));
    for (int i = 0; i < 3; ++i) naive -= Y(i, j) * std::log(std::exp(Z(i, j)) / total);
  }
  EXPECT_NEAR(cost_from_logits<double>(Output::softmax, Z, Y), naive / 2, 1e-14);
  Z << 1e4, 0, 0, 0, 0, 1e4;
  Y << 1, 0, 0, 1, 0, 0;  // first right, second wrong by 1e4
  EXPECT_NEAR(cost_from_logits<double>(Output::softmax, Z, Y), 1e4 / 2, 1e-9);
}

TEST(Loss, MeanSquaredErrorCarriesTheHalf) {
  Matrix<double> Z(2, 2), Y(2, 2);
  Z << 1, 2, 3, 4;
  Y << 0, 2, 3, 6;
  // (1/(2m)) sum (a - y)^2 with m = 2: (1 + 0 + 0 + 4) / 4
  EXPECT_DOUBLE_EQ(cost_from_logits<double>(Output::linear, Z, Y), 1.25);
}

TEST(Loss, OutputGradientIsALMinusY) {
  Matrix<double> A(1, 3), Y(1, 3), dZ(1, 3);
  A << 0.2, 0.9, 0.5;
  Y << 0, 1, 1;
  output_backward<double>(A, Y, dZ);
  EXPECT_DOUBLE_EQ(dZ(0), 0.2);
  EXPECT_NEAR(dZ(1), -0.1, 1e-15);
  EXPECT_DOUBLE_EQ(dZ(2), -0.5);
}

TEST(Loss, ShapeMismatchIsAnError) {
  Matrix<double> Z(1, 3), Y(1, 2);
  Z.setZero();
  Y.setZero();
  EXPECT_THROW(cost_from_logits<double>(Output::sigmoid, Z, Y), Error);
  EXPECT_THROW(parse_output("tanh"), Error);
}

}  // namespace
}  // namespace deepnet
