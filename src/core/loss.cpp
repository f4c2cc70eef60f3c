// Output/loss pairs: costs (stable, from logits) and the output gradient.
#include "deepnet/loss.hpp"

#include <cmath>
#include <string>

#include "deepnet/error.hpp"

namespace deepnet {

Output parse_output(std::string_view name) {
  if (name == "sigmoid") return Output::sigmoid;
  if (name == "softmax") return Output::softmax;
  if (name == "linear") return Output::linear;
  throw Error("output: expected one of sigmoid, softmax, linear; got '" + std::string(name) + "'");
}

std::string_view to_string(Output output) {
  switch (output) {
    case Output::sigmoid: return "sigmoid";
    case Output::softmax: return "softmax";
    case Output::linear: return "linear";
  }
  return "?";
}

Activation output_activation(Output output) {
  switch (output) {
    case Output::sigmoid: return Activation::sigmoid;
    case Output::softmax: return Activation::softmax;
    case Output::linear: return Activation::linear;
  }
  return Activation::linear;
}

static void check_same_shape(const char* where, Eigen::Index r1, Eigen::Index c1, Eigen::Index r2,
                             Eigen::Index c2) {
  if (r1 != r2 || c1 != c2)
    throw Error(std::string(where) + ": predictions are (" + std::to_string(r1) + ", " +
                std::to_string(c1) + ") but Y is (" + std::to_string(r2) + ", " +
                std::to_string(c2) + ")");
  if (c1 == 0) throw Error(std::string(where) + ": no examples (m = 0)");
}

// The loss of example (column) j, summed over its output units.
template <typename T>
static double example_loss(Output output, MatrixCRef<T> ZL, MatrixCRef<T> Y, Eigen::Index j) {
  double total = 0.0;
  switch (output) {
    case Output::sigmoid:
      // -[y log s(z) + (1-y) log(1-s(z))] = max(z, 0) - z y + log(1 + e^-|z|)
      for (Eigen::Index i = 0; i < ZL.rows(); ++i) {
        const double z = ZL(i, j), y = Y(i, j);
        total += std::max(z, 0.0) - z * y + std::log1p(std::exp(-std::abs(z)));
      }
      break;
    case Output::softmax: {
      // -sum_i y_i log softmax(z)_i = sum_i y_i (logsumexp(z) - z_i)
      double shift = ZL(0, j);
      for (Eigen::Index i = 1; i < ZL.rows(); ++i) shift = std::max(shift, double(ZL(i, j)));
      double sum = 0.0;
      for (Eigen::Index i = 0; i < ZL.rows(); ++i) sum += std::exp(double(ZL(i, j)) - shift);
      const double log_sum_exp = shift + std::log(sum);
      for (Eigen::Index i = 0; i < ZL.rows(); ++i) {
        const double y = Y(i, j);
        if (y != 0.0) total += y * (log_sum_exp - double(ZL(i, j)));
      }
      break;
    }
    case Output::linear:
      for (Eigen::Index i = 0; i < ZL.rows(); ++i) {
        const double d = double(ZL(i, j)) - double(Y(i, j));
        total += 0.5 * d * d;
      }
      break;
  }
  return total;
}

template <typename T>
double cost_from_logits(Output output, MatrixCRef<T> ZL, MatrixCRef<T> Y, const T* example_weights) {
  check_same_shape("cost", ZL.rows(), ZL.cols(), Y.rows(), Y.cols());
  double total = 0.0;
  for (Eigen::Index j = 0; j < ZL.cols(); ++j) {
    const double loss = example_loss<T>(output, ZL, Y, j);
    total += example_weights ? double(example_weights[j]) * loss : loss;
  }
  return total / static_cast<double>(ZL.cols());
}

template <typename T>
double binary_cross_entropy(MatrixCRef<T> AL, MatrixCRef<T> Y) {
  check_same_shape("binary_cross_entropy", AL.rows(), AL.cols(), Y.rows(), Y.cols());
  double total = 0.0;
  for (Eigen::Index j = 0; j < AL.cols(); ++j)
    for (Eigen::Index i = 0; i < AL.rows(); ++i) {
      const double a = AL(i, j), y = Y(i, j);
      total += y * std::log(a) + (1.0 - y) * std::log(1.0 - a);
    }
  return -total / static_cast<double>(AL.cols());
}

template <typename T>
void binary_cross_entropy_backward(MatrixCRef<T> AL, MatrixCRef<T> Y, MatrixRef<T> dAL) {
  check_same_shape("binary_cross_entropy_backward", AL.rows(), AL.cols(), Y.rows(), Y.cols());
  check_same_shape("binary_cross_entropy_backward", dAL.rows(), dAL.cols(), Y.rows(), Y.cols());
  dAL = -(Y.array() / AL.array() - (T(1) - Y.array()) / (T(1) - AL.array())).matrix();
}

template <typename T>
void output_backward(MatrixCRef<T> AL, MatrixCRef<T> Y, MatrixRef<T> dZL) {
  check_same_shape("output_backward", AL.rows(), AL.cols(), Y.rows(), Y.cols());
  check_same_shape("output_backward", dZL.rows(), dZL.cols(), Y.rows(), Y.cols());
  dZL = AL - Y;
}

#define DEEPNET_INSTANTIATE(T)                                                             \
  template double cost_from_logits<T>(Output, MatrixCRef<T>, MatrixCRef<T>, const T*);     \
  template double binary_cross_entropy<T>(MatrixCRef<T>, MatrixCRef<T>);                   \
  template void binary_cross_entropy_backward<T>(MatrixCRef<T>, MatrixCRef<T>, MatrixRef<T>); \
  template void output_backward<T>(MatrixCRef<T>, MatrixCRef<T>, MatrixRef<T>);
DEEPNET_INSTANTIATE(float)
DEEPNET_INSTANTIATE(double)
#undef DEEPNET_INSTANTIATE

}  // namespace deepnet
