#pragma once
// The training pipeline in one call:
//   decide the task -> encode targets -> fit the normaliser -> build the network
//   -> initialise -> train (the course's full-batch GD, or mini-batches) -> score
//   -> Model (with every setting it was trained with).
// Every front end (deepnet train, deepnet search, the Python module, the MPI
// trainer) calls fit(); none assembles these steps itself. Settings are plain
// data; errors in them are SettingError naming the setting by its name here
// (`learning_rate`, `batch_size`, ...), never a front end's flag.
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deepnet/checkpoint.hpp"
#include "deepnet/dataset.hpp"
#include "deepnet/diagnostics.hpp"
#include "deepnet/error.hpp"
#include "deepnet/distributed.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/init.hpp"
#include "deepnet/model.hpp"
#include "deepnet/network.hpp"
#include "deepnet/optimizer.hpp"
#include "deepnet/preprocess.hpp"
#include "deepnet/rng.hpp"
#include "deepnet/train.hpp"

namespace deepnet {

// An invalid setting: setting() is its name in FitSettings (front ends map it
// to their own spelling, e.g. the CLI's --lr); what() reads "NAME: message".
class SettingError : public Error {
 public:
  SettingError(std::string setting, const std::string& message)
      : Error(setting + ": " + message), setting_(std::move(setting)), message_(message) {}
  const std::string& setting() const { return setting_; }
  const std::string& message() const { return message_; }

 private:
  std::string setting_, message_;
};

enum class Task { automatic, classify, regress };
Task parse_task(std::string_view name);  // auto, classify (classification), regress (regression)
std::string_view to_string(Task task);    // "auto", "classification", "regression"

// The task for a data set's labels, and why. Text labels -> classification;
// labels that are not all whole numbers -> regression; whole numbers ->
// classification, unless there are more than 10 distinct values and either
// fewer than 5 examples per value on average or values that are not the
// class ids 0..K-1 or 1..K (a score 25..346 over 442 examples is a quantity,
// not 214 classes). `requested` other than automatic is checked against the
// labels (SettingError "task" when impossible) and used.
struct TaskChoice {
  Task task = Task::classify;
  std::string reason;                 // one clause, e.g. "214 distinct whole-number labels over 442 examples ..."
  std::vector<std::string> warnings;  // e.g. classes with a single example
};
TaskChoice choose_task(const Dataset& data, Task requested);

// What FitResult::scores holds for the training data once training ends.
enum class TrainingScore {
  // Mini-batch runs on one process whose last epoch ran the final network's
  // function unchanged (no dropout, L2, example or class weights, bf16
  // products, blocked steps, or early stopping's return to an earlier epoch):
  // that epoch's running figures (each batch scored by its own forward pass,
  // before its update), which cost no extra pass over the data, as Keras and
  // scikit-learn report them. Otherwise (and in full-batch gradient descent)
  // a pass.
  automatic,
  pass,  // a forward pass over the training data with the final weights
  none,  // no training score (a validation score is still taken)
};
TrainingScore parse_training_score(std::string_view name);  // auto, pass, none; Error otherwise
std::string_view to_string(TrainingScore score);

struct FitSettings {
  // ---- task and network
  Task task = Task::automatic;
  std::vector<int> hidden_layers;                                 // n[1..L-1]; empty: logistic regression
  std::vector<Activation> hidden_activations{Activation::relu};  // one for all hidden layers or one per layer
  std::optional<Output> output;      // default: sigmoid for 2 classes, softmax for more, linear for regression
  double leaky_slope = 0.01;
  std::optional<InitScheme> init;    // default: zeros without hidden layers; he when the first hidden layer is relu/leaky_relu, else xavier
  double init_scale = 0.01;          // for InitScheme::small
  RngKind rng = RngKind::portable;
  std::uint64_t seed = 1;            // initialisation, shuffling, dropout, the validation split
  bool float64 = false;              // element type of the network
  // float32 training only: bf16 runs the products in bfloat16 with float32 sums
  // (deepnet/gemm.hpp FloatProducts) while training; scores and the model are
  // float32. A SettingError where the CPU lacks bfloat16 dot products.
  FloatProducts float_products = FloatProducts::float32;
  // Fixed classes (every fold of a cross-validation shares the whole data's);
  // empty: from the training labels.
  std::optional<TargetEncoding> encoding;

  // ---- data
  // default (auto): div255 for 8-bit image arrays; otherwise standard in
  // mini-batch training and none in the course's full-batch mode.
  std::optional<Normalization> normalization;
  // Regression: train on standardised targets (stored in the model, undone by
  // predict). Default: yes in mini-batch training, no in the course's loop.
  std::optional<bool> scale_target;
  double validation_fraction = 0;  // 0 < f < 1: a stratified, seeded part of the training data for validation

