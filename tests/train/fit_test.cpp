// The library pipeline's fit/partial_fit pieces that the front ends lean on:
// the data fingerprint a resumed run checks, and partial_fit's epochs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>

#include "deepnet/data.hpp"
#include "deepnet/fit.hpp"
#include "deepnet/search.hpp"

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

// ---------------------------------------------------------------- 8-bit images kept as bytes

// A data set of 8-bit "images" held as bytes (Dataset::pixels, as the IDX
// loaders give them) and the same values as doubles in X.
std::pair<Dataset, Dataset> bytes_and_doubles(Eigen::Index n, Eigen::Index m) {
  Dataset bytes;
  bytes.pixels.resize(n, m);
  for (Eigen::Index j = 0; j < m; ++j)
    for (Eigen::Index i = 0; i < n; ++i)
      bytes.pixels(i, j) = static_cast<std::uint8_t>((j * 37 + i * 11 + (i * j) % 7 + (j % 3 == 0 ? i * 5 : 0)) % 256);
  for (Eigen::Index j = 0; j < m; ++j) bytes.targets.push_back(static_cast<double>((j * 7 + bytes.pixels(3, j) / 64) % 3));
  bytes.uint8_pixels = true;
  bytes.source = "bytes";
  Dataset doubles = bytes;
  doubles.expand_pixels();
  EXPECT_FALSE(doubles.has_pixels());
  EXPECT_EQ(doubles.X.rows(), n);
  return {bytes, doubles};
}

TEST(Pixels, NormalisedFeaturesEqualTheDoublePathBitForBit) {
  const auto [bytes, doubles] = bytes_and_doubles(12, 50);
  for (Normalization kind : {Normalization::none, Normalization::div255, Normalization::standard, Normalization::minmax}) {
    const Normalizer from_bytes = Normalizer::fit(kind, bytes);
    const Normalizer from_doubles = Normalizer::fit(kind, doubles.X);
    EXPECT_EQ(from_bytes.offset, from_doubles.offset);
    EXPECT_EQ(from_bytes.scale, from_doubles.scale);
    Matrix<double> expected = doubles.X;
    from_doubles.apply(expected);
    EXPECT_EQ(from_bytes.features<double>(bytes), expected) << to_string(kind);
    EXPECT_EQ(from_bytes.features<float>(bytes), Matrix<float>(expected.cast<float>())) << to_string(kind);
    EXPECT_EQ(from_doubles.features<float>(doubles), Matrix<float>(expected.cast<float>())) << to_string(kind);
    EXPECT_EQ(from_bytes.features<double>(bytes, 7, 5), Matrix<double>(expected.middleCols(7, 5)));
  }
  EXPECT_THROW(Normalizer::fit(Normalization::div255, bytes).features<float>(bytes, 45, 6), Error);
}

TEST(Pixels, FloatOverflowIsAnErrorNamingTheExample) {
  Dataset d;
  d.X = Matrix<double>::Ones(2, 3);
  d.X(1, 2) = 1e39;
  d.source = "big.csv";
  const Normalizer none = Normalizer::fit(Normalization::none, d.X);
  try {
    (void)none.features<float>(d);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("big.csv: feature 1 of example 2 is 1e+39"), std::string::npos) << e.what();
  }
  EXPECT_EQ(none.features<double>(d)(1, 2), 1e39);  // float64 holds it
  // Among many columns (blocks on threads), the first in column order is named; inf is not "beyond".
  set_threads(2);
  Dataset many;
  many.X = Matrix<double>::Ones(3, 5000);
  many.X(1, 4500) = -2e39;
  many.X(2, 4000) = 3e39;
  many.X(0, 100) = std::numeric_limits<double>::infinity();
  many.source = "many.npy";
  try {
    (void)none.features<float>(many, 10, 4990);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("many.npy: feature 2 of example 4000 is 3e+39"), std::string::npos) << e.what();
  }
  many.X(1, 4500) = many.X(2, 4000) = 1;
  const Matrix<float> converted = none.features<float>(many, 10, 4990);
  EXPECT_EQ(converted(0, 90), std::numeric_limits<float>::infinity());
  EXPECT_EQ(converted, Matrix<float>(many.X.middleCols(10, 4990).cast<float>()));
  set_threads(1);
}

