// Optimizers step by step against arithmetic done by hand, and schedules.
#include "deepnet/optimizer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "deepnet/error.hpp"

namespace deepnet {
namespace {

// One parameter theta = 1 and the gradients 0.5, -0.2, 0.1 in three steps.
std::vector<double> three_steps(OptimizerKind kind, double alpha) {
  OptimizerSettings settings;
  settings.kind = kind;
  Optimizer optimizer(settings, 1);
  std::vector<double> theta = {1.0}, trace;
  for (double g : {0.5, -0.2, 0.1}) {
    const std::vector<double> gradient = {g};
    optimizer.step<double>(theta, gradient, alpha);
    trace.push_back(theta[0]);
  }
  return trace;
}

TEST(Optimizer, MomentumByHand) {
  // beta 0.9, alpha 0.1; v = 0.9 v + g; theta -= 0.1 v
  // v1 = 0.5            theta1 = 1 - 0.05 = 0.95
  // v2 = 0.45 - 0.2 = 0.25    theta2 = 0.95 - 0.025 = 0.925
  // v3 = 0.225 + 0.1 = 0.325  theta3 = 0.925 - 0.0325 = 0.8925
  const auto t = three_steps(OptimizerKind::momentum, 0.1);
  EXPECT_NEAR(t[0], 0.95, 1e-15);
  EXPECT_NEAR(t[1], 0.925, 1e-15);
  EXPECT_NEAR(t[2], 0.8925, 1e-15);
}

TEST(Optimizer, RmspropByHand) {
  // rho 0.9, alpha 0.01, eps 1e-8; s = 0.9 s + 0.1 g^2; theta -= 0.01 g / (sqrt(s) + eps)
  // s1 = 0.1 * 0.25 = 0.025             theta1 = 1 - 0.01 * 0.5 / 0.1581138830 = 0.9683772254
  // s2 = 0.0225 + 0.1 * 0.04 = 0.0265   theta2 = theta1 + 0.01 * 0.2 / 0.1627882060 = 0.9806631270
  // s3 = 0.02385 + 0.1 * 0.01 = 0.02485 theta3 = theta2 - 0.01 * 0.1 / 0.1576388277 = 0.9743195126
  const auto t = three_steps(OptimizerKind::rmsprop, 0.01);
  EXPECT_NEAR(t[0], 0.968377225398316, 1e-12);
  EXPECT_NEAR(t[1], 0.9806631269802781, 1e-12);
  EXPECT_NEAR(t[2], 0.9743195125857371, 1e-12);
}

TEST(Optimizer, AdamByHandWithBiasCorrection) {
  // beta1 0.9, beta2 0.999, alpha 0.01, eps 1e-8
  // t=1: m = 0.05, v = 0.00025; m^ = 0.05/0.1 = 0.5, v^ = 0.00025/0.001 = 0.25
  //      theta1 = 1 - 0.01 * 0.5 / (0.5 + 1e-8) = 0.9900000002
  // t=2: m = 0.045 - 0.02 = 0.025, v = 0.00024975 + 0.00004 = 0.00028975
  //      m^ = 0.025/0.19 = 0.1315789474, v^ = 0.00028975/0.001999 = 0.1449474737
  //      theta2 = theta1 - 0.01 * 0.1315789474 / 0.3807196791 = 0.9865439418
  // t=3: m = 0.0225 + 0.01 = 0.0325, v = 0.00028946025 + 0.00001 = 0.00029946025
  //      m^ = 0.0325/0.271 = 0.1199261993, v^ = 0.00029946025/0.002997001 = 0.0999199700
  //      theta3 = theta2 - 0.01 * 0.1199261993 / 0.3161012021 = 0.9827500241
  const auto t = three_steps(OptimizerKind::adam, 0.01);
  EXPECT_NEAR(t[0], 0.9900000002, 1e-12);
  EXPECT_NEAR(t[1], 0.9865439418116511, 1e-12);
  EXPECT_NEAR(t[2], 0.9827500240835696, 1e-12);
}

TEST(Optimizer, NesterovSgdAndAdamwFollowTheirFormulas) {
  // nesterov: v1 = 0.5, theta1 = 1 - 0.1 (0.5 + 0.9 * 0.5) = 0.905
  EXPECT_NEAR(three_steps(OptimizerKind::nesterov, 0.1)[0], 0.905, 1e-15);
  // sgd: 1 - 0.1 * 0.5 = 0.95, then + 0.02, then - 0.01
  const auto sgd = three_steps(OptimizerKind::sgd, 0.1);
  EXPECT_NEAR(sgd[2], 0.96, 1e-15);
  // adamw: the decay theta -= 0.01 * 0.01 * theta comes first: 0.9999, then the adam step 0.01
  EXPECT_NEAR(three_steps(OptimizerKind::adamw, 0.01)[0], 0.9999 - 0.0099999998, 1e-12);
}

TEST(Optimizer, StateMustFitAndSettingsMustBeValid) {
  OptimizerSettings settings;
  Optimizer optimizer(settings, 2);
  std::vector<double> theta = {1, 2, 3}, gradient = {1, 1, 1};
  EXPECT_THROW(optimizer.step<double>(theta, gradient, 0.1), Error);
  settings.beta1 = 1.0;
  EXPECT_THROW(Optimizer(settings, 1), Error);
  EXPECT_THROW(parse_optimizer("lbfgs"), Error);
  EXPECT_EQ(parse_optimizer("gd"), OptimizerKind::sgd);
}

TEST(Schedule, EachScheduleByItsFormula) {
  Schedule s;
  s.alpha = 0.1;
  EXPECT_DOUBLE_EQ(s.rate(7, 10, 0, 5), 0.1);
  s.kind = ScheduleKind::step;
  s.gamma = 0.5;
  s.step_size = 3;
  EXPECT_DOUBLE_EQ(s.rate(2, 10, 0, 5), 0.1);
  EXPECT_DOUBLE_EQ(s.rate(3, 10, 0, 5), 0.05);
  EXPECT_DOUBLE_EQ(s.rate(7, 10, 0, 5), 0.025);
  s.kind = ScheduleKind::exponential;
  EXPECT_DOUBLE_EQ(s.rate(2, 10, 0, 5), 0.025);
  s.kind = ScheduleKind::inverse_time;
  s.decay = 0.5;
  EXPECT_DOUBLE_EQ(s.rate(4, 10, 0, 5), 0.1 / 3);
  s.kind = ScheduleKind::cosine;
  s.min_lr = 0.0;
  EXPECT_DOUBLE_EQ(s.rate(0, 10, 0, 5), 0.1);
  EXPECT_NEAR(s.rate(5, 10, 0, 5), 0.05, 1e-15);
  s.kind = ScheduleKind::constant;
  s.warmup_epochs = 2;  // 10 warmup steps: step k of them gives alpha (k + 1) / 10
  EXPECT_DOUBLE_EQ(s.rate(0, 10, 0, 5), 0.01);
  EXPECT_DOUBLE_EQ(s.rate(1, 10, 4, 5), 0.1);
  EXPECT_DOUBLE_EQ(s.rate(2, 10, 0, 5), 0.1);
  s.gamma = 0;
  EXPECT_THROW(s.validate(), Error);
}

}  // namespace
}  // namespace deepnet
