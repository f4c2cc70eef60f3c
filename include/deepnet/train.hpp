#pragma once
// Full-batch gradient descent, the course's training loop:
//   for i in 0..N-1: forward, cost, backward, update with learning rate alpha.
// The cost of iteration i is the one computed in that iteration's forward pass,
// before its update. It is recorded when i % record_every == 0 and at i = N-1.
#include <functional>
#include <vector>

#include "deepnet/network.hpp"

namespace deepnet {

struct CostRecord {
  int iteration;
  double cost;
};

struct GradientDescentOptions {
  double learning_rate = 0.0075;  // alpha; finite and > 0
  int iterations = 2500;          // N >= 1
  int record_every = 100;         // K >= 1
  // Called for every recorded cost, in order (for progress printing).
  std::function<void(const CostRecord&)> on_record;
  // Called after every iteration with the number done so far (for progress bars).
  std::function<void(int completed)> on_iteration;
};

// Trains in place. X: (n[0], m), Y: (n[L], m) in the output's target form
// (see make_targets in data.hpp). Throws Error on invalid settings, shapes or
// non-finite input, and when the cost becomes non-finite (divergence).
template <typename T>
std::vector<CostRecord> train_gradient_descent(Network<T>& network, const Matrix<T>& X,
                                               const Matrix<T>& Y,
                                               const GradientDescentOptions& options);

// Throws Error naming the first non-finite entry of M (row, column), described as `what`.
template <typename T>
void check_finite(MatrixCRef<T> M, const char* what);

}  // namespace deepnet
