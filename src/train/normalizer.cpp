// Feature normalisation, fitted on training data and stored in the model.
#include <atomic>
#include <cmath>
#include <tuple>
#include <utility>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"
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

namespace {

// Offset and scale of one feature (its values in `row`): the mean and the
// population standard deviation (two passes), or the minimum and the range; a
// constant feature gets scale 1. `feature` names it in the error.
template <typename Row>
std::pair<double, double> feature_statistics(Normalization kind, const Row& row, Eigen::Index feature) {
  const Eigen::Index m = row.size();
  double offset = 0, spread = 0;
  if (kind == Normalization::standard) {
    offset = row.sum() / static_cast<double>(m);
    double squares = 0;
    for (Eigen::Index j = 0; j < m; ++j) squares += (row(j) - offset) * (row(j) - offset);
    spread = std::sqrt(squares / static_cast<double>(m));
  } else {
    offset = row.minCoeff();
    spread = row.maxCoeff() - offset;
  }
  if (!std::isfinite(offset) || !std::isfinite(spread))
    throw Error("normalize " + std::string(to_string(kind)) + ": feature " + std::to_string(feature) +
                " overflows (values too large to take its spread); rescale the data first");
  return {offset, spread > 0 ? spread : 1.0};
}

}  // namespace

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
  for (Eigen::Index i = 0; i < n; ++i)
    std::tie(result.offset[static_cast<std::size_t>(i)], result.scale[static_cast<std::size_t>(i)]) =
        feature_statistics(kind, X.row(i), i);
  return result;
}

Normalizer Normalizer::fit(Normalization kind, const Dataset& data) {
  if (!data.has_pixels() && !data.has_singles()) return fit(kind, data.X);
  if (kind == Normalization::none || kind == Normalization::div255) return fit(kind, Matrix<double>(data.features(), 0));
  // standard and minmax on pixels or singles: the statistics of each feature row,
  // from a double copy of that row only, by the same code as for X (so the same bits).
  Normalizer result;
  const Eigen::Index n = data.features();
  result.kind = kind;
  result.offset.resize(static_cast<std::size_t>(n));
  result.scale.resize(static_cast<std::size_t>(n));
  if (data.examples() == 0) throw Error("normalize: no examples to fit on");
  Matrix<double> row(1, data.examples());
  for (Eigen::Index i = 0; i < n; ++i) {
    row = data.feature_row(i);
    std::tie(result.offset[static_cast<std::size_t>(i)], result.scale[static_cast<std::size_t>(i)]) =
        feature_statistics(kind, std::as_const(row).row(0), i);  // the same expression type as X.row(i) above
  }
  return result;
}

