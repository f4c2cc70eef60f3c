// The training pipeline (fit.hpp): task -> targets -> normaliser -> network ->
// initialisation -> training -> scores -> Model.
#include "deepnet/fit.hpp"

#include <algorithm>
#include <cmath>
#include <future>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <type_traits>

#include "deepnet/gemm.hpp"
#include "deepnet/loss.hpp"
#include "deepnet/trace.hpp"
#include "train/chunks.hpp"
#include "train/trace_capture.hpp"

namespace deepnet {

namespace {

std::string number_text(double value) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  // The shortest text that reads back as the same double.
  for (int precision = 1; precision <= 17; ++precision) {
    char shorter[40];
    std::snprintf(shorter, sizeof shorter, "%.*g", precision, value);
    if (std::strtod(shorter, nullptr) == value) return shorter;
  }
  return text;
}

std::string list_text(const std::vector<double>& values) {
  std::string text;
  for (double v : values) text += (text.empty() ? "" : ",") + number_text(v);
  return text;
}

// Regression targets as the network learns them: (y - offset) / scale.
template <typename T>
Matrix<T> scaled_targets(const Matrix<T>& labels, double offset, double scale) {
  if (offset == 0 && scale == 1) return labels;
  return ((labels.template cast<double>().array() - offset) / scale).matrix().template cast<T>();
}

// Scores a network on m examples, taken detail::evaluation_chunk() at a time from
// chunk(first, count) (normalised, in the network's precision): a float32 (or
// float64) forward pass over the examples without a copy of the whole data set
// and without keeping a workspace for all of them. The cost is the training
// cost function without L2 (PartScore), summed over the chunks.
template <typename T, typename Chunk>
PartScore score_network(Network<T>& net, const std::string& name, Eigen::Index m, Chunk chunk, const Matrix<T>& labels,
                        double target_offset, double target_scale) {
  PartScore score;
  score.name = name;
  score.examples = m;
  const Output output = net.architecture().output;
  const bool regression = output == Output::linear;
  std::vector<double> predicted(static_cast<std::size_t>(m)), truth(predicted.size());
  double cost_sum = 0;
  const Eigen::Index step = detail::evaluation_chunk(net);
  // The training batches' caches are not needed here, nor, at the last short
  // chunk, the full chunks' (a network keeps one workspace per batch size);
  // none is kept once the score is taken.
  net.release_workspaces();
  struct Release {
    Network<T>& net;
    ~Release() { net.release_workspaces(); }
  } release{net};
  for (Eigen::Index first = 0; first < m; first += step) {
    const Eigen::Index count = std::min(step, m - first);
    if (count != step && first > 0) net.release_workspaces();
    const Matrix<T> predictions = net.predict(chunk(first, count));  // leaves the forward caches at the chunk
    const Matrix<T> part_labels = labels.middleCols(first, count);
    const Matrix<T> Y = make_targets<T>(output, net.units(net.layers()),
                                        regression ? scaled_targets(part_labels, target_offset, target_scale) : part_labels);
    cost_sum += cost_from_logits<T>(output, net.Z(net.layers()), Y) * static_cast<double>(count);
    for (Eigen::Index j = 0; j < count; ++j) {
      const auto k = static_cast<std::size_t>(first + j);
      predicted[k] = static_cast<double>(predictions(0, j));
      if (regression) predicted[k] = predicted[k] * target_scale + target_offset;
      truth[k] = static_cast<double>(labels(0, first + j));
    }
  }
  score.cost = m > 0 ? cost_sum / static_cast<double>(m) : 0;
  if (regression)
    score.mse = mse_of(predicted, truth);  // in the data's own units
  else
    score.accuracy = accuracy_of(predicted, truth);
  return score;
}

// X: normalised, in the network's precision (the training copy, or the data's own floats).
template <typename T>
PartScore score_network(Network<T>& net, const std::string& name, MatrixCRef<T> X, const Matrix<T>& labels,
                        double target_offset, double target_scale) {
  return score_network(
      net, name, X.cols(), [&](Eigen::Index first, Eigen::Index count) { return Matrix<T>(X.middleCols(first, count)); },
      labels, target_offset, target_scale);
}

// A data set, normalised chunk by chunk.
template <typename T>
PartScore score_network(Network<T>& net, const std::string& name, const Dataset& data, const Normalizer& normalizer,
                        const Matrix<T>& labels, double target_offset = 0, double target_scale = 1) {
  return score_network(
      net, name, data.examples(),
      [&](Eigen::Index first, Eigen::Index count) { return normalizer.features<T>(data, first, count); }, labels,
      target_offset, target_scale);
}

// TrainingScore::automatic: the training score from the last epoch's running
// figures (train_minibatch), when the run's last epoch computed the final
// network's function (`same_function`: no dropout, L2, weights, bf16 products
// or blocked steps) and the run ended with that epoch's weights.
std::optional<PartScore> running_training_score(const FitResult& result, bool same_function, Eigen::Index m,
                                                double target_scale) {
  if (!same_function || result.best_epoch > 0 || result.state.history.empty()) return std::nullopt;
  const EpochRecord& last = result.state.history.back();
  const bool regression = result.plan.architecture.output == Output::linear;
  const double figure = regression ? last.train_squared_error : last.train_accuracy;
  if (std::isnan(figure)) return std::nullopt;
  PartScore score;
  score.name = "training";
  score.examples = static_cast<std::int64_t>(m);
  score.cost = last.train_cost;
  if (regression)
    score.mse = figure * target_scale * target_scale;  // in the data's own units
  else
    score.accuracy = figure;
  score.running = true;
  return score;
}

long long auto_batch_size(const FitSettings& s, Eigen::Index examples, bool& automatic) {
  automatic = s.batch_size == -1 && !s.full_batch_gd;
  if (s.full_batch_gd) return 0;
  if (!automatic) return s.batch_size;
  return std::clamp<long long>((static_cast<long long>(examples) + 9) / 10, 16, 128);
}

double default_learning_rate(const FitSettings& s) {
  if (s.full_batch_gd) return 0.0075;
  const OptimizerKind k = s.optimizer.kind;
  return k == OptimizerKind::sgd || k == OptimizerKind::momentum || k == OptimizerKind::nesterov ? 0.01 : 1e-3;
}

void check_settings(const FitSettings& s) {
  auto positive_finite = [](double v) { return std::isfinite(v) && v > 0; };
  if (s.hidden_activations.empty()) throw SettingError("hidden_activations", "expected at least one activation");
  if (!s.hidden_layers.empty() && s.hidden_activations.size() != 1 && s.hidden_activations.size() != s.hidden_layers.size())
    throw SettingError("hidden_activations", std::to_string(s.hidden_activations.size()) + " activations for " +
                                                 std::to_string(s.hidden_layers.size()) +
                                                 " hidden layers; give one, or one per hidden layer");
  for (std::size_t l = 0; l < s.hidden_layers.size(); ++l)
    if (s.hidden_layers[l] < 1)
      throw SettingError("hidden_layers", "hidden layer " + std::to_string(l + 1) + ": expected at least 1 unit, got " +
                                              std::to_string(s.hidden_layers[l]));
  if (!positive_finite(s.init_scale)) throw SettingError("init_scale", "expected a finite value > 0, got " + number_text(s.init_scale));
  if (!std::isfinite(s.leaky_slope)) throw SettingError("leaky_slope", "expected a finite value, got " + number_text(s.leaky_slope));
  if (s.learning_rate != 0 && !positive_finite(s.learning_rate))
    throw SettingError("learning_rate", "expected a finite learning rate > 0, got " + number_text(s.learning_rate));
  if (s.validation_fraction != 0 && !(s.validation_fraction > 0 && s.validation_fraction < 1))
    throw SettingError("validation_fraction", "expected a fraction between 0 and 1, got " + number_text(s.validation_fraction));
  try {
    Rng check_seed(s.seed, s.rng);  // numpy mode takes seeds below 2^32
  } catch (const Error& e) {
    throw SettingError("seed", e.what());
  }
  if (s.gradient_blocks < 0) throw SettingError("gradient_blocks", "expected 0 (auto) or at least 1, got " + std::to_string(s.gradient_blocks));
  if (s.communicator && s.gradient_blocks > 0 && s.gradient_blocks < s.communicator->size())
    throw SettingError("gradient_blocks", std::to_string(s.gradient_blocks) + " blocks cannot be shared by " +
                                              std::to_string(s.communicator->size()) + " ranks; give at least as many blocks as ranks");
  if (s.diagnose && !s.full_batch_gd && (s.gradient_blocks > 1 || s.communicator))
    throw SettingError("diagnose", "the per-layer statistics come from one pass over each batch; blocked "
                                   "(data-parallel) steps split it; train without gradient_blocks > 1 and "
                                   "without several ranks to diagnose");
  if (s.full_batch_gd) {
    if (s.communicator && s.communicator->size() > 1)
      throw SettingError("full_batch_gd", "data-parallel training shares mini-batches; the course's full-batch loop runs in one process");
    if (s.gradient_blocks > 1)
      throw SettingError("gradient_blocks", "belongs to mini-batch training, not to the course's full-batch loop");
    if (s.iterations < 1) throw SettingError("iterations", "expected at least 1, got " + std::to_string(s.iterations));
    if (s.record_every < 1) throw SettingError("record_every", "expected at least 1, got " + std::to_string(s.record_every));
    if (s.optimizer.kind != OptimizerKind::sgd)
      throw SettingError("optimizer", "full-batch gradient descent (the course's loop) updates with plain gradient "
                                      "descent; " + std::string(to_string(s.optimizer.kind)) +
                                      " belongs to mini-batch training, which counts epochs, not iterations");
    const std::pair<bool, const char*> minibatch_only[] = {
        {s.l2 != 0, "l2"}, {!s.dropout.empty(), "dropout"}, {s.clip_norm != 0, "clip_norm"},
        {s.balanced_class_weights || !s.class_weights.empty(), "class_weights"}, {s.patience != 0, "patience"},
        {s.checkpoint_every != 0, "checkpoint_every"}, {s.epochs != 0, "epochs"}, {s.drop_last, "drop_last"},
        {s.schedule.kind != ScheduleKind::constant || s.schedule.warmup_epochs != 0, "schedule"}};
    for (const auto& [given, name] : minibatch_only)
      if (given)
        throw SettingError(name, "belongs to mini-batch training, not to full-batch gradient descent for a number of "
                                 "iterations (the course's loop)");
    if (s.batch_size != -1 && s.batch_size != 0)
      throw SettingError("batch_size", "full-batch gradient descent uses every example in each step; a batch size of " +
                                           std::to_string(s.batch_size) + " belongs to mini-batch training");
    return;
  }
  if (s.epochs < 0) throw SettingError("epochs", "expected at least 1 (or 0: until converged), got " + std::to_string(s.epochs));
  if (s.max_epochs < 1) throw SettingError("max_epochs", "expected at least 1, got " + std::to_string(s.max_epochs));
  if (!(s.tolerance >= 0 && std::isfinite(s.tolerance))) throw SettingError("tolerance", "expected a finite value >= 0");
  if (s.n_iter_no_change < 1) throw SettingError("n_iter_no_change", "expected at least 1");
  if (s.batch_size < -1) throw SettingError("batch_size", "expected a number of examples, 0 for all of them or -1 (auto)");
  if (!(std::isfinite(s.l2) && s.l2 >= 0)) throw SettingError("l2", "expected a finite value >= 0, got " + number_text(s.l2));
  if (!(std::isfinite(s.clip_norm) && s.clip_norm >= 0)) throw SettingError("clip_norm", "expected a finite value >= 0");
  if (s.patience < 0) throw SettingError("patience", "expected 0 (off) or more epochs, got " + std::to_string(s.patience));
  if (!(std::isfinite(s.min_delta) && s.min_delta >= 0))
    throw SettingError("min_delta", "expected a finite value >= 0 (the smallest improvement that counts), got " +
                                        number_text(s.min_delta));
  if (s.min_delta != 0 && s.patience == 0)
    throw SettingError("min_delta", "only counts for early stopping, which is off (patience 0)");
  if (s.checkpoint_every < 0) throw SettingError("checkpoint_every", "expected 0 (none) or more epochs");
  for (double w : s.class_weights)
    if (!(std::isfinite(w) && w >= 0)) throw SettingError("class_weights", "weights must be finite and >= 0");
  if (s.balanced_class_weights && !s.class_weights.empty())
    throw SettingError("class_weights", "give balanced weights or one weight per class, not both");
  if (!s.dropout.empty() && s.hidden_layers.empty())
    throw SettingError("dropout", "the network has no hidden layer to drop units from");
  if (!s.dropout.empty() && s.dropout.size() != 1 && s.dropout.size() != s.hidden_layers.size())
    throw SettingError("dropout", std::to_string(s.dropout.size()) + " probabilities for " +
                                      std::to_string(s.hidden_layers.size()) + " hidden layers; give one, or one per layer");
  for (double p : s.dropout)
    if (!(p >= 0 && p < 1)) throw SettingError("dropout", "expected probabilities in [0, 1), got " + number_text(p));
  const OptimizerKind k = s.optimizer.kind;
  const OptimizerSettings defaults;
  if (s.optimizer.momentum != defaults.momentum && k != OptimizerKind::momentum && k != OptimizerKind::nesterov)
    throw SettingError("momentum", "is used by the momentum and nesterov optimizers, not by " + std::string(to_string(k)));
  if (s.optimizer.rho != defaults.rho && k != OptimizerKind::rmsprop)
    throw SettingError("rho", "is used by rmsprop, not by " + std::string(to_string(k)));
  if ((s.optimizer.beta1 != defaults.beta1 || s.optimizer.beta2 != defaults.beta2) && k != OptimizerKind::adam &&
      k != OptimizerKind::adamw)
    throw SettingError("beta1", "beta1 and beta2 are used by adam and adamw, not by " + std::string(to_string(k)));
  if (s.optimizer.weight_decay != defaults.weight_decay && k != OptimizerKind::adamw)
    throw SettingError("weight_decay", "is adamw's decoupled weight decay; " + std::string(to_string(k)) +
                                           " does not use it (for L2 on the cost use l2)");
  try {
    s.optimizer.validate();
  } catch (const Error& e) {
    throw SettingError("optimizer", e.what());
  }
  Schedule schedule = s.schedule;
  schedule.alpha = s.learning_rate != 0 ? s.learning_rate : default_learning_rate(s);
  try {
    schedule.validate();
  } catch (const Error& e) {
    throw SettingError("schedule", e.what());
  }
}

TargetEncoding encoding_for(const Dataset& train, const FitSettings& s, const TaskChoice& task) {
  TargetEncoding encoding;
  if (s.encoding) {
    encoding = *s.encoding;
  } else if (task.task == Task::regress) {
    encoding.output = Output::linear;
  } else {
    encoding = infer_target_encoding(train);  // whole numbers or names: classes
  }
  if (!s.output || *s.output == encoding.output) return encoding;
  const Output wanted = *s.output;
  if (wanted == Output::linear) {
    if (!train.class_names.empty())
      throw SettingError("output", "linear: the labels in " + train.source + " are names, not numbers");
    encoding = TargetEncoding{};
    encoding.output = Output::linear;
  } else if (encoding.output == Output::linear) {
    throw SettingError("output", std::string(to_string(wanted)) + ": the labels in " + train.source +
                                     " are regression targets, not classes");
  } else if (wanted == Output::sigmoid && encoding.classes.size() > 2) {
    throw SettingError("output", "sigmoid: " + train.source + " has " + std::to_string(encoding.classes.size()) +
                                     " classes; one sigmoid unit takes 2 (use softmax)");
  } else {
    encoding.output = wanted;  // softmax for 2 classes
  }
  return encoding;
}

template <typename T>
Matrix<T> labels_of(const TargetEncoding& encoding, const Dataset& data, const std::string& owner) {
  const std::vector<double> labels = labels_for(data, encoding, owner);
  Matrix<T> row(1, static_cast<Eigen::Index>(labels.size()));
  for (std::size_t j = 0; j < labels.size(); ++j) row(0, static_cast<Eigen::Index>(j)) = static_cast<T>(labels[j]);
  return row;
}

// Whether the encoding's classes came from names (not from numbers written as text).
bool named_classes(const TargetEncoding& encoding) {
  for (std::size_t k = 0; k < encoding.classes.size(); ++k)
    if (k >= encoding.class_names.size() || encoding.class_names[k] != number_text(encoding.classes[k])) return true;
  return false;
}

std::string class_list(const TargetEncoding& encoding) {
  std::string known;
  for (std::size_t k = 0; k < encoding.class_names.size() && k < 12; ++k)
    known += (k ? ", " : "") + encoding.class_names[k];
  if (encoding.class_names.size() > 12) known += ", ...";
  return known;
}

std::vector<std::pair<std::string, std::string>> without_run_length(
    std::vector<std::pair<std::string, std::string>> settings) {
  std::erase_if(settings, [](const auto& kv) { return kv.first == "epochs" || kv.first == "max_epochs"; });
  return settings;
}

// trace_step's request: the step to look at and where its values go.
struct TraceRequest {
  long long step = 0;
  StepTrace* out = nullptr;
};

template <typename T>
FitResult fit_typed(const Dataset& train, const Dataset* validation, const FitSettings& s, const FitPlan& plan,
                    const Normalizer& normalizer, const FitCallbacks& callbacks, const Checkpoint* resume, bool partial,
                    TraceRequest* trace = nullptr) {
  FitResult result;
  result.plan = plan;
  const Architecture& arch = plan.architecture;
  // The training features: one copy, normalised, in the network's precision.
  // The data's fingerprint (a single chain of hashing) is taken on a second
  // thread while the features are converted, when more than one is allowed.
  std::future<std::string> fingerprint = std::async(threads() > 1 ? std::launch::async : std::launch::deferred,
                                                    [&train] { return data_fingerprint_text(train); });
  // Mini-batch training in float32 on float32 data that is not normalised
  // (Dataset::singles, owned or borrowed from the Python module's array) reads
  // the data where it lies: no copy at all.
  const bool read_in_place = std::is_same_v<T, float> && !s.full_batch_gd && train.has_singles() &&
                             normalizer.kind == Normalization::none;
  const Matrix<T> X_copy = read_in_place ? Matrix<T>() : normalizer.features<T>(train);
  const MatrixCRef<T> X = [&]() -> MatrixCRef<T> {
    if constexpr (std::is_same_v<T, float>)
      if (read_in_place) return train.singles_view();
    return X_copy;
  }();
  const Matrix<T> labels = labels_of<T>(plan.encoding, train, "the training data");
  // Regression targets standardised (mean 0, std 1 over the training part): the
  // output starts near its targets whatever their units; the model undoes it.
  double target_offset = 0, target_scale = 1;
  if (partial && resume) {  // partial_fit: the first part's scaling stays
    target_offset = resume->model.target_offset;
    target_scale = resume->model.target_scale;
  } else if (plan.scale_target) {
    const double m = static_cast<double>(labels.cols());
    double mean = 0, squares = 0;
    for (Eigen::Index j = 0; j < labels.cols(); ++j) mean += static_cast<double>(labels(0, j));
    mean /= m;
    for (Eigen::Index j = 0; j < labels.cols(); ++j)
      squares += (static_cast<double>(labels(0, j)) - mean) * (static_cast<double>(labels(0, j)) - mean);
    const double sd = std::sqrt(squares / m);
    target_offset = mean;
    target_scale = sd > 0 && std::isfinite(sd) ? sd : 1;
  }
  const Matrix<T> Y = make_targets<T>(arch.output, arch.sizes.back(), scaled_targets(labels, target_offset, target_scale));
  Matrix<T> val_labels;
  if (validation) {
    val_labels = labels_of<T>(plan.encoding, *validation, "the training data");
    make_targets<T>(arch.output, arch.sizes.back(), val_labels);  // range check before training
  }

  Model& model = result.model;
  model.architecture = arch;
  model.float64 = sizeof(T) == 8;
  model.encoding = plan.encoding;
  // Names the file gave (a header) are kept, so that later files are matched by
  // name; made-up ones (x1, x2, ...) are not: such columns go by position.
  if (train.named_features) model.feature_names = train.feature_names;
  model.target_name = train.target_name;
  model.training.seed = s.seed;
  model.training.rng = std::string(to_string(s.rng));
  model.training.init = std::string(to_string(plan.init));
  model.training.optimizer = s.full_batch_gd ? "gd" : std::string(to_string(s.optimizer.kind));
  model.training.learning_rate = plan.learning_rate;
  model.training.deepnet_version = DEEPNET_VERSION;
  model.training.settings = describe_settings(s, plan);
  model.training.settings.emplace_back("data_fingerprint", fingerprint.get());
  model.normalizer = normalizer;
  model.target_offset = target_offset;
  model.target_scale = target_scale;
  auto with_parameters = [&model](const std::vector<double>& parameters, std::int64_t steps, double final_cost) {
    Model m = model;
    m.parameters = parameters;
    m.training.iterations = steps;
    m.training.final_cost = final_cost;
    return m;
  };

  Network<T> network(arch);
  // bf16 products mean products: a net small enough for the fused small-net
  // path (which has no product calls) takes the general path instead.
  if (s.float_products == FloatProducts::bf16) network.set_small_net_path(false);
  // bf16 products for the training steps only: scores and later predictions use float32.
  struct ProductsDuringTraining {
    FloatProducts before = float_products();
    explicit ProductsDuringTraining(FloatProducts p) { set_float_products(p); }
    ~ProductsDuringTraining() { set_float_products(before); }
    ProductsDuringTraining(const ProductsDuringTraining&) = delete;
    ProductsDuringTraining& operator=(const ProductsDuringTraining&) = delete;
  };
  std::optional<ProductsDuringTraining> products;
  if (s.float_products != float_products()) products.emplace(s.float_products);
  TrainingHealth* health = nullptr;
  if (s.diagnose || s.health_warnings) {
    health = &result.health;
    health->gather = s.diagnose;
    health->warn = s.health_warnings;
    health->on_warning = callbacks.on_health_warning;
  }
  std::optional<StepProbe<T>> probe;
  if (trace) {
    probe.emplace();
    probe->step = trace->step;
    probe->before_update = [trace](const Network<T>& net, const Matrix<T>& Xb, const Matrix<T>& Yb, double cost) {
      detail::capture_step(net, Xb, Yb, cost, *trace->out);
    };
    probe->after_update = [trace](const Network<T>& net) { detail::capture_update(net, *trace->out); };
  }
  StepProbe<T>* const probe_at = probe ? &*probe : nullptr;
  bool running_score_allowed = false;  // TrainingScore::automatic may use the last epoch's running figures
  if (s.full_batch_gd) {
    Rng rng(s.seed, s.rng);
    initialize(network, plan.init, rng, s.init_scale);
    GradientDescentOptions options;
    options.learning_rate = plan.learning_rate;
    options.iterations = s.iterations;
    options.record_every = s.record_every;
    options.on_record = callbacks.on_record;
    options.on_iteration = callbacks.on_iteration;
    options.health = health;
    result.cost_history = train_gradient_descent(network, X_copy, Y, options, probe_at);
    if (trace) {
      if (!probe->seen) throw SettingError("trace_step", "the run has no step " + std::to_string(trace->step));
      return result;
    }
    model = with_parameters(std::vector<double>(network.parameters().begin(), network.parameters().end()), s.iterations,
                            result.cost_history.back().cost);
  } else {
    std::vector<double> class_of_example(static_cast<std::size_t>(labels.cols()));
    for (Eigen::Index j = 0; j < labels.cols(); ++j) class_of_example[static_cast<std::size_t>(j)] = labels(0, j);
    MiniBatchOptions options;
    options.epochs = partial ? (resume ? resume->state.epochs_done : 0) + 1 : s.epochs > 0 ? s.epochs : s.max_epochs;
    options.tolerance = s.epochs > 0 || partial ? 0 : s.tolerance;
    options.n_iter_no_change = s.epochs > 0 || partial ? 0 : s.n_iter_no_change;
    options.batch_size = plan.batch_size;
    options.drop_last = s.drop_last;
    options.optimizer = s.optimizer;
    options.schedule = s.schedule;
    options.schedule.alpha = plan.learning_rate;
    options.l2 = s.l2;
    options.dropout = s.dropout;
    options.clip_norm = s.clip_norm;
    options.example_weights = example_weights(s, train, plan.encoding, class_of_example);
    options.patience = s.patience;
    options.min_delta = s.min_delta;
    options.seed = s.seed;
    options.gradient_blocks = plan.gradient_blocks;
    options.communicator = s.communicator;
    options.overlap_exchange = s.overlap_exchange;
    options.on_epoch = callbacks.on_epoch;
    options.on_step = callbacks.on_step;
    options.health = health;
    if (s.patience > 0 && !validation)
      throw SettingError("patience", "early stopping needs validation data (a validation set or validation_fraction)");
    Matrix<double> X_val, Y_val, val_labels_double;
    ValidationSet val;
    if (validation) {
      val_labels_double = val_labels.template cast<double>();
      Y_val = make_targets<double>(arch.output, arch.sizes.back(),
                                   arch.output == Output::linear
                                       ? scaled_targets(val_labels_double, target_offset, target_scale)
                                       : val_labels_double);
      X_val = normalizer.features<double>(*validation);
      val.X = &X_val;
      val.Y = &Y_val;
      if (arch.output != Output::linear) val.labels = &val_labels_double;
    }
    TrainerState resume_state;
    const TrainerState* resume_from = nullptr;
    if (resume) {
      if (resume->model.architecture.describe() != arch.describe() || resume->model.float64 != (sizeof(T) == 8))
        throw SettingError("architecture", "the checkpoint is for a " + resume->model.architecture.describe() + " " +
                                               (resume->model.float64 ? "float64" : "float32") + " network, not " +
                                               arch.describe() + " " + (sizeof(T) == 8 ? "float64" : "float32") +
                                               "; a resumed run must use the same network settings");
      if (!partial && !resume->model.training.settings.empty()) {
        const auto before = without_run_length(resume->model.training.settings);
        const auto now = without_run_length(model.training.settings);
        std::map<std::string, std::string> then(before.begin(), before.end());
        for (const auto& [key, value] : now) {
          const auto found = then.find(key);
          const std::string old = found == then.end() ? std::string("(not recorded)") : found->second;
          if (key == "data_fingerprint" && found != then.end() && same_data_fingerprint(old, train)) continue;
          if (old != value)
            throw SettingError(key, key == "data_fingerprint"
                                        ? "the checkpoint was trained on other data (fingerprint " + old +
                                              ", this data " + value + ")"
                                        : "the checkpoint was trained with " + key + " " + old + ", this run asks for " +
                                              value + "; a resumed run must use the same settings");
        }
      }
      if (resume->state.epochs_done >= options.epochs)
        throw SettingError("epochs", std::to_string(options.epochs) + " is the total, and the checkpoint already holds " +
                                         std::to_string(resume->state.epochs_done) + " epochs");
      resume_state = resume->state;
      resume_from = &resume_state;
    } else {
      Rng rng(s.seed, s.rng);
      initialize(network, plan.init, rng, s.init_scale);
    }
    if (callbacks.on_checkpoint && s.checkpoint_every > 0) {
      options.checkpoint_every = s.checkpoint_every;
      options.on_checkpoint = [&](const TrainerState& state) {
        const double cost = state.history.back().train_cost;
        const std::int64_t epochs = static_cast<std::int64_t>(state.history.size());
        Checkpoint c;
        c.model = with_parameters(state.parameters, epochs, cost);
        c.state = state;
        const bool best = s.patience > 0 && !state.best_parameters.empty();
        const Model final_model = with_parameters(best ? state.best_parameters : state.parameters, epochs, cost);
        callbacks.on_checkpoint(c, final_model, state.finished);
      };
    }
    result.state = train_minibatch<T>(network, X, Y, val, options, resume_from, probe_at);
    running_score_allowed =
        s.training_score == TrainingScore::automatic && options.l2 == 0 && options.example_weights.empty() &&
        std::none_of(options.dropout.begin(), options.dropout.end(), [](double p) { return p > 0; }) &&
        s.float_products == FloatProducts::float32 && options.gradient_blocks <= 1 &&
        (options.communicator == nullptr || options.communicator->size() <= 1);
    if (trace) {
      const long long batch = plan.batch_size == 0 ? X.cols() : std::min<long long>(plan.batch_size, X.cols());
      const long long steps = X.cols() / batch + (X.cols() % batch > 0 && !s.drop_last ? 1 : 0);
      if (!probe->seen)
        throw SettingError("trace_step", "the run ended after " + std::to_string(result.state.epochs_done) + " epoch" +
                                             (result.state.epochs_done == 1 ? "" : "s") + " of " + std::to_string(steps) +
                                             " steps (steps 0.." +
                                             std::to_string(steps * result.state.epochs_done - 1) +
                                             "), before step " + std::to_string(trace->step));
      trace->out->steps_per_epoch = steps;
      trace->out->epoch = static_cast<int>(trace->step / steps) + 1;
      trace->out->batch = trace->step % steps + 1;
      return result;
    }
    result.best_epoch = s.patience > 0 && !result.state.best_parameters.empty() ? result.state.best_epoch : 0;
    result.converged = s.epochs > 0 || partial || result.state.converged;
    if (!result.converged)
      result.warnings.push_back("training did not converge in " + std::to_string(options.epochs) +
                                " epochs (the training cost still improved by more than " + number_text(s.tolerance) +
                                " within the last " + std::to_string(s.n_iter_no_change) +
                                " epochs); allow more epochs or raise the learning rate");
    model = with_parameters(result.state.parameters, static_cast<std::int64_t>(result.state.history.size()),
                            result.state.history.back().train_cost);
  }

  products.reset();
  result.health.on_warning = nullptr;  // the callbacks' captures end with this call
  if (const std::optional<PartScore> running = running_training_score(result, running_score_allowed, X.cols(), target_scale))
    result.scores.push_back(*running);
  else if (s.training_score != TrainingScore::none)
    result.scores.push_back(score_network(network, "training", X, labels, target_offset, target_scale));
  if (validation)
    result.scores.push_back(
        score_network(network, "validation", *validation, normalizer, val_labels, target_offset, target_scale));
  return result;
}

}  // namespace

