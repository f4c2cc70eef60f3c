// Gradient check: every hidden activation x output/loss pair at L = 1, 2 and 4,
// and proof that a broken backward pass is caught.
#include "deepnet/gradient_check.hpp"

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "deepnet/gemm.hpp"
#include "deepnet/init.hpp"

namespace deepnet {
namespace {

struct Problem {
  Network<double> net;
  Matrix<double> X, Y;
};

Problem make_problem(int layers, Activation hidden, Output output, std::uint64_t seed) {
  std::vector<int> sizes = {4};
  for (int l = 1; l < layers; ++l) sizes.push_back(l % 2 ? 5 : 3);
  const int outputs = output == Output::softmax ? 3 : 2;  // sigmoid: 2 independent 0/1 outputs
  sizes.push_back(outputs);
  Problem p{Network<double>(Architecture{sizes, {hidden}, output, 0.1}), {}, {}};
  Rng rng(seed);
  initialize(p.net, InitScheme::xavier, rng);
  for (int l = 1; l <= layers; ++l)
    for (Eigen::Index i = 0; i < p.net.b(l).size(); ++i) p.net.b(l)(i) = 0.2 * rng.normal();
  const int m = 6;
  p.X.resize(4, m);
  for (Eigen::Index k = 0; k < p.X.size(); ++k) p.X(k) = rng.normal();
  p.Y = Matrix<double>::Zero(outputs, m);
  for (int j = 0; j < m; ++j) {
    if (output == Output::softmax)
      p.Y(static_cast<Eigen::Index>(rng.below(outputs)), j) = 1;
    else
      for (int i = 0; i < outputs; ++i)
        p.Y(i, j) = output == Output::sigmoid ? double(rng.below(2)) : rng.normal();
  }
  return p;
}

class GradientCheckGrid
    : public ::testing::TestWithParam<std::tuple<int, Activation, Output>> {};

// Both paths of Network: these nets are small enough for the small-net path
// (the default), and set_small_net_path(false) gives the general one.
TEST_P(GradientCheckGrid, AnalyticGradientMatchesCentredDifferences) {
  const auto [layers, hidden, output] = GetParam();
  for (bool small : {true, false}) {
    SCOPED_TRACE(small ? "small-net path" : "general path");
    Problem p = make_problem(layers, hidden, output, 17 + layers);
    p.net.set_small_net_path(small);
    ASSERT_EQ(p.net.small_net_path(), small);
    const GradientCheckResult result = gradient_check(p.net, p.X, p.Y);
    EXPECT_LT(result.relative_error, 1e-7);
    EXPECT_EQ(result.checked, p.net.parameters().size());
    ASSERT_EQ(result.layer_relative_error.size(), static_cast<std::size_t>(layers));
    // Per layer the bound is looser: early layers of deep sigmoid nets have tiny gradients.
    for (double e : result.layer_relative_error) EXPECT_LT(e, 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllPairs, GradientCheckGrid,
    ::testing::Combine(::testing::Values(1, 2, 4),
                       ::testing::Values(Activation::sigmoid, Activation::tanh, Activation::relu,
                                         Activation::leaky_relu, Activation::linear),
                       ::testing::Values(Output::sigmoid, Output::softmax, Output::linear)),
    [](const auto& info) {
      std::string name("L");
      name.append(std::to_string(std::get<0>(info.param))).append("_");
      name.append(to_string(std::get<1>(info.param))).append("_");
      name.append(to_string(std::get<2>(info.param)));
      return name;
    });

// The analytic gradients are computed with products; each double-product
// kernel this CPU runs (deepnet's AVX-512 and AVX2 ones, Eigen's portable one)
// passes the check, on a net whose layers span several tiles of rows.
TEST(GradientCheck, PassesWithEveryDoubleProductKernel) {
  struct Restore {
    ~Restore() { gemm_set_double_kernel("auto"); }
  } restore;
  int ran = 0;
  for (const char* kernel : {"avx512", "avx2", "eigen"}) {
    if (!gemm_set_double_kernel(kernel)) continue;  // not built in or not run by this CPU
    SCOPED_TRACE(std::string("double kernel ") + kernel);
    for (const auto& [layers, hidden, output] :
         {std::tuple{4, Activation::tanh, Output::sigmoid}, std::tuple{2, Activation::relu, Output::softmax}}) {
      Problem p = make_problem(layers, hidden, output, 40 + layers);
      EXPECT_LT(gradient_check(p.net, p.X, p.Y).relative_error, 1e-7);
    }
    // 30-25-9-1 on 37 examples: rows past one tile, and a column remainder.
    Network<double> net(Architecture{{30, 25, 9, 1}, {Activation::tanh}, Output::sigmoid});
    Rng rng(9);
    initialize(net, InitScheme::xavier, rng);
    Matrix<double> X(30, 37), Y(1, 37);
    for (Eigen::Index i = 0; i < X.size(); ++i) X(i) = rng.normal();
    for (Eigen::Index j = 0; j < Y.cols(); ++j) Y(0, j) = double(rng.below(2));
    const GradientCheckResult result = gradient_check(net, X, Y);
    EXPECT_LT(result.relative_error, 1e-7);
    EXPECT_EQ(result.checked, net.parameters().size());
    ++ran;
  }
  EXPECT_GE(ran, 1) << "the portable kernel runs everywhere";
}

TEST(GradientCheck, CatchesABackwardPassWithAScaledDW) {
  Problem p = make_problem(2, Activation::tanh, Output::sigmoid, 5);
  auto broken = [](Network<double>& net, const Matrix<double>& X, const Matrix<double>& Y) {
    net.forward(X);
    net.zero_grad();
    net.backward(Y);
    net.dW(1) *= 1.1;  // the fault: dW[1] 10% too large
  };
  const GradientCheckResult result = gradient_check(p.net, p.X, p.Y, {}, broken);
  EXPECT_GT(result.relative_error, 1e-3);
  EXPECT_GT(result.layer_relative_error[0], 1e-2);
  EXPECT_LT(result.layer_relative_error[1], 1e-7);  // layer 2 is still right
}

TEST(GradientCheck, CatchesAMissingActivationDerivative) {
  Problem p = make_problem(2, Activation::sigmoid, Output::linear, 6);
  auto broken = [](Network<double>& net, const Matrix<double>& X, const Matrix<double>& Y) {
    // dZ[1] = dA[1] without the g'(Z[1]) factor, a classic slip.
    net.forward(X);
    net.zero_grad();
    net.dW(2) = (net.A(2) - Y) * net.A(1).transpose() / double(X.cols());
    net.db(2) = (net.A(2) - Y).rowwise().sum() / double(X.cols());
    const Matrix<double> dZ1 = net.W(2).transpose() * (net.A(2) - Y);
    net.dW(1) = dZ1 * X.transpose() / double(X.cols());
    net.db(1) = dZ1.rowwise().sum() / double(X.cols());
  };
  EXPECT_GT(gradient_check(p.net, p.X, p.Y, {}, broken).relative_error, 1e-2);
}

TEST(GradientCheck, ChecksASeededSubsetOfALargeNetAndLeavesParametersUnchanged) {
  Problem p = make_problem(4, Activation::tanh, Output::softmax, 8);
  const std::vector<double> before(p.net.parameters().begin(), p.net.parameters().end());
  GradientCheckOptions options;
  options.max_parameters = 20;
  options.seed = 3;
  const GradientCheckResult result = gradient_check(p.net, p.X, p.Y, options);
  EXPECT_EQ(result.checked, 20u);
  EXPECT_LT(result.relative_error, 1e-7);
  const std::vector<double> after(p.net.parameters().begin(), p.net.parameters().end());
  EXPECT_EQ(before, after);
}

}  // namespace
}  // namespace deepnet
