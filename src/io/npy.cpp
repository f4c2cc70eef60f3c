// NPY and NPZ, numpy's array files, read and written without numpy.
// NPY: the format of numpy.lib.format, versions 1.0, 2.0 and 3.0, raw or
// gzip-compressed (.npy.gz). NPZ: a zip archive of KEY.npy members; the zip
// container itself is zip.cpp. Every length a file claims is checked against
// the bytes actually there, and against the memory limit (deepnet/limits.hpp),
// before anything is read or allocated on its account: these readers take
// untrusted input.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "deepnet/array.hpp"
#include "deepnet/error.hpp"
#include "deepnet/files.hpp"
#include "deepnet/limits.hpp"
#include "io/byte_text.hpp"
#include "io/zip.hpp"

namespace deepnet {

namespace {

using io::append_little_endian;
using io::hex32;
using io::little_endian;
using io::printable;

constexpr std::string_view kNpyMagic{"\x93NUMPY", 6};
// numpy 1.x allows 32 dimensions, numpy 2 allows 64.
constexpr std::size_t kMaxDimensions = 64;

// One byte of a file for a message, quoted, non-ASCII escaped.
std::string byte_text(char byte) {
  const auto c = static_cast<unsigned char>(byte);
  if (c >= 0x20 && c < 0x7f) return std::string("'") + byte + "'";
  char escaped[7];
  std::snprintf(escaped, sizeof escaped, "'\\x%02x'", c);
  return escaped;
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

// ---------------------------------------------------------------------------
// NPY

enum class Kind { boolean, signed_integer, unsigned_integer, floating, unicode, bytes };

struct ElementType {
  Kind kind = Kind::floating;
  std::size_t size = 8;  // bytes per element (unicode: 4 per character)
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
// '=' or none native), kind letter, size in bytes (characters for 'U').
// Numbers, or with `text` strings: 'U' N (N UTF-32 characters) or 'S' N (N bytes).
ElementType parse_descr(const std::string& descr, const std::string& name, bool text) {
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
  if (text) {
    if (has_size && kind == 'U' && size <= std::numeric_limits<std::size_t>::max() / 4) {
      type.kind = Kind::unicode;
      type.size = size * 4;
      return type;
    }
    if (has_size && (kind == 'S' || kind == 'a')) {
      type.kind = Kind::bytes;
      return type;
    }
    throw Error(name + ": header: 'descr' is '" + printable(descr) + "'" + what_kind_is(kind) +
                "; expected a string dtype such as '<U8' (unicode) or '|S8' (bytes)");
  }
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
    case Kind::unicode:
    case Kind::bytes:
      break;  // parse_descr admits these only for text
  }
  return values;
}

// `values` in Fortran (column-major) order, returned in C (row-major) order.
template <typename T>
std::vector<T> fortran_to_c_order(std::vector<T> values, const std::vector<std::size_t>& shape) {
  if (values.empty() || shape.size() < 2) return values;
  const std::size_t rank = shape.size();
  std::vector<std::size_t> c_stride(rank, 1), index(rank, 0);
  for (std::size_t k = rank - 1; k-- > 0;) c_stride[k] = c_stride[k + 1] * shape[k + 1];
  std::vector<T> c_order(values.size());
  std::size_t c_position = 0;
  for (T& value : values) {
    c_order[c_position] = std::move(value);
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

// An NPY file's header and where its data lies, checked against the file's size.
struct NpyContents {
  NpyHeader header;
  ElementType type;
  std::size_t count = 0;      // elements
  std::size_t data_start = 0;  // byte offset of the data in the file
  std::string_view data;      // exactly count * type.size bytes
  std::string layout;         // "shape (2, 3) of '<f8'", for messages
};

// bytes: the file's, or (file_size given) its first bytes up to at least the
// end of the header; then data is empty.
NpyContents parse_npy_contents(std::string_view bytes, const std::string& name, bool text,
                               std::size_t file_size = std::string_view::npos) {
  const bool whole = file_size == std::string_view::npos;
  if (whole) file_size = bytes.size();
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
  const ElementType type = parse_descr(header.descr, name, text);
  const std::optional<std::size_t> count = element_count(header.shape);
  if (!count || (type.size && *count > std::numeric_limits<std::size_t>::max() / type.size))
    throw Error(name + ": header: 'shape' " + shape_text(header.shape) +
                " has more elements than can be addressed in memory");
  const std::size_t data_start = header_start + header_length;
  const std::size_t data_bytes = *count * type.size;
  const std::size_t present = file_size - data_start;
  const std::string layout = "shape " + shape_text(header.shape) + " of '" + header.descr + "'";
  if (present < data_bytes)
    throw Error(name + ": byte " + std::to_string(data_start) + ": expected " + std::to_string(data_bytes) +
                " bytes of array data (" + layout + "), found " + std::to_string(present) +
                "; the file is truncated");
  if (present > data_bytes)
    throw Error(name + ": byte " + std::to_string(data_start + data_bytes) +
                ": expected the end of the file after the array data (" + layout + "), found " +
                std::to_string(present - data_bytes) + " more bytes");

  return {header, type, *count, data_start, whole ? bytes.substr(data_start, data_bytes) : std::string_view(), layout};
}

NumericArray parse_npy_bytes(std::string_view bytes, const std::string& name, bool compact = false) {
  const NpyContents npy = parse_npy_contents(bytes, name, false);
  if (compact && !npy.header.fortran_order && npy.type.size == 1 && npy.type.kind == Kind::unsigned_integer) {
    check_memory(npy.count, name + ": header: " + npy.layout + " claims " + std::to_string(npy.count) + " values = ",
                 " as bytes");
    NumericArray array;
    array.shape = npy.header.shape;
    array.dtype = npy.header.descr;
    array.bytes.assign(npy.data.begin(), npy.data.end());
    return array;
  }
  if (compact && !npy.header.fortran_order && npy.type.size == 4 && npy.type.kind == Kind::floating) {
    check_memory(npy.count * sizeof(float),
                 name + ": header: " + npy.layout + " claims " + std::to_string(npy.count) + " values = ", " as float");
    NumericArray array;
    array.shape = npy.header.shape;
    array.dtype = npy.header.descr;
    array.floats.resize(npy.count);
    std::memcpy(array.floats.data(), npy.data.data(), npy.count * sizeof(float));
    if (npy.type.big_endian != (std::endian::native == std::endian::big))
      for (float& f : array.floats) {
        std::uint32_t bits;
        std::memcpy(&bits, &f, 4);
        bits = __builtin_bswap32(bits);
        std::memcpy(&f, &bits, 4);
      }
    return array;
  }
  // The values become doubles, 8 bytes each (count <= the file's bytes, so no overflow),
  // and twice that while a Fortran-order array is reordered.
  check_memory(npy.count * sizeof(double) * (npy.header.fortran_order ? 2 : 1),
               name + ": header: " + npy.layout + " claims " + std::to_string(npy.count) + " values = ",
               npy.header.fortran_order ? " as double, twice while reordering" : " as double");
  NumericArray array;
  array.shape = npy.header.shape;
  array.dtype = npy.header.descr;
  array.values = decode_elements(npy.data, npy.type, npy.count);
  if (npy.header.fortran_order) array.values = fortran_to_c_order(std::move(array.values), array.shape);
  return array;
}

// UTF-8 of one code point; false for a value that is no Unicode character.
bool append_utf8(std::string& out, std::uint32_t c) {
  if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return false;
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  }
  return true;
}

// The code points of UTF-8 text; nullopt (with the byte of the fault) when it is not valid UTF-8.
std::optional<std::vector<std::uint32_t>> decode_utf8(std::string_view text, std::size_t& fault) {
  std::vector<std::uint32_t> points;
  for (std::size_t k = 0; k < text.size();) {
    const auto lead = static_cast<unsigned char>(text[k]);
    const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3 : (lead >> 3) == 0x1e ? 4 : 0;
    fault = k;
    if (length == 0 || text.size() - k < length) return std::nullopt;
    std::uint32_t c = length == 1 ? lead : lead & (0x7f >> length);
    for (std::size_t b = 1; b < length; ++b) {
      const auto next = static_cast<unsigned char>(text[k + b]);
      if ((next & 0xc0) != 0x80) return std::nullopt;
      c = c << 6 | (next & 0x3f);
    }
    constexpr std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    std::string check;
    if (c < smallest[length] || !append_utf8(check, c)) return std::nullopt;  // overlong, surrogate, too large
    points.push_back(c);
    k += length;
  }
  return points;
}

StringArray parse_npy_string_bytes(std::string_view bytes, const std::string& name) {
  const NpyContents npy = parse_npy_contents(bytes, name, true);
  // Each string takes its object and at most the bytes of its element (UTF-8
  // needs no more than UTF-32), twice while a Fortran-order array is reordered.
  const std::uint64_t object = sizeof(std::string);
  if (npy.count > std::numeric_limits<std::uint64_t>::max() / 4 / object)
    throw Error(name + ": header: 'shape' " + shape_text(npy.header.shape) + " has more elements than can be addressed in memory");
  check_memory((npy.count * object + npy.data.size()) * (npy.header.fortran_order ? 2 : 1),
               name + ": header: " + npy.layout + " claims " + std::to_string(npy.count) + " strings = ",
               npy.header.fortran_order ? " as text, twice while reordering" : " as text");
  StringArray array;
  array.shape = npy.header.shape;
  array.values.resize(npy.count);
  const bool swap = npy.type.big_endian != (std::endian::native == std::endian::big);
  for (std::size_t k = 0; k < npy.count; ++k) {
    const std::string_view element = npy.data.substr(k * npy.type.size, npy.type.size);
    std::string& text = array.values[k];
    if (npy.type.kind == Kind::bytes) {
      text = std::string(element.substr(0, element.find_last_not_of('\0') + 1));
      continue;
    }
    std::size_t used = element.size() / 4;  // numpy drops trailing NULs
    while (used > 0 && little_endian(element, 4 * (used - 1), 4) == 0) --used;
    for (std::size_t c = 0; c < used; ++c) {
      const auto* p = reinterpret_cast<const unsigned char*>(element.data() + 4 * c);
      const std::uint32_t point = load_element<std::uint32_t>(p, swap);
      if (!append_utf8(text, point))
        throw Error(name + ": byte " + std::to_string(npy.data_start + k * npy.type.size + 4 * c) + ": element " +
                    std::to_string(k) + " holds " + hex32(point) + ", which is not a Unicode character");
    }
  }
  if (npy.header.fortran_order) array.values = fortran_to_c_order(std::move(array.values), array.shape);
  return array;
}

// How an array is saved: the NPY header, from the magic string through the
// padding, and the size of the whole NPY file.
struct NpyLayout {
  std::string header;
  bool single = false;        // numbers: float32, else float64
  std::size_t width = 0;      // strings: characters per element
  std::vector<std::vector<std::uint32_t>> text;  // strings: the code points of each
  std::uint64_t size = 0;
};

// numpy.lib.format.write_array's header: version 1.0 unless the header needs
// more than 65535 bytes; padded with spaces and a newline so that the data
// starts at a multiple of 64 bytes.
std::string npy_header(const std::string& descr, const std::vector<std::size_t>& shape) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape_text(shape) + ", }";
  const auto padded_length = [&](std::size_t prefix) {
    return (prefix + dict.size() + 1 + 63) / 64 * 64 - prefix;
  };
  const int major = padded_length(10) <= 0xffff ? 1 : 2;
  dict.append(padded_length(major == 1 ? 10 : 12) - dict.size() - 1, ' ');
  dict += '\n';
  std::string header(kNpyMagic);
  header += static_cast<char>(major);
  header += '\0';
  append_little_endian(header, dict.size(), major == 1 ? 2 : 4);
  return header + dict;
}

void check_count(const std::vector<std::size_t>& shape, std::size_t values, const std::string& context) {
  const std::optional<std::size_t> count = element_count(shape);
  if (!count || *count != values)
    throw Error(context + "has " + std::to_string(values) + " values, but its shape " + shape_text(shape) +
                " needs " + (count ? std::to_string(*count) : "more than fit in memory"));
}

NpyLayout npy_layout(const NumericArray& array, const std::string& context) {
  if (!array.dtype.empty() && array.dtype != "<f4" && array.dtype != "<f8")
    throw Error(context + "dtype '" + printable(array.dtype) + "' cannot be saved; expected '<f4' or '<f8'");
  check_count(array.shape, array.values.size(), context);
  NpyLayout layout;
  layout.single = array.dtype == "<f4";
  layout.header = npy_header(layout.single ? "<f4" : "<f8", array.shape);
  layout.size = layout.header.size() + array.values.size() * (layout.single ? 4 : 8);
  return layout;
}

// '<U' N with N the longest string's characters (at least 1, as numpy makes it).
NpyLayout npy_layout(const StringArray& array, const std::string& context) {
  check_count(array.shape, array.values.size(), context);
  NpyLayout layout;
  layout.width = 1;
  for (std::size_t k = 0; k < array.values.size(); ++k) {
    std::size_t fault = 0;
    std::optional<std::vector<std::uint32_t>> points = decode_utf8(array.values[k], fault);
    if (!points)
      throw Error(context + "string " + std::to_string(k) + " is not valid UTF-8 at byte " + std::to_string(fault));
    if (std::find(points->begin(), points->end(), 0u) != points->end())
      throw Error(context + "string " + std::to_string(k) + " holds a NUL character, which numpy would drop");
    layout.width = std::max(layout.width, points->size());
    layout.text.push_back(std::move(*points));
  }
  layout.header = npy_header("<U" + std::to_string(layout.width), array.shape);
  layout.size = layout.header.size() + array.values.size() * layout.width * 4;
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

void append_npy_text(std::string& out, const NpyLayout& layout) {
  for (const std::vector<std::uint32_t>& points : layout.text) {
    for (std::uint32_t c : points) append_little_endian(out, c, 4);
    out.append(4 * (layout.width - points.size()), '\0');
  }
}

// numpy.load names a member by its file name without ".npy".
std::string key_of(const std::string& member_name) {
  const std::string_view suffix = ".npy";
  if (member_name.size() >= suffix.size() &&
      std::string_view(member_name).substr(member_name.size() - suffix.size()) == suffix)
    return member_name.substr(0, member_name.size() - suffix.size());
  return member_name;
}

}  // namespace

NumericArray parse_npy(const std::string& bytes, const std::string& name) {
  return parse_npy_bytes(bytes, name);
}

StringArray parse_npy_strings(const std::string& bytes, const std::string& name) {
  return parse_npy_string_bytes(bytes, name);
}

NumericArray load_npy(const std::string& path) { return parse_npy_bytes(io::read_maybe_gzip(path), path); }
NumericArray load_npy_compact(const std::string& path) {
  return parse_npy_bytes(io::read_maybe_gzip(path), path, true);
}
NpyView npy_view(std::string_view first_bytes, const std::string& name, std::size_t file_size) {
  const NpyContents npy = parse_npy_contents(first_bytes, name, false, file_size);
  NpyView view;
  view.shape = npy.header.shape;
  view.dtype = npy.header.descr;
  view.fortran_order = npy.header.fortran_order;
  view.float32 = npy.type.kind == Kind::floating && npy.type.size == 4 &&
                 npy.type.big_endian == (std::endian::native == std::endian::big);
  view.uint8 = npy.type.kind == Kind::unsigned_integer && npy.type.size == 1;
  view.count = npy.count;
  view.data_start = npy.data_start;
  view.data_bytes = npy.count * npy.type.size;
  view.layout = npy.layout;
  return view;
}

namespace {

// The archive with its directory read; errors name the file and say what it is instead.
io::ZipReader open_npz(const std::string& path) {
  io::ZipReader zip(path);
  if (!zip.read_directory()) {
    const bool is_npy = zip.head(kNpyMagic.size()) == kNpyMagic;
    throw Error(path + ": not a zip archive (no end-of-central-directory record); expected an NPZ file" +
                (is_npy ? " (this is an NPY file, for load_npy)" : " as numpy.savez writes it"));
  }
  return zip;
}

}  // namespace

std::vector<std::string> npz_keys(const std::string& path) {
  io::ZipReader zip = open_npz(path);
  std::vector<std::string> keys;
  for (const io::ZipMember& member : zip.members()) keys.push_back(key_of(member.name));
  return keys;
}

namespace {

// The member of KEY, extracted; the name it has in the archive goes to `member_name`.
std::string extract_npz_member(const std::string& path, const std::string& key, std::string& member_name) {
  io::ZipReader zip = open_npz(path);
  const std::vector<io::ZipMember>& members = zip.members();
  // As numpy.load: the exact member name first, then KEY.npy; of duplicate
  // names the last, as Python's zipfile does.
  const io::ZipMember* found = nullptr;
  for (const io::ZipMember& member : members)
    if (member.name == key) found = &member;
  if (!found)
    for (const io::ZipMember& member : members)
      if (member.name == key + ".npy") found = &member;
  if (!found) {
    std::string keys;
    for (const io::ZipMember& member : members)
      keys += (keys.empty() ? "" : ", ") + printable(key_of(member.name));
    throw Error(path + ": no array named '" + printable(key) + "'; " +
                (keys.empty() ? std::string("the archive is empty") : "the archive has: " + keys));
  }
  member_name = found->name;
  return zip.extract(*found);
}

}  // namespace

NumericArray load_npz_array(const std::string& path, const std::string& key) {
  std::string name;
  const std::string bytes = extract_npz_member(path, key, name);
  return parse_npy_bytes(bytes, path + ": member '" + printable(name) + "'");
}

NumericArray load_npz_array_compact(const std::string& path, const std::string& key) {
  std::string name;
  const std::string bytes = extract_npz_member(path, key, name);
  return parse_npy_bytes(bytes, path + ": member '" + printable(name) + "'", true);
}

StringArray load_npz_strings(const std::string& path, const std::string& key) {
  std::string name;
  const std::string bytes = extract_npz_member(path, key, name);
  return parse_npy_string_bytes(bytes, path + ": member '" + printable(name) + "'");
}

void save_npz(const std::string& path, const std::vector<std::pair<std::string, NpzArray>>& arrays) {
  struct Member {
    std::string name;
    NpyLayout npy;
    const NumericArray* numbers;  // else strings, in npy.text
  };
  std::vector<Member> members;
  std::set<std::string> seen;
  std::uint64_t capacity = 0;
  for (const auto& [key, array] : arrays) {
    const std::string context = path + ": array '" + printable(key) + "': ";
    if (key.empty()) throw Error(path + ": an array with an empty key; every array needs a name");
    if (!seen.insert(key).second) throw Error(context + "the key appears twice; keys must be unique");
    const std::string name = key + ".npy";
    if (name.size() > 0xffff) throw Error(context + "the key is longer than a zip member name can be");
    const auto* numbers = std::get_if<NumericArray>(&array);
    members.push_back({name, numbers ? npy_layout(*numbers, context) : npy_layout(std::get<StringArray>(array), context),
                       numbers});
    capacity += io::ZipWriter::capacity_of(name.size(), members.back().npy.size);
  }
  // The archive is built in place, so that an array is in memory twice (its
  // values and its bytes), not three times.
  io::ZipWriter zip(path);
  zip.reserve(capacity);
  for (const Member& member : members) {
    std::string& out = zip.begin_member(member.name, member.npy.size);
    out += member.npy.header;
    if (member.numbers)
      append_npy_data(out, *member.numbers, member.npy.single);
    else
      append_npy_text(out, member.npy);
    zip.end_member();
  }
  io::write_file_atomically(path, zip.finish());
}

}  // namespace deepnet
