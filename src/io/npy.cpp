// NPY and NPZ, numpy's array files, read and written without numpy.
// NPY: the format of numpy.lib.format, versions 1.0, 2.0 and 3.0.
// NPZ: a zip archive of KEY.npy members (PKWARE APPNOTE.TXT 6.3), stored or
// deflated, with the ZIP64 extensions that np.savez puts in every local header.
// Every length a file claims is checked against the bytes actually there, and
// against the memory limit (deepnet/limits.hpp), before anything is read or
// allocated on its account: these readers take untrusted input.
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "deepnet/array.hpp"
#include "deepnet/error.hpp"
#include "deepnet/limits.hpp"
#include "io/atomic_write.hpp"
#include "io/read_file.hpp"

namespace deepnet {

namespace {

constexpr std::string_view kNpyMagic{"\x93NUMPY", 6};
// numpy 1.x allows 32 dimensions, numpy 2 allows 64.
constexpr std::size_t kMaxDimensions = 64;

std::uint64_t little_endian(std::string_view bytes, std::size_t at, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t k = width; k-- > 0;) value = value << 8 | static_cast<unsigned char>(bytes[at + k]);
  return value;
}

void append_little_endian(std::string& out, std::uint64_t value, std::size_t width) {
  for (std::size_t k = 0; k < width; ++k) out += static_cast<char>((value >> (8 * k)) & 0xff);
}

// Text from a file, made safe to put in a message: control bytes escaped, long text cut.
std::string printable(std::string_view text) {
  constexpr std::size_t kShown = 60;
  std::string out;
  for (std::size_t k = 0; k < text.size() && k < kShown; ++k) {
    const auto c = static_cast<unsigned char>(text[k]);
    if (c < 0x20 || c == 0x7f) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kShown) out += "...";
  return out;
}

// One byte of a file for a message, quoted, non-ASCII escaped.
std::string byte_text(char byte) {
  const auto c = static_cast<unsigned char>(byte);
  if (c >= 0x20 && c < 0x7f) return std::string("'") + byte + "'";
  char escaped[7];
  std::snprintf(escaped, sizeof escaped, "'\\x%02x'", c);
  return escaped;
}

std::string hex32(std::uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(value));
  return text;
}

// As Python prints a tuple: (), (3,), (3, 4).
std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string text = "(";
  for (std::size_t k = 0; k < shape.size(); ++k) text += (k ? ", " : "") + std::to_string(shape[k]);
  if (shape.size() == 1) text += ",";
  return text + ")";
}

// The product of the dimensions; nullopt when it overflows size_t.
std::optional<std::size_t> element_count(const std::vector<std::size_t>& shape) {
  if (std::find(shape.begin(), shape.end(), std::size_t{0}) != shape.end()) return 0;
  std::size_t count = 1;
  for (std::size_t d : shape) {
    if (count > std::numeric_limits<std::size_t>::max() / d) return std::nullopt;
    count *= d;
  }
  return count;
}

std::uint32_t crc32_of(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (std::size_t at = 0; at < data.size();) {
    const std::size_t n = std::min<std::size_t>(data.size() - at, std::size_t(1) << 30);  // uInt lengths
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + at), static_cast<uInt>(n));
    at += n;
  }
  return static_cast<std::uint32_t>(crc);
}

// ---------------------------------------------------------------------------
// NPY

enum class Kind { boolean, signed_integer, unsigned_integer, floating };

struct ElementType {
  Kind kind = Kind::floating;
  std::size_t size = 8;
  bool big_endian = false;
};

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::size_t> shape;
};

std::string what_kind_is(char kind) {
  switch (kind) {
    case 'c':
      return " (complex numbers)";
    case 'O':
      return " (Python objects)";
    case 'U':
    case 'S':
    case 'a':
      return " (strings)";
    case 'V':
      return " (raw bytes or a structured type)";
    case 'M':
    case 'm':
      return " (dates or times)";
    default:
      return "";
  }
}

// A numpy type string: byte order ('<' little, '>' big, '|' not applicable,
// '=' or none native), kind letter, size in bytes.
ElementType parse_descr(const std::string& descr, const std::string& name) {
  std::string_view rest = descr;
  char order = '=';
  if (!rest.empty() && std::string_view("<>|=").find(rest[0]) != std::string_view::npos) {
    order = rest[0];
    rest.remove_prefix(1);
  }
  const char kind = rest.empty() ? '\0' : rest[0];
  std::size_t size = 0;
  bool has_size = false;
  if (rest.size() >= 2) {
    const auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), size);
    has_size = ec == std::errc() && end == rest.data() + rest.size();
  }
  ElementType type;
  type.size = size;
  type.big_endian = order == '>' || (order != '<' && std::endian::native == std::endian::big);
  const bool integer_size = size == 1 || size == 2 || size == 4 || size == 8;
  if (has_size) {
    if (kind == 'b' && size == 1) {
      type.kind = Kind::boolean;
      return type;
    }
    if ((kind == 'i' || kind == 'u') && integer_size) {
      type.kind = kind == 'i' ? Kind::signed_integer : Kind::unsigned_integer;
      return type;
    }
    if (kind == 'f' && (size == 2 || size == 4 || size == 8)) {
      type.kind = Kind::floating;
      return type;
    }
  }
  throw Error(name + ": header: 'descr' is '" + printable(descr) + "'" + what_kind_is(kind) +
              ", which is not supported; expected bool, int8-64, uint8-64 or float16/32/64 (e.g. '<f8')");
}

