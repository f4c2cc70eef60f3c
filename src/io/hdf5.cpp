// HDF5 datasets through libhdf5's C API (1.10 or later). libhdf5 converts every
// integer, float and integer-based enum type, in either byte order, to double
// on read; other type classes are refused by name.
#include <dlfcn.h>
#include <fcntl.h>
#include <hdf5.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <stdexcept>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "deepnet/array.hpp"
#include "deepnet/error.hpp"
#include "deepnet/limits.hpp"
#include "io/hdf5_reader.hpp"

namespace deepnet {
namespace {

// ---------------------------------------------------------------------------
// libhdf5 is loaded when the first HDF5 file is read, not when the program
// starts (cmake/hdf5_runtime.cmake: Debian's libhdf5 brings libcurl, GnuTLS,
// Kerberos and LDAP, about 4 ms of start-up in every command). Every call
// into it goes through h5(), whose members are libhdf5's functions of the
// same names, found with dlsym in the library this file was built against
// (DEEPNET_HDF5_LIBRARY, a soname) or in the one the environment variable
// DEEPNET_HDF5_LIBRARY names. The header's macros that call libhdf5 to give a
// value are replaced: H5F_ACC_RDONLY by kReadOnly, H5T_NATIVE_DOUBLE by
// native(&Hdf5Library::native_double) (and FLOAT, UINT8 alike).
#define DEEPNET_HDF5_FUNCTIONS(X) \
  X(H5open) X(H5Fis_hdf5) X(H5Fopen) X(H5Fclose) X(H5Fget_filesize) \
  X(H5Oopen) X(H5Oclose) X(H5Iget_type) X(H5Lvisit) X(H5Eget_auto2) \
  X(H5Eset_auto2) X(H5Eclear2) X(H5Ewalk2) X(H5Tget_sign) X(H5Tget_size) \
  X(H5Tget_nmembers) X(H5Tget_member_name) X(H5Tget_member_value) X(H5Tget_class) X(H5Tget_super) \
  X(H5Tclose) X(H5Tis_variable_str) X(H5Tget_precision) X(H5Tget_offset) X(H5Tget_fields) \
  X(H5free_memory) X(H5Pget_nfilters) X(H5Pget_filter2) X(H5Zfilter_avail) X(H5Dget_type) \
  X(H5Dget_space) X(H5Sclose) X(H5Sget_simple_extent_type) X(H5Sget_simple_extent_ndims) X(H5Sget_simple_extent_dims) \
  X(H5Dget_create_plist) X(H5Pclose) X(H5Pget_layout) X(H5Dget_storage_size) X(H5Pget_external_count) \
  X(H5Dget_offset) X(H5Pget_chunk) X(H5Dread)
// The symbol's name: a function the header renames with a macro (H5Lvisit in
// libhdf5 1.12) is looked up under the name it expands to.
#define DEEPNET_HDF5_NAME(name) DEEPNET_HDF5_QUOTE(name)
#define DEEPNET_HDF5_QUOTE(name) #name

struct Hdf5Library {
#define DEEPNET_HDF5_MEMBER(name) decltype(&::name) name = nullptr;
  DEEPNET_HDF5_FUNCTIONS(DEEPNET_HDF5_MEMBER)
#undef DEEPNET_HDF5_MEMBER
  // H5T_NATIVE_DOUBLE_g, H5T_NATIVE_FLOAT_g, H5T_NATIVE_UINT8_g, set by H5open
  const hid_t* native_double = nullptr;
  const hid_t* native_float = nullptr;
  const hid_t* native_uint8 = nullptr;
  std::string failure;                   // why the library could not be loaded, or ""
};

// Loaded once per process, on first use; never unloaded. Nothing in the
// library runs here (no H5open), so loading it in a parent process that only
// forks readers leaves libhdf5 uninitialised there.
const Hdf5Library& hdf5_library() {
  static const Hdf5Library library = [] {
    Hdf5Library lib;
    const char* from_environment = std::getenv("DEEPNET_HDF5_LIBRARY");
    const std::string name = from_environment && *from_environment ? from_environment : DEEPNET_HDF5_LIBRARY;
    void* handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      lib.failure = why ? why : name + ": cannot be loaded";
      return lib;
    }
    auto find = [&](const char* symbol) {
      void* address = ::dlsym(handle, symbol);
      if (address == nullptr && lib.failure.empty()) lib.failure = name + " has no symbol " + symbol;
      return address;
    };
#define DEEPNET_HDF5_LOAD(name) lib.name = reinterpret_cast<decltype(lib.name)>(find(DEEPNET_HDF5_NAME(name)));
    DEEPNET_HDF5_FUNCTIONS(DEEPNET_HDF5_LOAD)
#undef DEEPNET_HDF5_LOAD
    // A variable is read where libhdf5's own code reads it: in the global scope
    // when a definition is there (a program that links libhdf5 itself and uses
    // H5T_NATIVE_DOUBLE holds the variable, copied there at link time, and
    // the library's references bind to that copy), else in the library.
    auto variable = [&](const char* symbol) {
      const void* global = ::dlsym(RTLD_DEFAULT, symbol);
      return static_cast<const hid_t*>(global ? global : find(symbol));
    };
    lib.native_double = variable("H5T_NATIVE_DOUBLE_g");
    lib.native_float = variable("H5T_NATIVE_FLOAT_g");
    lib.native_uint8 = variable("H5T_NATIVE_UINT8_g");
    return lib;
  }();
  return library;
}

// Throws unless libhdf5 is loaded; `path` is the file about to be read.
void require_hdf5(const std::string& path) {
  const Hdf5Library& library = hdf5_library();
  if (!library.failure.empty())
    throw Error(path + ": cannot read HDF5 files: libhdf5 could not be loaded (" + library.failure +
                "); on Debian 12 it comes with the package libhdf5-103-1");
}

// libhdf5's functions (require_hdf5 has been called on this path).
const Hdf5Library& h5() { return hdf5_library(); }

// H5F_ACC_RDONLY without the H5check()/H5open() calls its macro makes.
constexpr unsigned kReadOnly = 0x0000u;

// H5T_NATIVE_DOUBLE, H5T_NATIVE_FLOAT, H5T_NATIVE_UINT8: the library is
// initialised first, as the macros do.
hid_t native(const hid_t* Hdf5Library::*type) {
  h5().H5open();
  return *(h5().*type);
}

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
    h5().H5Eget_auto2(H5E_DEFAULT, &handler_, &data_);
    h5().H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  QuietLibraryErrors(const QuietLibraryErrors&) = delete;
  QuietLibraryErrors& operator=(const QuietLibraryErrors&) = delete;
  ~QuietLibraryErrors() {
    h5().H5Eclear2(H5E_DEFAULT);
    h5().H5Eset_auto2(H5E_DEFAULT, handler_, data_);
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
  h5().H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_innermost_description, &description);
  h5().H5Eclear2(H5E_DEFAULT);
  return description.empty() ? "" : " (libhdf5: " + description + ")";
}