TEST(Pixels, FingerprintAndTrainingAreThoseOfTheDoubles) {
  const auto [bytes, doubles] = bytes_and_doubles(16, 301);  // 4816 values: not a multiple of the 4096 chunk
  EXPECT_EQ(data_fingerprint(bytes), data_fingerprint(doubles));
  EXPECT_TRUE(same_data_fingerprint(data_fingerprint_text(doubles), bytes));
  EXPECT_TRUE(same_data_fingerprint(byte_wise_fingerprint(doubles), bytes));
  FitSettings s;
  s.hidden_layers = {8};
  s.epochs = 3;
  s.validation_fraction = 0.2;
  const FitResult a = fit(bytes, nullptr, s);
  const FitResult b = fit(doubles, nullptr, s);
  EXPECT_EQ(a.plan.normalization, Normalization::div255);
  EXPECT_EQ(a.model.parameters, b.model.parameters);
  ASSERT_EQ(a.scores.size(), 2u);
  for (std::size_t k = 0; k < a.scores.size(); ++k) {
    EXPECT_EQ(a.scores[k].cost, b.scores[k].cost);
    EXPECT_EQ(a.scores[k].accuracy, b.scores[k].accuracy);
  }
  const Prediction pa = predict(a.model, bytes), pb = predict(a.model, doubles), px = predict(a.model, doubles.X);
  EXPECT_EQ(pa.outputs, pb.outputs);
  EXPECT_EQ(pa.labels, px.labels);
  EXPECT_LT((pa.outputs - px.outputs).cwiseAbs().maxCoeff(), 1e-6);
  EXPECT_EQ(score_model(a.model, bytes, "all").accuracy, score_model(a.model, doubles, "all").accuracy);
}

TEST(Pixels, ScoresAndPredictionsInChunksMatchOnePass) {
  // 9000 examples: three chunks of the scoring and prediction passes (4096 each).
  const auto [bytes, doubles] = bytes_and_doubles(6, 9000);
  FitSettings s;
  s.hidden_layers = {5};
  s.epochs = 2;
  s.normalization = Normalization::standard;
  s.training_score = TrainingScore::pass;  // the chunked pass, not the running figures
  const FitResult r = fit(doubles, nullptr, s);
  EXPECT_FALSE(r.scores[0].running);
  const Prediction chunked = predict(r.model, doubles), whole = predict(r.model, doubles.X);
  EXPECT_EQ(chunked.labels, whole.labels);
  EXPECT_LT((chunked.outputs - whole.outputs).cwiseAbs().maxCoeff(), 1e-6);
  double right = 0;
  for (std::size_t j = 0; j < whole.labels.size(); ++j) right += whole.labels[j] == doubles.targets[j] ? 1 : 0;
  EXPECT_DOUBLE_EQ(r.scores[0].accuracy, right / 9000.0);
  EXPECT_DOUBLE_EQ(score_model(r.model, bytes, "all").accuracy, right / 9000.0);
}

// ---------------------------------------------------------------- the training score

// m examples of 4 features: 3 classes, 2 classes (0/1) or a quantity (regression).
Dataset scored_set(Eigen::Index m, int classes) {
  Dataset d;
  d.X.resize(4, m);
  for (Eigen::Index j = 0; j < m; ++j) {
    const double a = std::sin(0.37 * j + 0.1), b = std::cos(0.91 * j), c = std::sin(1.7 * j + 2.0), e = std::cos(2.3 * j);
    d.X.col(j) << a, b, c, e;
    const double t = 2 * a - b + 0.5 * c * e;
    d.targets.push_back(classes == 0 ? 100 + 30 * t : classes == 2 ? (t > 0.1 ? 1 : 0) : (t < -0.6 ? 0 : t < 0.6 ? 1 : 2));
  }
  d.source = "scored";
  return d;
}