// The header is a Python dict literal, e.g.
//   {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
// This accepts the subset of Python that numpy and other NPY writers produce
// (either quote, optional trailing commas, Python 2's "3L" dimensions), no more.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::size_t file_offset, const std::string& name)
      : text_(text), file_offset_(file_offset), name_(name) {}

  NpyHeader parse() {
    NpyHeader header;
    bool has_descr = false, has_order = false, has_shape = false;
    skip_space();
    expect('{', "'{', the start of the header dict");
    while (true) {
      skip_space();
      if (accept('}')) break;
      const std::size_t key_at = pos_;
      const std::string key = parse_string("a quoted key or '}'");
      skip_space();
      expect(':', "':' after the key '" + printable(key) + "'");
      skip_space();
      if (key == "descr") {
        once(has_descr, key);
        if (peek() == '[')
          throw Error(name_ +
                      ": header: 'descr' is a list of fields (a structured dtype), which is not "
                      "supported; expected a plain numeric dtype such as '<f8'");
        header.descr = parse_string("a dtype string such as '<f8' for 'descr'");
      } else if (key == "fortran_order") {
        once(has_order, key);
        header.fortran_order = parse_bool();
      } else if (key == "shape") {
        once(has_shape, key);
        header.shape = parse_shape();
      } else {
        throw Error(name_ + ": byte " + std::to_string(file_offset_ + key_at) + ": header: unexpected key '" +
                    printable(key) + "'; expected only 'descr', 'fortran_order' and 'shape'");
      }
      skip_space();
      if (accept(',')) continue;
      expect('}', "',' or '}' after the value of '" + key + "'");
      break;
    }
    skip_space();
    if (pos_ != text_.size()) fail("only spaces after the closing '}' of the header");
    for (const auto& [present, key] : {std::pair{has_descr, "descr"}, std::pair{has_order, "fortran_order"},
                                       std::pair{has_shape, "shape"}})
      if (!present)
        throw Error(name_ + ": header: no '" + key +
                    "' key; expected the keys 'descr', 'fortran_order' and 'shape'");
    return header;
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool accept(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect(char c, const std::string& what) {
    if (!accept(c)) fail(what);
  }

  [[noreturn]] void fail(const std::string& expected) const {
    std::string found = "the end of the header";
    if (pos_ < text_.size()) found = byte_text(text_[pos_]);
    throw Error(name_ + ": byte " + std::to_string(file_offset_ + pos_) + ": header: expected " + expected +
                ", found " + found);
  }

  void once(bool& seen, const std::string& key) {
    if (seen) throw Error(name_ + ": header: the key '" + key + "' appears twice");
    seen = true;
  }

  std::string parse_string(const std::string& what) {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail(what);
    const std::size_t start = ++pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\') fail("a string without backslash escapes");
      ++pos_;
    }
    if (pos_ == text_.size()) fail(std::string("the closing ") + quote + " of the string");
    return std::string(text_.substr(start, pos_++ - start));
  }

  bool parse_bool() {
    for (const auto& [word, value] :
         {std::pair{std::string_view("True"), true}, std::pair{std::string_view("False"), false}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    fail("True or False for 'fortran_order'");
  }

  std::vector<std::size_t> parse_shape() {
    expect('(', "a tuple such as (3, 4) for 'shape'");
    std::vector<std::size_t> shape;
    while (true) {
      skip_space();
      if (accept(')')) break;
      if (shape.size() == kMaxDimensions)
        throw Error(name_ + ": header: 'shape' has more than " + std::to_string(kMaxDimensions) +
                    " dimensions, the most numpy allows");
      shape.push_back(parse_dimension());
      skip_space();
      if (accept(',')) continue;
      expect(')', "',' or ')' in the 'shape' tuple");
      break;
    }
    return shape;
  }

  std::size_t parse_dimension() {
    const bool negative = accept('-');
    const std::size_t digits_at = pos_;
    if (pos_ >= text_.size() || text_[pos_] < '0' || text_[pos_] > '9')
      fail("a dimension (a non-negative integer) in 'shape'");
    std::size_t value = 0;
    bool overflow = false;
    for (; pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9'; ++pos_) {
      const std::size_t digit = static_cast<std::size_t>(text_[pos_] - '0');
      if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) overflow = true;
      value = value * 10 + digit;
    }
    const std::string digits = printable(text_.substr(digits_at, pos_ - digits_at));
    if (negative && (value != 0 || overflow))
      throw Error(name_ + ": header: 'shape' has the negative dimension -" + digits +
                  "; expected sizes >= 0");
    if (overflow)
      throw Error(name_ + ": header: 'shape' has the dimension " + digits + ", which is too large");
    if (!accept('L')) accept('l');  // Python 2 long literal
    return value;
  }

  std::string_view text_;
  std::size_t file_offset_;  // where the header text starts in the file
  const std::string& name_;
  std::size_t pos_ = 0;
};

template <typename T>
T load_element(const unsigned char* p, bool swap) {
  unsigned char raw[sizeof(T)];
  if (swap)
    std::reverse_copy(p, p + sizeof(T), raw);
  else
    std::memcpy(raw, p, sizeof(T));
  T value;
  std::memcpy(&value, raw, sizeof(T));
  return value;
}

template <typename T, typename Convert>
void decode_as(std::string_view data, bool swap, std::vector<double>& out, Convert convert) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = convert(load_element<T>(p + k * sizeof(T), swap));
}

