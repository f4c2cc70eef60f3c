#pragma once
// N-dimensional numeric arrays as they come out of array files (NPY, NPZ,
// HDF5, IDX): a shape in C order and the values, row-major, as double
// (every integer and float type up to 64 bits converts exactly or to nearest).
// Every reader checks the sizes a file declares against the file's size and
// against the memory limit (deepnet/limits.hpp) before it allocates.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace deepnet {

struct NumericArray {
  std::vector<std::size_t> shape;  // C (row-major) order; empty for a scalar
  std::vector<double> values;      // product(shape) values, row-major
  // Instead of values, for a uint8 array read with keep_uint8 (IDX): the bytes
  // as stored, row-major (values is then empty).
  std::vector<std::uint8_t> bytes;
  // Or, for a float32 array read compact (load_npy_compact), its floats as
  // stored, row-major (values is then empty).
  std::vector<float> floats;
  std::string dtype;               // the element type in the file, e.g. "<f4", "|u1", "uint8"

  std::size_t size() const {
    std::size_t n = 1;
    for (std::size_t d : shape) n *= d;
    return n;
  }
};

// NPY (numpy's format, versions 1.0-3.0): C and Fortran order; bool, int8-64,
// uint8-64, float16/32/64, little and big endian. Values come back in C order.
// load_npy also reads a gzip-compressed NPY file (.npy.gz), by its magic bytes.
// Throws Error naming the file and byte offset of the problem.
NumericArray load_npy(const std::string& path);
NumericArray parse_npy(const std::string& bytes, const std::string& name);
// As load_npy, but a C-ordered uint8 array comes back as its bytes
// (NumericArray::bytes) and a C-ordered float32 one as floats
// (NumericArray::floats), values empty: a data set's features then take 1 or
// 4 bytes a value instead of 8 (Dataset::pixels, Dataset::singles). Other
// element types and Fortran order come back as values.
NumericArray load_npy_compact(const std::string& path);
// The header of an NPY file of file_size bytes, from its first bytes (at
// least up to the end of the header), with every check of parse_npy but the
// memory limit: for a reader that reads the values straight into their place
// (a data set's float32 or uint8 features: load_array_dataset).
struct NpyView {
  std::vector<std::size_t> shape;  // as NumericArray::shape
  std::string dtype;               // as NumericArray::dtype
  bool fortran_order = false;
  bool float32 = false;            // 4-byte floats in this machine's byte order
  bool uint8 = false;
  std::size_t count = 0;           // product(shape)
  std::size_t data_start = 0;      // the values' first byte in the file
  std::size_t data_bytes = 0;      // the values' bytes: the file's rest
  std::string layout;              // "shape (2, 3) of '<f4'", for messages
};
NpyView npy_view(std::string_view first_bytes, const std::string& name, std::size_t file_size);

// Text arrays of NPY files: numpy's unicode strings ('<U' N: N UTF-32
// characters per element, zero-padded) and byte strings ('|S' N), as UTF-8
// with the trailing zeros numpy drops removed. Order as NumericArray.
struct StringArray {
  std::vector<std::size_t> shape;
  std::vector<std::string> values;  // product(shape) strings, row-major, UTF-8
};
StringArray parse_npy_strings(const std::string& bytes, const std::string& name);

// NPZ: a zip archive of NPY files (stored or deflated, as np.savez and
// np.savez_compressed write them). Keys are the names without ".npy".
std::vector<std::string> npz_keys(const std::string& path);
NumericArray load_npz_array(const std::string& path, const std::string& key);
// As load_npz_array, compact as load_npy_compact.
NumericArray load_npz_array_compact(const std::string& path, const std::string& key);
StringArray load_npz_strings(const std::string& path, const std::string& key);
// Writes an NPZ (stored, uncompressed) that numpy.load reads (without
// allow_pickle). Numbers: dtype "<f4" or "<f8" per array (default "<f8");
// strings: valid UTF-8 without NUL characters, written as '<U' N with N the
// longest string's characters (at least 1). Atomic: the old file survives any failure.
using NpzArray = std::variant<NumericArray, StringArray>;
void save_npz(const std::string& path, const std::vector<std::pair<std::string, NpzArray>>& arrays);

// HDF5 through libhdf5: one dataset by its path in the file (with or without a
// leading "/"), any numeric type; dtype is a byte-order-free name ("uint8",
// "float32", "bool"). libhdf5 1.10 itself crashes on some damaged files before
// deepnet can check them, so each call reads in a child process (fork) that
// sends the values back over a pipe: a child that dies becomes an Error
// "FILE: libhdf5 crashed reading the file (signal 11): the file is damaged".
// The values are checked against the memory limit before this process
// allocates them. A dataset whose filter (compression) this libhdf5 lacks is
// an Error naming the filter ("uses HDF5 filter 32000 (lzf), which ...").
// compact: a uint8 dataset comes back as its bytes (NumericArray::bytes) and a
// float32 one as floats (NumericArray::floats), not as doubles (an eighth, a
// half of the memory), as load_npy_compact gives them.
NumericArray load_hdf5_dataset(const std::string& path, const std::string& key, bool compact = false);
std::vector<std::string> hdf5_dataset_names(const std::string& path);

// IDX (the MNIST family), raw or gzip-compressed; dtype "uint8", "int8",
// "int16", "int32", "float32" or "float64". keep_uint8: a uint8 file's values
// stay bytes (NumericArray::bytes), an eighth of the memory of doubles.
NumericArray load_idx(const std::string& path, bool keep_uint8 = false);
NumericArray parse_idx(std::string_view bytes, const std::string& name, bool keep_uint8 = false);

// An IDX file's header, checked against the file's length (every check of
// parse_idx but the memory limit): the values start at bytes[data_offset],
// count of them, value_bytes each, big-endian; for a reader that puts them
// where they belong without a NumericArray in between (Fashion-MNIST's pixels).
struct IdxLayout {
  std::vector<std::size_t> shape;
  std::string dtype;       // as NumericArray::dtype
  unsigned char type_code = 0;  // 0x08 uint8 ... 0x0E float64
  std::size_t value_bytes = 0;
  std::size_t data_offset = 0;
  std::uint64_t count = 0;  // product(shape)
  std::string dims_text;    // "60000 x 28 x 28", for messages
};
IdxLayout idx_layout(std::string_view bytes, const std::string& name);

}  // namespace deepnet