TEST(TrainingScore, RunningFiguresAreThoseOfEachBatchBeforeItsUpdate) {
  // One batch per epoch (the whole set): the last epoch's running figures are
  // the score of the weights after the epoch before, which a one-epoch run
  // with a pass gives independently.
  for (const int classes : {3, 2, 0}) {
    SCOPED_TRACE("classes " + std::to_string(classes));
    const Dataset data = scored_set(300, classes);
    FitSettings s;
    s.hidden_layers = {6};
    s.float64 = true;
    s.batch_size = 0;
    s.learning_rate = 0.05;
    s.task = classes == 0 ? Task::regress : Task::classify;
    s.epochs = 30;
    const FitResult three = fit(data, nullptr, s);
    ASSERT_EQ(three.scores.size(), 1u);
    const PartScore& running = three.scores[0];
    EXPECT_TRUE(running.running);
    EXPECT_EQ(running.name, "training");
    EXPECT_EQ(running.examples, 300);
    EXPECT_EQ(running.cost, three.state.history.back().train_cost);
    s.epochs = 29;
    s.training_score = TrainingScore::pass;
    const FitResult two = fit(data, nullptr, s);
    ASSERT_EQ(two.scores.size(), 1u);
    EXPECT_FALSE(two.scores[0].running);
    const PartScore before = score_model(two.model, data, "training");
    EXPECT_NEAR(running.cost, before.cost, 1e-12 * std::abs(before.cost));
    if (classes == 0) {
      EXPECT_TRUE(std::isnan(running.accuracy));
      EXPECT_NEAR(running.mse, before.mse, 1e-9 * before.mse);  // in the data's units (the targets were standardised)
      EXPECT_GT(before.mse, 1.0);
      EXPECT_LT(before.mse, 0.5 * 30 * 30);  // it learnt something: below half the targets' spread
    } else {
      EXPECT_EQ(running.accuracy, before.accuracy);
      EXPECT_GT(before.accuracy, 0.5);
    }
    // And the pass of the 30-epoch run is the final weights' score.
    s.epochs = 30;
    const FitResult passed = fit(data, nullptr, s);
    EXPECT_EQ(passed.model.parameters, three.model.parameters);
    const PartScore after = score_model(passed.model, data, "training");
    EXPECT_EQ(passed.scores[0].cost, after.cost);
    EXPECT_EQ(classes == 0 ? passed.scores[0].mse : passed.scores[0].accuracy, classes == 0 ? after.mse : after.accuracy);
  }
}

TEST(TrainingScore, APassWhereTheLastEpochRanAnotherFunctionAndNoneWhenAsked) {
  const Dataset data = scored_set(200, 3);
  FitSettings base;
  base.hidden_layers = {6};
  base.epochs = 2;
  base.batch_size = 32;
  auto training_score = [&](FitSettings s) {
    const FitResult r = fit(data, nullptr, s);
    EXPECT_FALSE(r.scores.empty());
    return r.scores.empty() ? PartScore{} : r.scores[0];
  };
  EXPECT_TRUE(training_score(base).running);
  FitSettings s = base;
  s.dropout = {0.2};
  EXPECT_FALSE(training_score(s).running) << "dropout";
  s = base;
  s.l2 = 0.01;
  EXPECT_FALSE(training_score(s).running) << "L2";
  s = base;
  s.balanced_class_weights = true;
  EXPECT_FALSE(training_score(s).running) << "class weights";
  s = base;
  s.gradient_blocks = 2;
  EXPECT_FALSE(training_score(s).running) << "blocked steps";
  s = base;
  s.validation_fraction = 0.25;
  s.patience = 1;
  const FitResult stopped = fit(data, nullptr, s);
  ASSERT_EQ(stopped.scores.size(), 2u);
  EXPECT_GT(stopped.best_epoch, 0);
  EXPECT_FALSE(stopped.scores[0].running) << "early stopping";
  EXPECT_EQ(stopped.scores[1].name, "validation");
  s = base;
  s.full_batch_gd = true;
  s.optimizer.kind = OptimizerKind::sgd;
  s.batch_size = 0;
  s.epochs = 0;
  s.iterations = 20;
  EXPECT_FALSE(training_score(s).running) << "full-batch gradient descent";
  s = base;
  s.training_score = TrainingScore::none;
  s.validation_fraction = 0.25;
  const FitResult none = fit(data, nullptr, s);
  ASSERT_EQ(none.scores.size(), 1u);
  EXPECT_EQ(none.scores[0].name, "validation");
  EXPECT_EQ(parse_training_score("auto"), TrainingScore::automatic);
  EXPECT_EQ(to_string(parse_training_score("pass")), "pass");
  EXPECT_EQ(to_string(parse_training_score("none")), "none");
  EXPECT_THROW(parse_training_score("final"), Error);
}

TEST(Pixels, SubsetsAndSplitsKeepBytesAndFeatureNames) {
  auto [bytes, doubles] = bytes_and_doubles(4, 40);
  bytes.feature_names = {"a", "b", "c", "d"};
  bytes.named_features = true;
  const Dataset part = subset(bytes, {3, 1, 39});
  ASSERT_TRUE(part.has_pixels());
  EXPECT_EQ(part.examples(), 3);
  EXPECT_EQ(part.pixels.col(0), bytes.pixels.col(3));
  EXPECT_EQ(part.pixels.col(2), bytes.pixels.col(39));
  EXPECT_TRUE(part.named_features);
  const auto [train, validation] = split_dataset(bytes, 0.25, true, 1);
  EXPECT_TRUE(train.has_pixels() && validation.has_pixels());
  EXPECT_EQ(train.examples() + validation.examples(), 40);
  EXPECT_TRUE(train.named_features);  // a model trained on a split keeps matching columns by name
}

