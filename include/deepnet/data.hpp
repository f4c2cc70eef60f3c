#pragma once
// Loading data sets (io room): CSV, NPY, NPZ, HDF5 and IDX files and the
// built-in sets, into a Dataset (deepnet/dataset.hpp). Files store examples as
// rows; loaders transpose. Normalising, splitting and target encoding are the
// train room's: deepnet/preprocess.hpp.
#include <string>
#include <string_view>
#include <vector>

#include "deepnet/array.hpp"
#include "deepnet/dataset.hpp"

namespace deepnet {

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
  std::string labels_path;  // a separate labels file (NPY, IDX, NPZ/HDF5 with y_key)
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

// A built-in name (unless a file of that name exists), or a CSV, NPY, NPZ, HDF5 or IDX file.
Dataset load_dataset(const std::string& name_or_path, const CsvOptions& options = {},
                     const ArrayOptions& arrays = {});
// An NPY, NPZ, HDF5 or IDX file (with its labels as `arrays` says).
Dataset load_array_dataset(const std::string& path, const ArrayOptions& arrays);

}  // namespace deepnet
