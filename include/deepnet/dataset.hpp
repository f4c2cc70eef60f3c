#pragma once
// A data set in memory: the one type the io room's loaders (deepnet/data.hpp)
// produce and the train room (deepnet/preprocess.hpp, deepnet/fit.hpp)
// consumes. Plain data: its sizes and where an example came from, no more
// (src/core/dataset.cpp).
//
// X is in course layout (n_x, m): examples are columns, one target per example.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "deepnet/matrix.hpp"

namespace deepnet {

struct Dataset {
  // The features, (n_x, m), as double; or, for 8-bit images (IDX files and the
  // built-in Fashion-MNIST), as bytes in `pixels` with X empty: an eighth of
  // the memory, and the trainer turns them into its own precision once
  // (deepnet/preprocess.hpp normalized_features). Code that wants doubles calls
  // expand_pixels() first.
  Matrix<double> X;
  Matrix<std::uint8_t> pixels;
  // Or, for float32 features handed over as float32 (the Python module's float32
  // arrays), as float in `singles` with X empty: half the memory of X, read
  // exactly as the doubles they widen to (the same fingerprint, normaliser and
  // training bits as the same values in X).
  Matrix<float> singles;
  // Or the same float32 features borrowed, not copied: (features, examples)
  // column-major floats that stay the caller's (the Python module's C-ordered
  // float32 array while fit runs: the data set is not held twice). The caller
  // keeps them alive and unchanged while this Dataset, or a copy, is in use.
  // Read them, owned or borrowed, through singles_view().
  const float* borrowed_singles = nullptr;
  Eigen::Index borrowed_features = 0, borrowed_examples = 0;
  std::vector<double> targets;             // m target values; class indices when class_names is set
  std::vector<std::string> class_names;    // set when the file names its classes (string labels)
  std::vector<double> weights;             // per-example weights, when the file has a weight column
  bool uint8_pixels = false;               // X came from an 8-bit unsigned array (images: 0..255)
  std::vector<std::string> feature_names;  // n_x
  // feature_names are the file's own (a CSV header), not made up (x1, x2, ...):
  // other files are then matched to them by name.
  bool named_features = false;
  std::string target_name;
  // CSV: the line each example starts on (1-based), for messages; empty for other formats.
  std::vector<std::int64_t> lines;
  std::string source;  // file path or "builtin:NAME"
  // What the loader guessed or did that the reader should know about, one line
  // each without the file name ("dropped column 1 (unnamed, 0, 1, 2, ...: a row
  // index written by pandas or R)"). Empty for an ordinary file.
  std::vector<std::string> notes;

  bool has_pixels() const { return pixels.rows() != 0 || pixels.cols() != 0; }
  bool has_singles() const { return borrowed_singles != nullptr || singles.rows() != 0 || singles.cols() != 0; }
  // The float32 features, owned or borrowed (empty when there are none).
  Eigen::Map<const Matrix<float>> singles_view() const {
    if (borrowed_singles) return {borrowed_singles, borrowed_features, borrowed_examples};
    return {singles.data(), singles.rows(), singles.cols()};
  }
  Eigen::Index features() const {
    return has_pixels() ? pixels.rows() : has_singles() ? singles_view().rows() : X.rows();
  }
  Eigen::Index examples() const {
    return has_pixels() ? pixels.cols() : has_singles() ? singles_view().cols() : X.cols();
  }
  // Feature i of example j, whichever way it is stored.
  double value(Eigen::Index i, Eigen::Index j) const {
    return has_pixels() ? double(pixels(i, j)) : has_singles() ? double(singles_view()(i, j)) : X(i, j);
  }
  // X = the pixels or singles as double (exact), they freed; nothing when X is already the storage.
  void expand_pixels();
  // A copy of the features as double (X, or the pixels or singles widened), for small data (a picture's points).
  Matrix<double> values() const {
    return has_pixels() ? Matrix<double>(pixels.cast<double>())
           : has_singles() ? Matrix<double>(singles_view().cast<double>())
                           : X;
  }
  // Row i of the features (feature i of every example) as double.
  Matrix<double> feature_row(Eigen::Index i) const;
  // "FILE: line L" (CSV) or "FILE: example j" (1-based), for messages about example j (0-based).
  std::string place_of(std::size_t example) const;
};

}  // namespace deepnet