Handle open_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path + ": is a directory, expected a file");
  if (!std::ifstream(path, std::ios::binary)) throw Error(path + ": cannot open the file for reading");
  // The HDF5 superblock signature is at byte 0, 512, 1024, 2048, ...
  if (h5().H5Fis_hdf5(path.c_str()) == 0)
    throw Error(path +
                ": not an HDF5 file (no HDF5 signature \\x89HDF\\r\\n\\x1a\\n at byte 0, 512, "
                "1024 or a later power of two); expected a file written by h5py or libhdf5");
  Handle file(h5().H5Fopen(path.c_str(), kReadOnly, H5P_DEFAULT), h5().H5Fclose);
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
  const Handle object(h5().H5Oopen(group, name, H5P_DEFAULT), h5().H5Oclose);
  if (!object.valid()) {
    h5().H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  if (h5().H5Iget_type(object.get()) != H5I_DATASET) return 0;
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
  const herr_t status = h5().H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, collect_dataset_name, &collector);
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
  const bool is_signed = h5().H5Tget_sign(type) != H5T_SGN_NONE;
  return (is_signed ? "int" : "uint") + std::to_string(h5().H5Tget_size(type) * 8);
}

// h5py stores numpy's bool as an enum of int8 with members FALSE = 0, TRUE = 1.
bool is_h5py_bool(hid_t enum_type, hid_t base) {
  if (h5().H5Tget_nmembers(enum_type) != 2 || h5().H5Tget_size(base) != 1) return false;
  const char* expected[2] = {"FALSE", "TRUE"};
  for (unsigned k = 0; k < 2; ++k) {
    char* name = h5().H5Tget_member_name(enum_type, k);
    if (name == nullptr) return false;
    const bool same = std::string(name) == expected[k];
    h5().H5free_memory(name);
    signed char value = -1;
    if (!same || h5().H5Tget_member_value(enum_type, k, &value) < 0 || value != static_cast<signed char>(k))
      return false;
  }
  return true;
}

