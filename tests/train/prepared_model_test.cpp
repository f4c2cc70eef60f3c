// PreparedModel (deepnet/model.hpp): the same predictions as predict(model, X),
// one example through the single-example path, and safe concurrent use.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/init.hpp"
#include "deepnet/model.hpp"
#include "deepnet/predictor.hpp"
#include "deepnet/rng.hpp"
#include "test_util.hpp"

namespace deepnet {
namespace {

using test::contains;
using test::message_of;

template <typename T>
Model make_model(const std::vector<int>& sizes, std::vector<Activation> hidden, Output output, std::uint64_t seed) {
  Network<T> net(Architecture{sizes, std::move(hidden), output});
  Rng rng(seed);
  initialize(net, InitScheme::he, rng);
  for (int l = 1; l <= net.layers(); ++l)
    for (Eigen::Index i = 0; i < net.b(l).size(); ++i) net.b(l)(i) = static_cast<T>(0.3 * rng.normal());
  Model model;
  model.set_parameters(net);
  model.encoding.output = output;
  const int n0 = sizes.front();
  model.normalizer.kind = Normalization::standard;
  for (int i = 0; i < n0; ++i) {
    model.normalizer.offset.push_back(0.5 * i);
    model.normalizer.scale.push_back(1.0 + 0.1 * i);
  }
  if (output == Output::linear) {
    model.target_offset = 3.0;
    model.target_scale = 0.5;
  } else {
    const int classes = output == Output::sigmoid && sizes.back() == 1 ? 2 : sizes.back();
    for (int k = 0; k < classes; ++k) {
      model.encoding.classes.push_back(k);
      model.encoding.class_names.push_back("c" + std::to_string(k));
    }
  }
  return model;
}

// Every output kind, float32 and float64.
std::vector<Model> models() {
  using A = Activation;
  return {make_model<float>({40, 64, 10}, {A::relu}, Output::softmax, 1),
          make_model<float>({7, 9, 1}, {A::tanh}, Output::sigmoid, 2),
          make_model<float>({12, 20, 3}, {A::leaky_relu}, Output::sigmoid, 3),
          make_model<float>({5, 8, 2}, {A::sigmoid}, Output::linear, 4),
          make_model<double>({40, 64, 10}, {A::relu}, Output::softmax, 5),
          make_model<double>({7, 9, 1}, {A::tanh}, Output::sigmoid, 6),
          make_model<double>({5, 8, 2}, {A::linear}, Output::linear, 7)};
}

Matrix<double> raw_inputs(int n, int m, std::uint64_t seed) {
  Rng rng(seed);
  Matrix<double> X(n, m);
  for (Eigen::Index k = 0; k < X.size(); ++k) X(k) = 2 * rng.normal() + 1;
  return X;
}

bool same_bits(const Matrix<double>& a, const Matrix<double>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

TEST(PreparedModel, PredictsWhatPredictDoesForBatchesAndSingleExamples) {
  for (const Model& model : models()) {
    const PreparedModel prepared(model);
    EXPECT_STREQ(prepared.kernel(), predictor_best_kernel());
    const Matrix<double> X = raw_inputs(model.architecture.sizes.front(), 9, 11);
    const Prediction batch = predict(model, X), prepared_batch = prepared.predict(X);
    EXPECT_TRUE(same_bits(batch.outputs, prepared_batch.outputs)) << model.architecture.describe();
    EXPECT_EQ(batch.labels, prepared_batch.labels);
    EXPECT_EQ(prepared.output_count(), batch.outputs.rows());
    std::vector<double> outputs(static_cast<std::size_t>(prepared.output_count()));
    for (Eigen::Index j = 0; j < X.cols(); ++j) {
      const Matrix<double> x = X.col(j);
      // One example: the free function, the prepared one and predict_one agree bit for bit.
      const Prediction one = predict(model, x), prepared_one = prepared.predict(x);
      EXPECT_TRUE(same_bits(one.outputs, prepared_one.outputs)) << model.architecture.describe();
      EXPECT_EQ(one.labels, prepared_one.labels);
      const double label = prepared.predict_one(x.data(), outputs.data());
      EXPECT_EQ(label, one.labels[0]);
      EXPECT_TRUE(same_bits(Eigen::Map<const Matrix<double>>(outputs.data(), prepared.output_count(), 1), one.outputs));
      // ... and the batch path within the rounding tolerance of predictor.hpp.
      const double tolerance = model.float64 ? 1e-13 : 1e-5;
      for (Eigen::Index i = 0; i < one.outputs.rows(); ++i)
        EXPECT_NEAR(one.outputs(i, 0), batch.outputs(i, j), tolerance * (1 + std::abs(batch.outputs(i, j))));
      if (model.architecture.output == Output::linear)  // the label is the value
        EXPECT_NEAR(one.labels[0], batch.labels[static_cast<std::size_t>(j)],
                    tolerance * (1 + std::abs(batch.labels[static_cast<std::size_t>(j)])));
      else
        EXPECT_EQ(one.labels[0], batch.labels[static_cast<std::size_t>(j)]);
    }
  }
}

TEST(PreparedModel, OneExampleAppliesTheNormaliserAndTheTargetScale) {
  // A 1-1 linear net: y = (w x' + b) * scale + offset with x' = (x - 2) / 4.
  Network<double> net(Architecture{{1, 1}, {Activation::relu}, Output::linear});
  net.W(1)(0, 0) = 3;
  net.b(1)(0, 0) = 0.5;
  Model model;
  model.set_parameters(net);
  model.normalizer.kind = Normalization::standard;
  model.normalizer.offset = {2};
  model.normalizer.scale = {4};
  model.target_scale = 10;
  model.target_offset = -1;
  const PreparedModel prepared(model);
  const double x = 6;
  double y = 0;
  EXPECT_EQ(prepared.predict_one(&x, &y), (3 * 1.0 + 0.5) * 10 - 1);
  EXPECT_EQ(y, 34);
}

TEST(PreparedModel, ForcedPortableKernelGivesTheSameLabels) {
  const Model model = make_model<float>({40, 64, 10}, {Activation::relu}, Output::softmax, 9);
  PredictorOptions options;
  options.kernel = "portable";
  const PreparedModel portable(model, options), best(model);
  EXPECT_STREQ(portable.kernel(), "portable");
  const Matrix<double> X = raw_inputs(40, 20, 12);
  std::vector<double> a(10), b(10);
  for (Eigen::Index j = 0; j < X.cols(); ++j) {
    EXPECT_EQ(portable.predict_one(X.col(j).data(), a.data()), best.predict_one(X.col(j).data(), b.data()));
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5);
  }
}

TEST(PreparedModel, RefusesWhatThePredictorRefuses) {
  PredictorOptions options;
  options.bfloat16_weights = true;
  const Model model = make_model<double>({4, 3, 2}, {Activation::relu}, Output::softmax, 1);
  EXPECT_TRUE(contains(message_of([&] { PreparedModel p(model, options); }), "bfloat16_weights is for float"));
  Model broken = model;
  broken.parameters.pop_back();
  EXPECT_TRUE(contains(message_of([&] { PreparedModel p(broken); }), "parameters but the model holds"));
  const PreparedModel prepared(model);
  Matrix<double> wrong(5, 1);
  wrong.setZero();
  EXPECT_TRUE(contains(message_of([&] { prepared.predict(wrong); }), "expects n[0] = 4"));
}

// One prepared model, 8 threads predicting single examples at once (most
// find the prepared buffers busy and work on copies) and batches, with 2
// worker threads: the same bits as one thread alone.
TEST(PreparedModel, ConcurrentCallsGiveTheSameBitsAsOneThread) {
  const int saved_threads = threads();
  set_threads(2);
  const Model model = make_model<float>({200, 256, 10}, {Activation::relu}, Output::softmax, 4);
  const PreparedModel prepared(model);
  const Matrix<double> X = raw_inputs(200, 40, 5);
  Matrix<double> alone(10, X.cols());
  for (Eigen::Index j = 0; j < X.cols(); ++j) prepared.predict_one(X.col(j).data(), alone.col(j).data());
  const Prediction alone_batch = prepared.predict(X);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t)
    callers.emplace_back([&, t] {
      Matrix<double> out(10, X.cols());
      for (int round = 0; round < 10; ++round) {
        if (t % 4 == 3) {
          if (!same_bits(prepared.predict(X).outputs, alone_batch.outputs)) mismatches.fetch_add(1);
          continue;
        }
        for (Eigen::Index j = 0; j < X.cols(); ++j) prepared.predict_one(X.col(j).data(), out.col(j).data());
        if (!same_bits(out, alone)) mismatches.fetch_add(1);
      }
    });
  for (std::thread& t : callers) t.join();
  set_threads(saved_threads);
  EXPECT_EQ(mismatches.load(), 0) << "of 80 concurrent rounds";
}

}  // namespace
}  // namespace deepnet