  // ---- the course's loop: full-batch gradient descent for `iterations`
  // (plain gradient descent: optimizer.kind must be sgd, the mini-batch
  // settings stay at their defaults).
  bool full_batch_gd = false;
  int iterations = 2500;
  int record_every = 100;  // a cost record every K iterations (and at the last)

  // ---- both modes
  double learning_rate = 0;  // 0: the default (0.0075 full-batch GD; 1e-3 adam/adamw/rmsprop; 0.01 sgd/momentum/nesterov)

  // ---- mini-batch training
  // 0: train until the training cost stops improving (an epoch whose cost is
  // not below the best so far minus `tolerance` is a non-improving one; more
  // than `n_iter_no_change` of them in a row stop; scikit-learn's rule), at
  // most `max_epochs`. > 0: exactly this many epochs (or fewer with patience).
  int epochs = 0;
  int max_epochs = 200;
  double tolerance = 1e-4;
  int n_iter_no_change = 10;
  // -1 (auto): about 10 steps per epoch, ceil(m / 10) clamped to 16..128, so
  // that small data sets get enough steps; 0: the whole set.
  long long batch_size = -1;
  bool drop_last = false;
  OptimizerSettings optimizer;       // kind adam by default
  Schedule schedule;                 // its alpha is set from learning_rate
  double l2 = 0;
  std::vector<double> dropout;       // one probability for all hidden layers or one per layer
  double clip_norm = 0;              // 0: off
  bool balanced_class_weights = false;
  std::vector<double> class_weights;  // one per class; empty: all 1
  int patience = 0;                   // early stopping on the validation cost (needs validation data)
  double min_delta = 0;               // >= 0
  int checkpoint_every = 0;           // epochs between checkpoints (0: none)

  // ---- data-parallel training (deepnet/distributed.hpp; mini-batch only)
  // The ranks of `communicator` share every batch: each rank calls fit with
  // the same data and settings and gets the same model. The batch's gradient
  // is the fixed-order sum of `gradient_blocks` blocks; runs with the same
  // number give the same bits alone or on any number of ranks up to it.
  // 0 (auto): 1 alone (one pass over the batch); under a communicator 8, or
  // its size when that is larger.
  int gradient_blocks = 0;
  Communicator* communicator = nullptr;
  // Exchange each layer's gradient while the backward pass goes on to the
  // layers before it, instead of after the pass (MiniBatchOptions::overlap_exchange;
  // the same bits either way; docs/scaling.md has the measurements).
  bool overlap_exchange = false;

  // ---- training-health diagnostics (deepnet/diagnostics.hpp, docs/training.md)
  // Gather per-layer statistics every epoch (full-batch: every record_every
  // iterations) into FitResult::health, and check the rules that need them.
  // Not with blocked (data-parallel) steps. The trained model is the same bits either way.
  bool diagnose = false;
  // The cheap rules (symmetric hidden units at the start, a rising training
  // cost) run in every fit; false turns every rule off.
  bool health_warnings = true;

