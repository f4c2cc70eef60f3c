// Fuzzes the ONNX reader (deepnet::parse_onnx, `deepnet import --onnx`). A graph
// the reader accepts must give a usable model: its parameter count is what its
// layer sizes need; it exports again without error, and that export reads back
// to a model that exports to the same bytes; its network builds; predict runs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "deepnet/onnx.hpp"
#include "fuzz_common.hpp"
#include "model_checks.hpp"

namespace {

void use(const deepnet::Model& model) {
  deepnet_fuzz::check_usable(model);
  // An accepted graph may hold values the writer refuses (a non-finite weight):
  // then the export's own Error is the answer, not a crash.
  std::string bytes;
  if (!deepnet_fuzz::accepts([&] { bytes = deepnet::serialize_onnx(model); })) return;
  const std::string again = deepnet::serialize_onnx(deepnet::parse_onnx(bytes, "reexported.onnx"));
  FUZZ_CHECK(bytes == again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  deepnet::Model model;
  if (deepnet_fuzz::accepts([&] { model = deepnet::parse_onnx(bytes, "fuzz.onnx"); })) use(model);
  return 0;
}
