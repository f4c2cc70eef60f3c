// Data sets from array files: NPY, NPZ, HDF5 and IDX.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "deepnet/array.hpp"
#include "deepnet/data.hpp"
#include "deepnet/error.hpp"

namespace deepnet {

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string text = "(";
  for (std::size_t k = 0; k < shape.size(); ++k) text += (k ? ", " : "") + std::to_string(shape[k]);
  return text + (shape.size() == 1 ? ",)" : ")");
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

// The member named `wanted`, or else the first of `defaults` present.
std::string pick_key(const std::string& path, const std::vector<std::string>& keys, const std::string& wanted,
                     const std::vector<std::string>& defaults, const char* what, bool optional) {
  if (!wanted.empty()) return wanted;  // the reader names the file and lists the keys if it is missing
  for (const std::string& d : defaults)
    if (std::find(keys.begin(), keys.end(), d) != keys.end()) return d;
  if (optional) return "";
  throw Error(path + ": give " + what + "; the file holds: " + join(keys));
}

// compact: the features (X): 8-bit images stay bytes (IDX, NPY, NPZ, HDF5: Dataset::pixels)
// and float32 arrays floats (NPY, NPZ, HDF5: Dataset::singles), not 8-byte doubles.
NumericArray load_one(const std::string& path, FileFormat format, const std::string& key, bool compact = false) {
  switch (format) {
    case FileFormat::npy: return compact ? load_npy_compact(path) : load_npy(path);
    case FileFormat::idx: return load_idx(path, compact);
    case FileFormat::npz: return compact ? load_npz_array_compact(path, key) : load_npz_array(path, key);
    case FileFormat::hdf5: return load_hdf5_dataset(path, key, compact);
    case FileFormat::csv: break;
  }
  throw Error(path + ": expected an NPY, NPZ, HDF5 or IDX file");
}

}  // namespace

FileFormat detect_format(const std::string& path) {
  char head[8] = {'\xFF'};  // a file shorter than 8 bytes keeps what it does not overwrite
  {
    std::ifstream in(path, std::ios::binary);
    in.read(head, sizeof head);
  }
  if (std::memcmp(head, "\x93NUMPY", 6) == 0) return FileFormat::npy;
  if (std::memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0) return FileFormat::hdf5;
  if (std::memcmp(head, "PK\x03\x04", 4) == 0 || std::memcmp(head, "PK\x05\x06", 4) == 0) return FileFormat::npz;
  // IDX: 00 00, a type code, 1 to 8 dimensions; whatever the file is called
  // (MNIST's files are often renamed "train-images" or "x.bin"). No text file
  // starts with two NUL bytes.
  const auto type = static_cast<unsigned char>(head[2]), dims = static_cast<unsigned char>(head[3]);
  if (head[0] == 0 && head[1] == 0 && (type == 0x08 || type == 0x09 || (type >= 0x0B && type <= 0x0E)) &&
      dims >= 1 && dims <= 8)
    return FileFormat::idx;
  std::string name = path;
  if (ends_with(name, ".gz")) name.resize(name.size() - 3);
  if (ends_with(name, ".npy")) return FileFormat::npy;
  if (ends_with(name, ".npz")) return FileFormat::npz;
  if (ends_with(name, ".h5") || ends_with(name, ".hdf5") || ends_with(name, ".he5")) return FileFormat::hdf5;
  if (ends_with(name, "-ubyte") || ends_with(name, ".idx") || name.find("idx1") != std::string::npos ||
      name.find("idx3") != std::string::npos)
    return FileFormat::idx;
  return FileFormat::csv;
}

