// `deepnet train`: load data, build and train the network, report, save.
#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <unistd.h>

#include <memory>

#include <algorithm>
#include <thread>

#include "cli/cli.hpp"
#include "deepnet/gemm.hpp"
#include "cli/progress.hpp"
#include "deepnet/error.hpp"
#include "deepnet/metrics.hpp"
#include "deepnet/model_file.hpp"
#include "deepnet/optimizer.hpp"
#include "deepnet/train.hpp"
#include "io/atomic_write.hpp"

namespace deepnet::cli {

namespace {

struct TrainSettings {
  DataFlags data;
  NetworkFlags network;
  double learning_rate = 0.0075;  // course mode default; mini-batch mode: see default_learning_rate
  int iterations = 2500;
  // Mini-batch mode (any of these given, or no --iterations):
  int epochs = 10;
  std::string batch_size = "128";
  bool drop_last = false;
  std::string optimizer;  // default: gd in course mode, adam in mini-batch mode
  OptimizerSettings optimizer_settings;
  std::string schedule = "constant";
  double lr_gamma = 0.5;
  int lr_step = 10;
  double lr_decay = 0.1;
  double min_lr = 0;
  int warmup = 0;
  double l2 = 0;
  std::string dropout;
  double clip_norm = 0;
  std::string class_weight;
  std::string sample_weight_column;
  int patience = 0;
  double min_delta = 0;
  std::string checkpoint;
  int checkpoint_every = 1;
  std::string resume;
  bool minibatch = false;  // decided in run_train
  bool lr_given = false;
  bool iterations_given = false;
  int print_every = 100;
  std::string history;
  std::string out;
  std::string test;
  double val_split = 0;
  std::string normalize = "auto";
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool json = false;
  bool quiet = false;
};

// Accuracy (or MSE) and cost of a trained network on one data part.
struct PartResult {
  std::string name;
  std::int64_t examples = 0;
  double cost = 0;
  double accuracy = -1;  // classifiers
  double mse = -1;       // regression
};

// X in the training precision. A value beyond float32's range would silently
// become infinite: a data error naming the example and feature instead.
template <typename T>
Matrix<T> in_precision(const Matrix<double>& X, const std::string& source) {
  if constexpr (sizeof(T) == sizeof(float)) {
    const double largest = static_cast<double>(std::numeric_limits<float>::max());
    for (Eigen::Index j = 0; j < X.cols(); ++j)
      for (Eigen::Index i = 0; i < X.rows(); ++i)
        if (std::abs(X(i, j)) > largest && std::isfinite(X(i, j))) {
          char value[32];
          std::snprintf(value, sizeof value, "%g", X(i, j));
          throw CliError(exit_data, source + ": feature " + std::to_string(i) + " of example " + std::to_string(j) +
                                        " is " + value + " after normalisation, beyond float32's range (3.4e38); use "
                                        "--dtype float64, --normalize standard, or rescale the data");
        }
  }
  return X.cast<T>();
}

template <typename T>
PartResult evaluate_part(Network<T>& net, const std::string& name, const Matrix<double>& X,
                         const Matrix<T>& labels, bool regression) {
  const Matrix<T> Xt = in_precision<T>(X, name + " data");
  PartResult r;
  r.name = name;
  r.examples = X.cols();
  const Matrix<T> predictions = net.predict(Xt);  // leaves the forward caches at Xt
  r.cost = net.cost(make_targets<T>(net.architecture().output, net.units(net.layers()), labels));
  if (regression)
    r.mse = (predictions - labels).squaredNorm() / static_cast<double>(labels.cols());
  else
    r.accuracy = accuracy<T>(predictions, labels);
  return r;
}

// The model file's contents for a trained network.
Model build_model(const TrainSettings& s, const NetworkPlan& plan, const Architecture& arch,
                  const TargetEncoding& encoding, const Normalizer& normalizer, const Dataset& train, bool float64,
                  const std::vector<double>& parameters, const std::string& optimizer, std::int64_t steps,
                  double final_cost) {
  Model model;
  model.architecture = arch;
  model.float64 = float64;
  model.parameters = parameters;
  model.normalizer = normalizer;
  model.encoding = encoding;
  model.feature_names = train.feature_names;
  model.target_name = train.target_name;
  model.training.seed = s.network.seed;
  model.training.rng = std::string(to_string(plan.rng));
  model.training.init = std::string(to_string(plan.init));
  model.training.optimizer = optimizer;
  model.training.learning_rate = s.learning_rate;
  model.training.iterations = steps;
  model.training.final_cost = final_cost;
  model.training.deepnet_version = DEEPNET_VERSION;
  return model;
}

// Labels in label form and training targets for the training data.
template <typename T>
std::pair<Matrix<T>, Matrix<T>> labels_and_targets(const Architecture& arch, const TargetEncoding& encoding,
                                                   const Dataset& data) {
  return with_exit_code(exit_data, [&] {
    Matrix<T> labels = encode_labels<T>(encoding, targets_in_encoding(data, encoding));
    Matrix<T> Y = make_targets<T>(arch.output, arch.sizes.back(), labels);
    return std::pair{std::move(labels), std::move(Y)};
  });
}

void report(const TrainSettings& s, const Architecture& arch, const std::vector<PartResult>& results, int steps,
            double final_cost, int best_epoch) {
  if (s.json) {
    nlohmann::ordered_json j;
    j["network"] = arch.describe();
    j[s.minibatch ? "epochs" : "iterations"] = steps;
    if (best_epoch > 0) j["best_epoch"] = best_epoch;
    j["final_cost"] = final_cost;
    for (const PartResult& r : results) {
      nlohmann::ordered_json part;
      part["examples"] = r.examples;
      part["cost"] = r.cost;
      if (r.accuracy >= 0) part["accuracy"] = r.accuracy;
      if (r.mse >= 0) part["mse"] = r.mse;
      j[r.name] = part;
    }
    if (!s.out.empty()) j["model"] = s.out;
    std::cout << j.dump() << '\n';
    return;
  }
  if (best_epoch > 0 && !s.quiet) std::printf("early stopping: kept the weights of epoch %d\n", best_epoch);
  for (const PartResult& r : results) {
    if (r.accuracy >= 0)
      std::printf("%s accuracy: %.4f\n", r.name.c_str(), r.accuracy);
    else
      std::printf("%s mse: %.6g\n", r.name.c_str(), r.mse);
  }
  if (!s.out.empty() && !s.quiet) std::printf("model saved to %s\n", s.out.c_str());
}

template <typename T>
int run_training(const TrainSettings& s, const NetworkPlan& plan, const Architecture& arch,
                 const TargetEncoding& encoding, const Normalizer& normalizer, const Dataset& train,
                 const Matrix<double>& X_train, const Dataset* validation, const Matrix<double>* X_val) {
  const Matrix<T> X = in_precision<T>(X_train, s.data.data);
  const auto [labels, Y] = labels_and_targets<T>(arch, encoding, train);
  Matrix<T> val_labels;
  if (validation)
    val_labels = with_exit_code(exit_data, [&] {
      const Matrix<T> l = encode_labels<T>(encoding, targets_in_encoding(*validation, encoding));
      make_targets<T>(arch.output, arch.sizes.back(), l);  // range check
      return l;
    });

  Network<T> network(arch);
  Rng rng(s.network.seed, plan.rng);
  initialize(network, plan.init, rng, s.network.init_scale);

  // Progress lines go to stdout as the course prints them, or to stderr when
  // stdout carries JSON.
  FILE* progress = s.json ? stderr : stdout;
  if (!s.quiet)
    std::fprintf(progress, "network: %s, %lld examples, %s, init %s, rng %s seed %llu\n",
                 arch.describe().c_str(), static_cast<long long>(X.cols()), s.network.dtype.c_str(),
                 std::string(to_string(plan.init)).c_str(), std::string(to_string(plan.rng)).c_str(),
                 static_cast<unsigned long long>(s.network.seed));
  GradientDescentOptions options;
  options.learning_rate = s.learning_rate;
  options.iterations = s.iterations;
  options.record_every = s.print_every;
  // On a terminal a progress bar on stderr; the plain lines always go to `progress`.
  std::unique_ptr<ProgressBar> bar;
  if (!s.quiet && ::isatty(STDERR_FILENO)) {
    bar = std::make_unique<ProgressBar>(s.iterations, X.cols(), "iteration");
    options.on_iteration = [&bar](int done) { bar->update(done); };
  }
  if (!s.quiet)
    options.on_record = [progress, &bar](const CostRecord& r) {
      if (bar) bar->set_cost(r.cost);
      if (bar && progress == stderr) return;  // the bar shows it
      if (bar) bar->clear();                   // the line takes the bar's place; the bar redraws below it
      std::fprintf(progress, "iteration %d: cost %.6f\n", r.iteration, r.cost);
      std::fflush(progress);
    };
  const std::vector<CostRecord> history = train_gradient_descent(network, X, Y, options);

  if (!s.history.empty()) {
    std::string csv = "iteration,cost\n";
    char line[64];
    for (const CostRecord& r : history) {
      std::snprintf(line, sizeof line, "%d,%.17g\n", r.iteration, r.cost);
      csv += line;
    }
    with_exit_code(exit_other, [&] {
      io::write_file_atomically(s.history, csv);
      return 0;
    });
  }

  const bool regression = arch.output == Output::linear;
  std::vector<PartResult> results;
  results.push_back(evaluate_part(network, "training", X_train, labels, regression));
  if (validation)
    results.push_back(evaluate_part(network, s.test.empty() && s.val_split > 0 ? "validation" : "test",
                                    *X_val, val_labels, regression));

  if (!s.out.empty()) {
    const std::vector<double> parameters(network.parameters().begin(), network.parameters().end());
    const Model model = build_model(s, plan, arch, encoding, normalizer, train, sizeof(T) == 8, parameters, "gd",
                                    s.iterations, history.back().cost);
    with_exit_code(exit_model, [&] {
      save_model(s.out, model);
      return 0;
    });
  }

  report(s, arch, results, s.iterations, history.back().cost, 0);
  return exit_ok;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "";
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// Per-epoch history: CSV (epoch,train_cost,val_cost,val_accuracy,lr,seconds) or JSON by extension.
void write_epoch_history(const std::string& path, const std::vector<EpochRecord>& history) {
  const bool json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  std::string text;
  if (json) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const EpochRecord& r : history) {
      nlohmann::ordered_json row;
      row["epoch"] = r.epoch;
      row["train_cost"] = r.train_cost;
      row["val_cost"] = std::isnan(r.validation_cost) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.validation_cost);
      row["val_accuracy"] = std::isnan(r.validation_accuracy) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.validation_accuracy);
      row["lr"] = r.learning_rate;
      row["seconds"] = r.seconds;
      rows.push_back(row);
    }
    text = rows.dump(1) + "\n";
  } else {
    text = "epoch,train_cost,val_cost,val_accuracy,lr,seconds\n";
    for (const EpochRecord& r : history)
      text += std::to_string(r.epoch) + "," + format_number(r.train_cost) + "," + format_number(r.validation_cost) + "," +
              format_number(r.validation_accuracy) + "," + format_number(r.learning_rate) + "," + format_number(r.seconds) + "\n";
  }
  with_exit_code(exit_other, [&] {
    io::write_file_atomically(path, text);
    return 0;
  });
}

