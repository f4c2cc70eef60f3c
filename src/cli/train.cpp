// `deepnet train`: parse flags, load data, build and train the network, report.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "deepnet/data.hpp"
#include "deepnet/error.hpp"
#include "deepnet/init.hpp"
#include "deepnet/network.hpp"
#include "deepnet/rng.hpp"
#include "deepnet/train.hpp"
#include "io/atomic_write.hpp"

namespace deepnet::cli {

namespace {

struct TrainSettings {
  std::string data;
  std::string label_column;
  std::string layers = "";
  std::string hidden_activation = "relu";
  std::string output;  // empty: inferred from the labels
  double leaky_slope = 0.01;
  double learning_rate = 0.0075;
  int iterations = 2500;
  std::string init = "auto";
  double init_scale = 0.01;
  std::string rng = "portable";
  std::uint64_t seed = 1;
  std::string dtype = "float32";
  int print_every = 100;
  std::string history;
  bool quiet = false;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, ',')) items.push_back(item);
  if (!text.empty() && text.back() == ',') items.push_back("");
  return items;
}

std::vector<int> parse_layers(const std::string& text) {
  std::vector<int> sizes;
  if (text.empty()) return sizes;  // logistic regression: no hidden layer
  int position = 0;
  for (const std::string& item : split_list(text)) {
    ++position;
    std::size_t used = 0;
    int value = 0;
    try {
      value = std::stoi(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || value < 1)
      throw CliError(exit_usage, "--layers: hidden layer " + std::to_string(position) +
                                     ": expected a positive number of units, got '" + item + "'");
    sizes.push_back(value);
  }
  return sizes;
}

template <typename T>
int run_training(const TrainSettings& s, const Dataset& data, Architecture arch,
                 const TargetEncoding& encoding, InitScheme scheme, RngKind rng_kind) {
  const Matrix<T> X = data.X.cast<T>();
  const Matrix<T> labels = encode_labels<T>(encoding, data.targets);
  const Matrix<T> Y = make_targets<T>(arch.output, arch.sizes.back(), labels);

  Network<T> network(arch);
  Rng rng(s.seed, rng_kind);
  initialize(network, scheme, rng, s.init_scale);

  if (!s.quiet)
    std::printf("network: %s, %lld examples, %s, init %s, rng %s seed %llu\n",
                arch.describe().c_str(), static_cast<long long>(data.examples()), s.dtype.c_str(),
                std::string(to_string(scheme)).c_str(), std::string(to_string(rng_kind)).c_str(),
                static_cast<unsigned long long>(s.seed));
  GradientDescentOptions options;
  options.learning_rate = s.learning_rate;
  options.iterations = s.iterations;
  options.record_every = s.print_every;
  if (!s.quiet)
    options.on_record = [](const CostRecord& r) {
      std::printf("iteration %d: cost %.6f\n", r.iteration, r.cost);
      std::fflush(stdout);
    };
  const std::vector<CostRecord> history = train_gradient_descent(network, X, Y, options);

  if (!s.history.empty()) {
    std::string csv = "iteration,cost\n";
    char line[64];
    for (const CostRecord& r : history) {
      std::snprintf(line, sizeof line, "%d,%.17g\n", r.iteration, r.cost);
      csv += line;
    }
    io::write_file_atomically(s.history, csv);
  }

  const Matrix<T> predictions = network.predict(X);
  if (arch.output == Output::linear) {
    const double mse = (predictions - labels).squaredNorm() / static_cast<double>(labels.cols());
    std::printf("training mse: %.6g\n", mse);
  } else {
    std::printf("training accuracy: %.4f\n", accuracy<T>(predictions, labels));
  }
  return exit_ok;
}

int run_train(const TrainSettings& s) {
  // Settings first (usage errors, exit 2), then data (exit 3).
  Architecture arch;
  std::vector<int> hidden = parse_layers(s.layers);
  std::vector<Activation> activations;
  RngKind rng_kind;
  InitScheme scheme = InitScheme::xavier;
  try {
    for (const std::string& name : split_list(s.hidden_activation))
      activations.push_back(parse_activation(name));
    if (activations.empty()) throw Error("--hidden-activation: expected at least one name");
    if (!hidden.empty() && activations.size() != 1 && activations.size() != hidden.size())
      throw Error("--hidden-activation: " + std::to_string(activations.size()) +
                  " names for " + std::to_string(hidden.size()) +
                  " hidden layers; give one, or one per hidden layer");
    rng_kind = parse_rng_kind(s.rng);
    if (s.init == "auto") {
      const bool rectifier = activations[0] == Activation::relu || activations[0] == Activation::leaky_relu;
      scheme = rectifier ? InitScheme::he : InitScheme::xavier;
    } else {
      scheme = parse_init_scheme(s.init);
    }
    if (s.dtype != "float32" && s.dtype != "float64")
      throw Error("--dtype: expected float32 or float64, got '" + s.dtype + "'");
    if (!(std::isfinite(s.learning_rate) && s.learning_rate > 0))
      throw Error("--lr: expected a finite learning rate > 0, got " + std::to_string(s.learning_rate));
    if (s.iterations < 1) throw Error("--iterations: expected at least 1, got " + std::to_string(s.iterations));
    if (s.print_every < 1) throw Error("--print-every: expected at least 1, got " + std::to_string(s.print_every));
    if (!(std::isfinite(s.init_scale) && s.init_scale > 0))
      throw Error("--init-scale: expected a finite value > 0, got " + std::to_string(s.init_scale));
    Rng check_seed(s.seed, rng_kind);  // numpy mode rejects seeds >= 2^32
  } catch (const Error& e) {
    throw CliError(exit_usage, e.what());
  }

  Dataset data;
  TargetEncoding encoding;
  try {
    data = load_dataset(s.data, CsvOptions{s.label_column});
    check_finite<double>(data.X, (data.source + ": X").c_str());
    encoding = infer_target_encoding(data.targets);
  } catch (const Error& e) {
    throw CliError(exit_data, e.what());
  }
  try {
    if (!s.output.empty()) {
      const Output wanted = parse_output(s.output);
      if (wanted != encoding.output) {
        if (wanted == Output::linear) {
          encoding.output = Output::linear;
          encoding.classes.clear();
        } else if (encoding.output == Output::linear) {
          throw Error("--output " + s.output + ": the labels in " + data.source +
                      " are not all integers, so they are not classes");
        } else {
          encoding.output = wanted;  // e.g. softmax for 2 classes
        }
      }
    }
    arch.output = encoding.output;
    arch.sizes.push_back(static_cast<int>(data.features()));
    for (int n : hidden) arch.sizes.push_back(n);
    arch.sizes.push_back(encoding.output_units());
    arch.hidden_activations = activations;
    arch.leaky_slope = s.leaky_slope;
    arch.validate();
  } catch (const Error& e) {
    throw CliError(exit_usage, e.what());
  }
  if (s.dtype == "float64") return run_training<double>(s, data, arch, encoding, scheme, rng_kind);
  return run_training<float>(s, data, arch, encoding, scheme, rng_kind);
}

}  // namespace

