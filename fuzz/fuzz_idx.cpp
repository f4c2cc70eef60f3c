// Fuzzes the IDX reader (deepnet::parse_idx) and, for gzip input, io::gunzip
// as load_idx uses it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "deepnet/array.hpp"
#include "deepnet/files.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  // A small decompression limit keeps the fuzzer inside its memory limit.
  if (deepnet::io::is_gzip(bytes) &&
      !deepnet_fuzz::accepts([&] { bytes = deepnet::io::gunzip(bytes, "fuzz.idx.gz", std::size_t(1) << 24); }))
    return 0;
  deepnet_fuzz::accepts([&] {
    const deepnet::NumericArray array = deepnet::parse_idx(bytes, "fuzz.idx");
    FUZZ_CHECK(!array.shape.empty());
    FUZZ_CHECK(array.values.size() == array.size());
  });
  return 0;
}