// ---------------------------------------------------------------- float32 features kept as float32

// Features held as float32 (Dataset::singles, as the Python module hands over a
// float32 array) and the same values as doubles in X; not byte-valued, with
// fractions, negatives and a wide range, so that the standardiser's sums differ
// from any integer path.
std::pair<Dataset, Dataset> singles_and_doubles(Eigen::Index n, Eigen::Index m) {
  Dataset singles;
  singles.singles.resize(n, m);
  for (Eigen::Index j = 0; j < m; ++j)
    for (Eigen::Index i = 0; i < n; ++i)
      singles.singles(i, j) = static_cast<float>(((j * 37 + i * 11) % 101) / 7.0 - 3.3 + (i == 2 ? 1e4 * (j % 5) : 0.0));
  for (Eigen::Index j = 0; j < m; ++j) singles.targets.push_back(static_cast<double>((j * 7 + (j % 11 > 4)) % 3));
  singles.source = "singles";
  Dataset doubles = singles;
  doubles.expand_pixels();
  EXPECT_FALSE(doubles.has_singles());
  EXPECT_EQ(doubles.X.rows(), n);
  EXPECT_EQ(doubles.X(2, 3), double(singles.singles(2, 3)));
  return {singles, doubles};
}

TEST(Singles, NormalisedFeaturesFingerprintAndTrainingAreThoseOfTheDoubles) {
  const auto [singles, doubles] = singles_and_doubles(6, 703);  // 4218 values: not a multiple of the 4096 chunk
  EXPECT_EQ(singles.features(), 6);
  EXPECT_EQ(singles.examples(), 703);
  EXPECT_EQ(singles.value(2, 3), doubles.X(2, 3));
  EXPECT_EQ(singles.values(), doubles.X);
  for (Normalization kind : {Normalization::none, Normalization::standard, Normalization::minmax}) {
    const Normalizer from_singles = Normalizer::fit(kind, singles);
    const Normalizer from_doubles = Normalizer::fit(kind, doubles.X);
    EXPECT_EQ(from_singles.offset, from_doubles.offset);
    EXPECT_EQ(from_singles.scale, from_doubles.scale);
    EXPECT_EQ(from_singles.features<float>(singles), from_doubles.features<float>(doubles)) << to_string(kind);
    EXPECT_EQ(from_singles.features<double>(singles, 7, 5), from_doubles.features<double>(doubles, 7, 5));
  }
  EXPECT_EQ(data_fingerprint(singles), data_fingerprint(doubles));
  FitSettings s;
  s.hidden_layers = {8};
  s.epochs = 3;
  s.normalization = Normalization::standard;
  s.validation_fraction = 0.2;
  for (bool float64 : {false, true}) {
    s.float64 = float64;
    const FitResult a = fit(singles, nullptr, s);
    const FitResult b = fit(doubles, nullptr, s);
    EXPECT_EQ(a.model.parameters, b.model.parameters);
    ASSERT_EQ(a.scores.size(), 2u);
    for (std::size_t k = 0; k < a.scores.size(); ++k) EXPECT_EQ(a.scores[k].cost, b.scores[k].cost);
    EXPECT_EQ(predict(a.model, singles).outputs, predict(a.model, doubles).outputs);
  }
  // An error names the feature, as for doubles.
  Dataset bad = singles;
  bad.singles(4, 9) = std::numeric_limits<float>::infinity();
  try {
    (void)Normalizer::fit(Normalization::standard, bad);
    FAIL() << "an infinite feature was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("feature 4 overflows"), std::string::npos) << e.what();
  }
  const Dataset part = subset(singles, {3, 1, 700});
  ASSERT_TRUE(part.has_singles());
  EXPECT_EQ(part.singles.col(2), singles.singles.col(700));
}