TrainingScore parse_training_score(std::string_view name) {
  if (name == "auto") return TrainingScore::automatic;
  if (name == "pass") return TrainingScore::pass;
  if (name == "none") return TrainingScore::none;
  throw Error("training score: expected auto, pass or none, got '" + std::string(name) + "'");
}

std::string_view to_string(TrainingScore score) {
  switch (score) {
    case TrainingScore::automatic: return "auto";
    case TrainingScore::pass: return "pass";
    case TrainingScore::none: return "none";
  }
  return "?";
}

Task parse_task(std::string_view name) {
  if (name == "auto") return Task::automatic;
  if (name == "classify" || name == "classification") return Task::classify;
  if (name == "regress" || name == "regression") return Task::regress;
  throw Error("task: expected auto, classify or regress, got '" + std::string(name) + "'");
}

std::string_view to_string(Task task) {
  switch (task) {
    case Task::automatic: return "auto";
    case Task::classify: return "classification";
    case Task::regress: return "regression";
  }
  return "?";
}

TaskChoice choose_task(const Dataset& data, Task requested) {
  if (data.targets.empty()) throw Error(data.source + ": no examples");
  TaskChoice choice;
  const std::string label = data.target_name.empty() ? std::string("the label") : "the label '" + data.target_name + "'";
  if (!data.class_names.empty()) {
    if (requested == Task::regress)
      throw SettingError("task", "regression needs numeric labels, but " + label + " in " + data.source +
                                     " holds names such as '" + data.class_names.front() + "'");
    choice.task = Task::classify;
    choice.reason = label + " holds names (" + std::to_string(data.class_names.size()) + " distinct)";
  } else {
    std::map<double, std::int64_t> counts;
    std::size_t first_fraction = data.targets.size();
    for (std::size_t j = 0; j < data.targets.size(); ++j) {
      const double t = data.targets[j];
      if (!std::isfinite(t)) throw Error(data.source + ": example " + std::to_string(j + 1) + ": the label is not finite");
      if (t != std::floor(t) && first_fraction == data.targets.size()) first_fraction = j;
      ++counts[t];
    }
    const std::size_t m = data.targets.size(), K = counts.size();
    if (first_fraction < m) {
      if (requested == Task::classify)
        throw SettingError("task", "classification needs whole-number or named labels, but " + label + " in " +
                                       data.source + " is " + number_text(data.targets[first_fraction]) +
                                       " on example " + std::to_string(first_fraction + 1));
      choice.task = Task::regress;
      choice.reason = label + " has values that are not whole numbers (" +
                      number_text(data.targets[first_fraction]) + " on example " + std::to_string(first_fraction + 1) + ")";
    } else {
      const double per_value = static_cast<double>(m) / static_cast<double>(K);
      const double lowest = counts.begin()->first, highest = counts.rbegin()->first;
      const bool class_ids = (lowest == 0 || lowest == 1) && highest - lowest + 1 == static_cast<double>(K);
      char text[200];
      std::snprintf(text, sizeof text, "%zu distinct whole numbers (%s..%s) over %zu examples, %.1f per value", K,
                    number_text(lowest).c_str(), number_text(highest).c_str(), m, per_value);
      const bool quantity = K > 10 && (per_value < 5 || !class_ids);
      if (requested == Task::automatic) {
        choice.task = quantity ? Task::regress : Task::classify;
        choice.reason = label + " has " + text +
                        (quantity ? (per_value < 5 ? ": too few examples per value to be classes"
                                                   : ": not the class ids 0..K-1 or 1..K, so a quantity")
                                  : ": few enough distinct values to be classes");
      } else {
        choice.task = requested;
        choice.reason = label + " has " + text + " (as asked)";
      }
    }
    if (choice.task == Task::classify) {
      std::vector<std::string> single;
      for (const auto& [value, count] : counts)
        if (count == 1) single.push_back(number_text(value));
      if (!single.empty() && K > 1) {
        std::string listed;
        for (std::size_t k = 0; k < single.size() && k < 5; ++k) listed += (k ? ", " : "") + single[k];
        if (single.size() > 5) listed += ", ...";
        choice.warnings.push_back(std::to_string(single.size()) + " of " + std::to_string(K) + " classes in " +
                                  data.source + " have a single example (" + listed +
                                  "): a classifier cannot learn them; is the label a quantity (regression)?");
      }
    }
  }
  if (choice.task == Task::classify) {
    std::set<double> distinct(data.targets.begin(), data.targets.end());
    if (distinct.size() < 2) {
      const double only = *distinct.begin();
      const std::string shown = data.class_names.empty() ? number_text(only)
                                                         : "'" + data.class_names.at(static_cast<std::size_t>(only)) + "'";
      throw Error(data.source + ": every example has the same label " + shown + " (in " + label +
                  "); a classifier needs at least 2 classes");
    }
  }
  if (choice.task == Task::classify && !data.class_names.empty()) {
    std::map<std::string, std::int64_t> counts;
    for (double t : data.targets) ++counts[data.class_names.at(static_cast<std::size_t>(t))];
    std::vector<std::string> single;
    for (const auto& [name, count] : counts)
      if (count == 1) single.push_back(name);
    if (!single.empty())
      choice.warnings.push_back(std::to_string(single.size()) + " of " + std::to_string(counts.size()) +
                                " classes in " + data.source + " have a single example ('" + single.front() +
                                "'" + (single.size() > 1 ? ", ..." : "") + ")");
  }
  return choice;
}

