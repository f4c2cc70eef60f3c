#pragma once
// The frame of model and checkpoint files (docs/model-format.md): 24-byte
// header (magic, version, byte order mark, payload size), payload, CRC-32C.
// A fuzzer almost never guesses a checksum, so the targets also parse a copy
// of each input with the payload size and the CRC made right ("resealed"),
// which lets mutations reach the payload parser.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace deepnet_fuzz {

inline std::uint32_t crc32c(const char* data, std::size_t size) {
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
  for (std::size_t k = 0; k < size; ++k) crc = table[(crc ^ static_cast<unsigned char>(data[k])) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

constexpr std::size_t kHeaderSize = 24, kTrailerSize = 4;

inline void put_le(std::string& bytes, std::size_t at, std::uint64_t value, int width) {
  for (int k = 0; k < width; ++k) bytes[at + k] = static_cast<char>((value >> (8 * k)) & 0xff);
}

// Fixes the payload size and CRC of the frame in bytes[at, at + size).
inline void reseal(std::string& bytes, std::size_t at, std::size_t size) {
  if (size < kHeaderSize + kTrailerSize) return;
  put_le(bytes, at + 16, size - kHeaderSize - kTrailerSize, 8);
  put_le(bytes, at + size - kTrailerSize, crc32c(bytes.data() + at, size - kTrailerSize), 4);
}

// Parameters an architecture needs, sum over l of n[l] (n[l-1] + 1), counted
// without overflow: what a parsed model's parameter buffer must hold.
inline bool fits_architecture(const std::vector<int>& sizes, std::size_t parameters) {
  unsigned __int128 total = 0;
  for (std::size_t l = 1; l < sizes.size(); ++l)
    total += static_cast<unsigned __int128>(sizes[l]) * (static_cast<unsigned __int128>(sizes[l - 1]) + 1);
  return total == parameters;
}

}  // namespace deepnet_fuzz