  // ---- scores
  TrainingScore training_score = TrainingScore::automatic;
};

// What a fit decided from the data before training (fit_plan): printed by
// front ends as their first lines.
struct FitPlan {
  TaskChoice task;
  TargetEncoding encoding;
  Architecture architecture;
  InitScheme init = InitScheme::xavier;
  Normalization normalization = Normalization::none;
  std::string normalization_reason;  // why, when it was chosen automatically
  bool scale_target = false;         // regression targets standardised
  double learning_rate = 0;          // the rate in use (the default when 0 was given)
  long long batch_size = 0;          // mini-batch: the batch size in use (0: the whole set)
  bool batch_size_auto = false;      // chosen from the number of examples
  bool full_batch_gd = false;
  int gradient_blocks = 1;           // mini-batch: the blocks each batch's gradient is summed over
  bool gradient_blocks_auto = false; // chosen (FitSettings::gradient_blocks was 0)
};

struct FitCallbacks {
  std::function<void(const FitPlan&, const Dataset& train, const Dataset* validation)> on_plan;  // before training
  std::function<void(const CostRecord&)> on_record;            // full-batch GD
  std::function<void(int completed)> on_iteration;             // full-batch GD
  std::function<void(const EpochRecord&)> on_epoch;            // mini-batch
  std::function<void(long long done, long long total)> on_step;
  // A checkpoint (every checkpoint_every epochs); `last` for the last one of
  // the run, whose model is the one fit returns (the best epoch's with patience).
  std::function<void(const Checkpoint&, const Model& final_model, bool last)> on_checkpoint;
  // A training-health rule fired (once per rule and run, when it first fires).
  std::function<void(const HealthWarning&)> on_health_warning;
};

// The score of a model on one data part.
struct PartScore {
  std::string name;  // "training", "validation", "test", ...
  std::int64_t examples = 0;
  double cost = 0;   // the training cost function (without L2)
  double accuracy = std::numeric_limits<double>::quiet_NaN();  // classifiers
  double mse = std::numeric_limits<double>::quiet_NaN();       // regression: (1/m) sum (y - y_hat)^2
  // The last epoch's running figures (TrainingScore::automatic), not a pass
  // with the final weights.
  bool running = false;
};

struct FitResult {
  Model model;
  FitPlan plan;
  std::vector<CostRecord> cost_history;  // full-batch GD
  TrainerState state;                    // mini-batch (its history has one record per epoch)
  int best_epoch = 0;                    // early stopping kept this epoch's weights (0: not used)
  bool converged = true;                 // false: the epoch limit came before the convergence rule
  std::vector<PartScore> scores;         // training, then validation when there was validation data
  std::vector<std::string> warnings;     // things a user must hear (not converged, one-example classes)
  // Diagnostics: the per-layer records (with diagnose) and the health
  // warnings that fired (also given to on_health_warning; not in `warnings`).
  TrainingHealth health;
};

// Plans a fit without training: checks the settings (SettingError) and the
// data (Error naming the file), decides the task, encoding, architecture and
// normalisation.
FitPlan plan_fit(const Dataset& train, const FitSettings& settings);

// Trains on `train`; `validation` (or settings.validation_fraction) drives
// per-epoch validation and early stopping. A test set is never given here:
// score it afterwards with score_model. resume: a checkpoint of the same run
// (every setting that changes the result and the data must match; SettingError
// naming the first that differs).
FitResult fit(const Dataset& train, const Dataset* validation, const FitSettings& settings,
              const FitCallbacks& callbacks = {}, const Checkpoint* resume = nullptr);

// scikit-learn's partial_fit: one more epoch of mini-batch training over `part`,
// continuing `previous` (the checkpoint of the earlier calls: the result's model
// and state) with its weights, optimizer moments and random states. The first
// call (previous null) plans from `part` and `settings`: give settings.encoding
// there so that classes missing from the first part are known. The normaliser
// and the regression target scaling are fitted on the first part and kept.
// Full-batch gradient descent, patience and validation_fraction are refused
// (SettingError); the convergence rule does not apply (one epoch per call).
FitResult partial_fit(const Dataset& part, const FitSettings& settings, const Checkpoint* previous,
                      const FitCallbacks& callbacks = {});

// A model's cost and accuracy (or MSE) on labelled data, matched to the model
// by feature count; labels are mapped onto the model's classes by name
// (Error naming the file and example for one the model does not know).
PartScore score_model(const Model& model, const Dataset& data, const std::string& name);

// The data's labels as the encoding's class indices (classifiers) or values
// (regression), one per example. Names are matched by name; numbers against
// classes that were names are refused (a 0/1 file would otherwise be mapped
// onto the sorted names and invert them). Errors name the file and line (or
// example), the label as written, and `owner` ("the model m.dnn").
std::vector<double> labels_for(const Dataset& data, const TargetEncoding& encoding, const std::string& owner);

// Accuracy of label-form predictions (1, m) against labels (1, m), and the
// mean squared error of regression values: the one place these are computed.
double accuracy_of(const std::vector<double>& predicted, const std::vector<double>& truth);
double mse_of(const std::vector<double>& predicted, const std::vector<double>& truth);

// Per-example weights for classes: balanced (w_c = m / (K count_c), as
// scikit-learn's) or one weight per class, times the data's own weights.
std::vector<double> example_weights(const FitSettings& settings, const Dataset& train,
                                    const TargetEncoding& encoding, const std::vector<double>& class_of_example);

// The settings as (name, value) text pairs, in a fixed order: what the model
// file records and `deepnet summary` prints.
std::vector<std::pair<std::string, std::string>> describe_settings(const FitSettings& settings, const FitPlan& plan);

// A 64-bit fingerprint of a data set's features and targets (FNV-1a over
// their 64-bit words in four lanes): a resumed run checks it is given the same
// data. The model records it as text ("w" and 16 hex digits); the byte-wise
// format of earlier versions (16 hex digits) is still recognised on resume.
std::uint64_t data_fingerprint(const Dataset& data);
std::string data_fingerprint_text(const Dataset& data);
bool same_data_fingerprint(const std::string& recorded, const Dataset& data);

}  // namespace deepnet