FitPlan plan_fit(const Dataset& train, const FitSettings& s) {
  check_settings(s);
  if (train.examples() < 1) throw Error(train.source + ": no examples to train on");
  FitPlan plan;
  plan.full_batch_gd = s.full_batch_gd;
  if (s.encoding) {
    plan.task.task = s.encoding->output == Output::linear ? Task::regress : Task::classify;
    plan.task.reason = "as given";
  } else {
    plan.task = choose_task(train, s.task);
  }
  plan.encoding = encoding_for(train, s, plan.task);
  Architecture& arch = plan.architecture;
  arch.output = plan.encoding.output;
  arch.sizes.push_back(static_cast<int>(train.features()));
  for (int n : s.hidden_layers) arch.sizes.push_back(n);
  arch.sizes.push_back(plan.encoding.output_units());
  arch.hidden_activations = s.hidden_activations;
  arch.leaky_slope = s.leaky_slope;
  try {
    arch.validate();
  } catch (const Error& e) {
    throw SettingError("hidden_layers", e.what());
  }
  if (s.init) {
    plan.init = *s.init;
  } else if (s.hidden_layers.empty()) {
    // Logistic (softmax, linear) regression: a convex cost with no hidden
    // units whose symmetry needs breaking; the course starts it at zero, at
    // cost log 2. (He's random start put a 2-feature problem at cost 1.8 and
    // 200 epochs of Adam at 1e-3 did not recover: 64% training accuracy.)
    plan.init = InitScheme::zeros;
  } else {
    const Activation first = s.hidden_activations.front();
    plan.init = first == Activation::relu || first == Activation::leaky_relu ? InitScheme::he : InitScheme::xavier;
  }
  if (s.normalization) {
    plan.normalization = *s.normalization;
  } else if (train.uint8_pixels) {
    plan.normalization = Normalization::div255;
    plan.normalization_reason = "8-bit image data";
  } else if (s.full_batch_gd) {
    plan.normalization = Normalization::none;
    plan.normalization_reason = "the course's full-batch loop takes the data as it is";
  } else {
    plan.normalization = Normalization::standard;
    plan.normalization_reason = "features on their own scales; mean 0, standard deviation 1, stored in the model";
  }
  plan.learning_rate = s.learning_rate != 0 ? s.learning_rate : default_learning_rate(s);
  plan.scale_target = plan.encoding.output == Output::linear && s.scale_target.value_or(!s.full_batch_gd);
  plan.batch_size = auto_batch_size(s, train.examples(), plan.batch_size_auto);
  plan.gradient_blocks_auto = s.gradient_blocks == 0 && !s.full_batch_gd;
  plan.gradient_blocks = s.full_batch_gd             ? 1
                         : s.gradient_blocks > 0     ? s.gradient_blocks
                         : s.communicator            ? std::max(8, s.communicator->size())
                                                     : 1;
  if (!s.class_weights.empty() && plan.encoding.output != Output::linear &&
      s.class_weights.size() != plan.encoding.classes.size())
    throw SettingError("class_weights", std::to_string(s.class_weights.size()) + " weights for " +
                                            std::to_string(plan.encoding.classes.size()) +
                                            " classes; give balanced or one per class");
  if ((s.balanced_class_weights || !s.class_weights.empty()) && plan.encoding.output == Output::linear)
    throw SettingError("class_weights", "the labels are regression targets, not classes");
  return plan;
}

