// Fuzzes the model file reader (deepnet::parse_model): each input as it is
// (frame checks), then resealed (frame.hpp) to reach the payload. A model the
// reader accepts must also be usable: its parameter count is what its layer
// sizes need; it serialises without error, reads back, and serialises to the
// same bytes; its network builds; predict runs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "deepnet/model_file.hpp"
#include "frame.hpp"
#include "fuzz_common.hpp"
#include "model_checks.hpp"

namespace {

void use(const deepnet::Model& model) {
  deepnet_fuzz::check_usable(model);
  // Strict: an Error here means the reader accepted what the writer refuses.
  const std::string bytes = deepnet::serialize_model(model);
  const std::string again = deepnet::serialize_model(deepnet::parse_model(bytes, "reserialised"));
  FUZZ_CHECK(bytes == again);
}

void parse(const std::string& bytes) {
  deepnet::Model model;
  if (deepnet_fuzz::accepts([&] { model = deepnet::parse_model(bytes, "fuzz.model"); })) use(model);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  parse(bytes);
  const std::string raw = bytes;
  deepnet_fuzz::reseal(bytes, 0, bytes.size());
  if (bytes != raw) parse(bytes);
  return 0;
}