std::vector<double> parse_numbers(const std::string& flag, const std::string& text) {
  std::vector<double> values;
  for (const std::string& item : split_list(text)) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || !std::isfinite(v))
      throw CliError(exit_usage, flag + ": expected numbers separated by commas, got '" + item + "'");
    values.push_back(v);
  }
  return values;
}

// Per-example weights from --class-weight and --sample-weight-column (multiplied).
std::vector<double> example_weights(const TrainSettings& s, const Dataset& train, const TargetEncoding& encoding,
                                    const std::vector<double>& class_of_example) {
  std::vector<double> weights;
  if (!s.class_weight.empty()) {
    if (encoding.output == Output::linear)
      throw CliError(exit_usage, "--class-weight: the labels are regression targets, not classes");
    const std::size_t K = encoding.classes.size();
    std::vector<double> per_class(K, 1.0);
    if (s.class_weight == "balanced") {
      // w_c = m / (K * count_c), as scikit-learn's "balanced"
      std::vector<double> count(K, 0.0);
      for (double c : class_of_example) count[static_cast<std::size_t>(c)] += 1;
      for (std::size_t k = 0; k < K; ++k)
        per_class[k] = count[k] > 0 ? static_cast<double>(class_of_example.size()) / (static_cast<double>(K) * count[k]) : 0.0;
    } else {
      per_class = parse_numbers("--class-weight", s.class_weight);
      if (per_class.size() != K)
        throw CliError(exit_usage, "--class-weight: " + std::to_string(per_class.size()) + " weights for " +
                                       std::to_string(K) + " classes; give 'balanced' or one per class");
      for (double w : per_class)
        if (w < 0) throw CliError(exit_usage, "--class-weight: weights must be >= 0");
    }
    for (double c : class_of_example) weights.push_back(per_class[static_cast<std::size_t>(c)]);
  }
  if (!train.weights.empty()) {
    if (weights.empty()) weights.assign(train.weights.size(), 1.0);
    for (std::size_t j = 0; j < weights.size(); ++j) weights[j] *= train.weights[j];
  }
  return weights;
}

