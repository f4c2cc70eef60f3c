// The linear part of a layer: Z = W A_prev + b and its gradients.
#include "deepnet/linear.hpp"

#include <string>

#include "deepnet/error.hpp"

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

}  // namespace

template <typename T>
void linear_forward(MatrixCRef<T> A_prev, MatrixCRef<T> W, MatrixCRef<T> b, MatrixRef<T> Z,
                    int layer) {
  check_forward_shapes<T>(A_prev, W, b, Z.rows(), Z.cols(), layer);
  Z.noalias() = W * A_prev;
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
  Z.noalias() = W * A_prev;
  if (g == Activation::softmax) {
    Z.colwise() += b.col(0);
    activation_forward<T>(g, Z, A, leaky_slope);
    return;
  }
  // One sweep: z += b, a = g(z).
  const Eigen::Index n = Z.rows();
  dispatch_activation(g, leaky_slope, [&](auto fn) {
    for (Eigen::Index j = 0; j < Z.cols(); ++j) {
      T* z = &Z(0, j);
      T* a = &A(0, j);
      for (Eigen::Index i = 0; i < n; ++i) {
        z[i] += b(i, 0);
        a[i] = fn.value(z[i]);
      }
    }
  });
}

template <typename T>
void linear_backward(MatrixCRef<T> dZ, MatrixCRef<T> A_prev, MatrixCRef<T> W, MatrixRef<T> dW,
                     MatrixRef<T> db, Matrix<T>* dA_prev, int layer) {
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
  dW.noalias() += inv_m * (dZ * A_prev.transpose());
  db.col(0) += inv_m * dZ.rowwise().sum();
  if (dA_prev) dA_prev->noalias() = W.transpose() * dZ;
}

#define DEEPNET_INSTANTIATE(T)                                                                  \
  template void linear_forward<T>(MatrixCRef<T>, MatrixCRef<T>, MatrixCRef<T>, MatrixRef<T>,   \
                                  int);                                                         \
  template void linear_activation_forward<T>(MatrixCRef<T>, MatrixCRef<T>, MatrixCRef<T>,       \
                                             Activation, double, MatrixRef<T>, MatrixRef<T>,    \
                                             int);                                              \
  template void linear_backward<T>(MatrixCRef<T>, MatrixCRef<T>, MatrixCRef<T>, MatrixRef<T>,  \
                                   MatrixRef<T>, Matrix<T>*, int);
DEEPNET_INSTANTIATE(float)
DEEPNET_INSTANTIATE(double)
#undef DEEPNET_INSTANTIATE

}  // namespace deepnet
