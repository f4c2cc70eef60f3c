#pragma once
// Data sets: loading, normalising, splitting, and turning labels into targets
// for an output layer.
//
// A Dataset holds X in course layout (n_x, m): examples are columns, and one
// target per example. Files store examples as rows; loaders transpose.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deepnet/array.hpp"
#include "deepnet/loss.hpp"
#include "deepnet/matrix.hpp"

namespace deepnet {

struct Dataset {
  Matrix<double> X;                        // (n_x, m)
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

  Eigen::Index features() const { return X.rows(); }
  Eigen::Index examples() const { return X.cols(); }
  // "FILE: line L" (CSV) or "FILE: example j" (1-based), for messages about example j (0-based).
  std::string place_of(std::size_t example) const;
};

enum class CsvHeader { detect, present, absent };

struct CsvOptions {
  // Target column: a header name or a 0-based index (-1 = last); empty means the last column.
  std::string label_column;
  // detect: the first row is a header when a field of a feature column (every
  // column but the label's) is text that is not a missing-value marker; a text
  // label over numeric features is data when the labels below are text too.
  // A first row of column numbers (0,1,2,... or 1,2,3,..., maybe after an
  // empty index field, as pandas writes a DataFrame without column names) is
  // a header when the rows below are not.
  CsvHeader header = CsvHeader::detect;
  // ',', ';', '\t', or ' ' (runs of spaces and tabs, as np.savetxt writes);
  // 0 detects it from the first lines.
  char delimiter = 0;
  // Every column is a feature (no label column), e.g. for prediction input.
  bool features_only = false;
  // A column of per-example weights (name or 0-based index), not a feature; empty: none.
  std::string weight_column;
  // Rows whose label is missing (empty, NA, N/A, NaN, ?, null, None) are
  // dropped with a note; otherwise such a row is an error.
  bool drop_missing_labels = false;
  // label_column names a column that the header may lack (prediction input
  // matched to a model's label name): then the file has no label column.
  bool label_optional = false;
};

// Reads a CSV file (or .csv.gz) with numeric feature columns. The label column
// may hold numbers or names (names become classes, sorted, kept in
// class_names). Handles a UTF-8 BOM, UTF-16 text with its BOM, CRLF and
// CR-only line ends, quoted fields, and an unnamed row-index column (pandas,
// R), which is dropped; Dataset::notes says what was guessed. Throws Error naming
// the file, line and column of the first problem, or the memory limit
// (deepnet/limits.hpp) when the file's text would need more to parse.
Dataset load_csv(const std::string& path, const CsvOptions& options = {});
// Same, from text in memory; `name` is used in messages.
Dataset parse_csv(std::string_view text, const std::string& name, const CsvOptions& options = {});

struct BuiltinDataset {
  std::string name;
  std::string description;
  bool has_test_part = false;
};
// Built-in data sets: planar, breast-cancer, iris, wine, digits (embedded in
// the library), fashion-mnist (read from the Debian package dataset-fashion-mnist).
std::vector<BuiltinDataset> builtin_datasets();
// Accepts NAME, NAME:train and NAME:test.
bool is_builtin_dataset(std::string_view name);
// NAME or NAME:train is the training part, NAME:test the test part (Error when there is none).
Dataset load_builtin(std::string_view name, const CsvOptions& options = {});
// Where examples and labels are inside array files (NPY, NPZ, HDF5, IDX).
struct ArrayOptions {
  std::string x_key;        // NPZ member / HDF5 dataset holding X (default: X or x)
  std::string y_key;        // NPZ member / HDF5 dataset holding the labels (default: y or Y)
  std::string labels_path;  // a separate labels file (NPY, IDX, NPZ/HDF5 with --y-key)
  // The array is stored the course's way, (n_x, m); otherwise rows are examples
  // and trailing dimensions are flattened row-major: (m, 64, 64, 3) -> 12288 features.
  bool examples_as_columns = false;
  // Labels are optional (prediction input): a missing y is not an error.
  bool labels_optional = false;
};

enum class FileFormat { csv, npy, npz, hdf5, idx };
// By magic bytes, then by extension (.csv, .tsv, .txt, .gz: CSV).
FileFormat detect_format(const std::string& path);

// Builds a data set from arrays. X: (m, d1, d2, ...) or, with
// examples_as_columns, (n_x, m); y: (m,), (m, 1) or (1, m), or null.
Dataset dataset_from_arrays(const NumericArray& X, const NumericArray* y, bool examples_as_columns,
                            const std::string& source);

// Puts data's feature rows in the order of `names` (a model's or the training
// data's feature names). When data has a header and names is not empty, columns
// are matched by name: a missing or an extra column is an Error naming them,
// and a different order is put right (with a note). Otherwise they are taken by
// position, and a different count is an Error. `reference` names the other
// side in messages ("the model m.dnn", "the training data").
void match_features(Dataset& data, const std::vector<std::string>& names, const std::string& reference);

// A built-in name (unless a file of that name exists), or a CSV, NPY, NPZ, HDF5 or IDX file.
Dataset load_dataset(const std::string& name_or_path, const CsvOptions& options = {},
                     const ArrayOptions& arrays = {});
// An NPY, NPZ, HDF5 or IDX file (with its labels as `arrays` says).
Dataset load_array_dataset(const std::string& path, const ArrayOptions& arrays);

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
  // Throws Error when X does not have the fitted number of features.
  void apply(Matrix<double>& X) const;
};

// Splits off a validation part of `fraction` (0 < fraction < 1) of the
// examples: stratified by class for classification targets (each class keeps
// its share), seeded. Returns (training part, validation part).
std::pair<Dataset, Dataset> split_dataset(const Dataset& data, double fraction, bool stratify,
                                          std::uint64_t seed);

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