struct ElementType {
  bool numeric = false;
  std::string name;  // "uint8", "float32", "bool"; for the others a description
};

ElementType describe(hid_t type) {
  switch (h5().H5Tget_class(type)) {
    case H5T_INTEGER:
      return {true, integer_name(type)};
    case H5T_FLOAT:
      return {true, "float" + std::to_string(h5().H5Tget_size(type) * 8)};
    case H5T_ENUM: {
      const Handle base(h5().H5Tget_super(type), h5().H5Tclose);
      if (!base.valid() || h5().H5Tget_class(base.get()) != H5T_INTEGER) return {false, "an enum of non-integers"};
      return {true, is_h5py_bool(type, base.get()) ? "bool" : integer_name(base.get())};
    }
    case H5T_STRING:
      if (h5().H5Tis_variable_str(type) > 0) return {false, "variable-length strings"};
      return {false, "fixed-length strings of " + std::to_string(h5().H5Tget_size(type)) + " bytes"};
    case H5T_COMPOUND:
      return {false, "compound records of " + std::to_string(h5().H5Tget_nmembers(type)) + " fields"};
    case H5T_ARRAY: {
      const Handle base(h5().H5Tget_super(type), h5().H5Tclose);
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
  const H5T_class_t type_class = h5().H5Tget_class(type);
  if (type_class == H5T_ENUM) {
    const Handle base(h5().H5Tget_super(type), h5().H5Tclose);
    return base.valid() ? layout_problem(base.get()) : "an enum without a base type";
  }
  const std::size_t bits = h5().H5Tget_size(type) * 8;
  const std::size_t max_bits = type_class == H5T_INTEGER ? 64 : 128;
  const std::size_t precision = h5().H5Tget_precision(type);
  const int offset = h5().H5Tget_offset(type);
  if (bits == 0 || bits > max_bits || precision == 0 || offset < 0 || offset + precision > bits)
    return "a " + std::to_string(bits) + "-bit element with " + std::to_string(precision) +
           " significant bits at bit offset " + std::to_string(offset);
  if (type_class != H5T_FLOAT) return "";
  std::size_t sign = 0, exponent = 0, exponent_bits = 0, mantissa = 0, mantissa_bits = 0;
  if (h5().H5Tget_fields(type, &sign, &exponent, &exponent_bits, &mantissa, &mantissa_bits) < 0 ||
      mantissa < std::size_t(offset) || mantissa_bits == 0 || exponent_bits == 0 || exponent_bits > 32 ||
      mantissa + mantissa_bits > exponent || exponent + exponent_bits > sign || sign >= offset + precision)
    return "a float whose mantissa (bit " + std::to_string(mantissa) + ", " + std::to_string(mantissa_bits) +
           " bits), exponent (bit " + std::to_string(exponent) + ", " + std::to_string(exponent_bits) +
           " bits) and sign (bit " + std::to_string(sign) + ") do not fit its " + std::to_string(bits) +
           " bits in that order";
  return "";
}

// Names of filters that h5py and its plugins register, for files that store none.
const char* known_filter_name(H5Z_filter_t id) {
  switch (id) {
    case H5Z_FILTER_DEFLATE: return "deflate";
    case H5Z_FILTER_SHUFFLE: return "shuffle";
    case H5Z_FILTER_FLETCHER32: return "fletcher32";
    case H5Z_FILTER_SZIP: return "szip";
    case H5Z_FILTER_NBIT: return "nbit";
    case H5Z_FILTER_SCALEOFFSET: return "scaleoffset";
    case 307: return "bzip2";
    case 32000: return "lzf";
    case 32001: return "blosc";
    case 32004: return "lz4";
    case 32008: return "bitshuffle";
    case 32013: return "zfp";
    case 32015: return "zstd";
    default: return nullptr;
  }
}

// The first filter of a dataset's pipeline that this libhdf5 cannot apply, as
// "32000 (lzf)" (the name known for the id, else the one the file stores), or
// "" when every filter is available. Only asked after a read failed: a chunk
// written while an optional filter was missing skips it and reads without it.
std::string unavailable_filter(hid_t creation) {
  const int count = h5().H5Pget_nfilters(creation);
  for (int k = 0; k < count; ++k) {
    unsigned flags = 0, config = 0;
    std::size_t values = 0;
    char stored[64] = {};
    const H5Z_filter_t id =
        h5().H5Pget_filter2(creation, static_cast<unsigned>(k), &flags, &values, nullptr, sizeof stored, stored, &config);
    if (id < 0 || h5().H5Zfilter_avail(id) > 0) continue;
    h5().H5Eclear2(H5E_DEFAULT);
    std::string name;
    if (const char* known = known_filter_name(id)) {
      name = known;
    } else {
      for (const char* c = stored; *c != '\0' && *c != ';' && name.size() < 40; ++c)
        name += (*c >= ' ' && *c <= '~') ? *c : '?';
      while (!name.empty() && name.back() == ' ') name.pop_back();
    }
    return std::to_string(id) + (name.empty() ? "" : " (" + name + ")");
  }
  h5().H5Eclear2(H5E_DEFAULT);
  return "";
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  if (shape.empty()) return "() (a scalar)";
  std::string text;
  for (std::size_t k = 0; k < shape.size(); ++k) text += (k ? " x " : "") + std::to_string(shape[k]);
  return text;
}

}  // namespace

namespace io {

std::vector<std::string> hdf5_dataset_names_in_process(const std::string& path) {
  require_hdf5(path);
  const QuietLibraryErrors quiet;
  const Handle file = open_file(path);
  return dataset_names(file.get(), path);
}

NumericArray load_hdf5_dataset_in_process(const std::string& path, const std::string& key, bool compact) {
  require_hdf5(path);
  const QuietLibraryErrors quiet;
  const Handle file = open_file(path);
  const std::string where = path + ": dataset '" + key + "'";

  const Handle object(key.empty() ? H5I_INVALID_HID : h5().H5Oopen(file.get(), key.c_str(), H5P_DEFAULT),
                      h5().H5Oclose);
  if (!object.valid()) {
    h5().H5Eclear2(H5E_DEFAULT);
    throw Error(path + ": no dataset '" + key + "'; " + names_for_message(dataset_names(file.get(), path)));
  }
  if (h5().H5Iget_type(object.get()) != H5I_DATASET) {
    const char* what = h5().H5Iget_type(object.get()) == H5I_GROUP ? "a group" : "a named datatype";
    throw Error(path + ": '" + key + "' is " + what + ", not a dataset; " +
                names_for_message(dataset_names(file.get(), path)));
  }
  const hid_t dataset = object.get();

  const Handle type(h5().H5Dget_type(dataset), h5().H5Tclose);
  if (!type.valid()) throw Error(where + ": cannot read its element type" + library_detail());
  const ElementType element = describe(type.get());
  if (!element.numeric)
    throw Error(where + " holds " + element.name +
                ", not numbers; expected integers, floats or an integer enum");
  if (const std::string problem = layout_problem(type.get()); !problem.empty())
    throw Error(where + ": its " + element.name + " type declares " + problem + "; the file is corrupt");
  const std::size_t element_bytes = h5().H5Tget_size(type.get());
  // compact: uint8 integers read as bytes, float32 as floats (what they are
  // stored as); everything else as double.
  const H5T_class_t type_class = h5().H5Tget_class(type.get());
  const bool as_bytes = compact && type_class == H5T_INTEGER && element.name == "uint8";
  const bool as_floats = compact && type_class == H5T_FLOAT && element.name == "float32";
  const std::size_t value_size = as_bytes ? 1 : as_floats ? sizeof(float) : sizeof(double);
  const char* value_type = as_bytes ? "uint8" : as_floats ? "float32" : "double";

  const Handle space(h5().H5Dget_space(dataset), h5().H5Sclose);
  if (!space.valid()) throw Error(where + ": cannot read its shape" + library_detail());
  NumericArray array;
  array.dtype = element.name;
  switch (h5().H5Sget_simple_extent_type(space.get())) {
    case H5S_SCALAR:
      break;
    case H5S_SIMPLE: {
      const int rank = h5().H5Sget_simple_extent_ndims(space.get());
      if (rank < 0) throw Error(where + ": cannot read its shape" + library_detail());
      std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
      if (h5().H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
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
  // A value read as double takes 8 bytes (as uint8 1, as float32 4): more
  // than the memory limit (deepnet/limits.hpp) is refused before anything is allocated.
  std::uint64_t value_bytes = 0, stored_bytes = 0;
  const std::uint64_t limit = memory_limit();
  const bool value_overflow = __builtin_mul_overflow(count, static_cast<std::uint64_t>(value_size), &value_bytes);
  if (value_overflow || value_bytes > limit)
    throw Error(where + " has shape " + shape_text(array.shape) + " (" + std::to_string(count) +
                " values), more than the limit: they take " +
                (value_overflow ? std::string("more than 2^64 bytes") : format_bytes(value_bytes)) + " as " +
                value_type + ", " + over_memory_limit(limit));
  hsize_t file_bytes = 0;
  if (h5().H5Fget_filesize(file.get(), &file_bytes) < 0)
    throw Error(path + ": cannot tell the file's size" + library_detail());
  if (__builtin_mul_overflow(count, static_cast<std::uint64_t>(element_bytes), &stored_bytes) ||
      stored_bytes / kMaxCompressionRatio > file_bytes)
    throw Error(where + " has shape " + shape_text(array.shape) + " of " + element.name + " (" +
                std::to_string(stored_bytes) + " bytes), more than a " + std::to_string(file_bytes) +
                "-byte file can hold even compressed; the file is corrupt or the dataset was never written");

  // libhdf5 1.10 reads and allocates what the layout message declares without
  // comparing it with the shape and type: a mismatch would overrun a buffer.
  const Handle creation(h5().H5Dget_create_plist(dataset), h5().H5Pclose);
  if (!creation.valid()) throw Error(where + ": cannot read its storage layout" + library_detail());
  const H5D_layout_t layout = h5().H5Pget_layout(creation.get());
  const hsize_t storage = h5().H5Dget_storage_size(dataset);
  if (layout == H5D_COMPACT && storage != stored_bytes)
    throw Error(where + " stores " + std::to_string(storage) + " bytes in its header for shape " +
                shape_text(array.shape) + " of " + element.name + " (" + std::to_string(stored_bytes) +
                " bytes); the file is corrupt");
  if (layout == H5D_CONTIGUOUS && h5().H5Pget_external_count(creation.get()) == 0) {
    const haddr_t offset = h5().H5Dget_offset(dataset);
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
    const int chunk_rank = h5().H5Pget_chunk(creation.get(), H5S_MAX_RANK, chunk);
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

  void* values = nullptr;
  hid_t memory_type = 0;
  if (as_bytes) {
    array.bytes.resize(static_cast<std::size_t>(count));
    values = array.bytes.data();
    memory_type = native(&Hdf5Library::native_uint8);
  } else if (as_floats) {
    array.floats.resize(static_cast<std::size_t>(count));
    values = array.floats.data();
    memory_type = native(&Hdf5Library::native_float);
  } else {
    array.values.resize(static_cast<std::size_t>(count));
    values = array.values.data();
    memory_type = native(&Hdf5Library::native_double);
  }
  if (count > 0 && h5().H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0) {
    const std::string detail = library_detail();
    if (const std::string filter = unavailable_filter(creation.get()); !filter.empty())
      throw Error(where + " uses HDF5 filter " + filter +
                  ", which this libhdf5 does not have; rewrite the file without it (e.g. h5repack -f NONE)");
    throw Error(where + ": reading the values failed" + detail);
  }
  return array;
}

}  // namespace io

// ---------------------------------------------------------------------------
// The reader process. libhdf5 1.10 crashes inside its own code on some damaged
// files (docs/reliability.md), which deepnet cannot check for beforehand. So
// the public functions fork: the child opens the file with libhdf5, runs the
// in-process reader above and sends its answer back over a pipe; the parent
// loads libhdf5 but never calls it, and turns a child that dies into an Error.
//
// The answer is a sequence of frames, each a tag byte, a 64-bit length and
// that many bytes (both processes are the same binary, so native byte order):
//   'N' one dataset name (hdf5_dataset_names: one frame per name)
//   'S' the dtype and the shape of an array: u64 dtype length, dtype, u64 rank, rank x u64
//   'V' the values of that array, product(shape) doubles; or 'B' as many
//       bytes (a uint8 array read compact), or 'F' as many floats (float32)
//   'E' a deepnet::Error's message, 'X' another exception's, 'M' std::bad_alloc
//   'D' done: the answer is complete
namespace {

constexpr std::uint64_t kMaxTextFrame = std::uint64_t(1) << 20;  // a message or a name

std::string errno_text(int error) { return std::strerror(error); }

// The child's end: writes frames; a failed write ends the child.
class FrameWriter {
 public:
  explicit FrameWriter(int fd) : fd_(fd) {}
  void frame(char tag, const void* data, std::uint64_t size) {
    const std::uint64_t header_size = size;
    char header[9];
    header[0] = tag;
    std::memcpy(header + 1, &header_size, 8);
    write_all(header, sizeof header);
    write_all(data, size);
  }
  void frame(char tag, const std::string& text) { frame(tag, text.data(), text.size()); }

 private:
  void write_all(const void* data, std::uint64_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t n = ::write(fd_, p, std::min<std::uint64_t>(size, std::uint64_t(1) << 30));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ::_exit(4);  // the parent went away or gave up
      p += n;
      size -= static_cast<std::uint64_t>(n);
    }
  }
  int fd_;
};

// The parent's end: reads frames from the child.
class FrameReader {
 public:
  explicit FrameReader(int fd) : fd_(fd) {}
  // False at the end of the stream (or a read error) before `size` bytes came.
  bool read_all(void* data, std::uint64_t size) {
    char* p = static_cast<char*>(data);
    while (size > 0) {
      const ssize_t n = ::read(fd_, p, std::min<std::uint64_t>(size, std::uint64_t(1) << 30));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      p += n;
      size -= static_cast<std::uint64_t>(n);
    }
    return true;
  }
  bool header(char& tag, std::uint64_t& size) {
    char bytes[9];
    if (!read_all(bytes, sizeof bytes)) return false;
    tag = bytes[0];
    std::memcpy(&size, bytes + 1, 8);
    return true;
  }

 private:
  int fd_;
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// What the parent learnt; `complete` once the 'D' frame came.
struct Answer {
  bool complete = false;
  std::vector<std::string> names;
  NumericArray array;
  char error_tag = 0;
  std::string error;
};

// Reads the child's frames into `answer`. Stops early (complete stays false)
// when the stream ends; throws Error for an answer the parent refuses (beyond
// the memory limit, or not what the child should send).
void read_answer(FrameReader& in, const std::string& path, const std::string& where, Answer& answer) {
  const auto malformed = [&](const std::string& what) {
    return Error(path + ": the HDF5 reader process sent " + what + "; this is a bug in deepnet");
  };
  bool have_shape = false;
  std::uint64_t count = 0;
  char tag = 0;
  std::uint64_t size = 0;
  while (in.header(tag, size)) {
    switch (tag) {
      case 'N':
      case 'E':
      case 'X':
      case 'M': {
        if (size > kMaxTextFrame) throw malformed("a text of " + std::to_string(size) + " bytes");
        std::string text(static_cast<std::size_t>(size), '\0');
        if (!in.read_all(text.data(), size)) return;
        if (tag == 'N') {
          check_memory((answer.names.size() + 1) * sizeof(std::string) + size, path + ": the dataset names take ");
          answer.names.push_back(std::move(text));
        } else {
          answer.error_tag = tag;
          answer.error = std::move(text);
        }
        break;
      }
      case 'S': {
        if (size > kMaxTextFrame || size < 16) throw malformed("a shape of " + std::to_string(size) + " bytes");
        std::string bytes(static_cast<std::size_t>(size), '\0');
        if (!in.read_all(bytes.data(), size)) return;
        std::uint64_t dtype_size = 0, rank = 0;
        std::memcpy(&dtype_size, bytes.data(), 8);
        if (dtype_size > size - 16) throw malformed("a shape frame that does not add up");
        std::memcpy(&rank, bytes.data() + 8 + dtype_size, 8);
        if (rank > H5S_MAX_RANK || size != 16 + dtype_size + rank * 8)
          throw malformed("a shape frame that does not add up");
        answer.array.dtype.assign(bytes.data() + 8, static_cast<std::size_t>(dtype_size));
        answer.array.shape.resize(static_cast<std::size_t>(rank));
        count = 1;
        bool overflow = false;
        for (std::uint64_t d = 0; d < rank; ++d) {
          std::uint64_t extent = 0;
          std::memcpy(&extent, bytes.data() + 16 + dtype_size + d * 8, 8);
          answer.array.shape[d] = static_cast<std::size_t>(extent);
          overflow |= __builtin_mul_overflow(count, extent, &count);
        }
        if (overflow) throw malformed("a shape of more elements than 64 bits can count");
        have_shape = true;
        break;
      }
      case 'V':
      case 'B':
      case 'F': {
        const std::uint64_t value_size = tag == 'V' ? sizeof(double) : tag == 'F' ? sizeof(float) : 1;
        if (!have_shape || size / value_size != count || size % value_size != 0)
          throw malformed("values that do not match the shape");
        // The child checked the limit too; the parent allocates, so it checks again.
        check_memory(size, where + " holds " + std::to_string(count) + " values: they take ",
                     tag == 'V' ? " as double" : tag == 'F' ? " as float32" : " as uint8");
        void* values = nullptr;
        if (tag == 'V') {
          answer.array.values.resize(static_cast<std::size_t>(count));
          values = answer.array.values.data();
        } else if (tag == 'F') {
          answer.array.floats.resize(static_cast<std::size_t>(count));
          values = answer.array.floats.data();
        } else {
          answer.array.bytes.resize(static_cast<std::size_t>(count));
          values = answer.array.bytes.data();
        }
        if (!in.read_all(values, size)) return;
        break;
      }
      case 'D':
        if (size != 0) throw malformed("a done frame with a payload");
        answer.complete = true;
        return;
      default:
        throw malformed("a frame tagged " + std::to_string(static_cast<unsigned char>(tag)));
    }
  }
}

// The child: never returns into the caller, never runs atexit handlers or
// static destructors (the parent's, duplicated), never flushes stdio buffers.
[[noreturn]] void child_main(int fd, const std::function<void(FrameWriter&)>& work) {
  // A crash must end the child whatever handlers the parent installed.
  for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTRAP, SIGSYS}) std::signal(sig, SIG_DFL);
  // libhdf5's own messages (assertions, "infinite loop closing library") stay out of deepnet's one-line errors.
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) ::dup2(null, STDERR_FILENO);
  FrameWriter out(fd);
  try {
    work(out);
    out.frame('D', nullptr, 0);
  } catch (const Error& e) {
    out.frame('E', e.what());
    out.frame('D', nullptr, 0);
  } catch (const std::bad_alloc&) {
    out.frame('M', "");
    out.frame('D', nullptr, 0);
  } catch (const std::exception& e) {
    out.frame('X', e.what());
    out.frame('D', nullptr, 0);
  } catch (...) {
    ::_exit(3);
  }
  ::_exit(0);
}

// Runs `work` in a child process and returns what it sent; `where` names the
// file (and dataset) in the parent's own errors.
Answer run_in_reader_process(const std::string& path, const std::string& where,
                             const std::function<void(FrameWriter&)>& work) {
  // Loaded here, before the fork: a missing libhdf5 is the parent's own error,
  // and no child runs the dynamic loader.
  require_hdf5(path);
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0)
    throw Error(path + ": cannot start the HDF5 reader process (pipe: " + errno_text(errno) + ")");
  Fd read_end(ends[0]), write_end(ends[1]);
  ::fcntl(read_end.get(), F_SETPIPE_SZ, 1 << 20);  // fewer switches for big arrays; a hint only
  const pid_t child = ::fork();
  if (child < 0) throw Error(path + ": cannot start the HDF5 reader process (fork: " + errno_text(errno) + ")");
  if (child == 0) {
    ::close(ends[0]);
    child_main(ends[1], work);
  }
  write_end.reset();

  Answer answer;
  FrameReader in(read_end.get());
  try {
    read_answer(in, path, where, answer);
  } catch (...) {
    ::kill(child, SIGKILL);
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    throw;
  }
  read_end.reset();  // a child still writing gets EPIPE and ends
  int status = 0;
  pid_t waited;
  while ((waited = ::waitpid(child, &status, 0)) < 0 && errno == EINTR) {
  }
  if (waited < 0) {
    // Not ours to wait for (SIGCHLD ignored): the answer alone tells.
    if (!answer.complete)
      throw Error(path + ": the HDF5 reader process ended without an answer (waitpid: " + errno_text(errno) + ")");
  } else if (WIFSIGNALED(status)) {
    throw Error(path + ": libhdf5 crashed reading the file (signal " + std::to_string(WTERMSIG(status)) +
                "): the file is damaged");
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !answer.complete) {
    throw Error(path + ": libhdf5 crashed reading the file (exit status " +
                std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + "): the file is damaged");
  }
  switch (answer.error_tag) {
    case 'E': throw Error(answer.error);
    case 'M': throw std::bad_alloc();
    case 'X': throw std::runtime_error(answer.error);
    default: return answer;
  }
}

}  // namespace

std::vector<std::string> hdf5_dataset_names(const std::string& path) {
  Answer answer = run_in_reader_process(path, path, [&](FrameWriter& out) {
    for (const std::string& name : io::hdf5_dataset_names_in_process(path)) out.frame('N', name);
  });
  return std::move(answer.names);
}

NumericArray load_hdf5_dataset(const std::string& path, const std::string& key, bool compact) {
  Answer answer = run_in_reader_process(path, path + ": dataset '" + key + "'", [&](FrameWriter& out) {
    const NumericArray array = io::load_hdf5_dataset_in_process(path, key, compact);
    std::string shape;
    const std::uint64_t dtype_size = array.dtype.size(), rank = array.shape.size();
    shape.append(reinterpret_cast<const char*>(&dtype_size), 8);
    shape += array.dtype;
    shape.append(reinterpret_cast<const char*>(&rank), 8);
    for (const std::size_t d : array.shape) {
      const std::uint64_t extent = d;
      shape.append(reinterpret_cast<const char*>(&extent), 8);
    }
    out.frame('S', shape);
    if (!array.bytes.empty()) out.frame('B', array.bytes.data(), array.bytes.size());
    else if (!array.floats.empty()) out.frame('F', array.floats.data(), array.floats.size() * sizeof(float));
    else out.frame('V', array.values.data(), array.values.size() * sizeof(double));
  });
  return std::move(answer.array);
}

}  // namespace deepnet