namespace {

FitResult run_fit(const Dataset& train_in, const Dataset* validation_in, const FitSettings& s, const FitCallbacks& callbacks,
                  const Checkpoint* resume, bool partial, TraceRequest* trace = nullptr) {
  if (s.float_products == FloatProducts::bf16) {
    std::string why;
    if (s.float64)
      throw SettingError("float_products", "bf16 products are for float32 networks; this one is float64");
    if (!bf16_products_available(&why)) throw SettingError("float_products", "bf16 products are not available: " + why);
  }
  FitPlan plan = plan_fit(train_in, s);
  if (validation_in && s.validation_fraction > 0)
    throw SettingError("validation_fraction", "a validation set is given too; use one of them");
  // A split of the training data: stratified for classes, seeded.
  std::pair<Dataset, Dataset> parts;
  const Dataset* train = &train_in;
  const Dataset* validation = validation_in;
  if (s.validation_fraction > 0) {
    parts = split_dataset(train_in, s.validation_fraction, plan.encoding.output != Output::linear, s.seed);
    train = &parts.first;
    validation = &parts.second;
  }
  Dataset matched_validation;
  if (validation_in && (validation_in->named_features && train_in.named_features
                            ? validation_in->feature_names != train_in.feature_names
                            : validation_in->features() != train_in.features())) {
    matched_validation = *validation_in;
    match_features(matched_validation, train_in.named_features ? train_in.feature_names : std::vector<std::string>(),
                   "the training data " + train_in.source);
    if (matched_validation.features() != train_in.features())
      throw Error(validation_in->source + ": has " + std::to_string(validation_in->features()) +
                  " features but the training data " + train_in.source + " has " + std::to_string(train_in.features()));
    validation = &matched_validation;
  }
  plan.batch_size = auto_batch_size(s, train->examples(), plan.batch_size_auto);  // of the part trained on
  if (callbacks.on_plan) callbacks.on_plan(plan, *train, validation);

  const Normalizer normalizer = partial && resume ? resume->model.normalizer : Normalizer::fit(plan.normalization, *train);
  FitResult result = s.float64 ? fit_typed<double>(*train, validation, s, plan, normalizer, callbacks, resume, partial, trace)
                               : fit_typed<float>(*train, validation, s, plan, normalizer, callbacks, resume, partial, trace);
  result.warnings.insert(result.warnings.begin(), plan.task.warnings.begin(), plan.task.warnings.end());
  return result;
}

}  // namespace

