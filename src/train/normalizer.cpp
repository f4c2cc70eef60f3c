// Feature normalisation, fitted on training data and stored in the model.
#include <cmath>
#include <string>

#include "deepnet/error.hpp"
#include "deepnet/preprocess.hpp"

namespace deepnet {

Normalization parse_normalization(std::string_view name) {
  if (name == "none") return Normalization::none;
  if (name == "standard") return Normalization::standard;
  if (name == "minmax") return Normalization::minmax;
  if (name == "div255") return Normalization::div255;
  throw Error("normalize: expected one of auto, none, standard, minmax, div255; got '" + std::string(name) + "'");
}

Normalization choose_normalization(std::string_view name, const Dataset& data) {
  if (name == "auto") return data.uint8_pixels ? Normalization::div255 : Normalization::none;
  return parse_normalization(name);
}

std::string_view to_string(Normalization normalization) {
  switch (normalization) {
    case Normalization::none: return "none";
    case Normalization::standard: return "standard";
    case Normalization::minmax: return "minmax";
    case Normalization::div255: return "div255";
  }
  return "?";
}

Normalizer Normalizer::fit(Normalization kind, const Matrix<double>& X) {
  Normalizer result;
  result.kind = kind;
  if (kind == Normalization::none) return result;
  const Eigen::Index n = X.rows(), m = X.cols();
  result.offset.assign(static_cast<std::size_t>(n), 0.0);
  result.scale.assign(static_cast<std::size_t>(n), 1.0);
  if (kind == Normalization::div255) {
    result.scale.assign(static_cast<std::size_t>(n), 255.0);
    return result;
  }
  if (m == 0) throw Error("normalize: no examples to fit on");
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto row = X.row(i);
    double offset = 0, spread = 0;
    if (kind == Normalization::standard) {
      // Two passes: the mean, then the mean squared deviation (population standard deviation).
      offset = row.sum() / static_cast<double>(m);
      double squares = 0;
      for (Eigen::Index j = 0; j < m; ++j) squares += (row(j) - offset) * (row(j) - offset);
      spread = std::sqrt(squares / static_cast<double>(m));
    } else {
      offset = row.minCoeff();
      spread = row.maxCoeff() - offset;
    }
    if (!std::isfinite(offset) || !std::isfinite(spread))
      throw Error("normalize " + std::string(to_string(kind)) + ": feature " + std::to_string(i) +
                  " overflows (values too large to take its spread); rescale the data first");
    result.offset[static_cast<std::size_t>(i)] = offset;
    result.scale[static_cast<std::size_t>(i)] = spread > 0 ? spread : 1.0;  // constant feature
  }
  return result;
}

void Normalizer::apply(Matrix<double>& X) const {
  if (kind == Normalization::none) return;
  if (static_cast<std::size_t>(X.rows()) != offset.size())
    throw Error("normalize: the data has " + std::to_string(X.rows()) +
                " features but the normaliser was fitted on " + std::to_string(offset.size()));
  for (Eigen::Index j = 0; j < X.cols(); ++j)
    for (Eigen::Index i = 0; i < X.rows(); ++i)
      X(i, j) = (X(i, j) - offset[static_cast<std::size_t>(i)]) / scale[static_cast<std::size_t>(i)];
}

}  // namespace deepnet
