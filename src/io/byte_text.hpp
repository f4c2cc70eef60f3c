#pragma once
// Little-endian integers and bytes from files in messages: shared by the NPY
// reader and the ZIP container (npy.cpp, zip.cpp). Private to the library.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace deepnet::io {

// `width` bytes at `at`, little endian; the caller has checked that they are there.
inline std::uint64_t little_endian(std::string_view bytes, std::size_t at, std::size_t width) {
  std::uint64_t value = 0;
  for (std::size_t k = width; k-- > 0;) value = value << 8 | static_cast<unsigned char>(bytes[at + k]);
  return value;
}

inline void append_little_endian(std::string& out, std::uint64_t value, std::size_t width) {
  for (std::size_t k = 0; k < width; ++k) out += static_cast<char>((value >> (8 * k)) & 0xff);
}

// Text from a file, made safe to put in a message: control bytes escaped, long text cut.
inline std::string printable(std::string_view text) {
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

inline std::string hex32(std::uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(value));
  return text;
}

}  // namespace deepnet::io