// IEEE 754 binary16: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.
double half_to_double(std::uint16_t bits) {
  const int exponent = (bits >> 10) & 0x1f;
  const int fraction = bits & 0x3ff;
  double magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(fraction, -24);  // zero and subnormals
  else if (exponent == 31)
    magnitude = fraction ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else
    magnitude = std::ldexp(fraction + 1024, exponent - 25);
  return (bits & 0x8000) ? -magnitude : magnitude;
}

// `data` holds exactly `count` elements of `type`.
std::vector<double> decode_elements(std::string_view data, const ElementType& type, std::size_t count) {
  std::vector<double> values(count);
  const bool swap = type.big_endian != (std::endian::native == std::endian::big);
  const auto to_double = [](auto v) { return static_cast<double>(v); };
  switch (type.kind) {
    case Kind::boolean:
      decode_as<std::uint8_t>(data, false, values, [](std::uint8_t v) { return v ? 1.0 : 0.0; });
      break;
    case Kind::signed_integer:
      if (type.size == 1) decode_as<std::int8_t>(data, swap, values, to_double);
      if (type.size == 2) decode_as<std::int16_t>(data, swap, values, to_double);
      if (type.size == 4) decode_as<std::int32_t>(data, swap, values, to_double);
      if (type.size == 8) decode_as<std::int64_t>(data, swap, values, to_double);
      break;
    case Kind::unsigned_integer:
      if (type.size == 1) decode_as<std::uint8_t>(data, swap, values, to_double);
      if (type.size == 2) decode_as<std::uint16_t>(data, swap, values, to_double);
      if (type.size == 4) decode_as<std::uint32_t>(data, swap, values, to_double);
      if (type.size == 8) decode_as<std::uint64_t>(data, swap, values, to_double);
      break;
    case Kind::floating:
      if (type.size == 2) decode_as<std::uint16_t>(data, swap, values, half_to_double);
      if (type.size == 4) decode_as<float>(data, swap, values, to_double);
      if (type.size == 8) decode_as<double>(data, swap, values, to_double);
      break;
  }
  return values;
}

// `values` in Fortran (column-major) order, returned in C (row-major) order.
std::vector<double> fortran_to_c_order(const std::vector<double>& values,
                                       const std::vector<std::size_t>& shape) {
  if (values.empty() || shape.size() < 2) return values;
  const std::size_t rank = shape.size();
  std::vector<std::size_t> c_stride(rank, 1), index(rank, 0);
  for (std::size_t k = rank - 1; k-- > 0;) c_stride[k] = c_stride[k + 1] * shape[k + 1];
  std::vector<double> c_order(values.size());
  std::size_t c_position = 0;
  for (double value : values) {
    c_order[c_position] = value;
    for (std::size_t k = 0; k < rank; ++k) {  // Fortran order: the first index runs fastest
      if (++index[k] < shape[k]) {
        c_position += c_stride[k];
        break;
      }
      c_position -= (shape[k] - 1) * c_stride[k];
      index[k] = 0;
    }
  }
  return c_order;
}

NumericArray parse_npy_bytes(std::string_view bytes, const std::string& name) {
  for (std::size_t k = 0; k < kNpyMagic.size(); ++k) {
    if (k == bytes.size())
      throw Error(
          name + ": byte " + std::to_string(k) +
          ": the file ends inside the NPY magic string \\x93NUMPY; it is truncated or not an NPY file");
    if (bytes[k] != kNpyMagic[k])
      throw Error(name + ": byte " + std::to_string(k) +
                  ": expected the NPY magic string \\x93NUMPY, found " + byte_text(bytes[k]) +
                  "; this is not an NPY file");
  }
  if (bytes.size() < 8)
    throw Error(name + ": byte " + std::to_string(bytes.size()) +
                ": expected the 2-byte NPY format version, found the end of the file");
  const int major = static_cast<unsigned char>(bytes[6]), minor = static_cast<unsigned char>(bytes[7]);
  if (major < 1 || major > 3 || minor != 0)
    throw Error(name + ": byte 6: NPY format version " + std::to_string(major) + "." + std::to_string(minor) +
                " is not supported; expected 1.0, 2.0 or 3.0");
  const std::size_t length_width = major == 1 ? 2 : 4;
  const std::size_t header_start = 8 + length_width;
  if (bytes.size() < header_start)
    throw Error(name + ": byte 8: expected the " + std::to_string(length_width) +
                "-byte header length, found the end of the file");
  const std::size_t header_length = little_endian(bytes, 8, length_width);
  if (header_length > bytes.size() - header_start)
    throw Error(name + ": byte 8: the header length is " + std::to_string(header_length) +
                " bytes, but only " + std::to_string(bytes.size() - header_start) +
                " bytes follow; the file is truncated or the length is corrupt");

  // Version 3.0 differs from 2.0 only in allowing UTF-8 in the header, which
  // can only matter inside a 'descr' this reader rejects anyway.
  const NpyHeader header =
      HeaderParser(bytes.substr(header_start, header_length), header_start, name).parse();
  const ElementType type = parse_descr(header.descr, name);
  const std::optional<std::size_t> count = element_count(header.shape);
  if (!count || *count > std::numeric_limits<std::size_t>::max() / type.size)
    throw Error(name + ": header: 'shape' " + shape_text(header.shape) +
                " has more elements than can be addressed in memory");
  const std::size_t data_start = header_start + header_length;
  const std::size_t data_bytes = *count * type.size;
  const std::size_t present = bytes.size() - data_start;
  const std::string layout = "shape " + shape_text(header.shape) + " of '" + header.descr + "'";
  if (present < data_bytes)
    throw Error(name + ": byte " + std::to_string(data_start) + ": expected " + std::to_string(data_bytes) +
                " bytes of array data (" + layout + "), found " + std::to_string(present) +
                "; the file is truncated");
  if (present > data_bytes)
    throw Error(name + ": byte " + std::to_string(data_start + data_bytes) +
                ": expected the end of the file after the array data (" + layout + "), found " +
                std::to_string(present - data_bytes) + " more bytes");

  // The values become doubles, 8 bytes each (count <= the file's bytes, so no overflow),
  // and twice that while a Fortran-order array is reordered.
  check_memory(*count * sizeof(double) * (header.fortran_order ? 2 : 1),
               name + ": header: " + layout + " claims " + std::to_string(*count) + " values = ",
               header.fortran_order ? " as double, twice while reordering" : " as double");
  NumericArray array;
  array.shape = header.shape;
  array.dtype = header.descr;
  array.values = decode_elements(bytes.substr(data_start, data_bytes), type, *count);
  if (header.fortran_order) array.values = fortran_to_c_order(array.values, array.shape);
  return array;
}

