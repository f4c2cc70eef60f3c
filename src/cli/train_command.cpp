// `deepnet train`: parse the flags, load the data, call the library's fit(),
// print what it decided and how it went, score the test data once, write files.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli.hpp"
#include "cli/flag_names.hpp"
#include "cli/json_out.hpp"
#include "cli/plot_pieces.hpp"
#include "cli/progress.hpp"
#include "deepnet/error.hpp"
#include "deepnet/files.hpp"
#include "deepnet/fit.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/model_file.hpp"

namespace deepnet::cli {

namespace {

struct TrainSettings {
  DataFlags data;
  NetworkFlags network;
  std::string task = "auto";
  double learning_rate = 0;
  int iterations = 2500;
  int epochs = 0;  // 0: until converged (at most max_epochs)
  int max_epochs = 200;
  double tol = 1e-4;
  int n_iter_no_change = 10;
  std::string batch_size = "auto";
  bool drop_last = false;
  std::string optimizer;  // default: gd with --iterations, adam otherwise
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
  int print_every = 100;
  std::string history;
  bool diagnose = false;
  std::string plot_dir;
  std::string out;
  std::string test;
  std::string test_labels, test_x_key, test_y_key;
  std::string validation;
  double val_split = 0;
  std::string normalize = "auto";
  std::string scale_target = "auto";
  std::string train_score = "auto";
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool json = false;
  bool quiet = false;
  int gradient_blocks = 0;  // 0: auto (1 alone, 8 under MPI)
  bool overlap_exchange = false;
  // Which flags were given (set by the runner from CLI11's counts).
  bool iterations_given = false, print_every_given = false, batch_size_given = false, threads_given = false;
};

std::string format_number(double value) {
  if (std::isnan(value)) return "";
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

void write_output(const std::string& path, const std::string& text) {
  with_exit_code(exit_model, [&] {
    io::write_file_atomically(path, text);
    return 0;
  });
}

// The diagnostics columns (deepnet/diagnostics.hpp) appended after the
// history's own, one per quantity and layer: dead_L for hidden ReLU layers,
// saturated_L for hidden sigmoid/tanh layers, and for every layer a_mean_L,
// a_std_L, dw_norm_L, w_norm_L, update_ratio_L. Empty without --diagnose.
struct DiagnosticColumn {
  std::string name;
  int layer;
  double LayerHealth::*value;
};

std::vector<DiagnosticColumn> diagnostic_columns(const FitResult& r) {
  std::vector<DiagnosticColumn> columns;
  if (!r.health.gather || r.health.records() == 0) return columns;
  const Architecture& arch = r.plan.architecture;
  const int L = arch.layers();
  const std::pair<const char*, double LayerHealth::*> quantities[] = {
      {"dead", &LayerHealth::dead},       {"saturated", &LayerHealth::saturated}, {"a_mean", &LayerHealth::a_mean},
      {"a_std", &LayerHealth::a_std},     {"dw_norm", &LayerHealth::dw_norm},     {"w_norm", &LayerHealth::w_norm},
      {"update_ratio", &LayerHealth::update_ratio}};
  for (const auto& [name, member] : quantities)
    for (int l = 1; l <= L; ++l) {
      const Activation g = arch.activation(l);
      if (member == &LayerHealth::dead && !(l < L && g == Activation::relu)) continue;
      if (member == &LayerHealth::saturated && !(l < L && (g == Activation::sigmoid || g == Activation::tanh))) continue;
      columns.push_back({std::string(name) + "_" + std::to_string(l), l, member});
    }
  return columns;
}

// The record of the health for history row `at` (epoch or iteration), or -1.
long long health_record(const TrainingHealth& health, int at) {
  const auto found = std::lower_bound(health.at.begin(), health.at.end(), at);
  return found != health.at.end() && *found == at ? found - health.at.begin() : -1;
}

// The history: CSV (epoch,train_cost,val_cost,val_accuracy,lr,seconds or
// iteration,cost, then the diagnostics columns) or, for epochs, JSON.
std::string history_text(const FitResult& r, bool json) {
  const std::vector<DiagnosticColumn> columns = diagnostic_columns(r);
  const TrainingHealth& health = r.health;
  std::string text;
  if (r.plan.full_batch_gd) {
    text = "iteration,cost";
    for (const DiagnosticColumn& c : columns) text += "," + c.name;
    text += "\n";
    char line[64];
    for (const CostRecord& c : r.cost_history) {
      std::snprintf(line, sizeof line, "%d,%.17g", c.iteration, c.cost);
      text += line;
      const long long k = health_record(health, c.iteration);
      for (const DiagnosticColumn& d : columns)
        text += "," + (k < 0 ? std::string() : format_number(health.of(static_cast<std::size_t>(k), d.layer).*d.value));
      text += "\n";
    }
    return text;
  }
  if (json) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    auto number = [](double v) { return std::isnan(v) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v); };
    for (const EpochRecord& e : r.state.history) {
      nlohmann::ordered_json row;
      row["epoch"] = e.epoch;
      row["train_cost"] = e.train_cost;
      row["val_cost"] = number(e.validation_cost);
      row["val_accuracy"] = number(e.validation_accuracy);
      row["lr"] = e.learning_rate;
      row["seconds"] = e.seconds;
      const long long k = health_record(health, e.epoch);
      for (const DiagnosticColumn& d : columns)
        row[d.name] = k < 0 ? nlohmann::ordered_json(nullptr) : number(health.of(static_cast<std::size_t>(k), d.layer).*d.value);
      rows.push_back(row);
    }
    return dump_json(rows, 1) + "\n";
  }
  text = "epoch,train_cost,val_cost,val_accuracy,lr,seconds";
  for (const DiagnosticColumn& c : columns) text += "," + c.name;
  text += "\n";
  for (const EpochRecord& e : r.state.history) {
    text += std::to_string(e.epoch) + "," + format_number(e.train_cost) + "," + format_number(e.validation_cost) + "," +
            format_number(e.validation_accuracy) + "," + format_number(e.learning_rate) + "," + format_number(e.seconds);
    const long long k = health_record(health, e.epoch);
    for (const DiagnosticColumn& d : columns)
      text += "," + (k < 0 ? std::string() : format_number(health.of(static_cast<std::size_t>(k), d.layer).*d.value));
    text += "\n";
  }
  return text;
}

bool ends_with_json(const std::string& path) {
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
}

// train --plot DIR: the run's pictures (learning_curve.svg, diagnostics.svg
// with --diagnose, confusion.svg for classifiers, boundary.svg for 2-feature
// classifiers).
void write_run_pictures(const TrainSettings& s, const FitResult& r, const Dataset& train, const Dataset* test) {
  namespace fs = std::filesystem;
  const fs::path dir(s.plot_dir);
  const std::string history = history_text(r, false);
  const std::string source = s.history.empty() ? std::string("this run") : s.history;
  std::vector<std::string> written;
  plot_learning_curve(history, source, (dir / "learning_curve.svg").string());
  written.push_back("learning_curve.svg");
  if (r.health.gather && r.health.records() > 0) {
    plot_training_diagnostics(history, source, (dir / "diagnostics.svg").string());
    written.push_back("diagnostics.svg");
  }
  const std::string model_name = s.out.empty() ? std::string("the trained model") : s.out;
  if (r.model.architecture.output != Output::linear) {
    plot_confusion(r.model, test ? *test : train, model_name, (dir / "confusion.svg").string());
    written.push_back(std::string("confusion.svg (") + (test ? "test" : "training") + " data)");
    if (train.features() == 2) {
      plot_boundary(r.model, train, model_name, (dir / "boundary.svg").string());
      written.push_back("boundary.svg");
    }
  }
  if (s.quiet || s.json) return;
  std::string list;
  for (const std::string& w : written) list += (list.empty() ? "" : ", ") + w;
  std::printf("pictures written to %s: %s\n", s.plot_dir.c_str(), list.c_str());
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

// The library's settings from the flags; usage errors (exit 2) for what the
// flags alone decide.
FitSettings fit_settings(const TrainSettings& s) {
  FitSettings f;
  apply_network_flags(s.network, f);
  f.task = with_exit_code(exit_usage, [&] { return parse_task(s.task); });
  if (s.train_score != "auto" && s.train_score != "pass" && s.train_score != "none")
    throw CliError(exit_usage, "--train-score: expected auto, pass or none, got '" + s.train_score + "'");
  f.training_score = parse_training_score(s.train_score);
  f.full_batch_gd = s.iterations_given;
  f.iterations = s.iterations;
  f.record_every = s.print_every;
  f.learning_rate = s.learning_rate;
  if (f.full_batch_gd) {
    // The course's loop: plain gradient descent on the whole set. A flag of
    // mini-batch training beside --iterations contradicts it and is refused
    // (by the library, naming the setting; here for the CLI's own flags).
    for (const auto& [given, flag] : {std::pair{!s.checkpoint.empty(), "--checkpoint"}, std::pair{!s.resume.empty(), "--resume"},
                                      std::pair{!s.sample_weight_column.empty(), "--sample-weight-column"}})
      if (given)
        throw CliError(exit_usage, std::string(flag) + " belongs to mini-batch training (--epochs), not to --iterations "
                                                       "(full-batch gradient descent, the course's loop)");
    if (s.batch_size_given && s.batch_size != "full" && s.batch_size != "0")
      throw CliError(exit_usage, "--batch-size " + s.batch_size + ": --iterations is full-batch gradient descent (every "
                                 "example in each step); use --epochs for mini-batches, or --batch-size full");
    f.batch_size = 0;
  } else if (s.print_every_given) {
    throw CliError(exit_usage, "--print-every is for --iterations (full-batch gradient descent); mini-batch training "
                               "prints one line per epoch");
  }
  const std::string optimizer = s.optimizer.empty() ? (f.full_batch_gd ? "gd" : "adam") : s.optimizer;
  f.optimizer = s.optimizer_settings;
  f.optimizer.kind = with_exit_code(exit_usage, [&] { return parse_optimizer(optimizer); });
  if (!f.full_batch_gd) {
    if (s.batch_size == "auto") {
      f.batch_size = -1;
    } else if (s.batch_size == "full") {
      f.batch_size = 0;
    } else {
      std::size_t used = 0;
      long long b = -1;
      try {
        b = std::stoll(s.batch_size, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != s.batch_size.size() || b < 0)
        throw CliError(exit_usage, "--batch-size: expected a number of examples, 0 or 'full', or 'auto', got '" + s.batch_size + "'");
      f.batch_size = b;
    }
  }
  f.epochs = s.epochs;
  f.max_epochs = s.max_epochs;
  f.tolerance = s.tol;
  f.n_iter_no_change = s.n_iter_no_change;
  f.drop_last = s.drop_last;
  f.schedule.kind = with_exit_code(exit_usage, [&] { return parse_schedule(s.schedule); });
  f.schedule.gamma = s.lr_gamma;
  f.schedule.step_size = s.lr_step;
  f.schedule.decay = s.lr_decay;
  f.schedule.min_lr = s.min_lr;
  f.schedule.warmup_epochs = s.warmup;
  f.l2 = s.l2;
  if (!s.dropout.empty()) f.dropout = parse_numbers("--dropout", s.dropout);
  f.clip_norm = s.clip_norm;
  if (s.class_weight == "balanced")
    f.balanced_class_weights = true;
  else if (!s.class_weight.empty())
    f.class_weights = parse_numbers("--class-weight", s.class_weight);
  f.patience = s.patience;
  f.min_delta = s.min_delta;
  f.validation_fraction = s.val_split;
  f.diagnose = s.diagnose;
  if (!s.checkpoint.empty()) f.checkpoint_every = s.checkpoint_every;
  if (s.normalize != "auto") f.normalization = with_exit_code(exit_usage, [&] { return parse_normalization(s.normalize); });
  if (s.scale_target == "yes") f.scale_target = true;
  else if (s.scale_target == "no") f.scale_target = false;
  else if (s.scale_target != "auto")
    throw CliError(exit_usage, "--scale-target: expected yes, no or auto, got '" + s.scale_target + "'");
  return f;
}

// The options for reading the test file: its own labels and keys, never the training file's.
DataFlags test_flags(const TrainSettings& s, std::vector<std::string>& notes) {
  DataFlags flags = s.data;
  flags.arrays.labels_path = s.test_labels;
  flags.arrays.x_key = s.test_x_key;
  flags.arrays.y_key = s.test_y_key;
  // The course's HDF5 pair names its arrays train_set_x / test_set_x.
  auto guess = [&](const std::string& train_key, std::string& test_key, const char* flag) {
    const auto at = train_key.find("train");
    if (!test_key.empty() || at == std::string::npos) return;
    test_key = train_key;
    test_key.replace(at, 5, "test");
    notes.push_back(std::string("reading the test data's ") + flag + " as '" + test_key + "' (the training key '" +
                    train_key + "' with train -> test; give " + flag + " to choose)");
  };
  guess(s.data.arrays.x_key, flags.arrays.x_key, "--test-x-key");
  guess(s.data.arrays.y_key, flags.arrays.y_key, "--test-y-key");
  return flags;
}

void print_plan(FILE* out, const TrainSettings& s, const FitSettings& f, const FitPlan& plan, const Dataset& train,
                const Dataset* validation) {
  std::fprintf(out, "task: %s: %s%s\n", std::string(to_string(plan.task.task)).c_str(), plan.task.reason.c_str(),
               f.task == Task::automatic ? " (--task classify|regress overrides)" : "");
  std::string normalization(to_string(plan.normalization));
  if (!plan.normalization_reason.empty()) normalization += " (auto: " + plan.normalization_reason + ")";
  const std::string dtype = f.float64 ? "float64" : "float32";
  if (plan.full_batch_gd) {
    std::fprintf(out, "network: %s, %lld examples, %s, init %s, rng %s seed %llu\n", plan.architecture.describe().c_str(),
                 static_cast<long long>(train.examples()), dtype.c_str(), std::string(to_string(plan.init)).c_str(),
                 std::string(to_string(f.rng)).c_str(), static_cast<unsigned long long>(f.seed));
  } else {
    const std::string epochs = f.epochs > 0 ? std::to_string(f.epochs) + " epochs"
                                            : "until converged (at most " + std::to_string(f.max_epochs) + " epochs)";
    std::fprintf(out, "network: %s, %lld examples, %s, %s lr %g, batch %s, %s%s\n", plan.architecture.describe().c_str(),
                 static_cast<long long>(train.examples()), dtype.c_str(),
                 std::string(to_string(f.optimizer.kind)).c_str(), plan.learning_rate,
                 (plan.batch_size == 0 ? std::string("full") : std::to_string(plan.batch_size) + (plan.batch_size_auto ? " (auto)" : "")).c_str(), epochs.c_str(),
                 s.resume.empty() ? "" : (", resuming from " + s.resume).c_str());
  }
  std::fprintf(out, "normalize: %s\n", normalization.c_str());
  if (plan.scale_target)
    std::fprintf(out, "targets: standardised for training (mean 0, standard deviation 1; predictions are in the "
                      "data's units; --scale-target no turns it off)\n");
  if (validation)
    std::fprintf(out, "validation: %lld examples (%s)\n", static_cast<long long>(validation->examples()),
                 s.val_split > 0 ? "split off the training data" : validation->source.c_str());
  std::fflush(out);
}

void report(const TrainSettings& s, const FitResult& r, const std::vector<PartScore>& scores) {
  const bool minibatch = !r.plan.full_batch_gd;
  const int steps = minibatch ? static_cast<int>(r.state.history.size()) : static_cast<int>(r.cost_history.size() ? r.cost_history.back().iteration + 1 : 0);
  if (s.json) {
    nlohmann::ordered_json j;
    j["task"] = std::string(to_string(r.plan.task.task));
    j["network"] = r.plan.architecture.describe();
    j[minibatch ? "epochs" : "iterations"] = steps;
    if (minibatch) j["converged"] = r.converged;
    if (r.best_epoch > 0) j["best_epoch"] = r.best_epoch;
    j["final_cost"] = r.model.training.final_cost;
    for (const PartScore& p : scores) {
      nlohmann::ordered_json part;
      part["examples"] = p.examples;
      part["cost"] = p.cost;
      if (!std::isnan(p.accuracy)) part["accuracy"] = p.accuracy;
      if (!std::isnan(p.mse)) part["mse"] = p.mse;
      if (p.name == "training") part["running"] = p.running;
      j[p.name] = part;
    }
    if (!s.out.empty()) j["model"] = s.out;
    std::cout << dump_json(j) << '\n';
    return;
  }
  if (r.best_epoch > 0 && !s.quiet) std::printf("early stopping: kept the weights of epoch %d\n", r.best_epoch);
  for (const PartScore& p : scores) {
    // The last epoch's running figures: said so, and how to get a pass instead.
    const char* how = p.running ? " (running, over the last epoch's batches; --train-score pass scores the final weights)" : "";
    if (!std::isnan(p.accuracy))
      std::printf("%s accuracy: %.4f%s\n", p.name.c_str(), p.accuracy, how);
    else
      std::printf("%s mse: %.6g%s\n", p.name.c_str(), p.mse, how);
  }
  if (!s.out.empty() && !s.quiet) std::printf("model saved to %s\n", s.out.c_str());
}

// --data (with --sample-weight-column): the training data, exit 3 on errors.
Dataset load_training_data(const TrainSettings& s) {
  if (s.sample_weight_column.empty()) return load_data(s.data, s.data.data);
  CsvOptions options = csv_options(s.data);
  options.weight_column = s.sample_weight_column;
  return with_exit_code(exit_data, [&] {
    Dataset d = load_dataset(s.data.data, options, s.data.arrays);
    check_finite_features(d);
    if (d.weights.empty()) throw Error(d.source + ": a sample weight column is for CSV files");
    print_notes(d);
    return d;
  });
}

// What trace needs of train's flags: the settings checked as train checks
// them and the data loaded as train loads it (one process, no MPI).
TrainingInputs prepare_training(const TrainSettings& s) {
  TrainingInputs in;
  if (s.threads < 1) throw CliError(exit_usage, "--threads: expected at least 1, got " + std::to_string(s.threads));
  if (s.gradient_blocks < 0)
    throw CliError(exit_usage, "--gradient-blocks: expected 0 (auto) or at least 1, got " + std::to_string(s.gradient_blocks));
  in.settings = fit_settings(s);
  in.settings.gradient_blocks = s.gradient_blocks;
  if (!s.validation.empty() && s.val_split > 0)
    throw CliError(exit_usage, "--validation and --val-split both name validation data; give one of them");
  if (!s.out.empty()) with_exit_code(exit_model, [&] { return io::check_writable(s.out), 0; });
  set_threads(s.threads);
  in.out = s.out;
  in.quiet = s.quiet;
  in.train = load_training_data(s);
  std::vector<std::string> notes;
  if (!s.validation.empty()) {
    const std::vector<std::string> names = in.train.named_features ? in.train.feature_names : std::vector<std::string>();
    in.validation = load_like(test_flags(s, notes), s.validation, names, in.train.target_name,
                              static_cast<int>(in.train.features()), "the training data " + in.train.source, true);
    in.has_validation = true;
  }
  for (const std::string& note : notes) std::fprintf(stderr, "deepnet: note: %s\n", note.c_str());
  if (!s.resume.empty()) in.resume = with_exit_code(exit_model, [&] { return load_checkpoint(s.resume); });
  return in;
}

int run_train(const TrainSettings& given) {
  // Under an MPI launcher every rank runs this same command; rank 0 alone
  // prints and writes files (the others' output goes to /dev/null), and each
  // phase ends with every rank agreeing on its outcome (cli/mpi_support.cpp).
  Communicator* comm = cli_communicator();
  const bool distributed = comm && comm->size() > 1;
  const bool writer = !comm || comm->rank() == 0;
  TrainSettings s = given;
  if (!writer) {
    s.out.clear();
    s.history.clear();
    s.checkpoint.clear();
    s.test.clear();
  }
  if (distributed && !s.threads_given) s.threads = cores_per_local_rank(*comm);
  FitSettings f;
  std::vector<std::string> notes;
  Dataset train, validation, test;
  bool has_validation = false, has_test = false;
  Checkpoint resume;
  agree(comm, [&] {
  // Settings first (usage errors, exit 2), then the output places, then data (exit 3).
  if (s.threads < 1) throw CliError(exit_usage, "--threads: expected at least 1, got " + std::to_string(s.threads));
  if (s.gradient_blocks < 0)
    throw CliError(exit_usage, "--gradient-blocks: expected 0 (auto) or at least 1, got " + std::to_string(s.gradient_blocks));
  f = fit_settings(s);
  f.gradient_blocks = s.gradient_blocks;
  f.overlap_exchange = s.overlap_exchange;
  f.communicator = comm;
  if (!s.test.empty() && !s.validation.empty() && s.test == s.validation)
    throw CliError(exit_usage, "--test and --validation name the same file; the test data must stay out of training");
  if (!s.validation.empty() && s.val_split > 0)
    throw CliError(exit_usage, "--validation and --val-split both name validation data; give one of them");
  // A file that cannot be written is refused now, not after training.
  for (const std::string* path : {&s.out, &s.history, &s.checkpoint})
    if (!path->empty()) with_exit_code(exit_model, [&] { return io::check_writable(*path), 0; });
  set_threads(s.threads);

  has_validation = !s.validation.empty();
  const bool builtin_test = s.test.empty() && writer && is_builtin_dataset(s.data.data) &&
      s.data.data.find(':') == std::string::npos &&
      std::ranges::any_of(builtin_datasets(), [&](const BuiltinDataset& d) { return d.name == s.data.data && d.has_test_part; });
  has_test = !s.test.empty() || builtin_test;
  // A built-in set's test part loads on a second thread while the training part
  // loads (Fashion-MNIST: its 10,000 images cost no time before the first step);
  // its notes are printed after the training part's, and a failure of both
  // reports the training part's.
  std::future<Dataset> builtin_test_part;
  if (builtin_test)
    builtin_test_part = std::async(std::launch::async, [&s] {
      return load_data(s.data, s.data.data + ":test", csv_options(s.data), s.data.arrays, false);
    });
  train = load_training_data(s);
  // Validation and test files: their label column found by the training label's
  // name, their features matched to the training data's by name.
  const std::vector<std::string> names = train.named_features ? train.feature_names : std::vector<std::string>();
  const std::string reference = "the training data " + train.source;
  if (has_validation)
    validation = load_like(test_flags(s, notes), s.validation, names, train.target_name,
                           static_cast<int>(train.features()), reference, true);
  if (!s.test.empty())
    test = load_like(test_flags(s, notes), s.test, names, train.target_name, static_cast<int>(train.features()),
                     reference, true);
  else if (builtin_test) {
    test = builtin_test_part.get();
    print_notes(test);
  }
  if (!s.resume.empty()) resume = with_exit_code(exit_model, [&] { return load_checkpoint(s.resume); });
  // The pictures' folder is made once the data is loaded (a folder made before
  // could shadow a built-in data set's name) and before training.
  if (!s.plot_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(s.plot_dir, error);
    if (error || !std::filesystem::is_directory(s.plot_dir))
      throw CliError(exit_model, "--plot " + s.plot_dir + ": cannot make the folder for the pictures" +
                                     (error ? ": " + error.message() : std::string(" (a file of that name is there)")));
    with_exit_code(exit_model, [&] { return io::check_writable((std::filesystem::path(s.plot_dir) / "learning_curve.svg").string()), 0; });
  }
  });
  FILE* progress = s.json ? stderr : stdout;
  for (const std::string& note : notes) std::fprintf(stderr, "deepnet: note: %s\n", note.c_str());

  FitCallbacks callbacks;
  std::unique_ptr<ProgressBar> bar;
  callbacks.on_plan = [&](const FitPlan& plan, const Dataset& t, const Dataset* v) {
    for (const std::string& w : plan.task.warnings) std::fprintf(stderr, "deepnet: warning: %s\n", w.c_str());
    if (s.quiet) return;
    print_plan(progress, s, f, plan, t, v);
    if (comm)
      std::fprintf(progress,
                   "data-parallel: %s x %d thread%s; each batch's gradient is the fixed-order sum of %d blocks%s: the "
                   "same bits on any number of ranks up to %d, and in one process with --gradient-blocks %d%s\n",
                   comm->describe().c_str(), s.threads, s.threads == 1 ? "" : "s", plan.gradient_blocks,
                   plan.gradient_blocks_auto ? " (auto; --gradient-blocks overrides)" : "", plan.gradient_blocks,
                   plan.gradient_blocks,
                   s.overlap_exchange && comm->size() > 1 ? "; each layer's gradient exchanged during the backward pass"
                                                          : "");
    std::fflush(progress);
    if (::isatty(STDERR_FILENO))
      bar = plan.full_batch_gd ? std::make_unique<ProgressBar>(f.iterations, t.examples(), "iteration")
                               : std::make_unique<ProgressBar>(0, plan.batch_size == 0 ? t.examples() : plan.batch_size, "step");
  };
  if (!s.quiet) {
    callbacks.on_iteration = [&bar](int done) {
      if (bar) bar->update(done);
    };
    callbacks.on_step = [&bar](long long done, long long total) {
      if (bar) bar->update(done, total);
    };
    // The plain lines always go to `progress`; on a terminal the bar sits below them.
    callbacks.on_record = [progress, &bar](const CostRecord& r) {
      if (bar) bar->set_cost(r.cost);
      if (bar && progress == stderr) return;  // the bar shows it
      if (bar) bar->clear();
      std::fprintf(progress, "iteration %d: cost %.6f\n", r.iteration, r.cost);
      std::fflush(progress);
    };
    callbacks.on_epoch = [progress, &bar](const EpochRecord& r) {
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
  }
  // Health warnings as they fire (a run that then diverges still shows them).
  callbacks.on_health_warning = [&bar](const HealthWarning& w) {
    if (bar) bar->clear();
    std::fprintf(stderr, "deepnet: warning: %s\n", w.message.c_str());
    std::fflush(stderr);
  };
  if (!s.checkpoint.empty())
    callbacks.on_checkpoint = [&](const Checkpoint& c, const Model& final_model, bool last) {
      // The last checkpoint of a run: write --out first (the model the run ends
      // with), so that a kill between the two writes leaves a checkpoint that
      // resumes and writes the model again, never a finished checkpoint without its model.
      // (Under MPI only rank 0 writes, while the others go on to the next
      // step's exchange: a failure here ends the whole job at once.)
      try {
        if (last && !s.out.empty())
          with_exit_code(exit_model, [&] { return save_model(s.out, final_model), 0; });
        with_exit_code(exit_model, [&] { return save_checkpoint(s.checkpoint, c), 0; });
      } catch (const CliError& e) {
        if (!distributed) throw;
        std::fprintf(stderr, "deepnet: error: %s\n", with_flag_names(e.what()).c_str());
        std::fflush(stderr);
        end_job_after_error(e.code, false, e.what());
        throw;
      }
    };

  // Errors inside fit are found by every rank alike (the same data, the same
  // combined gradients), except a failed checkpoint write on rank 0, which ends the job.
  FitResult result;
  agree(comm, [&] {
    result = with_fit_errors(exit_data, [&] {
      return fit(train, has_validation ? &validation : nullptr, f, callbacks, s.resume.empty() ? nullptr : &resume);
    });
  });
  if (!writer) return exit_ok;
  if (bar) bar->clear();
  for (std::size_t k = result.plan.task.warnings.size(); k < result.warnings.size(); ++k)
    std::fprintf(stderr, "deepnet: warning: %s\n", result.warnings[k].c_str());

  if (!s.history.empty()) write_output(s.history, history_text(result, !result.plan.full_batch_gd && ends_with_json(s.history)));
  std::vector<PartScore> scores = result.scores;
  if (has_test)  // scored once, after training: it took no part in it
    scores.push_back(with_fit_errors(exit_data, [&] { return score_model(result.model, test, "test"); }));
  if (!s.out.empty()) with_exit_code(exit_model, [&] { return save_model(s.out, result.model), 0; });
  if (!s.plot_dir.empty()) write_run_pictures(s, result, train, has_test ? &test : nullptr);
  report(s, result, scores);
  return exit_ok;
}


// Which of train's flags were given, from CLI11's counts.
struct GivenFlags {
  CLI::Option *iterations, *print_every, *batch_size, *threads;
  void note(TrainSettings& s) const {
    s.threads_given = threads->count() > 0;
    s.iterations_given = iterations->count() > 0;
    s.print_every_given = print_every->count() > 0;
    s.batch_size_given = batch_size->count() > 0;
  }
};

// Every flag of train, on `cmd` (train itself, or trace); out_help describes --out.
GivenFlags add_train_flags(CLI::App* cmd, const std::shared_ptr<TrainSettings>& s, const std::string& out_help) {
  add_data_flags(*cmd, s->data,
                 "Training data: a CSV file (.csv or .csv.gz) or a built-in set (planar, breast-cancer, "
                 "iris, wine, digits, fashion-mnist; NAME:test for a test part); see 'deepnet datasets'");
  add_network_flags(*cmd, s->network);
  add_precision_flag(*cmd, s->network);
  cmd->add_option("--task", s->task,
                  "classify, regress or auto: auto decides from the labels (names or few whole numbers -> "
                  "classify; fractions, or many distinct whole numbers for the examples -> regress) and says why "
                  "on the first line")
      ->capture_default_str();
  cmd->add_option("--lr,--learning-rate", s->learning_rate,
                  "Learning rate alpha (> 0); default 0.0075 with --iterations, else 1e-3 for "
                  "adam/adamw/rmsprop and 0.01 for sgd/momentum/nesterov");
  CLI::Option* iterations = cmd->add_option(
      "--iterations", s->iterations,
      "The course's loop: full-batch gradient descent (--optimizer gd) for N iterations, no normalisation unless "
      "--normalize says so; excludes the mini-batch flags");
  cmd->add_option("--epochs", s->epochs,
                  "Mini-batch training for exactly N epochs (also the total when resuming); default: until the "
                  "training cost converges (see --tol), at most --max-epochs");
  cmd->add_option("--max-epochs", s->max_epochs, "Most epochs when training until convergence")->capture_default_str();
  cmd->add_option("--tol", s->tol,
                  "Convergence: an epoch whose training cost is not below the best minus this does not improve")
      ->capture_default_str();
  cmd->add_option("--n-iter-no-change", s->n_iter_no_change,
                  "Convergence: stop after more than N epochs in a row without improvement (warns when "
                  "--max-epochs comes first)")
      ->capture_default_str();
  CLI::Option* batch_size = cmd->add_option("--batch-size", s->batch_size, "Examples per mini-batch; 0 or 'full' = the whole set; auto = about 10 steps per epoch (ceil(m/10) within 16..128)")
      ->capture_default_str();
  cmd->add_flag("--drop-last", s->drop_last, "Drop a last batch smaller than --batch-size (default: use it)");
  cmd->add_option("--optimizer", s->optimizer,
                  "gd (= sgd), momentum, nesterov, rmsprop, adam, adamw; default adam (gd with --iterations, which "
                  "takes no other)");
  cmd->add_option("--momentum", s->optimizer_settings.momentum, "beta of momentum and nesterov (refused with other optimizers)")->capture_default_str();
  cmd->add_option("--rho", s->optimizer_settings.rho, "rmsprop's decay of the squared-gradient average (rmsprop only)")->capture_default_str();
  cmd->add_option("--beta1", s->optimizer_settings.beta1, "adam/adamw first-moment decay (adam/adamw only)")->capture_default_str();
  cmd->add_option("--beta2", s->optimizer_settings.beta2, "adam/adamw second-moment decay (adam/adamw only)")->capture_default_str();
  cmd->add_option("--epsilon", s->optimizer_settings.epsilon, "rmsprop/adam/adamw epsilon")->capture_default_str();
  cmd->add_option("--weight-decay", s->optimizer_settings.weight_decay, "adamw's decoupled weight decay (adamw only)")->capture_default_str();
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
                  "(needs --val-split or --validation; never the --test data)")
      ->capture_default_str();
  cmd->add_option("--min-delta", s->min_delta, "Smallest validation-cost improvement that counts (>= 0; with --patience)")->capture_default_str();
  cmd->add_option("--checkpoint", s->checkpoint,
                  "Save a checkpoint here (atomically): parameters, optimizer state, RNG state, epoch, history");
  cmd->add_option("--checkpoint-every", s->checkpoint_every, "Epochs between checkpoints")->capture_default_str();
  cmd->add_option("--resume", s->resume, "Continue from a checkpoint; --epochs stays the total");
  CLI::Option* print_every = cmd->add_option("--print-every", s->print_every,
                  "With --iterations: print and record the cost every K iterations (and at the last one); "
                  "mini-batch training prints every epoch")
      ->capture_default_str();
  cmd->add_option("--history", s->history,
                  "Write the history: with --iterations CSV 'iteration,cost'; with epochs CSV "
                  "'epoch,train_cost,val_cost,val_accuracy,lr,seconds', or JSON when FILE ends in .json; "
                  "--diagnose appends its per-layer columns");
  cmd->add_flag("--diagnose", s->diagnose,
                "Training-health diagnostics: per layer and epoch (with --iterations: every --print-every "
                "iterations) the share of dead ReLUs and saturated sigmoid/tanh units, mean and std of A, ||dW||, "
                "||W|| and the update/weight ratio, as columns of --history; warns (once per rule) about dead or "
                "saturated layers and a learning rate too high or too low (docs/training.md). The model is the same "
                "bits with or without it");
  cmd->add_option("--plot", s->plot_dir,
                  "Write the run's pictures into this folder (made if missing): learning_curve.svg, diagnostics.svg "
                  "(with --diagnose), confusion.svg (classifiers; on the test data when there is some) and "
                  "boundary.svg (classifiers of 2 features)");
  cmd->add_option("--out", s->out, out_help);
  cmd->add_option("--test", s->test,
                  "Test data, scored once after training (never used for early stopping); same CSV options; a "
                  "built-in set's test part is used when there is one");
  cmd->add_option("--test-labels", s->test_labels, "Labels of the --test (and --validation) array file (NPY, IDX)");
  cmd->add_option("--test-x-key", s->test_x_key,
                  "NPZ member / HDF5 dataset of the --test (and --validation) X; default: --x-key with train -> test");
  cmd->add_option("--test-y-key", s->test_y_key, "Likewise for the labels; default: --y-key with train -> test");
  cmd->add_option("--validation", s->validation,
                  "Validation data for the per-epoch validation cost and --patience");
  cmd->add_option("--val-split", s->val_split,
                  "Hold out this fraction of the training data for validation (stratified by class, seeded "
                  "by --seed)");
  cmd->add_option("--normalize", s->normalize,
                  "Feature scaling fitted on the training data and stored in the model: auto (div255 for "
                  "8-bit image arrays such as IDX or uint8 NPY/HDF5; standard for other data in mini-batch "
                  "training; none with --iterations), none, standard (mean 0, std 1), minmax ([0, 1]), div255 (x / 255)")
      ->capture_default_str();
  cmd->add_option("--train-score", s->train_score,
                  "The training-set score printed after training: auto (mini-batch training without dropout, L2, "
                  "weights, bf16 or data-parallel blocks: the last epoch's running figures, each batch scored by its "
                  "own forward pass before its update, as Keras reports them, at no extra cost; otherwise a pass), "
                  "pass (a forward pass over the training data with the final weights), none")
      ->capture_default_str();
  cmd->add_option("--scale-target", s->scale_target,
                  "Regression: train on standardised targets (stored in the model; predictions come back in the "
                  "data's units): yes, no, or auto (yes in mini-batch training, no with --iterations)")
      ->capture_default_str();
  CLI::Option* threads = cmd->add_option("--threads", s->threads, "Threads for the matrix products and element-wise passes (default: all cores, shared among the MPI ranks on a machine; the result has the same bits with any count)")->capture_default_str();
  cmd->add_option("--gradient-blocks", s->gradient_blocks,
                  "Data-parallel training (mpirun -np N deepnet train ...): each batch's gradient is the fixed-order "
                  "sum of K blocks of the batch, shared among the ranks; runs with the same K give the same bits on "
                  "any number of ranks up to K and in one process. 0 = auto: 8 under MPI (or the rank count, when "
                  "larger), 1 (one pass over the batch) in one process; see docs/scaling.md")
      ->capture_default_str();
  cmd->add_flag("--overlap-exchange", s->overlap_exchange,
                "Data-parallel training: exchange each layer's gradient while the backward pass goes on to the "
                "layers before it, instead of after the pass (non-blocking MPI on per-layer slices; the same bits "
                "either way; whether it pays: docs/scaling.md)");
  cmd->add_flag("--json", s->json, "Print the final metrics as one JSON object on stdout (progress goes to stderr)");
  cmd->add_flag("--quiet", s->quiet, "Print only the final result");
  return GivenFlags{iterations, print_every, batch_size, threads};
}

}  // namespace

Runner add_train_command(CLI::App& app) {
  auto s = std::make_shared<TrainSettings>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a network (mini-batch Adam until the training cost converges, or the course's full-batch "
               "gradient descent with --iterations); report cost and accuracy; save the model");
  const GivenFlags given = add_train_flags(cmd, s, "Save the trained model to this file (written atomically)");
  return [s, given] {
    given.note(*s);
    return run_train(*s);
  };
}

std::function<TrainingInputs()> add_train_flags(CLI::App& cmd, const std::string& out_help,
                                                const std::vector<std::pair<std::string, std::string>>& refused) {
  auto s = std::make_shared<TrainSettings>();
  const GivenFlags given = add_train_flags(&cmd, s, out_help);
  CLI::App* app = &cmd;
  return [s, given, app, refused] {
    given.note(*s);
    for (const auto& [flag, why] : refused)
      if (app->get_option(flag)->count() > 0) throw CliError(exit_usage, flag + ": " + why);
    return prepare_training(*s);
  };
}

}  // namespace deepnet::cli
