// Metrics against hand-computed values.
#include "deepnet/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "deepnet/error.hpp"

namespace deepnet {
namespace {

TEST(Metrics, ClassificationReportByHand) {
  // truth:     0 0 0 1 1 2
  // predicted: 0 0 1 1 2 2
  const std::vector<int> truth = {0, 0, 0, 1, 1, 2}, predicted = {0, 0, 1, 1, 2, 2};
  Matrix<double> p = Matrix<double>::Constant(3, 6, 0.25);
  for (int j = 0; j < 6; ++j) p(truth[static_cast<std::size_t>(j)], j) = 0.5;
  const ClassificationReport r = classification_report(truth, predicted, p, {"a", "b", "c"});
  EXPECT_DOUBLE_EQ(r.accuracy, 4.0 / 6);
  EXPECT_NEAR(r.log_loss, std::log(2.0), 1e-15);
  EXPECT_EQ(r.confusion[0][0], 2);
  EXPECT_EQ(r.confusion[0][1], 1);
  EXPECT_EQ(r.confusion[1][2], 1);
  EXPECT_DOUBLE_EQ(r.classes[0].precision, 1.0);
  EXPECT_DOUBLE_EQ(r.classes[0].recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.classes[1].precision, 0.5);
  EXPECT_DOUBLE_EQ(r.classes[1].recall, 0.5);
  EXPECT_DOUBLE_EQ(r.classes[2].precision, 0.5);
  EXPECT_DOUBLE_EQ(r.classes[2].recall, 1.0);
  EXPECT_DOUBLE_EQ(r.classes[0].f1, 0.8);
  EXPECT_DOUBLE_EQ(r.classes[2].f1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.macro_recall, (2.0 / 3 + 0.5 + 1.0) / 3);
  EXPECT_EQ(r.classes[0].support, 3);
}

TEST(Metrics, RegressionReportByHand) {
  const RegressionReport r = regression_report({1, 2, 3, 4}, {1, 3, 3, 2});
  EXPECT_DOUBLE_EQ(r.mse, (0 + 1 + 0 + 4) / 4.0);
  EXPECT_DOUBLE_EQ(r.mae, 3 / 4.0);
  EXPECT_DOUBLE_EQ(r.r2, 1 - 5 / 5.0);
  EXPECT_THROW(regression_report({1}, {}), Error);
}

}  // namespace
}  // namespace deepnet