// How an array is saved: the NPY header, from the magic string through the
// padding, and the size of the whole NPY file.
struct NpyLayout {
  std::string header;
  bool single = false;  // float32, else float64
  std::uint64_t size = 0;
};

// numpy.lib.format.write_array's layout: version 1.0 unless the header needs
// more than 65535 bytes; the header padded with spaces and a newline so that
// the data starts at a multiple of 64 bytes.
NpyLayout npy_layout(const NumericArray& array, const std::string& context) {
  if (!array.dtype.empty() && array.dtype != "<f4" && array.dtype != "<f8")
    throw Error(context + "dtype '" + printable(array.dtype) + "' cannot be saved; expected '<f4' or '<f8'");
  NpyLayout layout;
  layout.single = array.dtype == "<f4";
  const std::optional<std::size_t> count = element_count(array.shape);
  if (!count || *count != array.values.size())
    throw Error(context + "has " + std::to_string(array.values.size()) + " values, but its shape " +
                shape_text(array.shape) + " needs " +
                (count ? std::to_string(*count) : "more than fit in memory"));
  std::string dict = std::string("{'descr': '") + (layout.single ? "<f4" : "<f8") +
                     "', 'fortran_order': False, 'shape': " + shape_text(array.shape) + ", }";
  const auto padded_length = [&](std::size_t prefix) {
    return (prefix + dict.size() + 1 + 63) / 64 * 64 - prefix;
  };
  const int major = padded_length(10) <= 0xffff ? 1 : 2;
  dict.append(padded_length(major == 1 ? 10 : 12) - dict.size() - 1, ' ');
  dict += '\n';
  layout.header = kNpyMagic;
  layout.header += static_cast<char>(major);
  layout.header += '\0';
  append_little_endian(layout.header, dict.size(), major == 1 ? 2 : 4);
  layout.header += dict;
  layout.size = layout.header.size() + array.values.size() * (layout.single ? 4 : 8);
  return layout;
}

void append_npy_data(std::string& out, const NumericArray& array, bool single) {
  const std::size_t item_size = single ? 4 : 8;
  std::size_t at = out.size();
  out.resize(at + array.values.size() * item_size);
  for (double value : array.values) {
    const std::uint64_t bits = single ? std::bit_cast<std::uint32_t>(static_cast<float>(value))
                                      : std::bit_cast<std::uint64_t>(value);
    for (std::size_t b = 0; b < item_size; ++b) out[at++] = static_cast<char>((bits >> (8 * b)) & 0xff);
  }
}

// ---------------------------------------------------------------------------
// ZIP (NPZ)

constexpr std::uint32_t kLocalHeaderSignature = 0x04034b50;    // PK\3\4
constexpr std::uint32_t kCentralHeaderSignature = 0x02014b50;  // PK\1\2
constexpr std::uint32_t kEndSignature = 0x06054b50;            // PK\5\6
constexpr std::uint32_t kZip64EndSignature = 0x06064b50;       // PK\6\6
constexpr std::uint32_t kZip64LocatorSignature = 0x07064b50;   // PK\6\7
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kZip64EndSize = 56;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::uint64_t kMax16 = 0xffff;      // 16-bit fields at this value: see the ZIP64 record
constexpr std::uint64_t kMax32 = 0xffffffff;  // 32-bit fields at this value: see the ZIP64 extra field
constexpr std::uint16_t kZip64ExtraId = 0x0001;
// Deflate's densest code expands one compressed byte to at most 1032 bytes;
// a little more allows for tiny members.
constexpr std::uint64_t kMaxDeflateRatio = 1100;
constexpr std::uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01, what np.savez writes too