template <typename T>
Matrix<T> Normalizer::features(const Dataset& data, Eigen::Index first, Eigen::Index count) const {
  const Eigen::Index n = data.features(), m = data.examples();
  if (count < 0) count = m - first;
  if (first < 0 || first + count > m)
    throw Error("normalize: examples " + std::to_string(first) + " to " + std::to_string(first + count) + " of " +
                std::to_string(m));
  if (kind != Normalization::none && static_cast<std::size_t>(n) != offset.size())
    throw Error("normalize: " + data.source + " has " + std::to_string(n) +
                " features but the normaliser was fitted on " + std::to_string(offset.size()));
  Matrix<T> out(n, count);
  const double largest = static_cast<double>(std::numeric_limits<float>::max());
  auto store = [&](Eigen::Index i, Eigen::Index j, double x) {
    if (kind != Normalization::none)
      x = (x - offset[static_cast<std::size_t>(i)]) / scale[static_cast<std::size_t>(i)];
    if constexpr (sizeof(T) == sizeof(float)) {
      if (std::abs(x) > largest && std::isfinite(x)) {
        char text[32];
        std::snprintf(text, sizeof text, "%.6g", x);
        throw Error(data.source + ": feature " + std::to_string(i) + " of example " + std::to_string(first + j) +
                    " is " + text +
                    " after normalisation, beyond float32's range (3.4e38); train in float64, standardise "
                    "the features, or rescale the data");
      }
    }
    out(i, j) = static_cast<T>(x);
  };
  if (data.has_pixels() && kind != Normalization::none && n > 0) {
    // A byte has 256 values: each feature's 256 results, computed once by the
    // same formula, then looked up (the same bits, without a division per value).
    // One table serves all features when they share offset and scale (div255).
    bool shared = true;
    for (std::size_t i = 1; i < offset.size(); ++i) shared = shared && offset[i] == offset[0] && scale[i] == scale[0];
    const Eigen::Index tables = shared ? 1 : n;
    std::vector<T> table(static_cast<std::size_t>(tables) * 256);
    bool in_range = true;
    for (Eigen::Index i = 0; i < tables; ++i)
      for (int v = 0; v < 256; ++v) {
        const double x = (v - offset[static_cast<std::size_t>(i)]) / scale[static_cast<std::size_t>(i)];
        in_range = in_range && !(sizeof(T) == sizeof(float) && std::abs(x) > largest && std::isfinite(x));
        table[static_cast<std::size_t>(i) * 256 + static_cast<std::size_t>(v)] = static_cast<T>(x);
      }
    if (in_range) {
      // Shared among the threads in column blocks (a lookup per value: the same
      // bits whoever does it); the first touch of the output's pages is half the cost.
      const ColumnBlocks blocks = column_blocks(count, 8.0 * static_cast<double>(n) * static_cast<double>(count));
      parallel_blocks(blocks.count, [&](Eigen::Index block) {
        for (Eigen::Index j = blocks.begin(block); j < blocks.end(block); ++j) {
          const std::uint8_t* column = data.pixels.data() + (first + j) * n;
          T* to = out.data() + j * n;
          if (shared)
            for (Eigen::Index i = 0; i < n; ++i) to[i] = table[column[i]];
          else
            for (Eigen::Index i = 0; i < n; ++i) to[i] = table[static_cast<std::size_t>(i) * 256 + column[i]];
        }
      });
      return out;
    }
  }
  if (!data.has_pixels()) {
    // Doubles or floats, value by value, shared among the threads in column
    // blocks (each value on its own: the same bits whoever computes it), in
    // loops the compiler vectorises; a value beyond float32's range is only
    // noted there, and the serial loop below finds the first one for the message.
    const bool normalise = kind != Normalization::none;
    const double* off = offset.data();
    const double* sc = scale.data();
    const float* singles = data.has_singles() ? data.singles_view().data() : nullptr;
    std::atomic<bool> beyond{false};
    const ColumnBlocks blocks = column_blocks(count, 8.0 * static_cast<double>(n) * static_cast<double>(count));
    parallel_blocks(blocks.count, [&](Eigen::Index block) {
      bool over = false;
      for (Eigen::Index j = blocks.begin(block); j < blocks.end(block); ++j) {
        T* to = out.data() + j * n;
        auto convert = [&](const auto* column) {
          auto put = [&](Eigen::Index i, double x) {
            if constexpr (sizeof(T) == sizeof(float)) over |= (std::abs(x) > largest) & (std::abs(x) < HUGE_VAL);
            to[i] = static_cast<T>(x);
          };
          if (normalise)
            for (Eigen::Index i = 0; i < n; ++i) put(i, (static_cast<double>(column[i]) - off[i]) / sc[i]);
          else
            for (Eigen::Index i = 0; i < n; ++i) put(i, static_cast<double>(column[i]));
        };
        if (singles) convert(singles + (first + j) * n);
        else convert(data.X.data() + (first + j) * n);
      }
      if (over) beyond.store(true, std::memory_order_relaxed);
    });
    if (!beyond.load()) return out;
  }
  for (Eigen::Index j = 0; j < count; ++j) {
    if (data.has_pixels()) {  // no normalisation, or a value beyond float32's range somewhere: value by value
      const std::uint8_t* column = data.pixels.data() + (first + j) * n;
      for (Eigen::Index i = 0; i < n; ++i) store(i, j, static_cast<double>(column[i]));
    } else if (data.has_singles()) {
      const float* column = data.singles_view().data() + (first + j) * n;
      for (Eigen::Index i = 0; i < n; ++i) store(i, j, static_cast<double>(column[i]));
    } else {
      const double* column = data.X.data() + (first + j) * n;
      for (Eigen::Index i = 0; i < n; ++i) store(i, j, column[i]);
    }
  }
  return out;
}

template Matrix<float> Normalizer::features<float>(const Dataset&, Eigen::Index, Eigen::Index) const;
template Matrix<double> Normalizer::features<double>(const Dataset&, Eigen::Index, Eigen::Index) const;

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