// The same floats borrowed (Dataset::borrowed_singles, how the Python module
// hands over a C-ordered float32 array without a copy) read as the owned ones.
TEST(Singles, BorrowedFloatsGiveTheBitsOfOwnedOnes) {
  const auto [owned, doubles] = singles_and_doubles(5, 301);
  Dataset borrowed = owned;
  borrowed.singles.resize(0, 0);
  ASSERT_FALSE(borrowed.has_singles());
  borrowed.borrowed_singles = owned.singles.data();
  borrowed.borrowed_features = owned.singles.rows();
  borrowed.borrowed_examples = owned.singles.cols();
  ASSERT_TRUE(borrowed.has_singles());
  EXPECT_EQ(borrowed.features(), 5);
  EXPECT_EQ(borrowed.examples(), 301);
  EXPECT_EQ(borrowed.value(2, 300), doubles.X(2, 300));
  EXPECT_EQ(borrowed.values(), doubles.X);
  EXPECT_EQ(borrowed.feature_row(3), doubles.X.row(3));
  EXPECT_EQ(data_fingerprint(borrowed), data_fingerprint(owned));
  const Normalizer standard = Normalizer::fit(Normalization::standard, borrowed);
  EXPECT_EQ(standard.offset, Normalizer::fit(Normalization::standard, owned).offset);
  EXPECT_EQ(standard.features<float>(borrowed, 10, 7), standard.features<float>(owned, 10, 7));
  FitSettings s;
  s.hidden_layers = {6};
  s.epochs = 2;
  s.validation_fraction = 0.25;  // the split copies the borrowed columns into owned ones
  const FitResult a = fit(borrowed, nullptr, s);
  const FitResult b = fit(owned, nullptr, s);
  EXPECT_EQ(a.model.parameters, b.model.parameters);
  EXPECT_EQ(a.scores.back().cost, b.scores.back().cost);
  // Not normalised, float32, mini-batch: training reads the floats where they lie
  // (no training copy); the same bits as the doubles' normalised copy.
  s.validation_fraction = 0;
  s.normalization = Normalization::none;
  const FitResult in_place = fit(borrowed, nullptr, s);
  const FitResult owned_in_place = fit(owned, nullptr, s);
  const FitResult copied = fit(doubles, nullptr, s);
  EXPECT_EQ(in_place.model.parameters, copied.model.parameters);
  EXPECT_EQ(owned_in_place.model.parameters, copied.model.parameters);
  ASSERT_EQ(in_place.scores.size(), 1u);
  EXPECT_EQ(in_place.scores[0].cost, copied.scores[0].cost);
  EXPECT_EQ(in_place.scores[0].accuracy, copied.scores[0].accuracy);
  const Dataset part = subset(borrowed, {4, 0, 300});
  ASSERT_TRUE(part.has_singles());
  EXPECT_EQ(part.borrowed_singles, nullptr);  // a subset owns its values
  EXPECT_EQ(part.singles.col(2), owned.singles.col(300));
  Dataset widened = borrowed;
  widened.expand_pixels();
  EXPECT_FALSE(widened.has_singles());
  EXPECT_EQ(widened.X, doubles.X);
}

TEST(FitBf16, TrainsWithBf16ProductsAndScoresInFloat32OrRefusesSayingWhy) {
  const Dataset iris = load_builtin("iris");
  FitSettings s;
  s.hidden_layers = {16};
  s.epochs = 60;
  s.normalization = Normalization::standard;
  s.float_products = FloatProducts::bf16;
  s.float64 = true;
  try {
    (void)fit(iris, nullptr, s);
    FAIL() << "bf16 with float64 accepted";
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), "float_products");
  }
  s.float64 = false;
  if (!bf16_products_available()) {
    EXPECT_THROW((void)fit(iris, nullptr, s), SettingError);
    return;
  }
  const FitResult bf16 = fit(iris, nullptr, s);
  EXPECT_EQ(float_products(), FloatProducts::float32);  // only while training
  s.float_products = FloatProducts::float32;
  const FitResult f32 = fit(iris, nullptr, s);
  EXPECT_NE(bf16.model.parameters, f32.model.parameters);  // the products really were bfloat16
  EXPECT_GE(bf16.scores[0].accuracy, 0.93);
  EXPECT_NEAR(bf16.scores[0].accuracy, f32.scores[0].accuracy, 0.04);
  bool recorded = false;
  for (const auto& [key, value] : bf16.model.training.settings) recorded |= key == "float_products" && value == "bf16";
  EXPECT_TRUE(recorded);
  s.float_products = FloatProducts::bf16;
  EXPECT_EQ(fit(iris, nullptr, s).model.parameters, bf16.model.parameters);  // same bits on repeat
}

}  // namespace
}  // namespace deepnet
