// Fuzzes the NPY reader (deepnet::parse_npy, from bytes in memory) and the
// header reader of the in-place path (deepnet::npy_view, from the file's first
// bytes and its size): where both accept the bytes they agree, and npy_view
// given only the bytes before the data says what it says given all of them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "deepnet/array.hpp"
#include "deepnet/error.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::optional<deepnet::NumericArray> parsed;
  deepnet_fuzz::accepts([&] {
    parsed = deepnet::parse_npy(bytes, "fuzz.npy");
    FUZZ_CHECK(parsed->values.size() == parsed->size());
  });
  deepnet_fuzz::accepts([&] {
    const deepnet::NpyView view = deepnet::npy_view(bytes, "fuzz.npy", bytes.size());
    FUZZ_CHECK(view.data_start + view.data_bytes == bytes.size());
    if (parsed) FUZZ_CHECK(view.shape == parsed->shape && view.count == parsed->size());
    const deepnet::NpyView head = deepnet::npy_view(bytes.substr(0, view.data_start), "fuzz.npy", bytes.size());
    FUZZ_CHECK(head.shape == view.shape && head.dtype == view.dtype && head.data_start == view.data_start &&
               head.data_bytes == view.data_bytes && head.float32 == view.float32 && head.uint8 == view.uint8);
  });
  return 0;
}