FitResult fit(const Dataset& train, const Dataset* validation, const FitSettings& settings, const FitCallbacks& callbacks,
              const Checkpoint* resume) {
  return run_fit(train, validation, settings, callbacks, resume, false);
}

StepTrace trace_step(const Dataset& train, const Dataset* validation, const FitSettings& settings, long long step,
                     const FitCallbacks& callbacks, const Checkpoint* resume) {
  if (step < 0) throw SettingError("trace_step", "expected a step >= 0, got " + std::to_string(step));
  if (settings.full_batch_gd && step >= settings.iterations)
    throw SettingError("trace_step", "the run has " + std::to_string(settings.iterations) + " iterations (0.." +
                                         std::to_string(settings.iterations - 1) + "), so there is no iteration " +
                                         std::to_string(step));
  if (!settings.full_batch_gd && (settings.gradient_blocks > 1 || (settings.communicator && settings.communicator->size() > 1)))
    throw SettingError("gradient_blocks", "a step summed over several blocks has no single forward pass to show; "
                                          "trace needs one block (1 or 0 = auto, one process)");
  // The arrays are the course's equations, unweighted, without masks or
  // clipping: a run that changes them is refused rather than shown under
  // formulas it does not follow.
  const char* why = "the trace shows the course's equations, which have no ";
  if (!settings.class_weights.empty() || settings.balanced_class_weights)
    throw SettingError("class_weights", why + std::string("class weights (dZ[L] would be w (A[L] - Y)); trace without them"));
  if (!train.weights.empty())
    throw Error(train.source + ": per-example weights: " + why + "example weights (dZ[L] would be w (A[L] - Y)); trace without them");
  if (!settings.dropout.empty())
    throw SettingError("dropout", why + std::string("dropout masks (dZ[l] would hold D[l], which the trace does not write); trace without it"));
  if (settings.clip_norm > 0)
    throw SettingError("clip_norm", why + std::string("gradient clipping (W_next would not be W - lr dW); trace without it"));
  FitSettings s = settings;
  s.communicator = nullptr;
  StepTrace trace;
  trace.step = step;
  TraceRequest request{step, &trace};
  FitResult result = run_fit(train, validation, s, callbacks, resume, false, &request);
  trace.plan = result.plan;
  return trace;
}