struct ZipMember {
  std::string name;
  std::uint64_t flags = 0, method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed_size = 0, uncompressed_size = 0, local_header_offset = 0;
};

// Random access to an archive; reads only what is asked for, so listing the
// keys or loading one array of a large NPZ does not read the whole file.
class ArchiveFile {
 public:
  explicit ArchiveFile(const std::string& path) : path_(path) {
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored)) throw Error(path + ": is a directory, expected a file");
    in_.open(path, std::ios::binary);
    if (!in_) throw Error(path + ": cannot open the file for reading");
    in_.seekg(0, std::ios::end);
    const std::streamoff end = in_.tellg();
    if (end < 0) throw Error(path + ": cannot determine the size of the file");
    size_ = static_cast<std::uint64_t>(end);
  }

  const std::string& path() const { return path_; }
  std::uint64_t size() const { return size_; }
  bool holds(std::uint64_t offset, std::uint64_t length) const {
    return length <= size_ && offset <= size_ - length;
  }

  // Only for ranges that holds() accepted.
  std::string read(std::uint64_t offset, std::uint64_t length) {
    std::string bytes(static_cast<std::size_t>(length), '\0');
    in_.clear();
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(bytes.data(), static_cast<std::streamsize>(length));
    if (!in_ || in_.gcount() != static_cast<std::streamsize>(length))
      throw Error(path_ + ": byte " + std::to_string(offset) + ": read error");
    return bytes;
  }

 private:
  std::string path_;
  std::ifstream in_;
  std::uint64_t size_ = 0;
};

// The ZIP64 extended information extra field holds, in this order, those of
// the uncompressed size, compressed size and local header offset whose 32-bit
// field is 0xFFFFFFFF (APPNOTE 4.5.3).
void apply_zip64_extra(std::string_view extra, ZipMember& member, const std::string& context) {
  std::size_t at = 0;
  while (extra.size() - at >= 4) {
    const std::uint64_t id = little_endian(extra, at, 2), length = little_endian(extra, at + 2, 2);
    if (extra.size() - at - 4 < length)
      throw Error(context + "an extra field runs past the end of its record");
    if (id == kZip64ExtraId) {
      const std::string_view field = extra.substr(at + 4, length);
      std::size_t used = 0;
      for (std::uint64_t* value :
           {&member.uncompressed_size, &member.compressed_size, &member.local_header_offset}) {
        if (*value != kMax32) continue;
        if (field.size() - used < 8)
          throw Error(context + "the ZIP64 extra field is too short for the sizes and offset it must hold");
        *value = little_endian(field, used, 8);
        used += 8;
      }
    }
    at += 4 + length;
  }
}