Runner add_train_command(CLI::App& app) {
  auto settings = std::make_shared<TrainSettings>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a network with full-batch gradient descent and report cost and accuracy");
  cmd->add_option("--data", settings->data,
                  "Training data: a CSV file (header row, numeric columns) or a built-in set "
                  "name (planar)")
      ->required();
  cmd->add_option("--label-column", settings->label_column,
                  "CSV column holding the label: a header name or a 0-based index (-1 = last); "
                  "default: the last column");
  cmd->add_option("--layers", settings->layers,
                  "Hidden layer sizes n[1],...,n[L-1], comma-separated; \"\" = no hidden layer "
                  "(logistic regression)")
      ->capture_default_str();
  cmd->add_option("--hidden-activation", settings->hidden_activation,
                  "Hidden activation: sigmoid, tanh, relu, leaky_relu or linear; one name for "
                  "all hidden layers or one per layer, comma-separated")
      ->capture_default_str();
  cmd->add_option("--output", settings->output,
                  "Output layer and loss: sigmoid (binary cross-entropy), softmax (categorical "
                  "cross-entropy), linear (mean squared error); default: 2 classes -> sigmoid, "
                  "more -> softmax, non-integer labels -> linear");
  cmd->add_option("--leaky-slope", settings->leaky_slope, "Slope of leaky_relu for z <= 0")
      ->capture_default_str();
  cmd->add_option("--lr,--learning-rate", settings->learning_rate, "Learning rate alpha (> 0)")
      ->capture_default_str();
  cmd->add_option("--iterations", settings->iterations, "Number of gradient-descent iterations")
      ->capture_default_str();
  cmd->add_option("--init", settings->init,
                  "Weight initialisation: small (randn x scale), xavier (randn / sqrt(n[l-1])), "
                  "he (randn x sqrt(2/n[l-1])), zeros, or auto (he for relu/leaky_relu, else "
                  "xavier); biases start at 0")
      ->capture_default_str();
  cmd->add_option("--init-scale", settings->init_scale, "Scale for --init small")
      ->capture_default_str();
  cmd->add_option("--rng", settings->rng,
                  "Random generator: portable (same bits everywhere) or numpy (draws exactly "
                  "what np.random.seed(s); np.random.randn(...) draws)")
      ->capture_default_str();
  cmd->add_option("--seed", settings->seed, "Random seed (numpy mode: 0..4294967295)")
      ->capture_default_str();
  cmd->add_option("--dtype", settings->dtype, "Element type: float32 or float64")
      ->capture_default_str();
  cmd->add_option("--print-every", settings->print_every,
                  "Print and record the cost every K iterations (and at the last one)")
      ->capture_default_str();
  cmd->add_option("--history", settings->history,
                  "Write the recorded costs as CSV (header iteration,cost; 17 significant digits)");
  cmd->add_flag("--quiet", settings->quiet, "Print only the final result");
  return [settings] { return run_train(*settings); };
}

}  // namespace deepnet::cli