FitResult partial_fit(const Dataset& part, const FitSettings& settings, const Checkpoint* previous,
                      const FitCallbacks& callbacks) {
  if (settings.full_batch_gd)
    throw SettingError("full_batch_gd", "partial_fit continues mini-batch training one epoch at a time; the course's "
                                        "full-batch loop trains on one whole data set");
  if (settings.patience > 0 || settings.validation_fraction > 0)
    throw SettingError(settings.patience > 0 ? "patience" : "validation_fraction",
                       "partial_fit trains one epoch on the part it is given; early stopping and a validation split "
                       "belong to fit");
  if (previous && (previous->model.encoding.classes != (settings.encoding ? settings.encoding->classes
                                                                           : previous->model.encoding.classes)))
    throw SettingError("classes", "the classes differ from those of the earlier partial_fit calls");
  FitSettings s = settings;
  if (previous && !s.encoding) s.encoding = previous->model.encoding;  // later parts may lack some classes
  return run_fit(part, nullptr, s, callbacks, previous, true);
}

PartScore score_model(const Model& model, const Dataset& data, const std::string& name) {
  if (data.named_features && !model.feature_names.empty() && data.feature_names != model.feature_names)
    throw Error(data.source + ": its columns are not the model's features in the model's order; match them by name "
                "first (match_features)");
  if (data.features() != model.architecture.sizes.front())
    throw Error(data.source + ": has " + std::to_string(data.features()) + " features but the model expects n[0] = " +
                std::to_string(model.architecture.sizes.front()));
  if (model.float64) {
    Network<double> net = model.network<double>();
    return score_network(net, name, data, model.normalizer, labels_of<double>(model.encoding, data, "the model"),
                         model.target_offset, model.target_scale);
  }
  Network<float> net = model.network<float>();
  return score_network(net, name, data, model.normalizer, labels_of<float>(model.encoding, data, "the model"),
                       model.target_offset, model.target_scale);
}

