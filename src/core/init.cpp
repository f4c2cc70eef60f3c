// Parameter initialisation: random weights (row-by-row draws), zero biases.
#include "deepnet/init.hpp"

#include <cmath>
#include <vector>
#include <string>

#include "deepnet/error.hpp"

namespace deepnet {

InitScheme parse_init_scheme(std::string_view name) {
  if (name == "small") return InitScheme::small;
  if (name == "xavier") return InitScheme::xavier;
  if (name == "he") return InitScheme::he;
  if (name == "zeros") return InitScheme::zeros;
  if (name == "glorot") return InitScheme::glorot;
  throw Error("init: expected one of small, xavier, he, zeros, glorot; got '" + std::string(name) + "'");
}

std::string_view to_string(InitScheme scheme) {
  switch (scheme) {
    case InitScheme::small: return "small";
    case InitScheme::xavier: return "xavier";
    case InitScheme::he: return "he";
    case InitScheme::zeros: return "zeros";
    case InitScheme::glorot: return "glorot";
  }
  return "?";
}

template <typename T>
void initialize(Network<T>& network, InitScheme scheme, Rng& rng, double scale) {
  if (scheme == InitScheme::small && !(std::isfinite(scale) && scale > 0))
    throw Error("init: scale must be finite and > 0, got " + std::to_string(scale));
  for (int l = 1; l <= network.layers(); ++l) {
    auto W = network.W(l);
    network.b(l).setZero();
    if (scheme == InitScheme::zeros) {
      W.setZero();
      continue;
    }
    const double fan_in = network.units(l - 1);
    // numpy's uniform(low, high) is low + (high - low) * random_sample(); the same here.
    const double glorot_limit = std::sqrt(6.0 / (fan_in + network.units(l)));
    if (scheme == InitScheme::glorot) {
      for (Eigen::Index i = 0; i < W.rows(); ++i)
        for (Eigen::Index j = 0; j < W.cols(); ++j)  // row by row, as numpy's uniform(size=(n[l], n[l-1]))
          W(i, j) = static_cast<T>(-glorot_limit + (2.0 * glorot_limit) * rng.uniform());
      continue;
    }
    // Row by row, as numpy's randn(n[l], n[l-1]); a row's draws at once (Rng::normals).
    std::vector<double> draws(static_cast<std::size_t>(W.cols()));
    for (Eigen::Index i = 0; i < W.rows(); ++i) {
      rng.normals(draws.data(), draws.size());
      for (Eigen::Index j = 0; j < W.cols(); ++j) {
        const double draw = draws[static_cast<std::size_t>(j)];
        double value = 0.0;
        switch (scheme) {
          case InitScheme::small: value = draw * scale; break;
          case InitScheme::xavier: value = draw / std::sqrt(fan_in); break;
          case InitScheme::he: value = draw * std::sqrt(2.0 / fan_in); break;
          case InitScheme::zeros:
          case InitScheme::glorot: break;
        }
        W(i, j) = static_cast<T>(value);
      }
    }
  }
}

template void initialize<float>(Network<float>&, InitScheme, Rng&, double);
template void initialize<double>(Network<double>&, InitScheme, Rng&, double);

}  // namespace deepnet
