#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the
// model and checkpoint file frame (docs/model-format.md). Private to the
// library; the fuzz targets use it too (fuzz/frame.hpp) to reseal inputs.
#include <cstddef>
#include <cstdint>

namespace deepnet::io {

std::uint32_t crc32c(const char* data, std::size_t size);

}  // namespace deepnet::io