std::vector<ZipMember> read_zip_directory(ArchiveFile& file) {
  const std::string& path = file.path();
  // The end record is the last 22 bytes, followed by a comment of at most 65535 bytes.
  const std::uint64_t tail_size = std::min<std::uint64_t>(file.size(), kEndSize + kMax16);
  const std::uint64_t tail_start = file.size() - tail_size;
  const std::string tail = file.read(tail_start, tail_size);
  std::optional<std::size_t> end_in_tail;
  for (std::size_t k = tail.size() >= kEndSize ? tail.size() - kEndSize + 1 : 0; k-- > 0;) {
    if (little_endian(tail, k, 4) == kEndSignature &&
        little_endian(tail, k + 20, 2) <= tail.size() - kEndSize - k) {
      end_in_tail = k;
      break;
    }
  }
  if (!end_in_tail) {
    const bool is_npy = file.size() >= kNpyMagic.size() && file.read(0, kNpyMagic.size()) == kNpyMagic;
    throw Error(path + ": not a zip archive (no end-of-central-directory record); expected an NPZ file" +
                (is_npy ? " (this is an NPY file, for load_npy)" : " as numpy.savez writes it"));
  }
  const std::uint64_t end_offset = tail_start + *end_in_tail;
  const std::string_view end = std::string_view(tail).substr(*end_in_tail, kEndSize);
  std::uint64_t disk = little_endian(end, 4, 2), directory_disk = little_endian(end, 6, 2);
  std::uint64_t entries_here = little_endian(end, 8, 2), entries = little_endian(end, 10, 2);
  std::uint64_t directory_size = little_endian(end, 12, 4), directory_offset = little_endian(end, 16, 4);

  // A ZIP64 locator right before the end record points to the 64-bit end record.
  if (end_offset >= kZip64LocatorSize) {
    const std::uint64_t locator_offset = end_offset - kZip64LocatorSize;
    const std::string locator = file.read(locator_offset, kZip64LocatorSize);
    if (little_endian(locator, 0, 4) == kZip64LocatorSignature) {
      const std::uint64_t record_offset = little_endian(locator, 8, 8);
      if (!file.holds(record_offset, kZip64EndSize))
        throw Error(path + ": byte " + std::to_string(locator_offset + 8) +
                    ": the ZIP64 locator points to byte " + std::to_string(record_offset) +
                    ", past the end of the file (" + std::to_string(file.size()) + " bytes)");
      const std::string record = file.read(record_offset, kZip64EndSize);
      if (little_endian(record, 0, 4) != kZip64EndSignature)
        throw Error(path + ": byte " + std::to_string(record_offset) +
                    ": expected the ZIP64 end-of-central-directory record (PK\\6\\6)");
      disk = little_endian(record, 16, 4);
      directory_disk = little_endian(record, 20, 4);
      entries_here = little_endian(record, 24, 8);
      entries = little_endian(record, 32, 8);
      directory_size = little_endian(record, 40, 8);
      directory_offset = little_endian(record, 48, 8);
    }
  }
  const std::string at_end = path + ": byte " + std::to_string(end_offset) + ": ";
  if (disk != 0 || directory_disk != 0 || entries_here != entries)
    throw Error(at_end + "a zip archive split over several files, which is not supported");
  if (!file.holds(directory_offset, directory_size))
    throw Error(at_end + "the central directory (" + std::to_string(directory_size) + " bytes at byte " +
                std::to_string(directory_offset) + ") lies past the end of the file (" +
                std::to_string(file.size()) + " bytes)");
  if (entries > directory_size / kCentralHeaderSize)
    throw Error(at_end + "the archive claims " + std::to_string(entries) + " members, more than its " +
                std::to_string(directory_size) + "-byte central directory can hold");

  const std::string directory = file.read(directory_offset, directory_size);
  std::vector<ZipMember> members;
  members.reserve(static_cast<std::size_t>(entries));  // bounded by the directory's size, checked above
  std::size_t at = 0;
  for (std::uint64_t k = 0; k < entries; ++k) {
    const std::string context = path + ": byte " + std::to_string(directory_offset + at) +
                                ": central directory entry " + std::to_string(k + 1) + ": ";
    if (directory.size() - at < kCentralHeaderSize ||
        little_endian(directory, at, 4) != kCentralHeaderSignature)
      throw Error(context + "expected a central directory header (PK\\1\\2)");
    ZipMember member;
    member.flags = little_endian(directory, at + 8, 2);
    member.method = little_endian(directory, at + 10, 2);
    member.crc = static_cast<std::uint32_t>(little_endian(directory, at + 16, 4));
    member.compressed_size = little_endian(directory, at + 20, 4);
    member.uncompressed_size = little_endian(directory, at + 24, 4);
    const std::size_t name_length = little_endian(directory, at + 28, 2);
    const std::size_t extra_length = little_endian(directory, at + 30, 2);
    const std::size_t comment_length = little_endian(directory, at + 32, 2);
    member.local_header_offset = little_endian(directory, at + 42, 4);
    if (directory.size() - at - kCentralHeaderSize < name_length + extra_length + comment_length)
      throw Error(context + "the name, extra field and comment run past the end of the central directory");
    member.name = directory.substr(at + kCentralHeaderSize, name_length);
    apply_zip64_extra(std::string_view(directory).substr(at + kCentralHeaderSize + name_length, extra_length),
                      member, context);
    members.push_back(std::move(member));
    at += kCentralHeaderSize + name_length + extra_length + comment_length;
  }
  return members;
}

// Raw deflate (no zlib or gzip wrapper), as zip stores it; the output must be
// exactly `expected_size` bytes, and it grows only as data actually inflates.
std::string inflate_member(std::string_view compressed, std::uint64_t expected_size,
                           const std::string& context) {
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) throw Error(context + "cannot start deflate decompression");
  struct EndInflate {
    z_stream* stream;
    ~EndInflate() { inflateEnd(stream); }
  } end_inflate{&stream};
  std::string out;
  std::vector<char> chunk(std::size_t(1) << 16);
  std::size_t offered = 0;
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    if (stream.avail_in == 0 && offered < compressed.size()) {
      const std::size_t n = std::min<std::size_t>(compressed.size() - offered, std::size_t(1) << 30);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + offered));
      stream.avail_in = static_cast<uInt>(n);
      offered += n;
    }
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR)
      throw Error(context + "the deflate data is corrupt near compressed byte " +
                  std::to_string(offered - stream.avail_in) + " (" +
                  (stream.msg ? stream.msg : "inflate failed") + ")");
    const std::size_t produced = chunk.size() - stream.avail_out;
    if (produced > expected_size - out.size())
      throw Error(context + "decompresses to more than the " + std::to_string(expected_size) +
                  " bytes the archive records");
    out.append(chunk.data(), produced);
    if (status == Z_BUF_ERROR && stream.avail_in == 0 && offered == compressed.size())
      throw Error(context + "the deflate data is truncated: it ends after " +
                  std::to_string(compressed.size()) + " bytes without its end-of-stream marker");
  }
  if (out.size() != expected_size)
    throw Error(context + "decompresses to " + std::to_string(out.size()) +
                " bytes, but the archive records " + std::to_string(expected_size));
  return out;
}

