#pragma once
// How many examples a forward-only pass over a data set takes at a time
// (scoring in fit.cpp, predict(Model, Dataset) in model.cpp): as many as keep
// the chunk's input and its Z and A caches within 32 MiB, 256 to 4096, a
// multiple of 64. 4096 for Fashion-MNIST's 784-256-128-10; 768 for a
// 1024-2048-2048-10 net, whose 4096-example workspace alone took 134 MB of a
// 480 MB peak (docs/performance.md, "Memory and the whole command").
#include <algorithm>
#include <cmath>

#include "deepnet/network.hpp"

namespace deepnet::detail {

template <typename T>
Eigen::Index evaluation_chunk(const Network<T>& net) {
  double units = net.units(0);
  for (int l = 1; l <= net.layers(); ++l) units += 2.0 * net.units(l);
  const double per_example = units * static_cast<double>(sizeof(T));
  const double fits = std::floor(32.0 * 1024 * 1024 / per_example / 64) * 64;
  return static_cast<Eigen::Index>(std::clamp(fits, 256.0, 4096.0));
}

}  // namespace deepnet::detail
