#pragma once
// Data sets: loading, and turning labels into targets for an output layer.
//
// A Dataset holds X in course layout (n_x, m): examples are columns, and one
// target per example. Files store examples as rows; loaders transpose.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "deepnet/loss.hpp"
#include "deepnet/matrix.hpp"

namespace deepnet {

struct Dataset {
  Matrix<double> X;                        // (n_x, m)
  std::vector<double> targets;             // m raw target values, as in the file
  std::vector<std::string> feature_names;  // n_x
  std::string target_name;
  std::string source;  // file path or "builtin:NAME"

  Eigen::Index features() const { return X.rows(); }
  Eigen::Index examples() const { return X.cols(); }
};

struct CsvOptions {
  // Target column: a header name or a 0-based index; empty means the last column.
  std::string label_column;
};

// Reads a CSV file with a header row and numeric columns. Throws Error naming
// the file, line and column of the first problem.
Dataset load_csv(const std::string& path, const CsvOptions& options = {});
// Same, from text in memory; `name` is used in messages.
Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& options = {});

struct BuiltinDataset {
  std::string name;
  std::string description;
};
// Built-in data sets (embedded in the library): planar.
std::vector<BuiltinDataset> builtin_datasets();
bool is_builtin_dataset(std::string_view name);
Dataset load_builtin(std::string_view name, const CsvOptions& options = {});
// A built-in name or a CSV path.
Dataset load_dataset(const std::string& name_or_path, const CsvOptions& options = {});

// How targets map onto the output layer.
struct TargetEncoding {
  Output output = Output::sigmoid;
  std::vector<double> classes;  // class values in order (index = class id); empty for linear
  int output_units() const;     // n[L]
};

// Infers the encoding: non-integer targets -> linear; 2 classes -> one sigmoid
// unit; more -> softmax. Classes are the sorted distinct values.
TargetEncoding infer_target_encoding(const std::vector<double>& targets);

// Labels in "label form" (what predict() returns): sigmoid (1, m) of 0/1,
// softmax (1, m) of class indices, linear (1, m) of values.
// Throws Error when a target is not one of the encoding's classes.
template <typename T>
Matrix<T> encode_labels(const TargetEncoding& encoding, const std::vector<double>& targets);

// Training targets Y (n[L], m) for the output: softmax -> one-hot of the class
// index; sigmoid and linear -> the labels as they are. Throws Error naming the
// example when a label is outside the output's range (class index >= K, or a
// sigmoid target outside [0, 1]).
template <typename T>
Matrix<T> make_targets(Output output, int output_units, MatrixCRef<T> labels);

}  // namespace deepnet
