// Activation forward and backward over whole matrices. The scalar g and g'
// live side by side in activation.hpp.
#include "deepnet/activation.hpp"

#include <algorithm>
#include <string>

#include "deepnet/error.hpp"
#include "deepnet/vmath.hpp"

namespace deepnet {

Activation parse_activation(std::string_view name) {
  if (name == "sigmoid") return Activation::sigmoid;
  if (name == "tanh") return Activation::tanh;
  if (name == "relu") return Activation::relu;
  if (name == "leaky_relu" || name == "leaky-relu") return Activation::leaky_relu;
  if (name == "linear" || name == "identity") return Activation::linear;
  if (name == "softmax") return Activation::softmax;
  throw Error("activation: expected one of sigmoid, tanh, relu, leaky_relu, linear, softmax; got '" +
              std::string(name) + "'");
}

std::string_view to_string(Activation activation) {
  switch (activation) {
    case Activation::sigmoid: return "sigmoid";
    case Activation::tanh: return "tanh";
    case Activation::relu: return "relu";
    case Activation::leaky_relu: return "leaky_relu";
    case Activation::linear: return "linear";
    case Activation::softmax: return "softmax";
  }
  return "?";
}

// A[:, j] = exp(Z[:, j] - max Z[:, j]) / sum_i exp(Z[i, j] - max Z[:, j])
template <typename T>
static void softmax_columns(MatrixCRef<T> Z, MatrixRef<T> A) {
  const Eigen::Index n = Z.rows();
  for (Eigen::Index j = 0; j < Z.cols(); ++j) {
    const T shift = Z.col(j).maxCoeff();
    T* a = &A(0, j);
    for (Eigen::Index i = 0; i < n; ++i) a[i] = Z(i, j) - shift;
    vexp(a, a, static_cast<std::size_t>(n));
    T total = T(0);
    for (Eigen::Index i = 0; i < n; ++i) total += a[i];
    for (Eigen::Index i = 0; i < n; ++i) a[i] /= total;
  }
}

template <typename T>
void activation_forward(Activation g, MatrixCRef<T> Z, MatrixRef<T> A, double leaky_slope) {
  if (A.rows() != Z.rows() || A.cols() != Z.cols())
    throw Error("activation_forward: A is (" + std::to_string(A.rows()) + ", " +
                std::to_string(A.cols()) + ") but Z is (" + std::to_string(Z.rows()) + ", " +
                std::to_string(Z.cols()) + ")");
  if (g == Activation::softmax) return softmax_columns<T>(Z, A);
  if (g == Activation::tanh || g == Activation::sigmoid) {  // vectorised (vmath.hpp)
    for (Eigen::Index j = 0; j < Z.cols(); ++j) {
      const auto n = static_cast<std::size_t>(Z.rows());
      const T* z = Z.data() + j * Z.outerStride();
      T* a = A.data() + j * A.outerStride();
      if (g == Activation::tanh) vtanh(z, a, n);
      else vsigmoid(z, a, n);
    }
    return;
  }
  dispatch_activation(g, leaky_slope, [&](auto fn) {
    for (Eigen::Index j = 0; j < Z.cols(); ++j)
      for (Eigen::Index i = 0; i < Z.rows(); ++i) A(i, j) = fn.value(Z(i, j));
  });
}

template <typename T>
void activation_backward(Activation g, MatrixCRef<T> dA, MatrixCRef<T> Z, MatrixRef<T> dZ,
                         double leaky_slope) {
  if (g == Activation::softmax)
    throw Error("activation_backward: softmax has no element-wise derivative; it pairs with "
                "cross-entropy, where dZ[L] = A[L] - Y");
  if (dA.rows() != Z.rows() || dA.cols() != Z.cols() || dZ.rows() != Z.rows() ||
      dZ.cols() != Z.cols())
    throw Error("activation_backward: dA (" + std::to_string(dA.rows()) + ", " +
                std::to_string(dA.cols()) + "), Z (" + std::to_string(Z.rows()) + ", " +
                std::to_string(Z.cols()) + ") and dZ must have the same shape");
  dispatch_activation(g, leaky_slope, [&](auto fn) {
    for (Eigen::Index j = 0; j < Z.cols(); ++j)
      for (Eigen::Index i = 0; i < Z.rows(); ++i) {
        const T z = Z(i, j);
        dZ(i, j) = dA(i, j) * fn.derivative(z, fn.value(z));
      }
  });
}

template void activation_forward<float>(Activation, MatrixCRef<float>, MatrixRef<float>, double);
template void activation_forward<double>(Activation, MatrixCRef<double>, MatrixRef<double>, double);
template void activation_backward<float>(Activation, MatrixCRef<float>, MatrixCRef<float>,
                                         MatrixRef<float>, double);
template void activation_backward<double>(Activation, MatrixCRef<double>, MatrixCRef<double>,
                                          MatrixRef<double>, double);

}  // namespace deepnet
