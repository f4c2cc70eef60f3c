// HDF5 datasets through libhdf5's C API (1.10 or later). libhdf5 converts every
// integer, float and integer-based enum type, in either byte order, to double
// on read; other type classes are refused by name.
#include <hdf5.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "deepnet/array.hpp"
#include "deepnet/error.hpp"
#include "deepnet/limits.hpp"

namespace deepnet {

namespace {

// Deflate cannot compress better than about 1032:1, so a dataset cannot hold
// more stored bytes than this many times the file size (only a dataset that
// was never written, all fill value, could; such files are refused too).
constexpr std::uint64_t kMaxCompressionRatio = 1100;
// libhdf5 1.10 refuses to write chunks of 4 GiB or more.
constexpr std::uint64_t kMaxChunkBytes = (std::uint64_t(1) << 32) - 1;
constexpr std::size_t kMaxNamesInMessage = 20;

// Owns one HDF5 identifier and releases it with the matching close function.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)), close_(other.close_) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle& operator=(Handle&&) = delete;
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// libhdf5 prints its error stack to stderr by default; deepnet reports errors
// itself, so printing is off while a call is in progress and restored after.
class QuietLibraryErrors {
 public:
  QuietLibraryErrors() {
    H5Eget_auto2(H5E_DEFAULT, &handler_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  QuietLibraryErrors(const QuietLibraryErrors&) = delete;
  QuietLibraryErrors& operator=(const QuietLibraryErrors&) = delete;
  ~QuietLibraryErrors() {
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, handler_, data_);
  }

 private:
  H5E_auto2_t handler_ = nullptr;
  void* data_ = nullptr;
};

herr_t keep_innermost_description(unsigned, const H5E_error2_t* entry, void* out) {
  if (entry->desc != nullptr && entry->desc[0] != '\0') *static_cast<std::string*>(out) = entry->desc;
  return 0;
}

// The most specific message on libhdf5's error stack (e.g. "truncated file:
// eof = 4096, ..."), as " (libhdf5: ...)", or "" when the stack is empty.
std::string library_detail() {
  std::string description;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_innermost_description, &description);
  H5Eclear2(H5E_DEFAULT);
  return description.empty() ? "" : " (libhdf5: " + description + ")";
}

Handle open_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": is a directory, expected a file");
  if (!std::ifstream(path, std::ios::binary)) throw Error(path + ": cannot open the file for reading");
  // The HDF5 superblock signature is at byte 0, 512, 1024, 2048, ...
  if (H5Fis_hdf5(path.c_str()) == 0)
    throw Error(path +
                ": not an HDF5 file (no HDF5 signature \\x89HDF\\r\\n\\x1a\\n at byte 0, 512, "
                "1024 or a later power of two); expected a file written by h5py or libhdf5");
  Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) throw Error(path + ": libhdf5 cannot open the file" + library_detail());
  return file;
}

struct NameCollector {
  std::vector<std::string> names;
  std::exception_ptr failure;  // exceptions must not unwind through libhdf5's C frames
};

