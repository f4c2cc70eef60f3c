// The training loop: which costs are recorded, that each is taken before its
// update, and that invalid settings and divergence are errors.
#include "deepnet/train.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "deepnet/error.hpp"
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
