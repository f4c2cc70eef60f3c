// CRC-32C, table-driven, one byte at a time.
#include "io/crc32c.hpp"

#include <array>

namespace deepnet::io {

std::uint32_t crc32c(const char* data, std::size_t size) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t k = 0; k < size; ++k)
    crc = table[(crc ^ static_cast<unsigned char>(data[k])) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

}  // namespace deepnet::io
