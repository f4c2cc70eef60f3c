// `deepnet train`: load data, build and train the network, report, save.
#include <Eigen/Core>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <unistd.h>

#include <memory>

#include "cli/cli.hpp"
#include "cli/progress.hpp"
#include "deepnet/error.hpp"
#include "deepnet/metrics.hpp"
#include "deepnet/model_file.hpp"
#include "deepnet/train.hpp"
#include "io/atomic_write.hpp"

namespace deepnet::cli {

namespace {

struct TrainSettings {
  DataFlags data;
  NetworkFlags network;
  double learning_rate = 0.0075;
  int iterations = 2500;
  int print_every = 100;
  std::string history;
  std::string out;
  std::string test;
  double val_split = 0;
  std::string normalize = "none";
  int threads = 1;
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

template <typename T>
PartResult evaluate_part(Network<T>& net, const std::string& name, const Matrix<double>& X,
                         const Matrix<T>& labels, bool regression) {
  const Matrix<T> Xt = X.cast<T>();
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

template <typename T>
int run_training(const TrainSettings& s, const NetworkPlan& plan, const Architecture& arch,
                 const TargetEncoding& encoding, const Normalizer& normalizer, const Dataset& train,
                 const Matrix<double>& X_train, const Dataset* validation, const Matrix<double>* X_val) {
  const Matrix<T> X = X_train.cast<T>();
  const Matrix<T> labels = with_exit_code(exit_data, [&] {
    return encode_labels<T>(encoding, targets_in_encoding(train, encoding));
  });
  const Matrix<T> Y = with_exit_code(exit_data, [&] {
    return make_targets<T>(arch.output, arch.sizes.back(), labels);
  });
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
    Model model;
    model.set_parameters(network);
    model.normalizer = normalizer;
    model.encoding = encoding;
    model.feature_names = train.feature_names;
    model.target_name = train.target_name;
    model.training.seed = s.network.seed;
    model.training.rng = std::string(to_string(plan.rng));
    model.training.init = std::string(to_string(plan.init));
    model.training.optimizer = "gd";
    model.training.learning_rate = s.learning_rate;
    model.training.iterations = s.iterations;
    model.training.final_cost = history.back().cost;
    model.training.deepnet_version = DEEPNET_VERSION;
    with_exit_code(exit_model, [&] {
      save_model(s.out, model);
      return 0;
    });
  }

  if (s.json) {
    nlohmann::ordered_json j;
    j["network"] = arch.describe();
    j["iterations"] = s.iterations;
    j["final_cost"] = history.back().cost;
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
  } else {
    for (const PartResult& r : results) {
      if (r.accuracy >= 0)
        std::printf("%s accuracy: %.4f\n", r.name.c_str(), r.accuracy);
      else
        std::printf("%s mse: %.6g\n", r.name.c_str(), r.mse);
    }
    if (!s.out.empty() && !s.quiet) std::printf("model saved to %s\n", s.out.c_str());
  }
  return exit_ok;
}

int run_train(const TrainSettings& s) {
  // Settings first (usage errors, exit 2), then data (exit 3).
  const NetworkPlan plan = plan_network(s.network);
  if (!(std::isfinite(s.learning_rate) && s.learning_rate > 0))
    throw CliError(exit_usage, "--lr: expected a finite learning rate > 0, got " + std::to_string(s.learning_rate));
  if (s.iterations < 1) throw CliError(exit_usage, "--iterations: expected at least 1, got " + std::to_string(s.iterations));
  if (s.print_every < 1) throw CliError(exit_usage, "--print-every: expected at least 1, got " + std::to_string(s.print_every));
  if (s.threads < 1) throw CliError(exit_usage, "--threads: expected at least 1, got " + std::to_string(s.threads));
  if (!s.test.empty() && s.val_split > 0)
    throw CliError(exit_usage, "--test and --val-split both name a validation set; give one of them");
  if (s.val_split != 0 && !(s.val_split > 0 && s.val_split < 1))
    throw CliError(exit_usage, "--val-split: expected a fraction between 0 and 1, got " + std::to_string(s.val_split));
  const Normalization normalization = with_exit_code(exit_usage, [&] { return parse_normalization(s.normalize); });
  Eigen::setNbThreads(s.threads);

  Dataset train = load_data(s.data, s.data.data);
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

  const Normalizer normalizer = with_exit_code(exit_data, [&] { return Normalizer::fit(normalization, train.X); });
  Matrix<double> X_train = train.X;
  normalizer.apply(X_train);
  Matrix<double> X_val;
  if (has_validation) {
    X_val = validation.X;
    normalizer.apply(X_val);
  }
  const Dataset* val = has_validation ? &validation : nullptr;
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
  cmd->add_option("--lr,--learning-rate", s->learning_rate, "Learning rate alpha (> 0)")->capture_default_str();
  cmd->add_option("--iterations", s->iterations, "Number of gradient-descent iterations")->capture_default_str();
  cmd->add_option("--print-every", s->print_every,
                  "Print and record the cost every K iterations (and at the last one)")
      ->capture_default_str();
  cmd->add_option("--history", s->history,
                  "Write the recorded costs as CSV (header iteration,cost; 17 significant digits)");
  cmd->add_option("--out", s->out, "Save the trained model to this file (written atomically)");
  cmd->add_option("--test", s->test, "Evaluate on this data file after training (same CSV options)");
  cmd->add_option("--val-split", s->val_split,
                  "Hold out this fraction of the training data for validation (stratified by class, seeded "
                  "by --seed)");
  cmd->add_option("--normalize", s->normalize,
                  "Feature scaling fitted on the training data and stored in the model: none, standard "
                  "(mean 0, std 1), minmax ([0, 1]), div255 (x / 255)")
      ->capture_default_str();
  cmd->add_option("--threads", s->threads, "Threads for the matrix products")->capture_default_str();
  cmd->add_flag("--json", s->json, "Print the final metrics as one JSON object on stdout (progress goes to stderr)");
  cmd->add_flag("--quiet", s->quiet, "Print only the final result");
  return [s] { return run_train(*s); };
}

}  // namespace deepnet::cli