// The member's uncompressed bytes, CRC-checked.
std::string extract_member(ArchiveFile& file, const ZipMember& member) {
  const std::string context = file.path() + ": member '" + printable(member.name) + "': ";
  const auto at = [&](std::uint64_t offset) { return context + "byte " + std::to_string(offset) + ": "; };
  if (member.flags & 1) throw Error(context + "is encrypted; expected an unencrypted NPZ");
  if (member.method != 0 && member.method != 8)
    throw Error(context + "compression method " + std::to_string(member.method) +
                " is not supported; expected 0 (stored) or 8 (deflate)");
  const std::uint64_t header_offset = member.local_header_offset;
  if (!file.holds(header_offset, kLocalHeaderSize))
    throw Error(at(header_offset) + "the local header lies past the end of the file (" +
                std::to_string(file.size()) + " bytes)");
  const std::string local = file.read(header_offset, kLocalHeaderSize);
  if (little_endian(local, 0, 4) != kLocalHeaderSignature)
    throw Error(at(header_offset) + "expected a local file header (PK\\3\\4)");
  const std::uint64_t name_offset = header_offset + kLocalHeaderSize;
  const std::uint64_t name_length = little_endian(local, 26, 2), extra_length = little_endian(local, 28, 2);
  if (!file.holds(name_offset, name_length + extra_length))
    throw Error(at(name_offset) + "the local header's name and extra field run past the end of the file");
  if (file.read(name_offset, name_length) != member.name)
    throw Error(at(name_offset) + "the local header names another file than the central directory does");
  const std::uint64_t data_offset = name_offset + name_length + extra_length;
  if (!file.holds(data_offset, member.compressed_size))
    throw Error(at(data_offset) + "the member's " + std::to_string(member.compressed_size) +
                " bytes of data run past the end of the file (" + std::to_string(file.size()) + " bytes)");

  // What the member can hold: stored, its size; deflated, at most about 1032
  // times its compressed size (the densest deflate code); then the memory limit.
  if (member.method == 8 &&
      member.uncompressed_size / kMaxDeflateRatio > member.compressed_size + 1)
    throw Error(context + "the archive records " + std::to_string(member.uncompressed_size) +
                " bytes uncompressed (" + format_bytes(member.uncompressed_size) + ") from " +
                std::to_string(member.compressed_size) +
                " compressed bytes, more than deflate can expand them to; the file is corrupt");
  check_memory(member.uncompressed_size,
               context + "the archive records " + std::to_string(member.uncompressed_size) +
                   " bytes uncompressed (", ")");
  std::string data;
  if (member.method == 0) {
    if (member.compressed_size != member.uncompressed_size)
      throw Error(context + "stored uncompressed, yet the archive records " +
                  std::to_string(member.compressed_size) + " bytes stored and " +
                  std::to_string(member.uncompressed_size) + " bytes of content");
    data = file.read(data_offset, member.compressed_size);
  } else {
    data = inflate_member(file.read(data_offset, member.compressed_size), member.uncompressed_size, context);
  }
  const std::uint32_t crc = crc32_of(data);
  if (crc != member.crc)
    throw Error(context + "CRC-32 mismatch: the archive records " + hex32(member.crc) + ", the data gives " +
                hex32(crc) + "; the file is corrupt");
  return data;
}

// numpy.load names a member by its file name without ".npy".
std::string key_of(const std::string& member_name) {
  const std::string_view suffix = ".npy";
  if (member_name.size() >= suffix.size() &&
      std::string_view(member_name).substr(member_name.size() - suffix.size()) == suffix)
    return member_name.substr(0, member_name.size() - suffix.size());
  return member_name;
}

bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

}  // namespace

NumericArray parse_npy(const std::string& bytes, const std::string& name) {
  return parse_npy_bytes(bytes, name);
}

NumericArray load_npy(const std::string& path) { return parse_npy_bytes(io::read_whole_file(path), path); }

std::vector<std::string> npz_keys(const std::string& path) {
  ArchiveFile file(path);
  std::vector<std::string> keys;
  for (const ZipMember& member : read_zip_directory(file)) keys.push_back(key_of(member.name));
  return keys;
}

NumericArray load_npz_array(const std::string& path, const std::string& key) {
  ArchiveFile file(path);
  const std::vector<ZipMember> members = read_zip_directory(file);
  // As numpy.load: the exact member name first, then KEY.npy; of duplicate
  // names the last, as Python's zipfile does.
  const ZipMember* found = nullptr;
  for (const ZipMember& member : members)
    if (member.name == key) found = &member;
  if (!found)
    for (const ZipMember& member : members)
      if (member.name == key + ".npy") found = &member;
  if (!found) {
    std::string keys;
    for (const ZipMember& member : members)
      keys += (keys.empty() ? "" : ", ") + printable(key_of(member.name));
    throw Error(path + ": no array named '" + printable(key) + "'; " +
                (keys.empty() ? std::string("the archive is empty") : "the archive has: " + keys));
  }
  return parse_npy_bytes(extract_member(file, *found), path + ": member '" + printable(found->name) + "'");
}

