// The Dataset type (deepnet/dataset.hpp).
#include "deepnet/dataset.hpp"

#include <string>

namespace deepnet {

void Dataset::expand_pixels() {
  if (has_pixels()) {
    X = pixels.cast<double>();
    pixels.resize(0, 0);
  } else if (has_singles()) {
    X = singles_view().cast<double>();
    singles.resize(0, 0);
    borrowed_singles = nullptr;
    borrowed_features = borrowed_examples = 0;
  }
}

Matrix<double> Dataset::feature_row(Eigen::Index i) const {
  if (has_pixels()) return pixels.row(i).cast<double>();
  if (has_singles()) return singles_view().row(i).cast<double>();
  return X.row(i);
}

std::string Dataset::place_of(std::size_t example) const {
  if (example < lines.size()) return source + ": line " + std::to_string(lines[example]);
  return source + ": example " + std::to_string(example + 1);
}

}  // namespace deepnet
