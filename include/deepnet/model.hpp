#pragma once
// A trained model (train room): network, normaliser, target encoding, feature
// and class names and the training settings, and prediction with it. Its file
// format is the io room's: deepnet/model_file.hpp (docs/model-format.md).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "deepnet/dataset.hpp"
#include "deepnet/matrix.hpp"
#include "deepnet/network.hpp"
#include "deepnet/preprocess.hpp"

namespace deepnet {

struct TrainingSettings {
  std::uint64_t seed = 0;
  std::string rng = "portable";
  std::string init;
  std::string optimizer = "gd";
  double learning_rate = 0;
  std::int64_t iterations = 0;  // iterations (full batch) or epochs
  double final_cost = 0;
  std::string deepnet_version;
  // Every setting the model was trained with, as (name, value) text in a fixed
  // order (describe_settings in fit.hpp); empty for files of format version 1.
  std::vector<std::pair<std::string, std::string>> settings;
};

struct Model {
  Architecture architecture;
  bool float64 = false;  // element type of the parameters: float64, else float32
  Normalizer normalizer;
  TargetEncoding encoding;
  // Regression: the network predicts (y - target_offset) / target_scale; predict()
  // returns values in the data's own units. 0 and 1 when targets were not scaled.
  double target_offset = 0;
  double target_scale = 1;
  std::vector<std::string> feature_names;
  std::string target_name;
  TrainingSettings training;
  std::vector<double> parameters;  // the flat buffer W[1], b[1], W[2], ... (exact stored values)

  template <typename T>
  Network<T> network() const;  // Throws Error if the parameter count does not fit the architecture.
  template <typename T>
  void set_parameters(const Network<T>& network);
};

struct Prediction {
  // Classifiers: (K, m) class probabilities (sigmoid: rows P(class 0), P(class 1));
  // regression: (n[L], m) values.
  Matrix<double> outputs;
  // Per example: class index (classifiers) or the first output's value (regression).
  std::vector<double> labels;
};

// Normalises X (n[0], m) raw features with the model's normaliser and runs the
// network in the model's element type. Throws Error when the feature count differs.
Prediction predict(const Model& model, MatrixCRef<double> X);  // X is read, never copied before normalising
// The same for a data set's features (X or pixels), normalised and run 4096
// examples at a time: no copy of the data set, a small workspace. The data set's
// columns must already be the model's (match_features).
Prediction predict(const Model& model, const Dataset& data);

}  // namespace deepnet