template <typename T>
int run_minibatch(const TrainSettings& s, const NetworkPlan& plan, const Architecture& arch,
                  const TargetEncoding& encoding, const Normalizer& normalizer, const Dataset& train,
                  const Matrix<double>& X_train, const Dataset* validation, const Matrix<double>* X_val) {
  const Matrix<T> X = in_precision<T>(X_train, s.data.data);
  const auto [labels, Y] = labels_and_targets<T>(arch, encoding, train);
  std::vector<double> classes(static_cast<std::size_t>(labels.cols()));
  for (Eigen::Index j = 0; j < labels.cols(); ++j) classes[static_cast<std::size_t>(j)] = labels(0, j);

  MiniBatchOptions options;
  options.epochs = s.epochs;
  options.batch_size = s.batch_size == "full" ? 0 : std::stoll(s.batch_size);
  options.drop_last = s.drop_last;
  options.optimizer = s.optimizer_settings;
  options.optimizer.kind = with_exit_code(exit_usage, [&] { return parse_optimizer(s.optimizer.empty() ? "adam" : s.optimizer); });
  options.schedule.kind = with_exit_code(exit_usage, [&] { return parse_schedule(s.schedule); });
  options.schedule.alpha = s.learning_rate;
  options.schedule.gamma = s.lr_gamma;
  options.schedule.step_size = s.lr_step;
  options.schedule.decay = s.lr_decay;
  options.schedule.min_lr = s.min_lr;
  options.schedule.warmup_epochs = s.warmup;
  options.l2 = s.l2;
  if (!s.dropout.empty()) options.dropout = parse_numbers("--dropout", s.dropout);
  options.clip_norm = s.clip_norm;
  options.example_weights = example_weights(s, train, encoding, classes);
  options.patience = s.patience;
  options.min_delta = s.min_delta;
  options.seed = s.network.seed;
  with_exit_code(exit_usage, [&] {
    options.optimizer.validate();
    options.schedule.validate();
    Network<T> probe(arch);
    probe.set_l2(options.l2);
    probe.set_dropout(options.dropout, nullptr);
    return 0;
  });

  Matrix<double> Y_val, val_labels;
  ValidationSet val;
  if (validation) {
    val_labels = with_exit_code(exit_data, [&] {
      return encode_labels<double>(encoding, targets_in_encoding(*validation, encoding));
    });
    Y_val = with_exit_code(exit_data, [&] { return make_targets<double>(arch.output, arch.sizes.back(), val_labels); });
    val.X = X_val;
    val.Y = &Y_val;
    if (arch.output != Output::linear) val.labels = &val_labels;
  }
  if (s.patience > 0 && !validation)
    throw CliError(exit_usage, "--patience needs a validation set: give --val-split F or --test FILE");

  auto make_model = [&](const std::vector<double>& parameters, double final_cost) {
    return build_model(s, plan, arch, encoding, normalizer, train, sizeof(T) == 8, parameters,
                       std::string(to_string(options.optimizer.kind)), s.epochs, final_cost);
  };

  Network<T> network(arch);
  TrainerState resume_state;
  const TrainerState* resume = nullptr;
  if (!s.resume.empty()) {
    Checkpoint c = with_exit_code(exit_model, [&] { return load_checkpoint(s.resume); });
    if (c.model.architecture.describe() != arch.describe() || c.model.float64 != (sizeof(T) == 8))
      throw CliError(exit_usage, s.resume + ": the checkpoint is for a " + c.model.architecture.describe() + " " +
                                     (c.model.float64 ? "float64" : "float32") + " network, not " + arch.describe() +
                                     " " + s.network.dtype + "; use the same network flags");
    if (c.state.epochs_done >= s.epochs)
      throw CliError(exit_usage, "--epochs " + std::to_string(s.epochs) + " is the total, and " + s.resume +
                                     " already holds " + std::to_string(c.state.epochs_done) + " epochs");
    resume_state = std::move(c.state);
    resume = &resume_state;
  } else {
    Rng rng(s.network.seed, plan.rng);
    initialize(network, plan.init, rng, s.network.init_scale);
  }

  FILE* progress = s.json ? stderr : stdout;
  if (!s.quiet)
    std::fprintf(progress, "network: %s, %lld examples, %s, %s lr %g, batch %s, %d epochs%s\n", arch.describe().c_str(),
                 static_cast<long long>(X.cols()), s.network.dtype.c_str(), std::string(to_string(options.optimizer.kind)).c_str(),
                 s.learning_rate, s.batch_size.c_str(), s.epochs,
                 resume ? (", resuming after epoch " + std::to_string(resume->epochs_done)).c_str() : "");
  std::unique_ptr<ProgressBar> bar;
  if (!s.quiet && ::isatty(STDERR_FILENO)) {
    bar = std::make_unique<ProgressBar>(0, s.batch_size == "full" ? X.cols() : std::stoll(s.batch_size), "step");
    options.on_step = [&bar](long long done, long long total) { bar->update(done, total); };
  }
  if (!s.quiet)
    options.on_epoch = [&](const EpochRecord& r) {
      if (bar) {
        bar->set_cost(r.train_cost);
        if (progress == stderr) return;
        bar->clear();
      }
      std::fprintf(progress, "epoch %d: cost %.6f", r.epoch, r.train_cost);
      if (!std::isnan(r.validation_cost)) std::fprintf(progress, ", val cost %.6f", r.validation_cost);
      if (!std::isnan(r.validation_accuracy)) std::fprintf(progress, ", val accuracy %.4f", r.validation_accuracy);
      std::fprintf(progress, ", lr %.3g, %.1f s\n", r.learning_rate, r.seconds);
      std::fflush(progress);
    };
  if (!s.checkpoint.empty()) {
    options.checkpoint_every = s.checkpoint_every;
    options.on_checkpoint = [&](const TrainerState& state) {
      Checkpoint c;
      c.model = make_model(state.parameters, state.history.back().train_cost);
      c.state = state;
      // The last checkpoint of a run: write --out first (the model the run ends with;
      // the best epoch's when stopping early), so that a kill between the two writes
      // leaves a checkpoint that resumes and writes the model again, never a finished
      // checkpoint without its model.
      const bool stopping = s.patience > 0 && state.bad_epochs >= s.patience;
      if (!s.out.empty() && (state.epochs_done >= s.epochs || stopping)) {
        const bool best = s.patience > 0 && !state.best_parameters.empty();
        with_exit_code(exit_model, [&] {
          save_model(s.out, make_model(best ? state.best_parameters : state.parameters, state.history.back().train_cost));
          return 0;
        });
      }
      with_exit_code(exit_model, [&] {
        save_checkpoint(s.checkpoint, c);
        return 0;
      });
    };
  }
  const TrainerState state = with_exit_code(exit_other, [&] {
    return train_minibatch<T>(network, X, Y, val, options, resume);
  });
  if (!s.history.empty()) write_epoch_history(s.history, state.history);

  const bool regression = arch.output == Output::linear;
  std::vector<PartResult> results;
  results.push_back(evaluate_part(network, "training", X_train, labels, regression));
  if (validation) {
    const Matrix<T> vl = val_labels.cast<T>();
    results.push_back(evaluate_part(network, s.test.empty() && s.val_split > 0 ? "validation" : "test", *X_val, vl, regression));
  }
  if (!s.out.empty())
    with_exit_code(exit_model, [&] {
      save_model(s.out, make_model(state.parameters, state.history.back().train_cost));
      return 0;
    });
  report(s, arch, results, static_cast<int>(state.history.size()), state.history.back().train_cost,
         state.best_epoch > 0 && s.patience > 0 ? state.best_epoch : 0);
  return exit_ok;
}