herr_t collect_dataset_name(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  auto& collector = *static_cast<NameCollector*>(data);
  // An external link would open another file; a soft link may dangle.
  if (info->type == H5L_TYPE_EXTERNAL) return 0;
  const Handle object(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
  if (!object.valid()) {
    H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  if (H5Iget_type(object.get()) != H5I_DATASET) return 0;
  try {
    collector.names.emplace_back(name);
  } catch (...) {
    collector.failure = std::current_exception();
    return -1;
  }
  return 0;
}

std::vector<std::string> dataset_names(hid_t file, const std::string& path) {
  NameCollector collector;
  const herr_t status = H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, collect_dataset_name, &collector);
  if (collector.failure) std::rethrow_exception(collector.failure);
  if (status < 0) throw Error(path + ": cannot list the file's datasets" + library_detail());
  return collector.names;
}

std::string names_for_message(const std::vector<std::string>& names) {
  if (names.empty()) return "the file has no datasets";
  std::string text = "the file has datasets: ";
  for (std::size_t k = 0; k < names.size() && k < kMaxNamesInMessage; ++k) text += (k ? ", " : "") + names[k];
  if (names.size() > kMaxNamesInMessage)
    text += " and " + std::to_string(names.size() - kMaxNamesInMessage) + " more";
  return text;
}

std::string integer_name(hid_t type) {
  const bool is_signed = H5Tget_sign(type) != H5T_SGN_NONE;
  return (is_signed ? "int" : "uint") + std::to_string(H5Tget_size(type) * 8);
}

// h5py stores numpy's bool as an enum of int8 with members FALSE = 0, TRUE = 1.
bool is_h5py_bool(hid_t enum_type, hid_t base) {
  if (H5Tget_nmembers(enum_type) != 2 || H5Tget_size(base) != 1) return false;
  const char* expected[2] = {"FALSE", "TRUE"};
  for (unsigned k = 0; k < 2; ++k) {
    char* name = H5Tget_member_name(enum_type, k);
    if (name == nullptr) return false;
    const bool same = std::string(name) == expected[k];
    H5free_memory(name);
    signed char value = -1;
    if (!same || H5Tget_member_value(enum_type, k, &value) < 0 || value != static_cast<signed char>(k))
      return false;
  }
  return true;
}

struct ElementType {
  bool numeric = false;
  std::string name;  // "uint8", "float32", "bool"; for the others a description
};

ElementType describe(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return {true, integer_name(type)};
    case H5T_FLOAT:
      return {true, "float" + std::to_string(H5Tget_size(type) * 8)};
    case H5T_ENUM: {
      const Handle base(H5Tget_super(type), H5Tclose);
      if (!base.valid() || H5Tget_class(base.get()) != H5T_INTEGER) return {false, "an enum of non-integers"};
      return {true, is_h5py_bool(type, base.get()) ? "bool" : integer_name(base.get())};
    }
    case H5T_STRING:
      if (H5Tis_variable_str(type) > 0) return {false, "variable-length strings"};
      return {false, "fixed-length strings of " + std::to_string(H5Tget_size(type)) + " bytes"};
    case H5T_COMPOUND:
      return {false, "compound records of " + std::to_string(H5Tget_nmembers(type)) + " fields"};
    case H5T_ARRAY: {
      const Handle base(H5Tget_super(type), H5Tclose);
      return {false,
              "fixed-size arrays of " + (base.valid() ? describe(base.get()).name : "an unknown type")};
    }
    case H5T_VLEN:
      return {false, "variable-length sequences"};
    case H5T_OPAQUE:
      return {false, "opaque bytes"};
    case H5T_REFERENCE:
      return {false, "references"};
    case H5T_BITFIELD:
      return {false, "bitfields"};
    case H5T_TIME:
      return {false, "time values"};
    default:
      return {false, "a type libhdf5 cannot classify"};
  }
}

// libhdf5 1.10 trusts the bit layout a datatype message declares, and its
// soft converters overrun their buffers on impossible ones; a corrupt layout
// is caught here, before H5Dread. Returns what is wrong, or "".
std::string layout_problem(hid_t type) {
  const H5T_class_t type_class = H5Tget_class(type);
  if (type_class == H5T_ENUM) {
    const Handle base(H5Tget_super(type), H5Tclose);
    return base.valid() ? layout_problem(base.get()) : "an enum without a base type";
  }
  const std::size_t bits = H5Tget_size(type) * 8;
  const std::size_t max_bits = type_class == H5T_INTEGER ? 64 : 128;
  const std::size_t precision = H5Tget_precision(type);
  const int offset = H5Tget_offset(type);
  if (bits == 0 || bits > max_bits || precision == 0 || offset < 0 || offset + precision > bits)
    return "a " + std::to_string(bits) + "-bit element with " + std::to_string(precision) +
           " significant bits at bit offset " + std::to_string(offset);
  if (type_class != H5T_FLOAT) return "";
  std::size_t sign = 0, exponent = 0, exponent_bits = 0, mantissa = 0, mantissa_bits = 0;
  if (H5Tget_fields(type, &sign, &exponent, &exponent_bits, &mantissa, &mantissa_bits) < 0 ||
      mantissa < std::size_t(offset) || mantissa_bits == 0 || exponent_bits == 0 || exponent_bits > 32 ||
      mantissa + mantissa_bits > exponent || exponent + exponent_bits > sign || sign >= offset + precision)
    return "a float whose mantissa (bit " + std::to_string(mantissa) + ", " + std::to_string(mantissa_bits) +
           " bits), exponent (bit " + std::to_string(exponent) + ", " + std::to_string(exponent_bits) +
           " bits) and sign (bit " + std::to_string(sign) + ") do not fit its " + std::to_string(bits) +
           " bits in that order";
  return "";
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  if (shape.empty()) return "() (a scalar)";
  std::string text;
  for (std::size_t k = 0; k < shape.size(); ++k) text += (k ? " x " : "") + std::to_string(shape[k]);
  return text;
}

}  // namespace