void save_npz(const std::string& path, const std::vector<std::pair<std::string, NumericArray>>& arrays) {
  struct Member {
    std::string name;
    NpyLayout npy;
    const NumericArray* array;
  };
  std::vector<Member> members;
  std::set<std::string> seen;
  std::uint64_t capacity = kZip64EndSize + kZip64LocatorSize + kEndSize;
  for (const auto& [key, array] : arrays) {
    const std::string context = path + ": array '" + printable(key) + "': ";
    if (key.empty()) throw Error(path + ": an array with an empty key; every array needs a name");
    if (!seen.insert(key).second) throw Error(context + "the key appears twice; keys must be unique");
    const std::string name = key + ".npy";
    if (name.size() > kMax16) throw Error(context + "the key is longer than a zip member name can be");
    members.push_back({name, npy_layout(array, context), &array});
    // both headers with their largest ZIP64 fields, and the NPY file
    capacity += kLocalHeaderSize + 20 + kCentralHeaderSize + 28 + 2 * name.size() + members.back().npy.size;
  }

  // The archive is built in place, so that an array is in memory twice (its
  // values and its bytes), not three times.
  std::string zip, directory;
  zip.reserve(static_cast<std::size_t>(capacity));
  for (const Member& member : members) {
    const std::string& name = member.name;
    const std::uint64_t size = member.npy.size, offset = zip.size();
    const std::uint64_t flags = is_ascii(name) ? 0 : 0x800;  // bit 11: the name is UTF-8

    const bool local_zip64 = size >= kMax32;
    append_little_endian(zip, kLocalHeaderSignature, 4);
    append_little_endian(zip, local_zip64 ? 45 : 20, 2);  // version needed: 4.5 for ZIP64, else 2.0
    append_little_endian(zip, flags, 2);
    append_little_endian(zip, 0, 2);  // method: stored
    append_little_endian(zip, 0, 2);  // time 00:00
    append_little_endian(zip, kDosDate1980, 2);
    const std::size_t crc_at = zip.size();
    append_little_endian(zip, 0, 4);  // the CRC-32, once the data is written
    append_little_endian(zip, local_zip64 ? kMax32 : size, 4);
    append_little_endian(zip, local_zip64 ? kMax32 : size, 4);
    append_little_endian(zip, name.size(), 2);
    append_little_endian(zip, local_zip64 ? 20 : 0, 2);
    zip += name;
    if (local_zip64) {  // a local header's ZIP64 field holds both sizes (APPNOTE 4.5.3)
      append_little_endian(zip, kZip64ExtraId, 2);
      append_little_endian(zip, 16, 2);
      append_little_endian(zip, size, 8);
      append_little_endian(zip, size, 8);
    }
    const std::size_t data_at = zip.size();
    zip += member.npy.header;
    append_npy_data(zip, *member.array, member.npy.single);
    const std::uint32_t crc = crc32_of(std::string_view(zip).substr(data_at));
    for (std::size_t k = 0; k < 4; ++k) zip[crc_at + k] = static_cast<char>((crc >> (8 * k)) & 0xff);

    std::string extra;
    if (size >= kMax32) {
      append_little_endian(extra, size, 8);
      append_little_endian(extra, size, 8);
    }
    if (offset >= kMax32) append_little_endian(extra, offset, 8);
    if (!extra.empty()) {
      std::string field;
      append_little_endian(field, kZip64ExtraId, 2);
      append_little_endian(field, extra.size(), 2);
      extra = field + extra;
    }
    const std::uint64_t version = extra.empty() ? 20 : 45;
    append_little_endian(directory, kCentralHeaderSignature, 4);
    append_little_endian(directory, (3 << 8) | version, 2);  // made by: Unix
    append_little_endian(directory, version, 2);
    append_little_endian(directory, flags, 2);
    append_little_endian(directory, 0, 2);  // method: stored
    append_little_endian(directory, 0, 2);
    append_little_endian(directory, kDosDate1980, 2);
    append_little_endian(directory, crc, 4);
    append_little_endian(directory, std::min(size, kMax32), 4);
    append_little_endian(directory, std::min(size, kMax32), 4);
    append_little_endian(directory, name.size(), 2);
    append_little_endian(directory, extra.size(), 2);
    append_little_endian(directory, 0, 2);                             // comment length
    append_little_endian(directory, 0, 2);                             // disk
    append_little_endian(directory, 0, 2);                             // internal attributes
    append_little_endian(directory, std::uint64_t{0100644} << 16, 4);  // external: a regular file, rw-r--r--
    append_little_endian(directory, std::min(offset, kMax32), 4);
    directory += name;
    directory += extra;
  }

  const std::uint64_t directory_offset = zip.size(), directory_size = directory.size(), count = arrays.size();
  zip += directory;
  if (count >= kMax16 || directory_size >= kMax32 || directory_offset >= kMax32) {
    const std::uint64_t record_offset = zip.size();
    append_little_endian(zip, kZip64EndSignature, 4);
    append_little_endian(zip, kZip64EndSize - 12, 8);  // the record's size after this field
    append_little_endian(zip, (3 << 8) | 45, 2);
    append_little_endian(zip, 45, 2);
    append_little_endian(zip, 0, 4);  // this disk
    append_little_endian(zip, 0, 4);  // the directory's disk
    append_little_endian(zip, count, 8);
    append_little_endian(zip, count, 8);
    append_little_endian(zip, directory_size, 8);
    append_little_endian(zip, directory_offset, 8);
    append_little_endian(zip, kZip64LocatorSignature, 4);
    append_little_endian(zip, 0, 4);  // the ZIP64 record's disk
    append_little_endian(zip, record_offset, 8);
    append_little_endian(zip, 1, 4);  // disks in all
  }
  append_little_endian(zip, kEndSignature, 4);
  append_little_endian(zip, 0, 2);  // this disk
  append_little_endian(zip, 0, 2);  // the directory's disk
  append_little_endian(zip, std::min(count, kMax16), 2);
  append_little_endian(zip, std::min(count, kMax16), 2);
  append_little_endian(zip, std::min(directory_size, kMax32), 4);
  append_little_endian(zip, std::min(directory_offset, kMax32), 4);
  append_little_endian(zip, 0, 2);  // comment length
  io::write_file_atomically(path, zip);
}

}  // namespace deepnet
