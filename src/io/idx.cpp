// IDX, the format of MNIST and Fashion-MNIST (described on LeCun's MNIST
// page): bytes 00 00, a type code, the number of dimensions, each dimension
// size as a big-endian uint32, then the values big-endian in row-major order.
// The header is checked against the file's length and the memory limit
// (deepnet/limits.hpp) before anything is allocated.
#include <bit>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "deepnet/array.hpp"
#include "deepnet/error.hpp"
#include "deepnet/files.hpp"
#include "deepnet/limits.hpp"

namespace deepnet {

namespace {

struct IdxType {
  unsigned char code;
  const char* dtype;
  std::size_t bytes;
};

constexpr IdxType kIdxTypes[] = {
    {0x08, "uint8", 1}, {0x09, "int8", 1},    {0x0B, "int16", 2},
    {0x0C, "int32", 4}, {0x0D, "float32", 4}, {0x0E, "float64", 8},
};

std::string hex_byte(unsigned char byte) {
  char text[5];
  std::snprintf(text, sizeof text, "0x%02X", byte);
  return text;
}

std::uint64_t big_endian(const unsigned char* bytes, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t k = 0; k < width; ++k) value = value << 8 | bytes[k];
  return value;
}

template <typename Convert>
void decode(const unsigned char* data, std::size_t width, std::vector<double>& values, Convert convert) {
  for (std::size_t k = 0; k < values.size(); ++k) values[k] = convert(big_endian(data + k * width, width));
}

}  // namespace

IdxLayout idx_layout(std::string_view bytes, const std::string& name) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 4)
    throw Error(name + ": the file has " + std::to_string(bytes.size()) +
                " bytes; an IDX header needs at least 4 (00 00, type code, dimension count)");
  if (data[0] != 0 || data[1] != 0)
    throw Error(name + ": bytes 0-1: expected 00 00, the IDX magic; found " + hex_byte(data[0]) + " " +
                hex_byte(data[1]));
  const IdxType* type = nullptr;
  for (const IdxType& candidate : kIdxTypes)
    if (candidate.code == data[2]) type = &candidate;
  if (type == nullptr)
    throw Error(name + ": byte 2: unknown IDX type code " + hex_byte(data[2]) +
                "; expected 0x08, 0x09, 0x0B, 0x0C, 0x0D or 0x0E");
  const std::size_t rank = data[3];
  if (rank == 0) throw Error(name + ": byte 3: the dimension count is 0; expected at least 1");
  const std::size_t header_bytes = 4 + 4 * rank;
  if (bytes.size() < header_bytes)
    throw Error(name + ": byte 3: the header declares " + std::to_string(rank) + " dimensions, which need " +
                std::to_string(header_bytes) + " header bytes, but the file has " +
                std::to_string(bytes.size()));

  IdxLayout layout;
  layout.dtype = type->dtype;
  layout.type_code = type->code;
  layout.value_bytes = type->bytes;
  layout.data_offset = header_bytes;
  std::string& dims_text = layout.dims_text;
  for (std::size_t d = 0; d < rank; ++d) {
    layout.shape.push_back(static_cast<std::size_t>(big_endian(data + 4 + 4 * d, 4)));
    dims_text += (d ? " x " : "") + std::to_string(layout.shape.back());
  }
  std::uint64_t count = 1, data_bytes = 0;
  bool overflow = false, has_zero = false;
  for (std::size_t size : layout.shape) {
    overflow |= __builtin_mul_overflow(count, size, &count);
    has_zero |= size == 0;
  }
  overflow |= __builtin_mul_overflow(count, type->bytes, &data_bytes);
  if (has_zero) count = data_bytes = 0;  // zero whatever the other sizes are
  if (overflow && !has_zero)
    throw Error(name + ": the dimension sizes " + dims_text +
                " multiply past 64 bits; the header is corrupt");
  const std::uint64_t present = bytes.size() - header_bytes;
  if (data_bytes != present) {
    const std::string promised = type->bytes == 1 ? dims_text + " bytes"
                                                  : dims_text + " " + type->dtype + " values (" +
                                                        std::to_string(data_bytes) + " bytes)";
    throw Error(name + ": the header promises " + promised + " of data after its " +
                std::to_string(header_bytes) + " header bytes, but the file has " + std::to_string(present));
  }

  layout.count = count;
  return layout;
}

NumericArray parse_idx(std::string_view bytes, const std::string& name, bool keep_uint8) {
  const IdxLayout layout = idx_layout(bytes, name);
  NumericArray array;
  array.dtype = layout.dtype;
  array.shape = layout.shape;
  const std::uint64_t count = layout.count;
  const std::string& dims_text = layout.dims_text;
  const unsigned char* values = reinterpret_cast<const unsigned char*>(bytes.data()) + layout.data_offset;
  if (keep_uint8 && layout.type_code == 0x08) {  // the bytes as they are (count = the file's data bytes)
    check_memory(count, name + ": the header claims " + dims_text + " uint8 values = ", "");
    array.bytes.assign(values, values + count);
    return array;
  }
  // The values become doubles: 8 bytes each, whatever the file's type (count <= the file's bytes).
  check_memory(count * sizeof(double),
               name + ": the header claims " + dims_text + " " + layout.dtype + " values = ", " as double");
  array.values.resize(static_cast<std::size_t>(count));
  switch (layout.type_code) {
    case 0x08:
      decode(values, 1, array.values, [](std::uint64_t v) { return double(v); });
      break;
    case 0x09:
      decode(values, 1, array.values, [](std::uint64_t v) { return double(std::int8_t(std::uint8_t(v))); });
      break;
    case 0x0B:
      decode(values, 2, array.values, [](std::uint64_t v) { return double(std::int16_t(std::uint16_t(v))); });
      break;
    case 0x0C:
      decode(values, 4, array.values, [](std::uint64_t v) { return double(std::int32_t(std::uint32_t(v))); });
      break;
    case 0x0D:
      decode(values, 4, array.values,
             [](std::uint64_t v) { return double(std::bit_cast<float>(std::uint32_t(v))); });
      break;
    case 0x0E:
      decode(values, 8, array.values, [](std::uint64_t v) { return std::bit_cast<double>(v); });
      break;
  }
  return array;
}

NumericArray load_idx(const std::string& path, bool keep_uint8) {
  return parse_idx(io::read_maybe_gzip_bytes(path).view(), path, keep_uint8);
}

}  // namespace deepnet
