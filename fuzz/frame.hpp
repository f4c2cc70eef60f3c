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

#include "io/crc32c.hpp"

namespace deepnet_fuzz {

using deepnet::io::crc32c;  // the library's own (src/io/crc32c.hpp)

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
