// The training loop: which costs are recorded, that each is taken before its
// update, and that invalid settings and divergence are errors.
#include "deepnet/train.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/init.hpp"

namespace deepnet {
namespace {

struct Toy {
  Network<double> net{Architecture{{2, 3, 1}, {Activation::tanh}, Output::sigmoid}};
  Matrix<double> X{2, 8}, Y{1, 8};
  Toy() {
    Rng rng(4);
    initialize(net, InitScheme::xavier, rng);
    for (Eigen::Index k = 0; k < X.size(); ++k) X(k) = rng.normal();
    for (Eigen::Index j = 0; j < 8; ++j) Y(0, j) = X(0, j) * X(1, j) > 0 ? 1 : 0;
  }
};

TEST(GradientDescent, RecordsEveryKIterationsAndTheLast) {
  Toy toy;
  GradientDescentOptions options;
  options.learning_rate = 0.1;
  options.iterations = 25;
  options.record_every = 10;
  int callbacks = 0;
  options.on_record = [&](const CostRecord&) { ++callbacks; };
  const auto history = train_gradient_descent(toy.net, toy.X, toy.Y, options);
  ASSERT_EQ(history.size(), 4u);
  EXPECT_EQ(history[0].iteration, 0);
  EXPECT_EQ(history[1].iteration, 10);
  EXPECT_EQ(history[2].iteration, 20);
  EXPECT_EQ(history[3].iteration, 24);
  EXPECT_EQ(callbacks, 4);
}

TEST(GradientDescent, EachCostIsTakenBeforeThatIterationsUpdate) {
  Toy toy;
  Network<double> copy = toy.net;
  copy.forward(toy.X);
  const double initial = copy.cost(toy.Y);
  GradientDescentOptions options;
  options.learning_rate = 0.5;
  options.iterations = 2;
  options.record_every = 1;
  const auto history = train_gradient_descent(toy.net, toy.X, toy.Y, options);
  EXPECT_EQ(history[0].cost, initial);
  // Iteration 1's cost is the cost after exactly one update.
  copy.zero_grad();
  copy.backward(toy.Y);
  copy.update(0.5);
  copy.forward(toy.X);
  EXPECT_EQ(history[1].cost, copy.cost(toy.Y));
  EXPECT_LT(history[1].cost, history[0].cost);
}

TEST(GradientDescent, UpdateIsThetaMinusAlphaTimesGradient) {
  Toy toy;
  const std::vector<double> before(toy.net.parameters().begin(), toy.net.parameters().end());
  toy.net.forward(toy.X);
  toy.net.zero_grad();
  toy.net.backward(toy.Y);
  toy.net.update(0.3);
  for (std::size_t k = 0; k < before.size(); ++k)
    EXPECT_DOUBLE_EQ(toy.net.parameters()[k], before[k] - 0.3 * toy.net.gradients()[k]);
}

TEST(GradientDescent, InvalidSettingsAreErrors) {
  Toy toy;
  GradientDescentOptions options;
  for (double lr : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    options.learning_rate = lr;
    EXPECT_THROW(train_gradient_descent(toy.net, toy.X, toy.Y, options), Error) << lr;
  }
  options.learning_rate = 0.1;
  options.iterations = 0;
  EXPECT_THROW(train_gradient_descent(toy.net, toy.X, toy.Y, options), Error);
  options.iterations = 5;
  options.record_every = 0;
  EXPECT_THROW(train_gradient_descent(toy.net, toy.X, toy.Y, options), Error);
}

TEST(GradientDescent, NonFiniteInputIsAnErrorNamingThePlace) {
  Toy toy;
  toy.X(1, 5) = std::nan("");
  GradientDescentOptions options;
  try {
    train_gradient_descent(toy.net, toy.X, toy.Y, options);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("X has a non-finite value (nan) at row 1, column 5"),
              std::string::npos)
        << e.what();
  }
}

// check_finite tests blocks of columns on the library's threads: a value in
// any block, of either sign of infinity or NaN, in float or double, is found
// and named, and the answer is the same at 1 and 2 threads.
template <typename T>
void expect_found(Eigen::Index rows, Eigen::Index cols, Eigen::Index i, Eigen::Index j, T bad, const std::string& shown) {
  Matrix<T> M = Matrix<T>::Constant(rows, cols, T(0.5));
  M(rows - 1, cols - 1) = std::numeric_limits<T>::max();  // large but finite
  EXPECT_NO_THROW(check_finite<T>(M, "X"));
  M(i, j) = bad;
  for (int threads : {1, 2}) {
    set_threads(threads);
    try {
      check_finite<T>(M, "X");
      ADD_FAILURE() << "no error for " << shown << " at " << i << ", " << j;
    } catch (const Error& e) {
      const std::string expected = "X has a non-finite value (" + shown + ") at row " + std::to_string(i) +
                                   ", column " + std::to_string(j);
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
  set_threads(1);
}

TEST(GradientDescent, NonFiniteValuesAreFoundInEveryBlock) {
  const double inf = std::numeric_limits<double>::infinity();
  expect_found<float>(784, 3000, 0, 0, std::numeric_limits<float>::quiet_NaN(), "nan");
  expect_found<float>(784, 3000, 783, 2999, -std::numeric_limits<float>::infinity(), "-inf");
  expect_found<float>(784, 3000, 400, 1700, std::numeric_limits<float>::infinity(), "inf");
  expect_found<double>(3, 200000, 2, 123456, inf, "inf");
  expect_found<double>(3, 200000, 1, 199999, -std::nan(""), "-nan");
  // A view with an outer stride (a block of a larger matrix).
  Matrix<float> big = Matrix<float>::Zero(10, 50000);
  big(9, 40000) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NO_THROW(check_finite<float>(big.topRows(9), "X"));
  EXPECT_THROW(check_finite<float>(big.bottomRows(2), "X"), Error);
}

TEST(GradientDescent, DivergenceIsReportedNotReturnedAsNaN) {
  Network<double> net(Architecture{{1, 1}, {}, Output::linear});
  Matrix<double> X(1, 4), Y(1, 4);
  X << 1e3, -2e3, 3e3, 4e3;
  Y << 1, 2, 3, 4;
  GradientDescentOptions options;
  options.learning_rate = 10.0;
  options.iterations = 200;
  options.record_every = 1;
  EXPECT_THROW(train_gradient_descent(net, X, Y, options), Error);
}

}  // namespace
}  // namespace deepnet
