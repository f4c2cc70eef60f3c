// The network: parameter layout, hand-computed forward, invariances, and the
// errors that name the layer or setting.
#include "deepnet/network.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "deepnet/init.hpp"
#include "deepnet/linear.hpp"
#include "deepnet/preprocess.hpp"
#include "deepnet/train.hpp"

namespace deepnet {
namespace {

using test::message_of;


TEST(Network, ParametersLiveInOneFlatBufferInLayerOrder) {
  Network<double> net(Architecture{{3, 4, 2}, {Activation::tanh}, Output::softmax});
  EXPECT_EQ(net.parameters().size(), 4u * 3 + 4 + 2 * 4 + 2);
  EXPECT_EQ(net.weight_offset(1), 0u);
  EXPECT_EQ(net.bias_offset(1), 12u);
  EXPECT_EQ(net.weight_offset(2), 16u);
  EXPECT_EQ(net.bias_offset(2), 24u);
  net.W(2)(1, 3) = 5.0;  // column-major: offset 16 + 3*2 + 1
  EXPECT_EQ(net.parameters()[16 + 7], 5.0);
  net.db(1)(2) = -1.0;
  EXPECT_EQ(net.gradients()[12 + 2], -1.0);
  EXPECT_EQ(net.W(1).rows(), 4);
  EXPECT_EQ(net.W(1).cols(), 3);
}

TEST(Network, ForwardMatchesHandComputation) {
  // 3-2-1 relu/sigmoid, W[1] all 1, b[1] = 0.5, W[2] = [1, -2], b[2] = 0.25.
  Network<double> net(Architecture{{3, 2, 1}, {Activation::relu}, Output::sigmoid});
  net.W(1).setConstant(1.0);
  net.b(1).setConstant(0.5);
  net.W(2) << 1.0, -2.0;
  net.b(2)(0) = 0.25;
  Matrix<double> X(3, 2);
  X << 1, -1, 2, -2, 3, -3;
  const Matrix<double>& AL = net.forward(X);
  // example 1: z1 = 6.5 for both units, a1 = 6.5, z2 = 6.5 - 13 + 0.25 = -6.25
  // example 2: z1 = -5.5, a1 = 0, z2 = 0.25
  EXPECT_DOUBLE_EQ(net.Z(1)(0, 0), 6.5);
  EXPECT_DOUBLE_EQ(net.A(1)(1, 1), 0.0);
  EXPECT_DOUBLE_EQ(net.Z(2)(0, 0), -6.25);
  EXPECT_NEAR(AL(0, 0), 1 / (1 + std::exp(6.25)), 1e-15);
  EXPECT_NEAR(AL(0, 1), 1 / (1 + std::exp(-0.25)), 1e-15);
  EXPECT_EQ(AL.rows(), 1);
  EXPECT_EQ(AL.cols(), 2);
}

TEST(Network, BatchedForwardEqualsOneExampleAtATime) {
  Network<double> net(Architecture{{4, 5, 3, 3}, {Activation::leaky_relu}, Output::softmax});
  Rng rng(11);
  initialize(net, InitScheme::he, rng);
  for (int l = 1; l <= 3; ++l)
    for (Eigen::Index i = 0; i < net.b(l).size(); ++i) net.b(l)(i) = 0.1 * rng.normal();
  Matrix<double> X(4, 7);
  for (Eigen::Index k = 0; k < X.size(); ++k) X(k) = rng.normal();
  const Matrix<double> batched = net.forward(X);
  for (Eigen::Index j = 0; j < X.cols(); ++j) {
    const Matrix<double> one = X.col(j);
    const Matrix<double> single = net.forward(one);
    for (Eigen::Index i = 0; i < 3; ++i) EXPECT_NEAR(single(i, 0), batched(i, j), 1e-15);
  }
}

TEST(Network, FloatForwardAgreesWithDouble) {
  Architecture arch{{6, 8, 4, 1}, {Activation::tanh}, Output::sigmoid};
  Network<double> net64(arch);
  Network<float> net32(arch);
  Rng rng(2);
  initialize(net64, InitScheme::xavier, rng);
  for (std::size_t k = 0; k < net64.parameters().size(); ++k)
    net32.parameters()[k] = static_cast<float>(net64.parameters()[k]);
  Matrix<double> X(6, 20);
  for (Eigen::Index k = 0; k < X.size(); ++k) X(k) = rng.normal();
  const Matrix<float> Xf = X.cast<float>();
  const Matrix<double> a64 = net64.forward(X);
  const Matrix<float> a32 = net32.forward(Xf);
  for (Eigen::Index j = 0; j < X.cols(); ++j) EXPECT_NEAR(a32(0, j), a64(0, j), 1e-5);
}

TEST(Network, ZeroInitialisationKeepsHiddenUnitsIdentical) {
  // The symmetry problem: with W = 0 every hidden unit gets the same gradient forever.
  Dataset planar = load_builtin("planar");
  const TargetEncoding enc = infer_target_encoding(planar.targets);
  const Matrix<double> labels = encode_labels<double>(enc, planar.targets);
  Network<double> net(Architecture{{2, 4, 1}, {Activation::tanh}, Output::sigmoid});
  Rng rng(1);
  initialize(net, InitScheme::zeros, rng);
  GradientDescentOptions options;
  options.learning_rate = 1.2;
  options.iterations = 500;
  train_gradient_descent(net, planar.X, labels, options);
  for (int unit = 1; unit < 4; ++unit) {
    EXPECT_EQ(net.W(1).row(unit), net.W(1).row(0));
    EXPECT_EQ(net.b(1)(unit), net.b(1)(0));
    EXPECT_EQ(net.W(2)(0, unit), net.W(2)(0, 0));
  }
  // ... while a random start breaks the symmetry.
  initialize(net, InitScheme::small, rng);
  train_gradient_descent(net, planar.X, labels, options);
  EXPECT_NE(net.W(1).row(1), net.W(1).row(0));
}

TEST(Network, ShapeErrorsNameTheLayerAndShapes) {
  Matrix<double> W = Matrix<double>::Zero(7, 20), b = Matrix<double>::Zero(7, 1);
  Matrix<double> A1 = Matrix<double>::Zero(12, 5), Z(7, 5);
  EXPECT_EQ(message_of([&] { linear_forward<double>(A1, W, b, Z, 2); }),
            "layer 2: W[2] is (7, 20) but A[1] has 12 rows");
  Matrix<double> bad_b = Matrix<double>::Zero(6, 1), A_ok = Matrix<double>::Zero(20, 5);
  EXPECT_EQ(message_of([&] { linear_forward<double>(A_ok, W, bad_b, Z, 3); }),
            "layer 3: b[3] is (6, 1), expected (7, 1)");

  Network<double> net(Architecture{{3, 4, 1}, {Activation::relu}, Output::sigmoid});
  Matrix<double> X = Matrix<double>::Zero(5, 2);
  EXPECT_EQ(message_of([&] { net.forward(X); }),
            "layer 1: W[1] is (4, 3) but A[0] = X has 5 rows");
  Matrix<double> X_ok = Matrix<double>::Zero(3, 2), Y = Matrix<double>::Zero(2, 2);
  net.forward(X_ok);
  EXPECT_EQ(message_of([&] { net.backward(Y); }), "layer 2: Y is (2, 2) but A[2] is (1, 2)");
  EXPECT_NE(message_of([&] { net.W(3); }).find("layer 3 does not exist"), std::string::npos);
}

TEST(Network, InvalidArchitecturesAreRejectedByName) {
  EXPECT_NE(message_of([] { Network<double>(Architecture{{3, 0, 1}}); }).find("layer 1 has n[1] = 0"),
            std::string::npos);
  EXPECT_NE(message_of([] { Network<double>(Architecture{{3}}); }).find("at least"), std::string::npos);
  EXPECT_NE(message_of([] {
              Network<double>(Architecture{{3, 4, 4, 1}, {Activation::relu, Activation::tanh, Activation::tanh}});
            }).find("2 hidden layer(s) but 3 hidden activations"),
            std::string::npos);
  EXPECT_NE(message_of([] { Network<double>(Architecture{{3, 4, 1}, {Activation::softmax}}); })
                .find("softmax is only available as the output"),
            std::string::npos);
  EXPECT_NE(message_of([] { Network<double>(Architecture{{3, 1}, {}, Output::softmax}); })
                .find("softmax output needs n[L] >= 2"),
            std::string::npos);
}

TEST(Network, LabelsOutsideTheOutputRangeAreRejected) {
  Matrix<double> labels(1, 3);
  labels << 0, 2, 3;
  EXPECT_NE(message_of([&] { make_targets<double>(Output::softmax, 3, labels); })
                .find("example 2: label 3.000000 is outside the output's range"),
            std::string::npos);
  labels << 0, 1, 2;
  EXPECT_NE(message_of([&] { make_targets<double>(Output::sigmoid, 1, labels); })
                .find("outside the sigmoid output's range"),
            std::string::npos);
  labels << 0, 1, 2;
  const Matrix<double> Y = make_targets<double>(Output::softmax, 3, labels);
  EXPECT_EQ(Y(2, 2), 1.0);
  EXPECT_EQ(Y.col(0).sum(), 1.0);
}

TEST(Network, PredictThresholdsArgmaxesOrPassesThrough) {
  Network<double> net(Architecture{{1, 3}, {}, Output::softmax});
  net.W(1) << 1, 0, -1;
  Matrix<double> X(1, 2);
  X << 2, -2;
  const Matrix<double> classes = net.predict(X);
  EXPECT_EQ(classes(0, 0), 0);
  EXPECT_EQ(classes(0, 1), 2);
  Network<double> logistic(Architecture{{1, 1}, {}, Output::sigmoid});
  logistic.W(1)(0, 0) = 1;
  const Matrix<double> p = logistic.predict(X);
  EXPECT_EQ(p(0, 0), 1);
  EXPECT_EQ(p(0, 1), 0);
  Matrix<double> labels(1, 2);
  labels << 1, 1;
  EXPECT_DOUBLE_EQ(accuracy<double>(p, labels), 0.5);
}

// backward with GradientMode::replace (the training loops' way) sets the
// gradients without reading them: the values of zero_grad() then backward,
// whatever the buffer held (NaN here), on the general and the small-net path,
// with example weights, L2 and the input's gradient; accumulate still adds.
template <typename T>
void check_replaced_gradients(bool small_path) {
  const Architecture arch{{6, 9, 5, 3}, {Activation::relu, Activation::tanh}, Output::softmax};
  Network<T> accumulated(arch), replaced(arch);
  accumulated.set_small_net_path(small_path);
  replaced.set_small_net_path(small_path);
  Rng rng(5);
  initialize(accumulated, InitScheme::he, rng);
  std::copy(accumulated.parameters().begin(), accumulated.parameters().end(), replaced.parameters().begin());
  for (Network<T>* net : {&accumulated, &replaced}) net->set_l2(0.3);
  Matrix<T> X(6, 23);
  for (Eigen::Index k = 0; k < X.size(); ++k) X.data()[k] = static_cast<T>(std::sin(0.7 * double(k)) * 2.0);
  Matrix<T> labels(1, 23);
  for (Eigen::Index j = 0; j < 23; ++j) labels(0, j) = static_cast<T>(j % 3);
  const Matrix<T> Y = make_targets<T>(Output::softmax, 3, labels);
  std::vector<T> weights(23);
  for (std::size_t j = 0; j < weights.size(); ++j) weights[j] = static_cast<T>(0.5 + 0.1 * double(j % 4));
  for (const T* w : {static_cast<const T*>(nullptr), static_cast<const T*>(weights.data())}) {
    Matrix<T> dA0_accumulated, dA0_replaced;
    accumulated.forward(X);
    accumulated.zero_grad();
    accumulated.backward(Y, &dA0_accumulated, w);
    replaced.forward(X);
    std::fill(replaced.gradients().begin(), replaced.gradients().end(), std::numeric_limits<T>::quiet_NaN());
    replaced.backward(Y, &dA0_replaced, w, GradientMode::replace);
    ASSERT_EQ(replaced.gradients().size(), accumulated.gradients().size());
    for (std::size_t k = 0; k < replaced.gradients().size(); ++k)
      ASSERT_EQ(replaced.gradients()[k], accumulated.gradients()[k]) << "gradient " << k << (small_path ? ", small path" : "");
    EXPECT_EQ(dA0_replaced, dA0_accumulated);
    // accumulate adds to what is there: twice the gradients (to rounding) after a second pass
    const std::vector<T> once(accumulated.gradients().begin(), accumulated.gradients().end());
    accumulated.forward(X);
    accumulated.backward(Y, nullptr, w);
    for (std::size_t k = 0; k < once.size(); ++k)
      ASSERT_NEAR(double(accumulated.gradients()[k]), 2.0 * double(once[k]), 1e-5 * (1 + std::abs(2.0 * double(once[k])))) << k;
  }
  // forward_backward replaces the gradients too
  std::fill(replaced.gradients().begin(), replaced.gradients().end(), std::numeric_limits<T>::quiet_NaN());
  replaced.forward_backward(X, Y);
  accumulated.forward(X);
  accumulated.zero_grad();
  accumulated.backward(Y);
  for (std::size_t k = 0; k < replaced.gradients().size(); ++k)
    ASSERT_EQ(replaced.gradients()[k], accumulated.gradients()[k]) << "forward_backward, gradient " << k;
}

TEST(Network, ReplacedGradientsAreZeroGradThenBackwardWithoutReadingThem) {
  for (bool small_path : {false, true}) {
    check_replaced_gradients<float>(small_path);
    check_replaced_gradients<double>(small_path);
  }
}

}  // namespace
}  // namespace deepnet
