#pragma once
// The linear part of one layer, forward and backward, as in the course's
// step-by-step functions. The Network uses these same kernels.
#include "deepnet/activation.hpp"
#include "deepnet/matrix.hpp"

namespace deepnet {

// Z = W A_prev + b
// A_prev: (n[l-1], m), W: (n[l], n[l-1]), b: (n[l], 1), Z: (n[l], m) (pre-sized).
// Throws Error naming `layer` when the shapes do not fit.
template <typename T>
void linear_forward(MatrixCRef<T> A_prev, MatrixCRef<T> W, MatrixCRef<T> b, MatrixRef<T> Z,
                    int layer = 1);

// Z = W A_prev + b, then A = g(Z), with the bias add and activation fused into
// one sweep over Z after the matrix product. Softmax is applied per column.
// A_prev: (n[l-1], m), W: (n[l], n[l-1]), b: (n[l], 1), Z, A: (n[l], m) (pre-sized).
template <typename T>
void linear_activation_forward(MatrixCRef<T> A_prev, MatrixCRef<T> W, MatrixCRef<T> b,
                               Activation g, double leaky_slope, MatrixRef<T> Z, MatrixRef<T> A,
                               int layer = 1);

// How a backward pass writes the parameter gradients:
// - accumulate: adds to them (zeroing them first is the caller's step, as in
//   PyTorch);
// - replace: sets them, without reading them (what they held before does not
//   matter, NaN included): the values of zeroing them and accumulating, with
//   no pass over them first, except that a gradient that is exactly zero keeps
//   its product's sign (-0 where adding it to +0 gives +0; no update rule
//   turns a parameter into -0 from that, so the trained weights are the same).
enum class GradientMode { accumulate, replace };

// The parameter gradients of one layer, accumulated (or, with
// GradientMode::replace, set):
//   dW += (1/m) dZ A_prev^T      dW: (n[l], n[l-1])
//   db += (1/m) sum_columns dZ   db: (n[l], 1)
// and, when dA_prev is non-null, sets dA_prev = W^T dZ   (n[l-1], m).
// dZ: (n[l], m), A_prev: (n[l-1], m), W: (n[l], n[l-1]). Zeroing dW, db before
// accumulating is the caller's step.
template <typename T>
void linear_backward(MatrixCRef<T> dZ, MatrixCRef<T> A_prev, MatrixCRef<T> W, MatrixRef<T> dW,
                     MatrixRef<T> db, Matrix<T>* dA_prev, int layer = 1,
                     GradientMode mode = GradientMode::accumulate);

}  // namespace deepnet
