// The linear part of a layer: Z = W A_prev + b and its gradients.
#include "deepnet/linear.hpp"

#include <string>

#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/vmath.hpp"

namespace deepnet {

namespace {

std::string shape(Eigen::Index rows, Eigen::Index cols) {
  return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

template <typename T>
void check_forward_shapes(MatrixCRef<T> A_prev, MatrixCRef<T> W, MatrixCRef<T> b,
                          Eigen::Index z_rows, Eigen::Index z_cols, int layer) {
  const std::string L = std::to_string(layer), prev = std::to_string(layer - 1);
  if (W.cols() != A_prev.rows())
    throw Error("layer " + L + ": W[" + L + "] is " + shape(W.rows(), W.cols()) + " but A[" +
                prev + "] has " + std::to_string(A_prev.rows()) + " rows");
  if (b.rows() != W.rows() || b.cols() != 1)
    throw Error("layer " + L + ": b[" + L + "] is " + shape(b.rows(), b.cols()) + ", expected " +
                shape(W.rows(), 1));
  if (z_rows != W.rows() || z_cols != A_prev.cols())
    throw Error("layer " + L + ": Z[" + L + "] is " + shape(z_rows, z_cols) + ", expected " +
                shape(W.rows(), A_prev.cols()));
}

// Columns [j0, j1): z += b, then a = g(z). tanh and sigmoid go through the
// vectorised functions of vmath.hpp over the whole block when it is contiguous.
template <typename T, typename Fn>
void apply_bias_and_activation(Activation g, Fn fn, MatrixCRef<T> b, MatrixRef<T> Z, MatrixRef<T> A,
                               Eigen::Index j0, Eigen::Index j1) {
  const Eigen::Index n = Z.rows();
  const bool vector_fn = g == Activation::tanh || g == Activation::sigmoid;
  for (Eigen::Index j = j0; j < j1; ++j) {
    T* z = &Z(0, j);
    T* a = &A(0, j);
    const T* bias = b.data();
    if (vector_fn) {
      for (Eigen::Index i = 0; i < n; ++i) z[i] += bias[i];
    } else {
      for (Eigen::Index i = 0; i < n; ++i) {
        z[i] += bias[i];
        a[i] = fn.value(z[i]);
      }
    }
  }
  if (!vector_fn) return;
  auto apply = [&](const T* z, T* a, std::size_t count) {
    if (g == Activation::tanh) vtanh(z, a, count);
    else vsigmoid(z, a, count);
  };
  if (Z.outerStride() == n && A.outerStride() == n)
    apply(&Z(0, j0), &A(0, j0), static_cast<std::size_t>(n * (j1 - j0)));
  else
    for (Eigen::Index j = j0; j < j1; ++j) apply(&Z(0, j), &A(0, j), static_cast<std::size_t>(n));
}

}  // namespace

template <typename T>
void linear_forward(MatrixCRef<T> A_prev, MatrixCRef<T> W, MatrixCRef<T> b, MatrixRef<T> Z,
                    int layer) {
  check_forward_shapes<T>(A_prev, W, b, Z.rows(), Z.cols(), layer);
  gemm<T>(false, false, W.rows(), A_prev.cols(), W.cols(), T(1), W.data(), W.outerStride(),
          A_prev.data(), A_prev.outerStride(), T(0), Z.data(), Z.outerStride());
  Z.colwise() += b.col(0);
}

template <typename T>
void linear_activation_forward(MatrixCRef<T> A_prev, MatrixCRef<T> W, MatrixCRef<T> b,
                               Activation g, double leaky_slope, MatrixRef<T> Z, MatrixRef<T> A,
                               int layer) {
  check_forward_shapes<T>(A_prev, W, b, Z.rows(), Z.cols(), layer);
  if (A.rows() != Z.rows() || A.cols() != Z.cols())
    throw Error("layer " + std::to_string(layer) + ": A is " + shape(A.rows(), A.cols()) +
                " but Z is " + shape(Z.rows(), Z.cols()));
  // Per block of columns (examples): Z = W A_prev, then z += b, a = g(z) while
  // the block is still in cache.
  const Eigen::Index n = Z.rows(), k = W.cols();
  const ColumnBlocks blocks = column_blocks(Z.cols(), double(n) * double(Z.cols()) * double(k));
  dispatch_activation(g == Activation::softmax ? Activation::linear : g, leaky_slope, [&](auto fn) {
    parallel_blocks(blocks.count, [&](Eigen::Index block) {
      const Eigen::Index j0 = blocks.begin(block), j1 = blocks.end(block);
      gemm_serial<T>(false, false, n, j1 - j0, k, T(1), W.data(), W.outerStride(),
                     A_prev.data() + j0 * A_prev.outerStride(), A_prev.outerStride(), T(0),
                     &Z(0, j0), Z.outerStride());
      apply_bias_and_activation<T>(g, fn, b, Z, A, j0, j1);
    });
  });
  if (g == Activation::softmax) activation_forward<T>(g, Z, A, leaky_slope);
}

template <typename T>
void linear_backward(MatrixCRef<T> dZ, MatrixCRef<T> A_prev, MatrixCRef<T> W, MatrixRef<T> dW,
                     MatrixRef<T> db, Matrix<T>* dA_prev, int layer, GradientMode mode) {
  const std::string L = std::to_string(layer);
  if (dZ.rows() != W.rows() || dZ.cols() != A_prev.cols() || W.cols() != A_prev.rows())
    throw Error("layer " + L + ": backward got dZ[" + L + "] " + shape(dZ.rows(), dZ.cols()) +
                ", W[" + L + "] " + shape(W.rows(), W.cols()) + ", A[" +
                std::to_string(layer - 1) + "] " + shape(A_prev.rows(), A_prev.cols()));
  if (dW.rows() != W.rows() || dW.cols() != W.cols() || db.rows() != W.rows() || db.cols() != 1)
    throw Error("layer " + L + ": dW[" + L + "] is " + shape(dW.rows(), dW.cols()) + " and db[" +
                L + "] is " + shape(db.rows(), db.cols()) + ", expected " +
                shape(W.rows(), W.cols()) + " and " + shape(W.rows(), 1));
  const T inv_m = T(1) / static_cast<T>(dZ.cols());
  // dW += (1/m) dZ A_prev^T; db += (1/m) sum over examples of dZ; dA_prev = W^T dZ.
  // (replace: = instead of +=; the product's beta 0 does not read dW.)
  const bool replace = mode == GradientMode::replace;
  gemm<T>(false, true, dW.rows(), dW.cols(), dZ.cols(), inv_m, dZ.data(), dZ.outerStride(),
          A_prev.data(), A_prev.outerStride(), replace ? T(0) : T(1), dW.data(), dW.outerStride());
  if (replace)
    db.col(0) = inv_m * dZ.rowwise().sum();
  else
    db.col(0) += inv_m * dZ.rowwise().sum();
  if (dA_prev) {
    dA_prev->resize(W.cols(), dZ.cols());
    gemm<T>(true, false, W.cols(), dZ.cols(), W.rows(), T(1), W.data(), W.outerStride(), dZ.data(),
            dZ.outerStride(), T(0), dA_prev->data(), dA_prev->outerStride());
  }
}

#define DEEPNET_INSTANTIATE(T)                                                                  \
  template void linear_forward<T>(MatrixCRef<T>, MatrixCRef<T>, MatrixCRef<T>, MatrixRef<T>,   \
                                  int);                                                         \
  template void linear_activation_forward<T>(MatrixCRef<T>, MatrixCRef<T>, MatrixCRef<T>,       \
                                             Activation, double, MatrixRef<T>, MatrixRef<T>,    \
                                             int);                                              \
  template void linear_backward<T>(MatrixCRef<T>, MatrixCRef<T>, MatrixCRef<T>, MatrixRef<T>,  \
                                   MatrixRef<T>, Matrix<T>*, int, GradientMode);
DEEPNET_INSTANTIATE(float)
DEEPNET_INSTANTIATE(double)
#undef DEEPNET_INSTANTIATE

}  // namespace deepnet
