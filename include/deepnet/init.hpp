#pragma once
// Parameter initialisation: weights random, biases zero.
//   small:  W[l] = randn(n[l], n[l-1]) * scale          (course shallow net, scale 0.01)
//   xavier: W[l] = randn(n[l], n[l-1]) / sqrt(n[l-1])   (course deep net; a division, as there)
//   he:     W[l] = randn(n[l], n[l-1]) * sqrt(2 / n[l-1])
//   glorot: W[l] = uniform(-r, r), r = sqrt(6 / (n[l-1] + n[l]))  (Glorot & Bengio 2010,
//           "Xavier uniform"; drawn as numpy's uniform(-r, r, (n[l], n[l-1])))
//   zeros:  W[l] = 0 (shows the symmetry problem: hidden units stay identical)
// Draws fill W[1], then W[2], ..., each row by row (numpy's C order), so the
// numpy RNG mode reproduces np.random.seed(s) + randn(...) exactly.
#include <string_view>

#include "deepnet/network.hpp"
#include "deepnet/rng.hpp"

namespace deepnet {

enum class InitScheme { small, xavier, he, zeros, glorot };

// Names: small, xavier, he, zeros, glorot. Throws Error otherwise.
InitScheme parse_init_scheme(std::string_view name);
std::string_view to_string(InitScheme scheme);

// scale is used by `small` only; it must be finite and > 0.
template <typename T>
void initialize(Network<T>& network, InitScheme scheme, Rng& rng, double scale = 0.01);

}  // namespace deepnet