int run_train(TrainSettings s) {
  // Settings first (usage errors, exit 2), then data (exit 3).
  const NetworkPlan plan = plan_network(s.network);
  if (s.epochs < 1) throw CliError(exit_usage, "--epochs: expected at least 1, got " + std::to_string(s.epochs));
  if (s.batch_size != "full") {
    std::size_t used = 0;
    long long b = -1;
    try {
      b = std::stoll(s.batch_size, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.batch_size.size() || b < 0)
      throw CliError(exit_usage, "--batch-size: expected a number of examples, 0 or 'full', got '" + s.batch_size + "'");
    if (b == 0) s.batch_size = "full";
  }
  if (!s.optimizer.empty()) with_exit_code(exit_usage, [&] { return parse_optimizer(s.optimizer); });
  if (s.minibatch && s.iterations_given)
    throw CliError(exit_usage, "--iterations is for full-batch gradient descent (the course's loop); with --epochs, "
                               "--batch-size, --resume or an optimizer other than gd use --epochs");
  if (!s.minibatch && !s.iterations_given && s.optimizer.empty()) s.minibatch = true;  // the modern default
  if (!s.minibatch && !s.optimizer.empty() && s.optimizer != "gd" && s.optimizer != "sgd") s.minibatch = true;
  if (s.minibatch && !s.lr_given) {
    const OptimizerKind kind = parse_optimizer(s.optimizer.empty() ? "adam" : s.optimizer);
    s.learning_rate = kind == OptimizerKind::sgd || kind == OptimizerKind::momentum || kind == OptimizerKind::nesterov ? 0.01 : 1e-3;
  }
  if (!s.minibatch)
    for (const auto& [given, flag] : {std::pair{s.l2 != 0, "--l2"}, std::pair{!s.dropout.empty(), "--dropout"},
                                      std::pair{s.clip_norm != 0, "--clip-norm"}, std::pair{!s.class_weight.empty(), "--class-weight"},
                                      std::pair{!s.sample_weight_column.empty(), "--sample-weight-column"},
                                      std::pair{s.patience != 0, "--patience"}, std::pair{!s.checkpoint.empty(), "--checkpoint"}})
      if (given)
        throw CliError(exit_usage, std::string(flag) + " belongs to mini-batch training: use --epochs (and --batch-size) "
                                   "instead of --iterations");
  if (!(std::isfinite(s.learning_rate) && s.learning_rate > 0))
    throw CliError(exit_usage, "--lr: expected a finite learning rate > 0, got " + std::to_string(s.learning_rate));
  if (s.iterations < 1) throw CliError(exit_usage, "--iterations: expected at least 1, got " + std::to_string(s.iterations));
  if (s.print_every < 1) throw CliError(exit_usage, "--print-every: expected at least 1, got " + std::to_string(s.print_every));
  if (s.threads < 1) throw CliError(exit_usage, "--threads: expected at least 1, got " + std::to_string(s.threads));
  if (!s.test.empty() && s.val_split > 0)
    throw CliError(exit_usage, "--test and --val-split both name a validation set; give one of them");
  if (s.val_split != 0 && !(s.val_split > 0 && s.val_split < 1))
    throw CliError(exit_usage, "--val-split: expected a fraction between 0 and 1, got " + std::to_string(s.val_split));
  if (s.normalize != "auto") with_exit_code(exit_usage, [&] { return parse_normalization(s.normalize); });
  set_threads(s.threads);

  DataFlags train_flags = s.data;
  Dataset train = [&] {
    if (s.sample_weight_column.empty()) return load_data(s.data, s.data.data);
    CsvOptions options = csv_options(s.data);
    options.weight_column = s.sample_weight_column;
    return with_exit_code(exit_data, [&] {
      Dataset d = load_dataset(s.data.data, options, s.data.arrays);
      check_finite_features(d);
      if (d.weights.empty()) throw Error(d.source + ": --sample-weight-column is for CSV files");
      return d;
    });
  }();
  const TargetEncoding encoding = choose_encoding(s.network, train);
  Dataset validation;
  bool has_validation = false;
  if (!s.test.empty()) {
    validation = load_data(s.data, s.test);
    has_validation = true;
  } else if (s.val_split > 0) {
    auto parts = with_exit_code(exit_data, [&] {
      return split_dataset(train, s.val_split, encoding.output != Output::linear, s.network.seed);
    });
    train = std::move(parts.first);
    validation = std::move(parts.second);
    has_validation = true;
  } else if (is_builtin_dataset(s.data.data) && s.data.data.find(':') == std::string::npos) {
    for (const auto& d : builtin_datasets())
      if (d.name == s.data.data && d.has_test_part) {
        validation = load_data(s.data, s.data.data + ":test");
        has_validation = true;
      }
  }
  if (has_validation && validation.features() != train.features())
    throw CliError(exit_data, validation.source + ": has " + std::to_string(validation.features()) +
                                  " features but the training data " + train.source + " has " +
                                  std::to_string(train.features()));
  const Architecture arch = make_architecture(s.network, plan, static_cast<int>(train.features()), encoding);

  const Normalization normalization = choose_normalization(s.normalize, train);
  const Normalizer normalizer = with_exit_code(exit_data, [&] { return Normalizer::fit(normalization, train.X); });
  Matrix<double> X_train = train.X;
  normalizer.apply(X_train);
  Matrix<double> X_val;
  if (has_validation) {
    X_val = validation.X;
    normalizer.apply(X_val);
  }
  const Dataset* val = has_validation ? &validation : nullptr;
  if (s.minibatch) {
    if (s.network.dtype == "float64")
      return run_minibatch<double>(s, plan, arch, encoding, normalizer, train, X_train, val, &X_val);
    return run_minibatch<float>(s, plan, arch, encoding, normalizer, train, X_train, val, &X_val);
  }
  if (s.network.dtype == "float64")
    return run_training<double>(s, plan, arch, encoding, normalizer, train, X_train, val, &X_val);
  return run_training<float>(s, plan, arch, encoding, normalizer, train, X_train, val, &X_val);
}

}  // namespace

