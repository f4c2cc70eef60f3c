// Training-health diagnostics (deepnet/diagnostics.hpp): the records hold what
// the network shows, each rule fires on a deliberate case and only once, a
// healthy run warns of nothing, gathering leaves the parameters' bits alone,
// and the first non-finite value is named by quantity, layer and iteration.
#include "deepnet/diagnostics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "deepnet/error.hpp"
#include "deepnet/init.hpp"
#include "deepnet/train.hpp"

namespace deepnet {
namespace {

// Two gaussian blobs in 2-D: label 1 where x0 + x1 > 0.
template <typename T>
void blobs(Matrix<T>& X, Matrix<T>& Y, Eigen::Index m, std::uint64_t seed) {
  Rng rng(seed);
  X.resize(2, m);
  Y.resize(1, m);
  for (Eigen::Index j = 0; j < m; ++j) {
    X(0, j) = static_cast<T>(rng.normal());
    X(1, j) = static_cast<T>(rng.normal());
    Y(0, j) = X(0, j) + X(1, j) > 0 ? T(1) : T(0);
  }
}

int count_rule(const TrainingHealth& h, HealthRule rule) {
  int n = 0;
  for (const HealthWarning& w : h.warnings) n += w.rule == rule;
  return n;
}

TEST(Diagnostics, ReluLayerWithALargeNegativeBiasIsDeadAndWarnedOnce) {
  Matrix<double> X, Y;
  blobs(X, Y, 200, 3);
  Network<double> net(Architecture{{2, 8, 1}, {Activation::relu}, Output::sigmoid});
  Rng rng(1);
  initialize(net, InitScheme::he, rng);
  net.b(1).setConstant(-100);
  // Precondition: |W x| stays far below 100 on every example, so z < 0 everywhere.
  ASSERT_LT((net.W(1) * X).cwiseAbs().maxCoeff(), 50);
  TrainingHealth health;
  health.gather = true;
  int callbacks = 0;
  health.on_warning = [&](const HealthWarning&) { ++callbacks; };
  MiniBatchOptions options;
  options.epochs = 4;
  options.batch_size = 50;
  options.health = &health;
  train_minibatch(net, X, Y, ValidationSet{}, options);
  ASSERT_EQ(health.records(), 4u);
  for (std::size_t r = 0; r < 4; ++r) {
    EXPECT_EQ(health.at[r], static_cast<int>(r) + 1);
    EXPECT_EQ(health.of(r, 1).dead, 1.0);        // every unit dead: z <= 0 on every example
    EXPECT_EQ(health.of(r, 1).a_mean, 0.0);      // so A[1] is all zeros
    EXPECT_EQ(health.of(r, 1).a_std, 0.0);
    EXPECT_EQ(health.of(r, 1).dw_norm, 0.0);     // and no gradient reaches W[1]
    EXPECT_TRUE(std::isnan(health.of(r, 2).dead));  // the output layer is not a hidden ReLU layer
  }
  EXPECT_EQ(count_rule(health, HealthRule::dead_relu), 1);
  EXPECT_EQ(callbacks, static_cast<int>(health.warnings.size()));
  for (const HealthWarning& w : health.warnings)
    if (w.rule == HealthRule::dead_relu) {
      EXPECT_EQ(w.layer, 1);
      EXPECT_EQ(w.at, 1);
      EXPECT_NE(w.message.find("100% of its 8 ReLU units are dead"), std::string::npos) << w.message;
      EXPECT_NE(w.message.find("leaky_relu"), std::string::npos) << w.message;  // the advice
    }
}

TEST(Diagnostics, ZeroInitialisedHiddenLayerIsSymmetric) {
  Matrix<double> X, Y;
  blobs(X, Y, 64, 5);
  Network<double> net(Architecture{{2, 4, 1}, {Activation::tanh}, Output::sigmoid});  // parameters start at 0
  TrainingHealth health;  // the cheap rules only
  GradientDescentOptions options;
  options.iterations = 50;
  options.learning_rate = 0.5;
  options.health = &health;
  train_gradient_descent(net, X, Y, options);
  ASSERT_EQ(health.warnings.size(), 1u);
  EXPECT_EQ(health.warnings[0].rule, HealthRule::symmetric_units);
  EXPECT_EQ(health.warnings[0].layer, 1);
  EXPECT_EQ(health.records(), 0u);  // nothing gathered without `gather`
  // The units did stay identical (what the warning says).
  for (Eigen::Index i = 1; i < 4; ++i) EXPECT_EQ(net.W(1).row(i), net.W(1).row(0));
}

TEST(Diagnostics, UpdateRatioIsTheStepOverTheWeightsAndNormsAreTheNetworks) {
  Matrix<double> X, Y;
  blobs(X, Y, 100, 7);
  Network<double> net(Architecture{{2, 5, 1}, {Activation::tanh}, Output::sigmoid});
  Rng rng(2);
  initialize(net, InitScheme::xavier, rng);
  const Matrix<double> W1 = net.W(1), W2 = net.W(2);
  TrainingHealth health;
  health.gather = true;
  GradientDescentOptions options;
  options.iterations = 1;
  options.learning_rate = 0.3;
  options.health = &health;
  train_gradient_descent(net, X, Y, options);
  ASSERT_EQ(health.records(), 1u);
  EXPECT_EQ(health.at[0], 0);
  // Independent of the gatherer: the change of the parameters over their size.
  EXPECT_NEAR(health.of(0, 1).update_ratio, (net.W(1) - W1).norm() / W1.norm(), 1e-12);
  EXPECT_NEAR(health.of(0, 2).update_ratio, (net.W(2) - W2).norm() / W2.norm(), 1e-12);
  EXPECT_NEAR(health.of(0, 1).w_norm, net.W(1).norm(), 1e-12);
  // Plain gradient descent: the step is lr dW.
  EXPECT_NEAR(health.of(0, 2).dw_norm, (net.W(2) - W2).norm() / 0.3, 1e-9);
  // A[1] = tanh(W1 X + b1) of the starting weights (b = 0).
  const Matrix<double> A1 = (W1 * X).array().tanh().matrix();
  const double mean = A1.mean();
  EXPECT_NEAR(health.of(0, 1).a_mean, mean, 1e-12);
  EXPECT_NEAR(health.of(0, 1).a_std, std::sqrt((A1.array() - mean).square().mean()), 1e-12);
  EXPECT_TRUE(std::isnan(health.of(0, 1).dead));
  EXPECT_EQ(health.of(0, 1).saturated, 0.0);  // xavier on unit-variance inputs: |z| well below 4
}

TEST(Diagnostics, HealthyRunWarnsOfNothingAndGatheringKeepsTheBits) {
  Matrix<float> X, Y;
  blobs(X, Y, 300, 11);
  auto run = [&](TrainingHealth* health) {
    Network<float> net(Architecture{{2, 16, 8, 1}, {Activation::relu}, Output::sigmoid});
    Rng rng(4);
    initialize(net, InitScheme::he, rng);
    MiniBatchOptions options;
    options.epochs = 30;
    options.batch_size = 32;
    options.optimizer.kind = OptimizerKind::adam;
    options.schedule.alpha = 1e-2;
    options.health = health;
    train_minibatch(net, X, Y, ValidationSet{}, options);
    return std::vector<float>(net.parameters().begin(), net.parameters().end());
  };
  TrainingHealth health;
  health.gather = true;
  const std::vector<float> with = run(&health), without = run(nullptr);
  EXPECT_EQ(with, without);
  EXPECT_TRUE(health.warnings.empty()) << health.warnings[0].message;
  ASSERT_EQ(health.records(), 30u);
  for (std::size_t r = 0; r < health.records(); ++r)
    for (int l = 1; l <= 3; ++l) {
      const LayerHealth& h = health.of(r, l);
      if (l < 3) {
        EXPECT_TRUE(h.dead >= 0 && h.dead <= 0.5) << r << " " << l << " " << h.dead;
      }
      EXPECT_GE(h.a_std, 0);
      EXPECT_GT(h.w_norm, 0);
      EXPECT_GT(h.dw_norm, 0);
      EXPECT_TRUE(h.update_ratio > 1e-6 && h.update_ratio < 1) << h.update_ratio;
    }
  // The sigmoid output lies in (0, 1).
  EXPECT_GT(health.of(29, 3).a_mean, 0);
  EXPECT_LT(health.of(29, 3).a_mean, 1);
}

TEST(Diagnostics, SaturatedSigmoidLayersAreWarnedOnce) {
  Matrix<double> X, Y;
  blobs(X, Y, 200, 13);
  Network<double> net(Architecture{{2, 16, 16, 16, 1}, {Activation::sigmoid}, Output::sigmoid});
  Rng rng(3);
  initialize(net, InitScheme::small, rng, 20.0);  // weights of about 20: |z| far above 4
  TrainingHealth health;
  health.gather = true;
  MiniBatchOptions options;
  options.epochs = 3;
  options.batch_size = 50;
  options.health = &health;
  train_minibatch(net, X, Y, ValidationSet{}, options);
  EXPECT_EQ(count_rule(health, HealthRule::saturated_units), 1);
  EXPECT_GT(health.of(0, 1).saturated, 0.5);
}

TEST(Diagnostics, TooLowALearningRateIsWarned) {
  Matrix<double> X, Y;
  blobs(X, Y, 100, 17);
  Network<double> net(Architecture{{2, 6, 1}, {Activation::tanh}, Output::sigmoid});
  Rng rng(5);
  initialize(net, InitScheme::xavier, rng);
  TrainingHealth health;
  health.gather = true;
  GradientDescentOptions options;
  options.iterations = 3;
  options.learning_rate = 1e-9;
  options.health = &health;
  train_gradient_descent(net, X, Y, options);
  EXPECT_EQ(count_rule(health, HealthRule::update_too_small), 1);
  EXPECT_EQ(count_rule(health, HealthRule::update_too_large), 0);
}

TEST(Diagnostics, NonFiniteGradientIsNamedByQuantityLayerAndIteration) {
  // Float32: targets near the largest float keep the forward pass finite, but
  // dW[2] = dZ[2] A[1]^T / m overflows in the first backward pass.
  Matrix<float> X(1, 4), Y(1, 4);
  X << 1, 2, 3, 4;
  Y.setConstant(3e38f);
  Network<float> net(Architecture{{1, 3, 1}, {Activation::relu}, Output::linear});
  net.W(1).setConstant(5);
  net.W(2).setConstant(1);
  GradientDescentOptions options;
  options.iterations = 5;
  options.record_every = 100;  // the cost of iteration 0 only
  options.learning_rate = 0.1;
  try {
    train_gradient_descent(net, X, Y, options);
    FAIL() << "no error";
  } catch (const TrainingDiverged& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("iteration 0"), std::string::npos) << message;
    EXPECT_NE(message.find("dW[2] (layer 2) of the backward pass"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace deepnet
