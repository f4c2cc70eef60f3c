// Fuzzes the NPY reader (deepnet::parse_npy, from bytes in memory).
#include <cstddef>
#include <cstdint>
#include <string>

#include "deepnet/array.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  deepnet_fuzz::accepts([&] {
    const deepnet::NumericArray array = deepnet::parse_npy(bytes, "fuzz.npy");
    FUZZ_CHECK(array.values.size() == array.size());
  });
  return 0;
}
