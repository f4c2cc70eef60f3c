#pragma once
// Preparing a data set for training (train room, src/train): normalising
// features, splitting off a validation part, and turning labels into targets
// for an output layer. Loading data sets is the io room's (deepnet/data.hpp).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deepnet/dataset.hpp"
#include "deepnet/loss.hpp"
#include "deepnet/matrix.hpp"

namespace deepnet {

// ---------------------------------------------------------------- normalising

enum class Normalization { none, standard, minmax, div255 };
Normalization parse_normalization(std::string_view name);  // none, standard, minmax, div255
// "auto": div255 for 8-bit image data (uint8_pixels), none otherwise; other names as parse_normalization.
Normalization choose_normalization(std::string_view name, const Dataset& data);
std::string_view to_string(Normalization normalization);

// x' = (x - offset) / scale per feature, fitted on training data only and
// stored in the model so prediction applies the same transform.
// standard: offset = mean, scale = standard deviation; minmax: offset = min,
// scale = max - min; div255: offset 0, scale 255. A constant feature (zero
// spread) gets scale 1, so it becomes 0 (standard) rather than NaN.
struct Normalizer {
  Normalization kind = Normalization::none;
  std::vector<double> offset, scale;  // one per feature; empty for none

  static Normalizer fit(Normalization kind, const Matrix<double>& X);
  static Normalizer fit(Normalization kind, const Dataset& data);  // its X or its pixels
  // Throws Error when X does not have the fitted number of features.
  void apply(Matrix<double>& X) const;
  // Examples [first, first + count) of data (count -1: to the end), normalised
  // and in precision T, in one pass and one allocation: each value is
  // (x - offset) / scale in double, then rounded to T, so the result equals
  // apply() on a double copy followed by a cast. For float, a value beyond
  // float32's range is an Error naming data.source, the example and the
  // feature (it would silently become infinite). Works on X and on pixels.
  template <typename T>
  Matrix<T> features(const Dataset& data, Eigen::Index first = 0, Eigen::Index count = -1) const;
};

// Splits off a validation part of `fraction` (0 < fraction < 1) of the
// examples: stratified by class for classification targets (each class keeps
// its share), seeded. Returns (training part, validation part).
std::pair<Dataset, Dataset> split_dataset(const Dataset& data, double fraction, bool stratify,
                                          std::uint64_t seed);

// ---------------------------------------------------------------- columns

// Puts data's feature rows in the order of `names` (a model's or the training
// data's feature names). When data has a header and names is not empty, columns
// are matched by name: a missing or an extra column is an Error naming them,
// and a different order is put right (with a note). Otherwise they are taken by
// position, and a different count is an Error. `reference` names the other
// side in messages ("the model m.dnn", "the training data").
void match_features(Dataset& data, const std::vector<std::string>& names, const std::string& reference);

// ---------------------------------------------------------------- targets

// How targets map onto the output layer.
struct TargetEncoding {
  Output output = Output::sigmoid;
  std::vector<double> classes;           // class values in order (index = class id); empty for linear
  std::vector<std::string> class_names;  // one per class: the file's names, or the values as text
  int output_units() const;              // n[L]
};

// Infers the encoding: non-integer targets -> linear; 2 classes -> one sigmoid
// unit; more -> softmax. Classes are the sorted distinct values; names come
// from the data set's class_names when it has them.
TargetEncoding infer_target_encoding(const Dataset& data);
TargetEncoding infer_target_encoding(const std::vector<double>& targets);

// The data set's targets as values of `encoding` (its classes, or regression
// values). Class names are matched by name, so a file whose labels are names
// lines up with the model's classes. Throws Error naming the example for a
// label the encoding does not know.
std::vector<double> targets_in_encoding(const Dataset& data, const TargetEncoding& encoding);

// Labels in "label form" (what predict() returns): sigmoid (1, m) of 0/1,
// softmax (1, m) of class indices, linear (1, m) of values.
// Throws Error naming the example when a target is not one of the encoding's classes.
template <typename T>
Matrix<T> encode_labels(const TargetEncoding& encoding, const std::vector<double>& targets);

// Training targets Y (n[L], m) for the output: softmax -> one-hot of the class
// index; sigmoid and linear -> the labels as they are. Throws Error naming the
// example when a label is outside the output's range (class index >= K, or a
// sigmoid target outside [0, 1]).
template <typename T>
Matrix<T> make_targets(Output output, int output_units, MatrixCRef<T> labels);

}  // namespace deepnet