std::vector<double> labels_for(const Dataset& data, const TargetEncoding& encoding, const std::string& owner) {
  const std::size_t m = static_cast<std::size_t>(data.examples());
  if (data.targets.size() != m)
    throw Error(data.source + ": has no labels; " + owner + " needs labelled data here");
  if (encoding.output == Output::linear) {
    if (!data.class_names.empty())
      throw Error(data.source + ": the labels are names such as '" + data.class_names.front() + "', but " + owner +
                  " predicts numbers (regression)");
    return data.targets;
  }
  std::vector<double> indices(m);
  if (!data.class_names.empty()) {
    for (std::size_t j = 0; j < m; ++j) {
      const std::string& name = data.class_names.at(static_cast<std::size_t>(data.targets[j]));
      const auto found = std::find(encoding.class_names.begin(), encoding.class_names.end(), name);
      if (found == encoding.class_names.end())
        throw Error(data.place_of(j) + ": label '" + name + "' is not one of " + owner + "'s classes (" +
                    class_list(encoding) + ")");
      indices[j] = static_cast<double>(found - encoding.class_names.begin());
    }
    return indices;
  }
  if (named_classes(encoding)) {
    std::set<double> values(data.targets.begin(), data.targets.end());
    std::string seen;
    for (auto it = values.begin(); it != values.end() && std::distance(values.begin(), it) < 6; ++it)
      seen += (seen.empty() ? "" : ", ") + number_text(*it);
    if (values.size() > 6) seen += ", ...";
    throw Error(data.source + ": the labels are numbers (" + seen + "), but " + owner + "'s classes are names (" +
                class_list(encoding) + "); label the file with those names, so that no number is mapped onto a "
                "class by guesswork");
  }
  for (std::size_t j = 0; j < m; ++j) {
    const auto found = std::find(encoding.classes.begin(), encoding.classes.end(), data.targets[j]);
    if (found == encoding.classes.end())
      throw Error(data.place_of(j) + ": label " + number_text(data.targets[j]) + " is not one of " + owner +
                  "'s classes (" + class_list(encoding) + ")");
    indices[j] = static_cast<double>(found - encoding.classes.begin());
  }
  return indices;
}

double accuracy_of(const std::vector<double>& predicted, const std::vector<double>& truth) {
  if (predicted.size() != truth.size() || truth.empty())
    throw Error("accuracy: " + std::to_string(predicted.size()) + " predictions for " + std::to_string(truth.size()) +
                " labels");
  std::size_t correct = 0;
  for (std::size_t j = 0; j < truth.size(); ++j) correct += predicted[j] == truth[j];
  return static_cast<double>(correct) / static_cast<double>(truth.size());
}

double mse_of(const std::vector<double>& predicted, const std::vector<double>& truth) {
  if (predicted.size() != truth.size() || truth.empty())
    throw Error("mse: " + std::to_string(predicted.size()) + " predictions for " + std::to_string(truth.size()) +
                " targets");
  double sum = 0;
  for (std::size_t j = 0; j < truth.size(); ++j) sum += (predicted[j] - truth[j]) * (predicted[j] - truth[j]);
  return sum / static_cast<double>(truth.size());
}

std::vector<double> example_weights(const FitSettings& s, const Dataset& train, const TargetEncoding& encoding,
                                    const std::vector<double>& class_of_example) {
  std::vector<double> weights;
  if (s.balanced_class_weights || !s.class_weights.empty()) {
    const std::size_t K = encoding.classes.size();
    std::vector<double> per_class = s.class_weights;
    if (s.balanced_class_weights) {
      // w_c = m / (K * count_c), as scikit-learn's "balanced"
      std::vector<double> count(K, 0.0);
      for (double c : class_of_example) count[static_cast<std::size_t>(c)] += 1;
      per_class.assign(K, 0.0);
      for (std::size_t k = 0; k < K; ++k)
        per_class[k] = count[k] > 0 ? static_cast<double>(class_of_example.size()) / (static_cast<double>(K) * count[k]) : 0.0;
    }
    for (double c : class_of_example) weights.push_back(per_class.at(static_cast<std::size_t>(c)));
  }
  if (!train.weights.empty()) {
    if (weights.empty()) weights.assign(train.weights.size(), 1.0);
    for (std::size_t j = 0; j < weights.size(); ++j) weights[j] *= train.weights[j];
  }
  return weights;
}

