// Fuzzes the NPZ reader. It reads only from a path (random access into the
// archive), so each input goes to a temporary file first; then the keys are
// listed and every member (up to 16) is loaded, as is a key that is not there.
// A fuzzer almost never guesses a CRC-32, so each input is also tried with the
// CRC of every stored member made right (as the file says it is laid out),
// which lets mutations inside a member reach the NPY parser.
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "deepnet/array.hpp"
#include "fuzz_common.hpp"

namespace {

std::uint64_t le(const std::string& b, std::size_t at, int width) {
  std::uint64_t v = 0;
  for (int k = width; k-- > 0;) v = v << 8 | static_cast<unsigned char>(b[at + k]);
  return v;
}

void put32(std::string& b, std::size_t at, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) b[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
}

// Walks the local headers from byte 0; for each stored member, writes the CRC-32
// of its data into its local header and into the central directory entries
// that point to it.
std::string reseal_stored_members(std::string zip) {
  std::map<std::uint64_t, std::uint32_t> crc_at_offset;
  for (std::size_t at = 0; zip.size() >= 30 && at <= zip.size() - 30 && le(zip, at, 4) == 0x04034b50;) {
    const std::uint64_t method = le(zip, at + 8, 2);
    std::uint64_t size = le(zip, at + 18, 4);
    const std::size_t name = le(zip, at + 26, 2), extra = le(zip, at + 28, 2);
    const std::size_t data = at + 30 + name + extra;
    if (data > zip.size()) break;
    if (size == 0xffffffff) {  // ZIP64: the sizes are in the extra field (uncompressed, compressed)
      size = ~std::uint64_t{0};
      for (std::size_t e = at + 30 + name; e + 4 <= data;) {
        const std::size_t length = le(zip, e + 2, 2);
        if (le(zip, e, 2) == 1 && length >= 16 && e + 4 + 16 <= data) size = le(zip, e + 12, 8);
        e += 4 + length;
      }
    }
    if (size > zip.size() - data) break;
    if (method == 0) {
      const auto crc = static_cast<std::uint32_t>(
          crc32(0L, reinterpret_cast<const Bytef*>(zip.data() + data), static_cast<uInt>(size)));
      put32(zip, at + 14, crc);
      crc_at_offset[at] = crc;
    }
    at = data + size;
  }
  for (std::size_t at = 0; zip.size() >= 46 && at <= zip.size() - 46; ++at)
    if (le(zip, at, 4) == 0x02014b50) {
      const auto found = crc_at_offset.find(le(zip, at + 42, 4));
      if (found != crc_at_offset.end()) put32(zip, at + 16, found->second);
    }
  return zip;
}

void load(const std::string& bytes) {
  const deepnet_fuzz::TempFile file("npz", ".npz", reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                    bytes.size());
  std::vector<std::string> keys;
  if (!deepnet_fuzz::accepts([&] { keys = deepnet::npz_keys(file.path()); })) return;
  keys.resize(std::min<std::size_t>(keys.size(), 16));
  keys.push_back("no such key");
  for (const std::string& key : keys)
    deepnet_fuzz::accepts([&] {
      const deepnet::NumericArray array = deepnet::load_npz_array(file.path(), key);
      FUZZ_CHECK(array.values.size() == array.size());
      // The compact reading (uint8 as bytes, float32 as floats) holds the same values.
      const deepnet::NumericArray compact = deepnet::load_npz_array_compact(file.path(), key);
      FUZZ_CHECK(compact.shape == array.shape);
      FUZZ_CHECK(compact.values.size() + compact.bytes.size() + compact.floats.size() == array.size());
      for (std::size_t k = 0; k < compact.bytes.size(); ++k) FUZZ_CHECK(double(compact.bytes[k]) == array.values[k]);
      for (std::size_t k = 0; k < compact.floats.size(); ++k) {
        const double v = compact.floats[k];
        FUZZ_CHECK(v == array.values[k] || (v != v && array.values[k] != array.values[k]));
      }
      for (std::size_t k = 0; k < compact.values.size(); ++k) {
        const double v = compact.values[k];
        FUZZ_CHECK(v == array.values[k] || (v != v && array.values[k] != array.values[k]));
      }
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  load(bytes);
  const std::string resealed = reseal_stored_members(bytes);
  if (resealed != bytes) load(resealed);
  return 0;
}
