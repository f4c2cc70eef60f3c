// Gradient check by centred differences over the flat parameter buffer.
#include "deepnet/gradient_check.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "deepnet/error.hpp"
#include "deepnet/rng.hpp"

namespace deepnet {

GradientCheckResult gradient_check(Network<double>& network, const Matrix<double>& X,
                                   const Matrix<double>& Y, const GradientCheckOptions& options,
                                   const GradientFunction& analytic_gradient) {
  if (!(std::isfinite(options.epsilon) && options.epsilon > 0))
    throw Error("gradient check: epsilon must be finite and > 0, got " +
                std::to_string(options.epsilon));
  if (!options.example_weights.empty() && static_cast<Eigen::Index>(options.example_weights.size()) != X.cols())
    throw Error("gradient check: " + std::to_string(options.example_weights.size()) + " example weights for " +
                std::to_string(X.cols()) + " examples");
  const double* weights = options.example_weights.empty() ? nullptr : options.example_weights.data();
  auto cost_at_current_parameters = [&] {
    network.forward(X);
    return network.cost(Y, weights);
  };

  if (analytic_gradient) {
    analytic_gradient(network, X, Y);
  } else {
    network.forward(X);
    network.zero_grad();
    network.backward(Y, nullptr, weights);
  }
  std::span<double> theta = network.parameters();
  const std::vector<double> gradient(network.gradients().begin(), network.gradients().end());

  // Which parameters: all, or a seeded random subset (partial Fisher-Yates), in buffer order.
  std::vector<std::size_t> indices(theta.size());
  std::iota(indices.begin(), indices.end(), std::size_t{0});
  if (options.max_parameters > 0 && options.max_parameters < indices.size()) {
    Rng rng(options.seed);
    for (std::size_t k = 0; k < options.max_parameters; ++k)
      std::swap(indices[k], indices[k + rng.below(indices.size() - k)]);
    indices.resize(options.max_parameters);
    std::sort(indices.begin(), indices.end());
  }

  const int L = network.layers();
  std::vector<double> diff2(L, 0.0), g2(L, 0.0), approx2(L, 0.0);
  int layer = 1;
  for (std::size_t index : indices) {
    while (layer < L && index >= network.weight_offset(layer + 1)) ++layer;
    const double saved = theta[index];
    theta[index] = saved + options.epsilon;
    const double cost_plus = cost_at_current_parameters();
    theta[index] = saved - options.epsilon;
    const double cost_minus = cost_at_current_parameters();
    theta[index] = saved;
    const double approx = (cost_plus - cost_minus) / (2.0 * options.epsilon);
    const double g = gradient[index];
    diff2[layer - 1] += (g - approx) * (g - approx);
    g2[layer - 1] += g * g;
    approx2[layer - 1] += approx * approx;
  }

  auto relative = [](double d2, double a2, double b2) {
    const double denominator = std::sqrt(a2) + std::sqrt(b2);
    return denominator == 0.0 ? 0.0 : std::sqrt(d2) / denominator;
  };
  GradientCheckResult result;
  result.checked = indices.size();
  double total_diff2 = 0, total_g2 = 0, total_approx2 = 0;
  for (int l = 0; l < L; ++l) {
    result.layer_relative_error.push_back(relative(diff2[l], g2[l], approx2[l]));
    total_diff2 += diff2[l];
    total_g2 += g2[l];
    total_approx2 += approx2[l];
  }
  result.relative_error = relative(total_diff2, total_g2, total_approx2);
  // Leave the caches as they would be after a plain forward pass at theta.
  network.forward(X);
  return result;
}

}  // namespace deepnet