Runner add_train_command(CLI::App& app) {
  auto s = std::make_shared<TrainSettings>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a network with full-batch gradient descent; report cost and accuracy; save the model");
  add_data_flags(*cmd, s->data,
                 "Training data: a CSV file (.csv or .csv.gz) or a built-in set (planar, breast-cancer, "
                 "iris, wine, digits, fashion-mnist; NAME:test for a test part); see 'deepnet datasets'");
  add_network_flags(*cmd, s->network);
  CLI::Option* lr = cmd->add_option("--lr,--learning-rate", s->learning_rate,
                                    "Learning rate alpha (> 0); default 0.0075 with --iterations, else 1e-3 for "
                                    "adam/adamw/rmsprop and 0.01 for sgd/momentum/nesterov");
  CLI::Option* iterations = cmd->add_option(
      "--iterations", s->iterations,
      "Full-batch gradient descent for N iterations: the course's loop (default 2500 when chosen)");
  cmd->add_option("--epochs", s->epochs, "Mini-batch training: epochs in all (also the total when resuming)")
      ->capture_default_str();
  cmd->add_option("--batch-size", s->batch_size, "Examples per mini-batch; 0 or 'full' = the whole set")
      ->capture_default_str();
  cmd->add_flag("--drop-last", s->drop_last, "Drop a last batch smaller than --batch-size (default: use it)");
  cmd->add_option("--optimizer", s->optimizer,
                  "gd (= sgd), momentum, nesterov, rmsprop, adam, adamw; default adam (gd with --iterations)");
  cmd->add_option("--momentum", s->optimizer_settings.momentum, "beta of momentum and nesterov")->capture_default_str();
  cmd->add_option("--rho", s->optimizer_settings.rho, "rmsprop's decay of the squared-gradient average")->capture_default_str();
  cmd->add_option("--beta1", s->optimizer_settings.beta1, "adam/adamw first-moment decay")->capture_default_str();
  cmd->add_option("--beta2", s->optimizer_settings.beta2, "adam/adamw second-moment decay")->capture_default_str();
  cmd->add_option("--epsilon", s->optimizer_settings.epsilon, "rmsprop/adam/adamw epsilon")->capture_default_str();
  cmd->add_option("--weight-decay", s->optimizer_settings.weight_decay, "adamw's decoupled weight decay")->capture_default_str();
  cmd->add_option("--schedule", s->schedule,
                  "Learning-rate schedule per epoch: constant, step (x gamma every --lr-step epochs), exponential "
                  "(x gamma each epoch), inverse-time (/(1 + decay epoch)), cosine (to --min-lr)")
      ->capture_default_str();
  cmd->add_option("--lr-gamma", s->lr_gamma, "Factor of the step and exponential schedules")->capture_default_str();
  cmd->add_option("--lr-step", s->lr_step, "Epochs between step-schedule decays")->capture_default_str();
  cmd->add_option("--lr-decay", s->lr_decay, "Decay of the inverse-time schedule")->capture_default_str();
  cmd->add_option("--min-lr", s->min_lr, "Final learning rate of the cosine schedule")->capture_default_str();
  cmd->add_option("--warmup", s->warmup, "Epochs of linear warmup in front of the schedule")->capture_default_str();
  cmd->add_option("--l2", s->l2, "L2 regularisation lambda: cost + lambda/(2m) sum ||W[l]||^2")->capture_default_str();
  cmd->add_option("--dropout", s->dropout, "Inverted dropout probability: one for all hidden layers or one per layer");
  cmd->add_option("--clip-norm", s->clip_norm, "Clip the gradient's global norm to this (0 = off)")->capture_default_str();
  cmd->add_option("--class-weight", s->class_weight, "'balanced' (m / (K count_c)) or one weight per class, comma-separated");
  cmd->add_option("--sample-weight-column", s->sample_weight_column, "CSV column of per-example weights (not a feature)");
  cmd->add_option("--patience", s->patience,
                  "Early stopping: stop after N epochs without a better validation cost, keep the best weights "
                  "(needs --val-split or --test)")
      ->capture_default_str();
  cmd->add_option("--min-delta", s->min_delta, "Smallest validation-cost improvement that counts")->capture_default_str();
  cmd->add_option("--checkpoint", s->checkpoint,
                  "Save a checkpoint here (atomically): parameters, optimizer state, RNG state, epoch, history");
  cmd->add_option("--checkpoint-every", s->checkpoint_every, "Epochs between checkpoints")->capture_default_str();
  cmd->add_option("--resume", s->resume, "Continue from a checkpoint; --epochs stays the total");
  cmd->add_option("--print-every", s->print_every,
                  "Print and record the cost every K iterations (and at the last one)")
      ->capture_default_str();
  cmd->add_option("--history", s->history,
                  "Write the history: with --iterations CSV 'iteration,cost'; with epochs CSV "
                  "'epoch,train_cost,val_cost,val_accuracy,lr,seconds', or JSON when FILE ends in .json");
  cmd->add_option("--out", s->out, "Save the trained model to this file (written atomically)");
  cmd->add_option("--test", s->test, "Evaluate on this data file after training (same CSV options)");
  cmd->add_option("--val-split", s->val_split,
                  "Hold out this fraction of the training data for validation (stratified by class, seeded "
                  "by --seed)");
  cmd->add_option("--normalize", s->normalize,
                  "Feature scaling fitted on the training data and stored in the model: auto (div255 for "
                  "8-bit image arrays such as IDX or uint8 NPY/HDF5, else none), none, standard (mean 0, "
                  "std 1), minmax ([0, 1]), div255 (x / 255)")
      ->capture_default_str();
  cmd->add_option("--threads", s->threads, "Threads for the matrix products and element-wise passes (default: all cores; the result has the same bits with any count)")->capture_default_str();
  cmd->add_flag("--json", s->json, "Print the final metrics as one JSON object on stdout (progress goes to stderr)");
  cmd->add_flag("--quiet", s->quiet, "Print only the final result");
  return [s, cmd, lr, iterations] {
    s->lr_given = lr->count() > 0;
    s->iterations_given = iterations->count() > 0;
    for (const char* flag : {"--epochs", "--batch-size", "--drop-last", "--resume", "--checkpoint"})
      if (cmd->count(flag) > 0) s->minibatch = true;
    return run_train(*s);
  };
}

}  // namespace deepnet::cli
