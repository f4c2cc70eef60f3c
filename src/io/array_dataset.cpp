// Data sets from array files: NPY, NPZ, HDF5 and IDX.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deepnet/array.hpp"
#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "deepnet/limits.hpp"
#include "io/pread_all.hpp"

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

namespace {

// Examples m and features n of an X of this shape; throws Error on a scalar,
// and on anything but 2-D when the examples are columns.
std::pair<Eigen::Index, Eigen::Index> examples_and_features(const std::vector<std::size_t>& shape,
                                                            bool examples_as_columns, const std::string& source) {
  if (shape.empty()) throw Error(source + ": X is a scalar; expected an array of examples");
  if (examples_as_columns) {
    if (shape.size() != 2)
      throw Error(source + ": examples_as_columns needs a 2-D array (n_x, m), got shape " + shape_text(shape));
    return {static_cast<Eigen::Index>(shape[1]), static_cast<Eigen::Index>(shape[0])};
  }
  Eigen::Index n = 1;
  for (std::size_t k = 1; k < shape.size(); ++k) n *= static_cast<Eigen::Index>(shape[k]);
  return {static_cast<Eigen::Index>(shape[0]), n};
}

// Everything of a data set from arrays but its features' values: the checks of
// X's shape, the feature names, the labels.
void finish_dataset(Dataset& data, const std::vector<std::size_t>& x_shape, Eigen::Index m, Eigen::Index n,
                    const NumericArray* y, bool examples_as_columns, const std::string& source) {
  data.source = source;
  if (m == 0 || n == 0) throw Error(source + ": X has shape " + shape_text(x_shape) + "; expected examples and features");
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
}

// X of a regular, uncompressed NPY file of C-ordered float32 (in this
// machine's byte order) or uint8 values, examples as rows, read with pread()
// straight into data.singles or data.pixels: a header the general reader
// would refuse is refused with its message (npy_view). False, with nothing
// kept, for any other file or element type, or when the file changed size
// while it was read: the caller then reads it the general way.
bool read_npy_features(const std::string& path, const std::string& source, Dataset& data,
                       std::vector<std::size_t>& shape, std::string& dtype) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) return false;
  const auto file_size = static_cast<std::size_t>(info.st_size);
  const auto read_at = [fd](char* out, std::size_t n, std::size_t offset) { return io::pread_all(fd, out, n, offset); };
  // The magic string, the version and the header's length (2 bytes in 1.0, 4 after).
  unsigned char head[12];
  if (file_size < sizeof head || !read_at(reinterpret_cast<char*>(head), sizeof head, 0) ||
      std::memcmp(head, "\x93NUMPY", 6) != 0 || head[6] < 1 || head[6] > 3 || head[7] != 0)
    return false;
  const std::size_t header_start = head[6] == 1 ? 10 : 12;
  std::size_t header_length = head[8] | static_cast<std::size_t>(head[9]) << 8;
  if (head[6] > 1) header_length |= static_cast<std::size_t>(head[10]) << 16 | static_cast<std::size_t>(head[11]) << 24;
  if (header_length > file_size - header_start || header_length > (1u << 20)) return false;
  std::string first(header_start + header_length, '\0');
  if (!read_at(first.data(), first.size(), 0)) return false;
  const NpyView view = npy_view(first, path, file_size);
  if (view.fortran_order || !(view.float32 || view.uint8)) return false;
  const auto [m, n] = examples_and_features(view.shape, false, source);
  check_memory(view.data_bytes,
               path + ": header: " + view.layout + " claims " + std::to_string(view.count) + " values = ",
               view.uint8 ? " as bytes" : " as float");
  char* out = nullptr;
  if (view.uint8) {
    data.pixels.resize(n, m);
    out = reinterpret_cast<char*>(data.pixels.data());
  } else {
    data.singles.resize(n, m);
    out = reinterpret_cast<char*>(data.singles.data());
  }
  char extra;
  struct stat after {};
  if (!read_at(out, view.data_bytes, view.data_start) || ::pread(fd, &extra, 1, static_cast<off_t>(file_size)) != 0 ||
      ::fstat(fd, &after) != 0 || after.st_size != info.st_size) {
    data = Dataset();
    return false;
  }
  shape = view.shape;
  dtype = view.dtype;
  return true;
}

}  // namespace

Dataset dataset_from_arrays(const NumericArray& X, const NumericArray* y, bool examples_as_columns,
                            const std::string& source) {
  const auto [m, n] = examples_and_features(X.shape, examples_as_columns, source);
  Dataset data;
  if (examples_as_columns) {
    // Row-major (n_x, m) read column-major is X^T; transpose into (n_x, m).
    if (!X.bytes.empty())
      data.pixels =
          Eigen::Map<const Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(X.bytes.data(), n, m);
    else if (!X.floats.empty())
      data.singles = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(X.floats.data(), n, m);
    else
      data.X = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(X.values.data(), n, m);
  } else {
    // Row-major (m, d1, d2, ...) read column-major as (n, m) is exactly course layout.
    if (!X.bytes.empty())
      data.pixels = Eigen::Map<const Matrix<std::uint8_t>>(X.bytes.data(), n, m);
    else if (!X.floats.empty())
      data.singles = Eigen::Map<const Matrix<float>>(X.floats.data(), n, m);
    else
      data.X = Eigen::Map<const Matrix<double>>(X.values.data(), n, m);
  }
  finish_dataset(data, X.shape, m, n, y, examples_as_columns, source);
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
  std::string source = path + (x_key.empty() ? "" : ":" + x_key);
  // An uncompressed NPY file of C-ordered float32 or uint8 examples as rows:
  // its values read straight into the data set's features (written once; a
  // NumericArray in between would cost two more copies).
  Dataset placed;
  std::vector<std::size_t> placed_shape;
  std::string placed_dtype;
  NumericArray X;
  if (!(format == FileFormat::npy && !arrays.examples_as_columns &&
        read_npy_features(path, source, placed, placed_shape, placed_dtype)))
    X = load_one(path, format, x_key, true);  // bytes or floats kept as such
  const bool is_placed = !placed_shape.empty();

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
  if (is_placed) {
    const auto [m, n] = examples_and_features(placed_shape, false, source);
    finish_dataset(placed, placed_shape, m, n, has_y ? &y : nullptr, false, source);
    placed.uint8_pixels = placed_dtype == "|u1" || placed_dtype == "uint8";
    return placed;
  }
  Dataset data = dataset_from_arrays(X, has_y ? &y : nullptr, arrays.examples_as_columns, source);
  data.uint8_pixels = X.dtype == "|u1" || X.dtype == "uint8";
  return data;
}

}  // namespace deepnet
