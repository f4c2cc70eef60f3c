#pragma once
// A trained model (train room): network, normaliser, target encoding, feature
// and class names and the training settings, and prediction with it. Its file
// format is the io room's: deepnet/model_file.hpp (docs/model-format.md).
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deepnet/dataset.hpp"
#include "deepnet/matrix.hpp"
#include "deepnet/network.hpp"
#include "deepnet/predictor.hpp"
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
// One example (m = 1) goes through the single-example path (predictor.hpp), as
// in PreparedModel, so an example gets the same bits from every front end;
// larger m through Network::forward (the two differ by rounding only:
// predictor.hpp). Each call builds the network anew: to predict many times
// with one model, prepare it once (PreparedModel).
Prediction predict(const Model& model, MatrixCRef<double> X);  // X is read, never copied before normalising
// The same for a data set's features (X or pixels), normalised and run 4096
// examples at a time: no copy of the data set, a small workspace. The data set's
// columns must already be the model's (match_features).
Prediction predict(const Model& model, const Dataset& data);

// A Model made ready for repeated prediction, once: the network built in the
// model's element type for batches and its weights packed for the
// single-example path (predictor.hpp). What deepnet's Python Model and
// `deepnet predict` use.
//
// Thread safety: every member is const and may be called from several
// threads at once. The prepared buffers serve one call at a time; a call that
// finds them in use by another thread does not wait but works on its own
// copies (allocated for that call; the packed weights are shared).
class PreparedModel {
 public:
  // options are the single-example path's (with bfloat16_weights, single
  // examples get the bfloat16 results while batches keep the float weights).
  // Throws Error when the parameter count does not fit the architecture, or
  // for options the Predictor refuses (kernel, bfloat16_weights with a float64 model).
  explicit PreparedModel(Model model, const PredictorOptions& options = {});
  explicit PreparedModel(std::shared_ptr<const Model> model, const PredictorOptions& options = {});
  PreparedModel(PreparedModel&&) noexcept;
  PreparedModel& operator=(PreparedModel&&) noexcept;
  ~PreparedModel();

  const Model& model() const;
  const char* kernel() const;  // the single-example kernel (Predictor::kernel)
  // K: the rows of Prediction::outputs (classes, 2 for a one-unit sigmoid; n[L] for regression).
  int output_count() const;

  // The same as predict(model(), X): one example through the single-example
  // path, more through the prepared network.
  Prediction predict(MatrixCRef<double> X) const;
  // The same as predict(model(), data): a data set's features as they are
  // stored (double, 8-bit pixels, or float32 owned or borrowed: the Python
  // module's float32 arrays), normalised a chunk at a time into the prepared
  // network, with no copy of the data set. Its columns must already be the
  // model's (match_features).
  Prediction predict(const Dataset& data) const;
  // One example: x holds n[0] raw features, outputs receives output_count()
  // values (the example's column of Prediction::outputs); returns its label
  // (Prediction::labels). Allocates nothing (unless another thread is inside
  // at the same moment: see above).
  double predict_one(const double* x, double* outputs) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace deepnet