std::vector<std::string> hdf5_dataset_names(const std::string& path) {
  const QuietLibraryErrors quiet;
  const Handle file = open_file(path);
  return dataset_names(file.get(), path);
}

NumericArray load_hdf5_dataset(const std::string& path, const std::string& key) {
  const QuietLibraryErrors quiet;
  const Handle file = open_file(path);
  const std::string where = path + ": dataset '" + key + "'";

  const Handle object(key.empty() ? H5I_INVALID_HID : H5Oopen(file.get(), key.c_str(), H5P_DEFAULT),
                      H5Oclose);
  if (!object.valid()) {
    H5Eclear2(H5E_DEFAULT);
    throw Error(path + ": no dataset '" + key + "'; " + names_for_message(dataset_names(file.get(), path)));
  }
  if (H5Iget_type(object.get()) != H5I_DATASET) {
    const char* what = H5Iget_type(object.get()) == H5I_GROUP ? "a group" : "a named datatype";
    throw Error(path + ": '" + key + "' is " + what + ", not a dataset; " +
                names_for_message(dataset_names(file.get(), path)));
  }
  const hid_t dataset = object.get();

  const Handle type(H5Dget_type(dataset), H5Tclose);
  if (!type.valid()) throw Error(where + ": cannot read its element type" + library_detail());
  const ElementType element = describe(type.get());
  if (!element.numeric)
    throw Error(where + " holds " + element.name +
                ", not numbers; expected integers, floats or an integer enum");
  if (const std::string problem = layout_problem(type.get()); !problem.empty())
    throw Error(where + ": its " + element.name + " type declares " + problem + "; the file is corrupt");
  const std::size_t element_bytes = H5Tget_size(type.get());

  const Handle space(H5Dget_space(dataset), H5Sclose);
  if (!space.valid()) throw Error(where + ": cannot read its shape" + library_detail());
  NumericArray array;
  array.dtype = element.name;
  switch (H5Sget_simple_extent_type(space.get())) {
    case H5S_SCALAR:
      break;
    case H5S_SIMPLE: {
      const int rank = H5Sget_simple_extent_ndims(space.get());
      if (rank < 0) throw Error(where + ": cannot read its shape" + library_detail());
      std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
      if (H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
        throw Error(where + ": cannot read its shape" + library_detail());
      array.shape.assign(dims.begin(), dims.end());
      break;
    }
    case H5S_NULL:
      throw Error(where + " has a null dataspace: it holds no values, not even an empty array");
    default:
      throw Error(where + ": cannot read its shape" + library_detail());
  }

  std::uint64_t count = 1;
  bool overflow = false, has_zero = false;
  for (std::size_t d : array.shape) {
    overflow |= __builtin_mul_overflow(count, static_cast<std::uint64_t>(d), &count);
    has_zero |= d == 0;
  }
  if (has_zero) count = 0;  // zero whatever the other sizes are
  if (overflow && !has_zero)
    throw Error(where + " has shape " + shape_text(array.shape) +
                ", more elements than 64 bits can count; the file is corrupt");
  // A value read as double takes 8 bytes: more than the memory limit
  // (deepnet/limits.hpp) is refused before anything is allocated.
  std::uint64_t value_bytes = 0, stored_bytes = 0;
  const std::uint64_t limit = memory_limit();
  const bool value_overflow = __builtin_mul_overflow(count, sizeof(double), &value_bytes);
  if (value_overflow || value_bytes > limit)
    throw Error(where + " has shape " + shape_text(array.shape) + " (" + std::to_string(count) +
                " values), more than the limit: they take " +
                (value_overflow ? std::string("more than 2^64 bytes") : format_bytes(value_bytes)) +
                " as double, " + over_memory_limit(limit));
  hsize_t file_bytes = 0;
  if (H5Fget_filesize(file.get(), &file_bytes) < 0)
    throw Error(path + ": cannot tell the file's size" + library_detail());
  if (__builtin_mul_overflow(count, static_cast<std::uint64_t>(element_bytes), &stored_bytes) ||
      stored_bytes / kMaxCompressionRatio > file_bytes)
    throw Error(where + " has shape " + shape_text(array.shape) + " of " + element.name + " (" +
                std::to_string(stored_bytes) + " bytes), more than a " + std::to_string(file_bytes) +
                "-byte file can hold even compressed; the file is corrupt or the dataset was never written");

  // libhdf5 1.10 reads and allocates what the layout message declares without
  // comparing it with the shape and type: a mismatch would overrun a buffer.
  const Handle creation(H5Dget_create_plist(dataset), H5Pclose);
  if (!creation.valid()) throw Error(where + ": cannot read its storage layout" + library_detail());
  const H5D_layout_t layout = H5Pget_layout(creation.get());
  const hsize_t storage = H5Dget_storage_size(dataset);
  if (layout == H5D_COMPACT && storage != stored_bytes)
    throw Error(where + " stores " + std::to_string(storage) + " bytes in its header for shape " +
                shape_text(array.shape) + " of " + element.name + " (" + std::to_string(stored_bytes) +
                " bytes); the file is corrupt");
  if (layout == H5D_CONTIGUOUS && H5Pget_external_count(creation.get()) == 0) {
    const haddr_t offset = H5Dget_offset(dataset);
    const bool never_written = offset == HADDR_UNDEF && storage == 0;  // reads as the fill value
    if (!never_written && (storage != stored_bytes || offset == HADDR_UNDEF || offset > file_bytes ||
                           storage > file_bytes - offset))
      throw Error(where + " declares " + std::to_string(storage) + " bytes of storage at byte " +
                  (offset == HADDR_UNDEF ? std::string("(none)") : std::to_string(offset)) + " for shape " +
                  shape_text(array.shape) + " of " + element.name + " (" + std::to_string(stored_bytes) +
                  " bytes) in a " + std::to_string(file_bytes) + "-byte file; the file is corrupt");
  }
  if (layout == H5D_CHUNKED) {
    hsize_t chunk[H5S_MAX_RANK];
    const int chunk_rank = H5Pget_chunk(creation.get(), H5S_MAX_RANK, chunk);
    if (chunk_rank != static_cast<int>(array.shape.size()))
      throw Error(where + " has " + std::to_string(array.shape.size()) + " dimensions but chunks of " +
                  std::to_string(chunk_rank) + "; the file is corrupt");
    std::uint64_t chunk_bytes = element_bytes;
    bool chunk_overflow = false;
    for (int d = 0; d < chunk_rank; ++d)
      chunk_overflow |= chunk[d] == 0 || __builtin_mul_overflow(chunk_bytes, chunk[d], &chunk_bytes);
    if (chunk_overflow || chunk_bytes > kMaxChunkBytes || chunk_bytes / kMaxCompressionRatio > file_bytes)
      throw Error(where + " declares chunks of " +
                  shape_text(std::vector<std::size_t>(chunk, chunk + chunk_rank)) + " " + element.name +
                  " values, impossible in a " + std::to_string(file_bytes) +
                  "-byte file; the file is corrupt");
  }

  array.values.resize(static_cast<std::size_t>(count));
  if (count > 0 &&
      H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()) < 0)
    throw Error(where + ": reading the values failed" + library_detail());
  return array;
}

}  // namespace deepnet
