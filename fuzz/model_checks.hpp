#pragma once
// What every model a reader accepts must allow, whichever reader made it
// (model files, ONNX graphs): the parameter count its layer sizes need,
// counted exactly; networks of both precisions with that many parameters; and
// predict on two examples (whose own Error, e.g. for an unusable normaliser,
// is an answer, not a crash).
#include "deepnet/model.hpp"
#include "frame.hpp"  // fits_architecture
#include "fuzz_common.hpp"

namespace deepnet_fuzz {

inline void check_usable(const deepnet::Model& model) {
  FUZZ_CHECK(fits_architecture(model.architecture.sizes, model.parameters.size()));
  const auto net32 = model.network<float>();
  const auto net64 = model.network<double>();
  FUZZ_CHECK(net32.parameters().size() == model.parameters.size());
  FUZZ_CHECK(net64.parameters().size() == model.parameters.size());
  accepts([&] {
    const deepnet::Matrix<double> X = deepnet::Matrix<double>::Zero(model.architecture.sizes.front(), 2);
    const deepnet::Prediction p = deepnet::predict(model, X);
    FUZZ_CHECK(p.labels.size() == 2);
  });
}

}  // namespace deepnet_fuzz
