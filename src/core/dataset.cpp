// The Dataset type (deepnet/dataset.hpp).
#include "deepnet/dataset.hpp"

#include <string>

namespace deepnet {

void Dataset::expand_pixels() {
  if (!has_pixels()) return;
  X = pixels.cast<double>();
  pixels.resize(0, 0);
}

std::string Dataset::place_of(std::size_t example) const {
  if (example < lines.size()) return source + ": line " + std::to_string(lines[example]);
  return source + ": example " + std::to_string(example + 1);
}

}  // namespace deepnet
