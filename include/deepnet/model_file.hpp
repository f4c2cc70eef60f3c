#pragma once
// A trained model: network, normaliser, class names and training settings,
// and its file format (docs/model-format.md): magic bytes, format version,
// explicit little-endian encoding, and a CRC-32C over everything.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "deepnet/data.hpp"
#include "deepnet/network.hpp"
#include "deepnet/train.hpp"

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

// Writes atomically (temporary file in the same folder, fsync, rename): a crash
// leaves the old file or the new one. Throws Error naming the path; refuses
// non-finite parameters.
void save_model(const std::string& path, const Model& model);

// Reads and verifies a model file. Throws Error naming the file and the byte
// offset or field: wrong magic, newer format version, truncation, checksum
// mismatch, impossible sizes (checked before anything is allocated).
Model load_model(const std::string& path);
Model parse_model(const std::string& bytes, const std::string& name);
std::string serialize_model(const Model& model);

// A checkpoint: the model as it stands plus everything needed to resume the
// run bit for bit (optimizer moments, RNG states, epoch, early-stopping state,
// history). Same frame as the model file with the magic 'DEEPNETC'; the model
// inside is a complete model file.
struct Checkpoint {
  Model model;
  TrainerState state;
};
std::string serialize_checkpoint(const Checkpoint& checkpoint);
Checkpoint parse_checkpoint(const std::string& bytes, const std::string& name);
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);  // atomic
Checkpoint load_checkpoint(const std::string& path);

struct Prediction {
  // Classifiers: (K, m) class probabilities (sigmoid: rows P(class 0), P(class 1));
  // regression: (n[L], m) values.
  Matrix<double> outputs;
  // Per example: class index (classifiers) or the first output's value (regression).
  std::vector<double> labels;
};

// Normalises X (n[0], m) raw features with the model's normaliser and runs the
// network in the model's element type. Throws Error when the feature count differs.
Prediction predict(const Model& model, const Matrix<double>& X);

}  // namespace deepnet
