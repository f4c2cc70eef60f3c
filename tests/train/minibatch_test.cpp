// The mini-batch trainer: every optimizer learns, early stopping restores the
// best epoch, resuming is bit-identical, runs are deterministic, divergence
// is reported, and dropout and weights do what they say.
#include <gtest/gtest.h>

#include <cmath>

#include "deepnet/error.hpp"
#include "deepnet/gradient_check.hpp"
#include "deepnet/init.hpp"
#include "deepnet/model_file.hpp"
#include "deepnet/train.hpp"

namespace deepnet {
namespace {

// Two noisy blobs in 2-D: class = x1 + x2 > 0, labels flipped with probability `noise`.
struct Blobs {
  Matrix<double> X, Y;
  Blobs(int m, double noise, std::uint64_t seed) : X(2, m), Y(1, m) {
    Rng rng(seed);
    for (int j = 0; j < m; ++j) {
      X(0, j) = rng.normal();
      X(1, j) = rng.normal();
      const bool positive = X(0, j) + X(1, j) > 0;
      Y(0, j) = (rng.uniform() < noise) != positive ? 1.0 : 0.0;
    }
  }
};

Network<double> fresh(std::vector<int> sizes, std::uint64_t seed = 3) {
  Network<double> net(Architecture{std::move(sizes), {Activation::tanh}, Output::sigmoid});
  Rng rng(seed);
  initialize(net, InitScheme::xavier, rng);
  return net;
}

TEST(MiniBatch, EveryOptimizerReducesTheLoss) {
  const Blobs data(200, 0.0, 1);
  for (OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::momentum, OptimizerKind::nesterov,
                             OptimizerKind::rmsprop, OptimizerKind::adam, OptimizerKind::adamw}) {
    Network<double> net = fresh({2, 8, 1});
    net.forward(data.X);
    const double before = net.cost(data.Y);
    MiniBatchOptions options;
    options.epochs = 5;
    options.batch_size = 32;
    options.optimizer.kind = kind;
    options.schedule.alpha = kind == OptimizerKind::sgd ? 0.5 : kind == OptimizerKind::momentum || kind == OptimizerKind::nesterov ? 0.05 : 0.01;
    const TrainerState state = train_minibatch<double>(net, data.X, data.Y, {}, options);
    net.forward(data.X);
    EXPECT_LT(net.cost(data.Y), 0.5 * before) << to_string(kind);
    EXPECT_EQ(state.history.size(), 5u);
  }
}

TEST(MiniBatch, GradientCheckPassesWithL2AndDropoutConfiguredButOff) {
  const Blobs data(12, 0.2, 2);
  Network<double> net = fresh({2, 5, 4, 1});
  net.set_l2(0.7);
  net.set_dropout({0.5}, nullptr);  // no rng: dropout is off, as in every gradient check
  EXPECT_LT(gradient_check(net, data.X, data.Y).relative_error, 1e-7);
  // The L2 term is in the cost: lambda/(2m) sum ||W||^2.
  net.forward(data.X);
  const double with = net.cost(data.Y);
  net.set_l2(0);
  const double without = net.cost(data.Y);
  EXPECT_NEAR(with - without, 0.7 / 24 * (net.W(1).squaredNorm() + net.W(2).squaredNorm() + net.W(3).squaredNorm()), 1e-12);
}

TEST(MiniBatch, GradientCheckPassesWithExampleWeightsForEveryOutput) {
  for (Output output : {Output::sigmoid, Output::softmax, Output::linear}) {
    const int units = output == Output::softmax ? 3 : 1;
    Network<double> net(Architecture{{2, 4, units}, {Activation::tanh}, output});
    Rng rng(4);
    initialize(net, InitScheme::xavier, rng);
    const Blobs data(9, 0.2, 6);
    Matrix<double> Y = Matrix<double>::Zero(units, 9);
    for (int j = 0; j < 9; ++j) {
      if (output == Output::softmax) Y(j % 3, j) = 1;
      else Y(0, j) = output == Output::sigmoid ? data.Y(0, j) : data.X(0, j) * 0.5;
    }
    GradientCheckOptions options;
    options.example_weights = {0.5, 2, 1, 0, 3, 1, 1, 0.25, 4};  // e.g. balanced class weights times sample weights
    EXPECT_LT(gradient_check(net, data.X, Y, options).relative_error, 1e-7) << to_string(output);
  }
}

TEST(MiniBatch, ClippingBoundsEachSgdStep) {
  const Blobs data(64, 0.0, 12);
  Network<double> net = fresh({2, 8, 1});
  const std::vector<double> before(net.parameters().begin(), net.parameters().end());
  MiniBatchOptions options;
  options.epochs = 1;
  options.batch_size = 0;  // one full-batch step
  options.optimizer.kind = OptimizerKind::sgd;
  options.schedule.alpha = 1.0;
  options.clip_norm = 1e-3;
  train_minibatch<double>(net, data.X, data.Y, {}, options);
  double moved = 0;
  for (std::size_t k = 0; k < before.size(); ++k) moved += std::pow(net.parameters()[k] - before[k], 2);
  EXPECT_NEAR(std::sqrt(moved), 1e-3, 1e-12);  // alpha * clip_norm: the gradient norm was larger
}

TEST(MiniBatch, DropLastSkipsTheShortBatch) {
  const Blobs data(70, 0.0, 13);
  for (bool drop : {false, true}) {
    Network<double> net = fresh({2, 3, 1});
    MiniBatchOptions options;
    options.epochs = 1;
    options.batch_size = 32;
    options.drop_last = drop;
    options.optimizer.kind = OptimizerKind::adam;
    long long steps = 0;
    options.on_step = [&](long long done, long long) { steps = done; };
    train_minibatch<double>(net, data.X, data.Y, {}, options);
    EXPECT_EQ(steps, drop ? 2 : 3);
  }
}

TEST(MiniBatch, DropoutDropsAboutPAndScalesTheRest) {
  Network<double> net = fresh({2, 200, 1});
  Rng rng(5);
  net.set_dropout({0.25}, &rng);
  Matrix<double> X = Matrix<double>::Ones(2, 50);
  net.forward(X);
  const Matrix<double> dropped = net.A(1);
  net.set_dropout({0.25}, nullptr);
  net.forward(X);
  const Matrix<double>& plain = net.A(1);
  int zeros = 0;
  for (Eigen::Index k = 0; k < plain.size(); ++k) {
    if (dropped(k) == 0 && plain(k) != 0) ++zeros;
    else EXPECT_NEAR(dropped(k), plain(k) / 0.75, 1e-12);
  }
  EXPECT_NEAR(zeros / double(plain.size()), 0.25, 0.02);
}

TEST(MiniBatch, ExampleWeightsScaleTheCost) {
  const Blobs data(4, 0.0, 3);
  Network<double> net = fresh({2, 3, 1});
  net.forward(data.X);
  const double w[4] = {1, 0, 2, 0.5};
  const Matrix<double> one = data.X.col(0), three = data.X.col(2), four = data.X.col(3);
  double expected = 0;
  for (const auto& [column, weight] : {std::pair{0, 1.0}, std::pair{2, 2.0}, std::pair{3, 0.5}}) {
    Network<double> copy = net;
    const Matrix<double> x = data.X.col(column), y = data.Y.col(column);
    copy.forward(x);
    expected += weight * copy.cost(y) / 4;
  }
  EXPECT_NEAR(net.cost(data.Y, w), expected, 1e-14);
}

TEST(MiniBatch, EarlyStoppingStopsAndRestoresTheBestEpoch) {
  // A big net on 30 noisy examples overfits; the validation cost turns up.
  const Blobs train(30, 0.3, 7), validation(300, 0.3, 8);
  Network<double> net = fresh({2, 64, 64, 1});
  MiniBatchOptions options;
  options.epochs = 400;
  options.batch_size = 10;
  options.schedule.alpha = 0.01;
  options.patience = 5;
  const ValidationSet val{&validation.X, &validation.Y, nullptr};
  const TrainerState state = train_minibatch<double>(net, train.X, train.Y, val, options);
  ASSERT_LT(state.epochs_done, 400) << "did not stop";
  EXPECT_EQ(state.epochs_done, state.best_epoch + 5);
  double best = INFINITY;
  int best_epoch = 0;
  for (const EpochRecord& r : state.history)
    if (r.validation_cost < best) {
      best = r.validation_cost;
      best_epoch = r.epoch;
    }
  EXPECT_EQ(state.best_epoch, best_epoch);
  net.forward(validation.X);
  EXPECT_DOUBLE_EQ(net.cost(validation.Y), best);  // the restored weights are the best epoch's
  EXPECT_GT(state.history.back().validation_cost, best);
}

TEST(MiniBatch, ResumingFromACheckpointIsBitIdentical) {
  const Blobs train(100, 0.1, 9), validation(50, 0.1, 10);
  const ValidationSet val{&validation.X, &validation.Y, nullptr};
  MiniBatchOptions options;
  options.epochs = 6;
  options.batch_size = 16;
  options.dropout = {0.2};
  options.optimizer.kind = OptimizerKind::adam;
  options.schedule.kind = ScheduleKind::cosine;
  options.schedule.alpha = 0.01;
  options.seed = 11;

  Network<double> straight = fresh({2, 6, 6, 1});
  const TrainerState all = train_minibatch<double>(straight, train.X, train.Y, val, options);

  // The same run with a checkpoint after epoch 3: what a run killed during epoch 4 leaves behind.
  TrainerState after_three;
  MiniBatchOptions checkpointed = options;
  checkpointed.checkpoint_every = 3;
  checkpointed.on_checkpoint = [&](const TrainerState& s) {
    if (s.epochs_done == 3) after_three = s;
  };
  Network<double> other = fresh({2, 6, 6, 1});
  train_minibatch<double>(other, train.X, train.Y, val, checkpointed);
  ASSERT_EQ(after_three.epochs_done, 3);
  // The checkpoint goes through the file format.
  Checkpoint c;
  c.model.architecture = other.architecture();
  c.model.float64 = true;
  c.model.parameters = after_three.parameters;
  c.model.encoding.output = Output::sigmoid;
  c.model.encoding.classes = {0, 1};
  c.model.encoding.class_names = {"0", "1"};
  c.state = after_three;
  const Checkpoint loaded = parse_checkpoint(serialize_checkpoint(c), "c.ckpt");

  Network<double> resumed = fresh({2, 6, 6, 1}, 999);  // its own start is overwritten by the checkpoint
  const TrainerState end = train_minibatch<double>(resumed, train.X, train.Y, val, options, &loaded.state);
  EXPECT_EQ(std::vector<double>(resumed.parameters().begin(), resumed.parameters().end()),
            std::vector<double>(straight.parameters().begin(), straight.parameters().end()));
  ASSERT_EQ(end.history.size(), 6u);
  for (int e = 0; e < 6; ++e) EXPECT_EQ(end.history[e].train_cost, all.history[e].train_cost) << e;
}

TEST(MiniBatch, DivergenceStopsAtOnceNamingEpochStepAndLayer) {
  Matrix<double> X(1, 8), Y(1, 8);
  for (int j = 0; j < 8; ++j) {
    X(0, j) = 1e3 * (j + 1);
    Y(0, j) = j;
  }
  Network<double> net(Architecture{{1, 1}, {}, Output::linear});
  MiniBatchOptions options;
  options.optimizer.kind = OptimizerKind::sgd;
  options.schedule.alpha = 10;
  options.batch_size = 4;
  options.epochs = 50;
  try {
    train_minibatch<double>(net, X, Y, {}, options);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("epoch ", 0), 0u) << message;
    EXPECT_NE(message.find(", step "), std::string::npos) << message;
    EXPECT_NE(message.find("layer "), std::string::npos) << message;
    EXPECT_NE(message.find("try a smaller learning rate"), std::string::npos) << message;
  }
}

TEST(MiniBatch, InvalidSettingsAreErrors) {
  const Blobs data(10, 0, 1);
  Network<double> net = fresh({2, 3, 1});
  MiniBatchOptions options;
  options.epochs = 0;
  EXPECT_THROW(train_minibatch<double>(net, data.X, data.Y, {}, options), Error);
  options.epochs = 1;
  options.dropout = {1.0};
  EXPECT_THROW(train_minibatch<double>(net, data.X, data.Y, {}, options), Error);
  options.dropout = {};
  options.example_weights = {1, 2};
  EXPECT_THROW(train_minibatch<double>(net, data.X, data.Y, {}, options), Error);
}

}  // namespace
}  // namespace deepnet
