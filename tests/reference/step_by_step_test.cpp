// The course's "Building your Deep Neural Network: Step by Step" (v3) cases,
// from tests/data/step-by-step-v3-cases.json (expected values computed in
// float64 with numpy and checked against the course's Expected Output tables).
// Every value must match to 1e-7 in double.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "deepnet/activation.hpp"
#include "deepnet/init.hpp"
#include "deepnet/linear.hpp"
#include "deepnet/loss.hpp"
#include "deepnet/network.hpp"

namespace deepnet {
namespace {

using json = nlohmann::json;
constexpr double tolerance = 1e-7;

const json& cases() {
  static const json all = [] {
    std::ifstream in(std::string(DEEPNET_TEST_DATA_DIR) + "/step-by-step-v3-cases.json");
    if (!in) throw std::runtime_error("cannot open step-by-step-v3-cases.json");
    return json::parse(in)["cases"];
  }();
  return all;
}

Matrix<double> matrix(const json& rows) {
  Matrix<double> M(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows[0].size()));
  for (Eigen::Index i = 0; i < M.rows(); ++i)
    for (Eigen::Index j = 0; j < M.cols(); ++j) M(i, j) = rows[i][j].get<double>();
  return M;
}

void expect_matrix_near(const Matrix<double>& actual, const json& expected, const std::string& what) {
  const Matrix<double> want = matrix(expected);
  ASSERT_EQ(actual.rows(), want.rows()) << what;
  ASSERT_EQ(actual.cols(), want.cols()) << what;
  for (Eigen::Index i = 0; i < want.rows(); ++i)
    for (Eigen::Index j = 0; j < want.cols(); ++j)
      EXPECT_NEAR(actual(i, j), want(i, j), tolerance) << what << "(" << i << ", " << j << ")";
}

TEST(StepByStep, LinearForward) {
  const json& c = cases()["linear_forward"];
  const Matrix<double> A = matrix(c["A"]), W = matrix(c["W"]), b = matrix(c["b"]);
  Matrix<double> Z(W.rows(), A.cols());
  linear_forward<double>(A, W, b, Z);
  expect_matrix_near(Z, c["expected_Z"], "Z");
}

TEST(StepByStep, LinearActivationForwardSigmoidAndRelu) {
  const json& c = cases()["linear_activation_forward"];
  const Matrix<double> A_prev = matrix(c["A_prev"]), W = matrix(c["W"]), b = matrix(c["b"]);
  Matrix<double> Z(W.rows(), A_prev.cols()), A(W.rows(), A_prev.cols());
  linear_activation_forward<double>(A_prev, W, b, Activation::sigmoid, 0.01, Z, A);
  expect_matrix_near(A, c["expected_sigmoid"], "A (sigmoid)");
  linear_activation_forward<double>(A_prev, W, b, Activation::relu, 0.01, Z, A);
  expect_matrix_near(A, c["expected_relu"], "A (relu)");
}

TEST(StepByStep, LModelForward) {
  const json& c = cases()["L_model_forward"];
  Network<double> net(Architecture{{4, 3, 1}, {Activation::relu}, Output::sigmoid});
  net.W(1) = matrix(c["W1"]);
  net.b(1) = matrix(c["b1"]);
  net.W(2) = matrix(c["W2"]);
  net.b(2) = matrix(c["b2"]);
  const Matrix<double> X = matrix(c["X"]);
  expect_matrix_near(net.forward(X), c["expected_AL"], "AL");
  EXPECT_EQ(net.layers(), c["expected_num_caches"].get<int>());
}

TEST(StepByStep, ComputeCost) {
  const json& c = cases()["compute_cost"];
  const Matrix<double> Y = matrix(c["Y"]), AL = matrix(c["AL"]);
  EXPECT_NEAR(binary_cross_entropy<double>(AL, Y), c["expected_cost"].get<double>(), tolerance);
  // The stable form from logits agrees: Z = logit(AL).
  const Matrix<double> Z = (AL.array() / (1 - AL.array())).log().matrix();
  EXPECT_NEAR(cost_from_logits<double>(Output::sigmoid, Z, Y), c["expected_cost"].get<double>(),
              tolerance);
}

TEST(StepByStep, LinearBackward) {
  const json& c = cases()["linear_backward"];
  const Matrix<double> dZ = matrix(c["dZ"]), A_prev = matrix(c["A_prev"]), W = matrix(c["W"]);
  Matrix<double> dW = Matrix<double>::Zero(W.rows(), W.cols());
  Matrix<double> db = Matrix<double>::Zero(W.rows(), 1);
  Matrix<double> dA_prev(A_prev.rows(), A_prev.cols());
  linear_backward<double>(dZ, A_prev, W, dW, db, &dA_prev);
  expect_matrix_near(dA_prev, c["expected_dA_prev"], "dA_prev");
  expect_matrix_near(dW, c["expected_dW"], "dW");
  expect_matrix_near(db, c["expected_db"], "db");
}

TEST(StepByStep, LinearActivationBackwardSigmoidAndRelu) {
  const json& c = cases()["linear_activation_backward"];
  const Matrix<double> dA = matrix(c["dA"]), A_prev = matrix(c["A_prev"]), W = matrix(c["W"]),
                       Z = matrix(c["Z"]);
  for (const auto& [g, key] : {std::pair{Activation::sigmoid, "expected_sigmoid"},
                               std::pair{Activation::relu, "expected_relu"}}) {
    Matrix<double> dZ(Z.rows(), Z.cols());
    activation_backward<double>(g, dA, Z, dZ);
    Matrix<double> dW = Matrix<double>::Zero(W.rows(), W.cols());
    Matrix<double> db = Matrix<double>::Zero(W.rows(), 1);
    Matrix<double> dA_prev(A_prev.rows(), A_prev.cols());
    linear_backward<double>(dZ, A_prev, W, dW, db, &dA_prev);
    expect_matrix_near(dA_prev, c[key]["dA_prev"], std::string(key) + " dA_prev");
    expect_matrix_near(dW, c[key]["dW"], std::string(key) + " dW");
    expect_matrix_near(db, c[key]["db"], std::string(key) + " db");
  }
}

TEST(StepByStep, LModelBackward) {
  // The course's flow, with its given caches: dAL from the BCE derivative, then
  // sigmoid backward for layer 2 and relu backward for layer 1.
  const json& c = cases()["L_model_backward"];
  const Matrix<double> AL = matrix(c["AL"]), Y = matrix(c["Y"]);
  const json& l1 = c["layer1"];
  const json& l2 = c["layer2"];
  Matrix<double> dAL(AL.rows(), AL.cols());
  binary_cross_entropy_backward<double>(AL, Y, dAL);

  const Matrix<double> Z2 = matrix(l2["Z"]), A1 = matrix(l2["A_prev"]), W2 = matrix(l2["W"]);
  Matrix<double> dZ2(Z2.rows(), Z2.cols());
  activation_backward<double>(Activation::sigmoid, dAL, Z2, dZ2);
  Matrix<double> dW2 = Matrix<double>::Zero(W2.rows(), W2.cols()), db2 = Matrix<double>::Zero(W2.rows(), 1);
  Matrix<double> dA1(A1.rows(), A1.cols());
  linear_backward<double>(dZ2, A1, W2, dW2, db2, &dA1, 2);

  const Matrix<double> Z1 = matrix(l1["Z"]), A0 = matrix(l1["A_prev"]), W1 = matrix(l1["W"]);
  Matrix<double> dZ1(Z1.rows(), Z1.cols());
  activation_backward<double>(Activation::relu, dA1, Z1, dZ1);
  Matrix<double> dW1 = Matrix<double>::Zero(W1.rows(), W1.cols()), db1 = Matrix<double>::Zero(W1.rows(), 1);
  Matrix<double> dA0(A0.rows(), A0.cols());
  linear_backward<double>(dZ1, A0, W1, dW1, db1, &dA0, 1);

  expect_matrix_near(dW1, c["expected_dW1"], "dW1");
  expect_matrix_near(db1, c["expected_db1"], "db1");
  expect_matrix_near(dA0, c["expected_grad_wrt_input_X_printed_as_dA1_in_v3"], "dX");
}

// The Network's fused training path (bias, activation and derivative fused
// into the passes around each product) and the plain course kernels
// (linear_activation_forward, output/activation/linear backward) side by side
// on the L_model_backward case's X, W1, b1, W2, b2, Y: both must give the same
// caches and gradients.
TEST(StepByStep, FusedNetworkAgreesWithThePlainCourseKernels) {
  const json& c = cases()["L_model_backward"];
  const json& l1 = c["layer1"];
  const json& l2 = c["layer2"];
  const Matrix<double> X = matrix(l1["A_prev"]), Y = matrix(c["Y"]);
  const Matrix<double> W1 = matrix(l1["W"]), b1 = matrix(l1["b"]), W2 = matrix(l2["W"]), b2 = matrix(l2["b"]);
  Architecture arch;
  arch.sizes = {static_cast<int>(W1.cols()), static_cast<int>(W1.rows()), static_cast<int>(W2.rows())};
  arch.hidden_activations = {Activation::relu};
  arch.output = Output::sigmoid;
  Network<double> net(arch);
  net.W(1) = W1;
  net.b(1) = b1;
  net.W(2) = W2;
  net.b(2) = b2;
  net.forward(X);
  net.zero_grad();
  Matrix<double> dX;
  net.backward(Y, &dX);

  // The plain kernels, one equation at a time.
  const Eigen::Index m = X.cols();
  Matrix<double> Z1(W1.rows(), m), A1(W1.rows(), m), Z2(W2.rows(), m), A2(W2.rows(), m);
  linear_activation_forward<double>(X, W1, b1, Activation::relu, 0.01, Z1, A1, 1);
  linear_activation_forward<double>(A1, W2, b2, Activation::sigmoid, 0.01, Z2, A2, 2);
  Matrix<double> dZ2(Z2.rows(), m);
  output_backward<double>(A2, Y, dZ2);  // dZ[L] = A[L] - Y
  Matrix<double> dW2 = Matrix<double>::Zero(W2.rows(), W2.cols()), db2 = Matrix<double>::Zero(W2.rows(), 1);
  Matrix<double> dA1(A1.rows(), m);
  linear_backward<double>(dZ2, A1, W2, dW2, db2, &dA1, 2);
  Matrix<double> dZ1(Z1.rows(), m);
  activation_backward<double>(Activation::relu, dA1, Z1, dZ1);
  Matrix<double> dW1 = Matrix<double>::Zero(W1.rows(), W1.cols()), db1 = Matrix<double>::Zero(W1.rows(), 1);
  Matrix<double> dA0(X.rows(), m);
  linear_backward<double>(dZ1, X, W1, dW1, db1, &dA0, 1);

  auto expect_same = [](const auto& fused, const Matrix<double>& plain, const char* what) {
    ASSERT_EQ(fused.rows(), plain.rows()) << what;
    ASSERT_EQ(fused.cols(), plain.cols()) << what;
    for (Eigen::Index i = 0; i < plain.rows(); ++i)
      for (Eigen::Index j = 0; j < plain.cols(); ++j)
        EXPECT_NEAR(fused(i, j), plain(i, j), 1e-12 * (1 + std::abs(plain(i, j)))) << what << "(" << i << ", " << j << ")";
  };
  expect_same(net.Z(1), Z1, "Z1");
  expect_same(net.A(1), A1, "A1");
  expect_same(net.A(2), A2, "A2");
  expect_same(net.dW(2), dW2, "dW2");
  expect_same(net.db(2), db2, "db2");
  expect_same(net.dW(1), dW1, "dW1");
  expect_same(net.db(1), db1, "db1");
  expect_same(dX, dA0, "dX");
  // And neither path is trivial: the gradients are not all zero.
  EXPECT_GT(dW1.norm(), 0.0);
}

TEST(StepByStep, UpdateParameters) {
  const json& c = cases()["update_parameters"];
  Network<double> net(Architecture{{4, 3, 1}, {Activation::relu}, Output::sigmoid});
  for (int l = 1; l <= 2; ++l) {
    const std::string s = std::to_string(l);
    net.W(l) = matrix(c["W" + s]);
    net.b(l) = matrix(c["b" + s]);
    net.dW(l) = matrix(c["dW" + s]);
    net.db(l) = matrix(c["db" + s]);
  }
  net.update(c["learning_rate"].get<double>());
  for (int l = 1; l <= 2; ++l) {
    const std::string s = std::to_string(l);
    expect_matrix_near(net.W(l), c["expected"]["W" + s], "W" + s);
    expect_matrix_near(net.b(l), c["expected"]["b" + s], "b" + s);
  }
}

TEST(StepByStep, InitializeParameters221WithSeed1) {
  const json& c = cases()["initialize_parameters_2_2_1"];
  Network<double> net(Architecture{{2, 2, 1}, {Activation::tanh}, Output::sigmoid});
  Rng rng(c["seed"].get<std::uint64_t>(), RngKind::numpy);
  initialize(net, InitScheme::small, rng, 0.01);
  expect_matrix_near(net.W(1), c["expected_W1"], "W1");
  expect_matrix_near(net.W(2), c["expected_W2"], "W2");
  EXPECT_TRUE(net.b(1).isZero());
  EXPECT_TRUE(net.b(2).isZero());
}

TEST(StepByStep, InitializeParametersDeep543WithSeed3) {
  const json& c = cases()["initialize_parameters_deep_5_4_3"];
  Network<double> net(Architecture{{5, 4, 3}, {Activation::relu}, Output::softmax});
  Rng rng(c["seed"].get<std::uint64_t>(), RngKind::numpy);
  initialize(net, InitScheme::small, rng, 0.01);
  expect_matrix_near(net.W(1), c["expected_W1"], "W1");
  expect_matrix_near(net.W(2), c["expected_W2"], "W2");
}

}  // namespace
}  // namespace deepnet
