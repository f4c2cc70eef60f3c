// The library pipeline's fit/partial_fit pieces that the front ends lean on:
// the data fingerprint a resumed run checks, and partial_fit's epochs.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "deepnet/data.hpp"
#include "deepnet/fit.hpp"

namespace deepnet {
namespace {

// The fingerprint text of format 1 (byte-wise FNV-1a), written here again from
// its definition, as older model and checkpoint files hold it.
std::string byte_wise_fingerprint(const Dataset& data) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](const void* bytes, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(bytes);
    for (std::size_t k = 0; k < size; ++k) h = (h ^ p[k]) * 0x100000001b3ull;
  };
  const std::int64_t shape[2] = {data.X.rows(), data.X.cols()};
  mix(shape, sizeof shape);
  mix(data.X.data(), static_cast<std::size_t>(data.X.size()) * sizeof(double));
  mix(data.targets.data(), data.targets.size() * sizeof(double));
  for (const std::string& name : data.class_names) mix(name.data(), name.size() + 1);
  char text[24];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

TEST(Fingerprint, TellsDataApartAndRecognisesTheByteWiseFormat) {
  const Dataset iris = load_builtin("iris");
  Dataset changed = iris;
  changed.X(2, 77) += 1e-12;
  EXPECT_NE(data_fingerprint(iris), data_fingerprint(changed));
  Dataset relabelled = iris;
  relabelled.targets[5] = relabelled.targets[5] == 0 ? 1 : 0;
  EXPECT_NE(data_fingerprint(iris), data_fingerprint(relabelled));
  EXPECT_EQ(data_fingerprint_text(iris).size(), 17u);
  EXPECT_TRUE(same_data_fingerprint(data_fingerprint_text(iris), iris));
  EXPECT_FALSE(same_data_fingerprint(data_fingerprint_text(iris), changed));
  EXPECT_TRUE(same_data_fingerprint(byte_wise_fingerprint(iris), iris));
  EXPECT_FALSE(same_data_fingerprint(byte_wise_fingerprint(iris), changed));
}

TEST(Fingerprint, ACheckpointWithTheByteWiseFormatResumes) {
  const Dataset iris = load_builtin("iris");
  FitSettings s;
  s.hidden_layers = {8};
  s.epochs = 4;
  s.checkpoint_every = 2;
  Checkpoint at_two;
  FitCallbacks callbacks;
  callbacks.on_checkpoint = [&](const Checkpoint& c, const Model&, bool) {
    if (c.state.epochs_done == 2) at_two = c;
  };
  const FitResult whole = fit(iris, nullptr, s, callbacks);
  ASSERT_EQ(at_two.state.epochs_done, 2);
  for (auto& [key, value] : at_two.model.training.settings)
    if (key == "data_fingerprint") value = byte_wise_fingerprint(iris);  // as an older deepnet wrote it
  const FitResult resumed = fit(iris, nullptr, s, {}, &at_two);
  EXPECT_EQ(resumed.model.parameters, whole.model.parameters);
  Dataset other = iris;
  other.X(0, 0) += 1;
  EXPECT_THROW(fit(other, nullptr, s, {}, &at_two), SettingError);
}

TEST(PartialFit, OneEpochPerCallContinuingTheState) {
  const Dataset iris = load_builtin("iris");
  FitSettings s;
  s.hidden_layers = {8};
  FitResult result = partial_fit(iris, s, nullptr);
  EXPECT_EQ(result.state.epochs_done, 1);
  for (int call = 2; call <= 5; ++call) {
    const Checkpoint previous{result.model, result.state};
    result = partial_fit(iris, s, &previous);
    EXPECT_EQ(result.state.epochs_done, call);
    EXPECT_EQ(result.state.history.size(), static_cast<std::size_t>(call));
  }
  // Five partial_fit calls over the same data are five epochs of fit.
  s.epochs = 5;
  EXPECT_EQ(fit(iris, nullptr, s).model.parameters, result.model.parameters);
  FitSettings course = s;
  course.epochs = 0;
  course.full_batch_gd = true;
  course.optimizer.kind = OptimizerKind::sgd;
  course.batch_size = 0;
  EXPECT_THROW(partial_fit(iris, course, nullptr), SettingError);
}

}  // namespace
}  // namespace deepnet
