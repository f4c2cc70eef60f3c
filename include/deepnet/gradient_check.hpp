#pragma once
// Gradient check by centred differences:
//   g_approx[i] = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)
//   relative error = ||g - g_approx|| / (||g|| + ||g_approx||)   (Euclidean norms)
// over all parameters, or a seeded random subset of them for large nets.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "deepnet/network.hpp"

namespace deepnet {

struct GradientCheckOptions {
  double epsilon = 1e-7;
  // Check at most this many parameters (a seeded random subset); 0 means all.
  std::size_t max_parameters = 0;
  std::uint64_t seed = 0;
  // Per-example weights (m values) in both the cost and the analytic gradient; empty = all 1.
  std::vector<double> example_weights;
};

struct GradientCheckResult {
  double relative_error = 0.0;               // over every checked parameter
  std::vector<double> layer_relative_error;  // index l-1 for layer l (W[l] and b[l])
  std::size_t checked = 0;                   // number of parameters checked
};

// Computes the analytic gradient into network.gradients() for (X, Y). The
// default is forward + zero_grad + backward; tests pass a broken one to see the
// check fail.
using GradientFunction =
    std::function<void(Network<double>&, const Matrix<double>&, const Matrix<double>&)>;

// Double precision only: float has too few digits for eps = 1e-7.
// Leaves the parameters as they were.
GradientCheckResult gradient_check(Network<double>& network, const Matrix<double>& X,
                                   const Matrix<double>& Y,
                                   const GradientCheckOptions& options = {},
                                   const GradientFunction& analytic_gradient = {});

}  // namespace deepnet