Dataset dataset_from_arrays(const NumericArray& X, const NumericArray* y, bool examples_as_columns,
                            const std::string& source) {
  if (X.shape.empty()) throw Error(source + ": X is a scalar; expected an array of examples");
  Eigen::Index m = 0, n = 1;
  Dataset data;
  data.source = source;
  if (examples_as_columns) {
    if (X.shape.size() != 2)
      throw Error(source + ": examples_as_columns needs a 2-D array (n_x, m), got shape " + shape_text(X.shape));
    n = static_cast<Eigen::Index>(X.shape[0]);
    m = static_cast<Eigen::Index>(X.shape[1]);
    // Row-major (n_x, m) read column-major is X^T; transpose into (n_x, m).
    if (!X.bytes.empty())
      data.pixels =
          Eigen::Map<const Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(X.bytes.data(), n, m);
    else if (!X.floats.empty())
      data.singles = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(X.floats.data(), n, m);
    else
      data.X = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(X.values.data(), n, m);
  } else {
    m = static_cast<Eigen::Index>(X.shape[0]);
    for (std::size_t k = 1; k < X.shape.size(); ++k) n *= static_cast<Eigen::Index>(X.shape[k]);
    // Row-major (m, d1, d2, ...) read column-major as (n, m) is exactly course layout.
    if (!X.bytes.empty())
      data.pixels = Eigen::Map<const Matrix<std::uint8_t>>(X.bytes.data(), n, m);
    else if (!X.floats.empty())
      data.singles = Eigen::Map<const Matrix<float>>(X.floats.data(), n, m);
    else
      data.X = Eigen::Map<const Matrix<double>>(X.values.data(), n, m);
  }
  if (m == 0 || n == 0) throw Error(source + ": X has shape " + shape_text(X.shape) + "; expected examples and features");
  for (Eigen::Index i = 0; i < n; ++i) data.feature_names.push_back("x" + std::to_string(i + 1));
  data.target_name = "y";
  if (y) {
    const auto& s = y->shape;
    const bool fits = (s.size() == 1 && s[0] == static_cast<std::size_t>(m)) ||
                      (s.size() == 2 && s[0] == static_cast<std::size_t>(m) && s[1] == 1) ||
                      (s.size() == 2 && s[0] == 1 && s[1] == static_cast<std::size_t>(m));
    if (!fits)
      throw Error(source + ": labels have shape " + shape_text(s) + " but X has " + std::to_string(m) +
                  " examples; expected (" + std::to_string(m) + ",), (" + std::to_string(m) + ", 1) or (1, " +
                  std::to_string(m) + ")" + (examples_as_columns ? "" : " (is X stored as (n_x, m)? set examples_as_columns)"));
    data.targets = y->values;
  }
  return data;
}

Dataset load_array_dataset(const std::string& path, const ArrayOptions& arrays) {
  if (!std::filesystem::exists(path)) throw Error(path + ": cannot open the file for reading");
  const FileFormat format = detect_format(path);
  std::vector<std::string> keys;
  if (format == FileFormat::npz) keys = npz_keys(path);
  if (format == FileFormat::hdf5) keys = hdf5_dataset_names(path);
  const bool keyed = format == FileFormat::npz || format == FileFormat::hdf5;
  const std::string x_key = keyed ? pick_key(path, keys, arrays.x_key, {"X", "x"}, "the X key (x_key)", false) : "";
  const NumericArray X = load_one(path, format, x_key, true);  // bytes or floats kept as such
  std::string source = path + (x_key.empty() ? "" : ":" + x_key);

  NumericArray y;
  bool has_y = false;
  if (!arrays.labels_path.empty()) {
    const FileFormat label_format = detect_format(arrays.labels_path);
    std::vector<std::string> label_keys;
    if (label_format == FileFormat::npz) label_keys = npz_keys(arrays.labels_path);
    if (label_format == FileFormat::hdf5) label_keys = hdf5_dataset_names(arrays.labels_path);
    const std::string y_key = label_format == FileFormat::npz || label_format == FileFormat::hdf5
                                  ? pick_key(arrays.labels_path, label_keys, arrays.y_key, {"y", "Y"}, "the labels key (y_key)", false)
                                  : "";
    y = load_one(arrays.labels_path, label_format, y_key);
    has_y = true;
  } else if (keyed) {
    const std::string y_key = pick_key(path, keys, arrays.y_key, {"y", "Y"}, "the labels key (y_key)", arrays.labels_optional);
    if (!y_key.empty()) {
      y = load_one(path, format, y_key);
      has_y = true;
    }
  }
  if (!has_y && !arrays.labels_optional)
    throw Error(path + ": no labels; give a labels file (labels_path)" +
                (keyed ? std::string(" or the labels key (y_key)") : std::string()));
  Dataset data = dataset_from_arrays(X, has_y ? &y : nullptr, arrays.examples_as_columns, source);
  data.uint8_pixels = X.dtype == "|u1" || X.dtype == "uint8";
  return data;
}

}  // namespace deepnet
