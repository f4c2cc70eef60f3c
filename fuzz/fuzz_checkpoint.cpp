// Fuzzes the checkpoint reader (deepnet::parse_checkpoint): each input as it
// is, then resealed (frame.hpp): the model file inside the payload (a u32
// length and the model's bytes) first, then the checkpoint's own frame. An
// accepted checkpoint's model must have the parameter count its layer sizes
// need, and the checkpoint must serialise without error and read back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "deepnet/model_file.hpp"
#include "frame.hpp"
#include "fuzz_common.hpp"

namespace {

void parse(const std::string& bytes) {
  deepnet::Checkpoint checkpoint;
  if (!deepnet_fuzz::accepts([&] { checkpoint = deepnet::parse_checkpoint(bytes, "fuzz.checkpoint"); })) return;
  FUZZ_CHECK(deepnet_fuzz::fits_architecture(checkpoint.model.architecture.sizes,
                                             checkpoint.model.parameters.size()));
  // Strict: an Error here means the reader accepted what the writer refuses.
  const std::string out = deepnet::serialize_checkpoint(checkpoint);
  FUZZ_CHECK(deepnet::serialize_checkpoint(deepnet::parse_checkpoint(out, "reserialised")) == out);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  parse(bytes);
  const std::string raw = bytes;
  using deepnet_fuzz::kHeaderSize;
  if (bytes.size() >= kHeaderSize + 4 + deepnet_fuzz::kTrailerSize) {
    std::size_t inner = 0;
    for (int k = 0; k < 4; ++k) inner |= std::size_t(static_cast<unsigned char>(bytes[kHeaderSize + k])) << (8 * k);
    if (inner <= bytes.size() - kHeaderSize - 4 - deepnet_fuzz::kTrailerSize)
      deepnet_fuzz::reseal(bytes, kHeaderSize + 4, inner);
  }
  deepnet_fuzz::reseal(bytes, 0, bytes.size());
  if (bytes != raw) parse(bytes);
  return 0;
}
