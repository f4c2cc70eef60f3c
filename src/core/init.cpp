// Parameter initialisation: random weights (row-by-row draws), zero biases.
#include "deepnet/init.hpp"

#include <algorithm>
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
    // small: draw * scale; he: draw * sqrt(2 / fan_in); xavier: draw / sqrt(fan_in).
    const bool divide = scheme == InitScheme::xavier;
    const double factor = scheme == InitScheme::small ? scale
                          : scheme == InitScheme::he  ? std::sqrt(2.0 / fan_in)
                                                      : std::sqrt(fan_in);
    // Drawn row by row, as numpy's randn(n[l], n[l-1]) and uniform(size=(n[l],
    // n[l-1])), up to 16 rows at a time (Rng::normals), then written column by
    // column: W is column-major, so a row written alone would touch a cache
    // line per weight.
    constexpr Eigen::Index block = 16;
    const Eigen::Index cols = W.cols();
    std::vector<double> values(static_cast<std::size_t>(block * cols));
    for (Eigen::Index i0 = 0; i0 < W.rows(); i0 += block) {
      const Eigen::Index rows = std::min(block, W.rows() - i0);
      const std::size_t count = static_cast<std::size_t>(rows * cols);
      if (scheme == InitScheme::glorot) {
        for (std::size_t k = 0; k < count; ++k) values[k] = -glorot_limit + (2.0 * glorot_limit) * rng.uniform();
      } else {
        rng.normals(values.data(), count);
        if (divide)
          for (std::size_t k = 0; k < count; ++k) values[k] /= factor;
        else
          for (std::size_t k = 0; k < count; ++k) values[k] *= factor;
      }
      for (Eigen::Index j = 0; j < cols; ++j) {
        T* column = &W(i0, j);
        for (Eigen::Index r = 0; r < rows; ++r) column[r] = static_cast<T>(values[static_cast<std::size_t>(r * cols + j)]);
      }
    }
  }
}

template void initialize<float>(Network<float>&, InitScheme, Rng&, double);
template void initialize<double>(Network<double>&, InitScheme, Rng&, double);

}  // namespace deepnet
