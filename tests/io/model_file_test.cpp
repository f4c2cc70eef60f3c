// The model file: round trips, and every kind of damage is refused with a
// message naming the file and the place.
#include "deepnet/model_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <thread>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/init.hpp"
#include "deepnet/preprocess.hpp"

namespace deepnet {
namespace {

namespace fs = std::filesystem;

// An independent bitwise CRC-32C (no table), to re-seal edited files.
std::uint32_t crc32c_bitwise(const std::string& bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string reseal(std::string bytes) {
  const std::string body = bytes.substr(0, bytes.size() - 4);
  const std::uint32_t crc = crc32c_bitwise(body);
  for (int k = 0; k < 4; ++k) bytes[bytes.size() - 4 + k] = static_cast<char>(crc >> (8 * k));
  return bytes;
}

template <typename T>
Model trained_model() {
  Architecture arch{{3, 5, 4, 3}, {Activation::tanh, Activation::leaky_relu}, Output::softmax, 0.05};
  Network<T> net(arch);
  Rng rng(7);
  initialize(net, InitScheme::xavier, rng);
  for (int l = 1; l <= 3; ++l)
    for (Eigen::Index i = 0; i < net.b(l).size(); ++i) net.b(l)(i) = static_cast<T>(0.1 * rng.normal());
  Model model;
  model.set_parameters(net);
  model.normalizer.kind = Normalization::standard;
  model.normalizer.offset = {1.0, -2.0, 0.5};
  model.normalizer.scale = {2.0, 0.25, 1.0};
  model.encoding.output = Output::softmax;
  model.encoding.classes = {0, 1, 2};
  model.encoding.class_names = {"setosa", "versicolor", "virginica"};
  model.feature_names = {"a", "b", "c"};
  model.target_name = "species";
  model.training.seed = 42;
  model.training.rng = "numpy";
  model.training.init = "xavier";
  model.training.learning_rate = 0.1;
  model.training.iterations = 1000;
  model.training.final_cost = 0.25;
  model.training.deepnet_version = "0.1.0";
  return model;
}

Matrix<double> sample_inputs() {
  Matrix<double> X(3, 6);
  Rng rng(3);
  for (Eigen::Index k = 0; k < X.size(); ++k) X(k) = 3 * rng.normal();
  return X;
}

std::string error_of(const std::string& bytes) {
  try {
    parse_model(bytes, "m.dnn");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ModelFile, RoundTripKeepsEverythingAndPredictsIdentically) {
  for (bool float64 : {false, true}) {
    const Model model = float64 ? trained_model<double>() : trained_model<float>();
    const Model back = parse_model(serialize_model(model), "m.dnn");
    EXPECT_EQ(back.float64, float64);
    EXPECT_EQ(back.parameters, model.parameters);
    EXPECT_EQ(back.architecture.sizes, model.architecture.sizes);
    EXPECT_EQ(back.architecture.hidden_activations, model.architecture.hidden_activations);
    EXPECT_EQ(back.architecture.output, Output::softmax);
    EXPECT_EQ(back.architecture.leaky_slope, 0.05);
    EXPECT_EQ(back.normalizer.offset, model.normalizer.offset);
    EXPECT_EQ(back.normalizer.scale, model.normalizer.scale);
    EXPECT_EQ(back.encoding.class_names, model.encoding.class_names);
    EXPECT_EQ(back.feature_names, model.feature_names);
    EXPECT_EQ(back.target_name, "species");
    EXPECT_EQ(back.training.seed, 42u);
    EXPECT_EQ(back.training.rng, "numpy");
    EXPECT_EQ(back.training.iterations, 1000);
    const Matrix<double> X = sample_inputs();
    const Prediction a = predict(model, X), b = predict(back, X);
    EXPECT_EQ(a.outputs, b.outputs);
    EXPECT_EQ(a.labels, b.labels);
  }
}

TEST(ModelFile, PredictAppliesTheNormaliserFirst) {
  Model model = trained_model<double>();
  const Matrix<double> X = sample_inputs();
  Matrix<double> normalised = X;
  model.normalizer.apply(normalised);
  Network<double> net = model.network<double>();
  const Matrix<double> expected = net.forward(normalised);
  EXPECT_EQ(predict(model, X).outputs, expected);
  Matrix<double> wrong(4, 2);
  wrong.setZero();
  EXPECT_THROW(predict(model, wrong), Error);
}

TEST(ModelFile, SaveIsAtomicAndLoadReadsItBack) {
  std::string dir = (fs::temp_directory_path() / "deepnet-model-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  const std::string path = dir + "/m.dnn";
  save_model(path, trained_model<float>());
  const Model first = load_model(path);
  // A second save replaces the file whole; no temporary is left behind.
  save_model(path, trained_model<double>());
  EXPECT_TRUE(load_model(path).float64);
  EXPECT_FALSE(first.float64);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  // A failing save names the path and leaves the old file as it was.
  EXPECT_THROW(save_model(dir + "/missing/m.dnn", trained_model<float>()), Error);
  EXPECT_TRUE(load_model(path).float64);
  fs::remove_all(dir);
}

TEST(ModelFile, RefusesToSaveNonFiniteParameters) {
  Model model = trained_model<float>();
  model.parameters[3] = std::nan("");
  EXPECT_THROW(serialize_model(model), Error);
}

TEST(ModelFile, TrainingSettingsRoundTripInOrder) {
  Model model = trained_model<float>();
  model.training.settings = {{"optimizer", "adam"}, {"batch_size", "128"}, {"normalization", "standard"}, {"empty", ""}};
  const Model back = parse_model(serialize_model(model), "m.dnn");
  EXPECT_EQ(back.training.settings, model.training.settings);
}

TEST(ModelFile, WrongMagicFutureVersionAndByteOrderAreNamed) {
  const std::string good = serialize_model(trained_model<float>());
  std::string bad = good;
  bad[0] = 'X';
  EXPECT_EQ(error_of(bad), "m.dnn: byte 0: not a deepnet model file (expected the magic bytes 'DEEPNETM')");
  bad = good;
  bad[8] = 3;
  EXPECT_EQ(error_of(bad), "m.dnn: byte 8: format version 3 is newer than this deepnet reads (2); upgrade deepnet to load it");
  bad = good;
  std::swap(bad[12], bad[15]);
  EXPECT_NE(error_of(bad).find("byte order mark"), std::string::npos);
  EXPECT_NE(error_of("").find("not a deepnet model file"), std::string::npos);
}

TEST(ModelFile, EveryTruncationIsRefused) {
  const std::string good = serialize_model(trained_model<float>());
  for (std::size_t size = 0; size < good.size(); ++size) {
    const std::string message = error_of(good.substr(0, size));
    EXPECT_EQ(message.rfind("m.dnn: byte ", 0), 0u) << size << ": " << message;
  }
}

TEST(ModelFile, EveryBitFlipIsRefused) {
  const std::string good = serialize_model(trained_model<float>());
  for (std::size_t at = 0; at < good.size(); ++at) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ (1 << (at % 8)));
    EXPECT_NE(error_of(bad), "(no error)") << "flip at byte " << at;
  }
  std::string bad = good;
  bad[40] ^= 1;
  EXPECT_NE(error_of(bad).find("checksum mismatch"), std::string::npos);
}

TEST(ModelFile, ImpossibleSizesAreRefusedBeforeAllocating) {
  // Re-sealed with a correct checksum, so only the size checks stand guard.
  const std::string good = serialize_model(trained_model<float>());
  const std::size_t version_length = 5;  // "0.1.0"
  const std::size_t layer_count_at = 24 + 4 + version_length + 1;
  std::string bad = good;
  bad[layer_count_at + 0] = '\xff';
  bad[layer_count_at + 1] = '\xff';
  bad[layer_count_at + 2] = '\xff';
  bad[layer_count_at + 3] = '\x7f';
  EXPECT_NE(error_of(reseal(bad)).find("(layer count L): claims"), std::string::npos) << error_of(reseal(bad));
  // n[0] = 16777216 and n[1] = 16777216: 2^48 parameters claimed in a file of a few hundred bytes.
  bad = good;
  for (int layer = 0; layer < 2; ++layer) {
    const std::size_t at = layer_count_at + 4 + 4 * layer;
    bad[at] = 0;
    bad[at + 1] = 0;
    bad[at + 2] = 0;
    bad[at + 3] = 1;
  }
  EXPECT_NE(error_of(reseal(bad)).find("more than the file holds"), std::string::npos) << error_of(reseal(bad));
}

// Found by the model fuzz target's parameter-count check (fuzz/, docs/reliability.md):
// 65540 layers whose sizes need 2^64 + 3 parameters, a sum that wrapped to the 3
// parameters the file holds. Written by tests/data/fuzz_regressions/make_model_param_count_overflow.py.
TEST(ModelFile, ParameterCountThatWouldOverflowIsRefused) {
  const std::string path = std::string(DEEPNET_TEST_DATA_DIR) + "/fuzz_regressions/model-param-count-overflow";
  std::string message;
  try {
    load_model(path);
  } catch (const Error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find("more than the file holds"), std::string::npos) << message;
  EXPECT_NE(message.find("model-param-count-overflow"), std::string::npos) << "names the file: " << message;
}

// One loaded model, 8 threads predicting at once (each also asking for 2 worker
// threads, so deepnet's pool is contended): the same bits as one thread alone.
TEST(ModelFile, ConcurrentPredictionGivesTheSameBitsAsOneThread) {
  const int saved_threads = threads();
  set_threads(2);
  // A model big enough for its products to be cut into blocks.
  Architecture arch{{64, 256, 128, 10}, {Activation::relu}, Output::softmax};
  Network<float> net(arch);
  Rng rng(3);
  initialize(net, InitScheme::he, rng);
  Model model;
  model.set_parameters(net);
  model.encoding.output = Output::softmax;
  for (int k = 0; k < 10; ++k) model.encoding.classes.push_back(k);
  const Model loaded = parse_model(serialize_model(model), "concurrent.model");
  Matrix<double> X(64, 300);
  for (Eigen::Index j = 0; j < X.cols(); ++j)
    for (Eigen::Index i = 0; i < X.rows(); ++i) X(i, j) = rng.normal();
  const Prediction alone = predict(loaded, X);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t)
    pool.emplace_back([&] {
      for (int round = 0; round < 25; ++round) {
        const Prediction p = predict(loaded, X);
        if (p.labels != alone.labels ||
            std::memcmp(p.outputs.data(), alone.outputs.data(), sizeof(double) * static_cast<std::size_t>(alone.outputs.size())) != 0)
          mismatches.fetch_add(1);
      }
    });
  for (std::thread& t : pool) t.join();
  set_threads(saved_threads);
  EXPECT_EQ(mismatches.load(), 0) << "of 200 concurrent predictions";
}

TEST(Network, ParameterCountOverflowIsAnError) {
  Architecture arch;
  arch.sizes = {1 << 30, 1 << 30, 1 << 30};  // 2^61 parameters: no size_t sum or allocation may be tried
  arch.hidden_activations = {Activation::relu};
  EXPECT_THROW(Network<float>{arch}, Error);
}

}  // namespace
}  // namespace deepnet
