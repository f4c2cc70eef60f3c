#pragma once
// Matrix types. Course layout: examples are columns, so A[l] is (n[l], m).
// Eigen matrices are column-major, which keeps one example contiguous.
#include <Eigen/Core>

namespace deepnet {

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

// Read-only and writable views that accept a Matrix, a Map or a block without copying.
template <typename T>
using MatrixCRef = Eigen::Ref<const Matrix<T>>;
template <typename T>
using MatrixRef = Eigen::Ref<Matrix<T>>;

}  // namespace deepnet