std::vector<std::pair<std::string, std::string>> describe_settings(const FitSettings& s, const FitPlan& plan) {
  std::vector<std::pair<std::string, std::string>> d;
  auto add = [&d](const char* key, std::string value) { d.emplace_back(key, std::move(value)); };
  std::string activations;
  for (Activation a : s.hidden_activations) activations += (activations.empty() ? "" : ",") + std::string(to_string(a));
  add("task", std::string(to_string(plan.task.task)));
  add("network", plan.architecture.describe());
  add("hidden_activations", activations);
  add("dtype", s.float64 ? "float64" : "float32");
  if (s.float_products == FloatProducts::bf16) add("float_products", "bf16");
  add("init", std::string(to_string(plan.init)));
  if (plan.init == InitScheme::small) add("init_scale", number_text(s.init_scale));
  add("rng", std::string(to_string(s.rng)));
  add("seed", std::to_string(s.seed));
  add("normalization", std::string(to_string(plan.normalization)));
  if (plan.encoding.output == Output::linear) add("scale_target", plan.scale_target ? "yes" : "no");
  add("learning_rate", number_text(plan.learning_rate));
  if (s.validation_fraction > 0) add("validation_fraction", number_text(s.validation_fraction));
  if (s.full_batch_gd) {
    add("mode", "full-batch gradient descent");
    add("iterations", std::to_string(s.iterations));
    return d;
  }
  add("mode", "mini-batch");
  add("optimizer", std::string(to_string(s.optimizer.kind)));
  switch (s.optimizer.kind) {
    case OptimizerKind::momentum:
    case OptimizerKind::nesterov: add("momentum", number_text(s.optimizer.momentum)); break;
    case OptimizerKind::rmsprop:
      add("rho", number_text(s.optimizer.rho));
      add("epsilon", number_text(s.optimizer.epsilon));
      break;
    case OptimizerKind::adamw: add("weight_decay", number_text(s.optimizer.weight_decay)); [[fallthrough]];
    case OptimizerKind::adam:
      add("beta1", number_text(s.optimizer.beta1));
      add("beta2", number_text(s.optimizer.beta2));
      add("epsilon", number_text(s.optimizer.epsilon));
      break;
    case OptimizerKind::sgd: break;
  }
  add("batch_size", plan.batch_size == 0 ? std::string("full") : std::to_string(plan.batch_size));
  if (s.drop_last) add("drop_last", "yes");
  if (plan.gradient_blocks > 1) add("gradient_blocks", std::to_string(plan.gradient_blocks));
  if (s.epochs > 0) {
    add("epochs", std::to_string(s.epochs));
  } else {
    add("max_epochs", std::to_string(s.max_epochs));
    add("tolerance", number_text(s.tolerance));
    add("n_iter_no_change", std::to_string(s.n_iter_no_change));
  }
  add("schedule", std::string(to_string(s.schedule.kind)));
  switch (s.schedule.kind) {
    case ScheduleKind::step:
      add("lr_step", std::to_string(s.schedule.step_size));
      add("lr_gamma", number_text(s.schedule.gamma));
      break;
    case ScheduleKind::exponential: add("lr_gamma", number_text(s.schedule.gamma)); break;
    case ScheduleKind::inverse_time: add("lr_decay", number_text(s.schedule.decay)); break;
    case ScheduleKind::cosine: add("min_lr", number_text(s.schedule.min_lr)); break;
    case ScheduleKind::constant: break;
  }
  if (s.schedule.warmup_epochs > 0) add("warmup", std::to_string(s.schedule.warmup_epochs));
  if (s.l2 != 0) add("l2", number_text(s.l2));
  if (!s.dropout.empty()) add("dropout", list_text(s.dropout));
  if (s.clip_norm != 0) add("clip_norm", number_text(s.clip_norm));
  if (s.balanced_class_weights) add("class_weights", "balanced");
  if (!s.class_weights.empty()) add("class_weights", list_text(s.class_weights));
  if (s.patience > 0) {
    add("patience", std::to_string(s.patience));
    add("min_delta", number_text(s.min_delta));
  }
  return d;
}

namespace {

// Calls f(values, count) over the features of `data` in storage order, as
// doubles: X directly, pixels or singles widened 4096 at a time (a multiple of
// 4, so a word hash sees the same words in the same lanes either way).
template <typename F>
void for_feature_doubles(const Dataset& data, F f) {
  if (!data.has_pixels() && !data.has_singles()) {
    f(data.X.data(), static_cast<std::size_t>(data.X.size()));
    return;
  }
  constexpr std::size_t chunk = 4096;
  double buffer[chunk];
  auto widen = [&](const auto* values, std::size_t total) {
    for (std::size_t first = 0; first < total; first += chunk) {
      const std::size_t count = std::min(chunk, total - first);
      for (std::size_t k = 0; k < count; ++k) buffer[k] = static_cast<double>(values[first + k]);
      f(buffer, count);
    }
  };
  if (data.has_pixels())
    widen(data.pixels.data(), static_cast<std::size_t>(data.pixels.size()));
  else
    widen(data.singles_view().data(), static_cast<std::size_t>(data.singles_view().size()));
}

// Format 1 of the fingerprint (deepnet before 0.1.0's Python module): FNV-1a
// over every byte. Kept to recognise the checkpoints it was written into.
std::uint64_t byte_fingerprint(const Dataset& data) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, 64 bit
  auto mix = [&h](const void* bytes, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(bytes);
    for (std::size_t k = 0; k < size; ++k) h = (h ^ p[k]) * 0x100000001b3ull;
  };
  const std::int64_t shape[2] = {static_cast<std::int64_t>(data.features()), static_cast<std::int64_t>(data.examples())};
  mix(shape, sizeof shape);
  for_feature_doubles(data, [&](const double* values, std::size_t count) { mix(values, count * sizeof(double)); });
  mix(data.targets.data(), data.targets.size() * sizeof(double));
  for (const std::string& name : data.class_names) mix(name.data(), name.size() + 1);
  return h;
}

}  // namespace

std::uint64_t data_fingerprint(const Dataset& data) {
  // FNV-1a over 64-bit words in four interleaved lanes (no chain of one
  // multiply per byte: 60000 x 784 features took 0.5 s byte by byte), folded.
  constexpr std::uint64_t prime = 0x100000001b3ull;
  std::uint64_t lane[4] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull, 0xcbf29ce4cbf29ce4ull, 0x8422232584222325ull};
  auto mix_words = [&lane](const double* values, std::size_t count) {
    std::size_t k = 0;
    for (; k + 4 <= count; k += 4)
      for (int l = 0; l < 4; ++l) {
        std::uint64_t word;
        std::memcpy(&word, values + k + static_cast<std::size_t>(l), sizeof word);
        lane[l] = (lane[l] ^ word) * prime;
      }
    for (; k < count; ++k) {
      std::uint64_t word;
      std::memcpy(&word, values + k, sizeof word);
      lane[0] = (lane[0] ^ word) * prime;
    }
  };
  auto mix_bytes = [&lane](const void* bytes, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(bytes);
    for (std::size_t k = 0; k < size; ++k) lane[1] = (lane[1] ^ p[k]) * prime;
  };
  const std::int64_t shape[2] = {static_cast<std::int64_t>(data.features()), static_cast<std::int64_t>(data.examples())};
  mix_bytes(shape, sizeof shape);
  for_feature_doubles(data, mix_words);
  mix_bytes(shape, 1);  // separates X from the targets
  mix_words(data.targets.data(), data.targets.size());
  for (const std::string& name : data.class_names) mix_bytes(name.data(), name.size() + 1);
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::uint64_t v : lane) h = (h ^ v) * prime;
  return h;
}

std::string data_fingerprint_text(const Dataset& data) {
  char text[24];
  std::snprintf(text, sizeof text, "w%016llx", static_cast<unsigned long long>(data_fingerprint(data)));
  return text;
}

bool same_data_fingerprint(const std::string& recorded, const Dataset& data) {
  if (recorded.size() == 16 && recorded.find_first_not_of("0123456789abcdef") == std::string::npos) {
    char text[24];  // format 1: 16 hex digits of the byte-wise hash
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(byte_fingerprint(data)));
    return recorded == text;
  }
  return recorded == data_fingerprint_text(data);
}

}  // namespace deepnet
