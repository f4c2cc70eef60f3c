#pragma once
// A data set in memory: the one type the io room's loaders (deepnet/data.hpp)
// produce and the train room (deepnet/preprocess.hpp, deepnet/fit.hpp)
// consumes. Plain data, no behaviour beyond its sizes.
//
// X is in course layout (n_x, m): examples are columns, one target per example.
#include <string>
#include <vector>

#include "deepnet/matrix.hpp"

namespace deepnet {

struct Dataset {
  Matrix<double> X;                        // (n_x, m)
  std::vector<double> targets;             // m target values; class indices when class_names is set
  std::vector<std::string> class_names;    // set when the file names its classes (string labels)
  std::vector<double> weights;             // per-example weights, when the file has a weight column
  bool uint8_pixels = false;               // X came from an 8-bit unsigned array (images: 0..255)
  std::vector<std::string> feature_names;  // n_x
  std::string target_name;
  std::string source;  // file path or "builtin:NAME"
  // What the loader guessed or did that the reader should know about, one line
  // each without the file name ("dropped column 1 (unnamed, 0, 1, 2, ...: a row
  // index written by pandas or R)"). Empty for an ordinary file.
  std::vector<std::string> notes;

  Eigen::Index features() const { return X.rows(); }
  Eigen::Index examples() const { return X.cols(); }
};

}  // namespace deepnet
