// Flag groups shared by several subcommands: data and network settings.
#include <cmath>
#include <iostream>
#include <sstream>

#include "cli/cli.hpp"
#include "deepnet/error.hpp"
#include "deepnet/limits.hpp"

namespace deepnet::cli {

std::vector<std::string> split_list(const std::string& text, char separator) {
  std::vector<std::string> items;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, separator)) items.push_back(item);
  if (!text.empty() && text.back() == separator) items.push_back("");
  return items;
}

void add_data_flags(CLI::App& cmd, DataFlags& flags, const std::string& data_help) {
  cmd.add_option("--data", flags.data, data_help)->required();
  cmd.add_option("--label-column", flags.label_column,
                 "CSV column holding the label: a header name or a 0-based index (-1 = last); "
                 "default: the last column");
  cmd.add_option("--delimiter", flags.delimiter,
                 "CSV delimiter: ',', ';', 'tab', or 'space' (also 'whitespace': runs of spaces and tabs, as "
                 "np.savetxt writes); default: detected");
  cmd.add_option("--header", flags.header,
                 "Whether the CSV file's first row is a header: yes, no, or auto (default: auto, detected: a "
                 "header when a feature field in it is not a number, or when it numbers the columns 0,1,2,...)")
      ->check(CLI::IsMember({"yes", "no", "auto"}));
  cmd.add_flag("--no-header", flags.no_header, "The CSV file has no header row: the same as --header no");
  cmd.add_flag("--drop-missing", flags.drop_missing,
               "Drop CSV rows whose label is missing (empty, NA, N/A, NaN, ?, null, None) and say how many; "
               "default: such a row is an error");
  cmd.add_option("--x-key", flags.arrays.x_key, "NPZ member or HDF5 dataset holding X (default: X or x)");
  cmd.add_option("--y-key", flags.arrays.y_key, "NPZ member or HDF5 dataset holding the labels (default: y or Y)");
  cmd.add_option("--labels", flags.arrays.labels_path,
                 "Labels in a separate file (NPY, IDX, or NPZ/HDF5 with --y-key), for NPY and IDX data");
  cmd.add_flag("--examples-as-columns", flags.arrays.examples_as_columns,
               "The array is stored the course's way, (n_x, m); default: rows are examples and trailing "
               "dimensions are flattened row-major ((m, 64, 64, 3) -> 12288 features)");
  add_max_memory_flag(cmd, flags.max_memory);
}

void add_max_memory_flag(CLI::App& cmd, std::string& value) {
  // Checked and applied while parsing: CLI11 reports a failed check as
  // "--max-memory: MESSAGE", a usage error (exit 2).
  const CLI::Validator size(
      [](std::string& text) -> std::string {
        try {
          parse_memory_size(text);
          return "";
        } catch (const Error& e) {
          return e.what();
        }
      },
      "");
  cmd.add_option("--max-memory", value,
                 "Memory limit for loading files: a file, an uncompressed size or an array of values "
                 "(as double) larger than this is refused before anything is allocated. SIZE: bytes, or "
                 "with K, M, G, T (powers of 1024), e.g. 512M, 1.5G; 'unlimited'. Default: the memory "
                 "available (MemAvailable, cgroup limit, ulimit -v)")
      ->type_name("SIZE")
      ->check(size)
      ->each([](const std::string& text) { set_memory_limit(parse_memory_size(text)); });
}

CsvOptions csv_options(const DataFlags& flags) {
  CsvOptions options;
  options.label_column = flags.label_column;
  if (flags.no_header && flags.header == "yes")
    throw CliError(exit_usage, "--no-header and --header yes contradict each other; give one of them");
  options.header = flags.no_header || flags.header == "no" ? CsvHeader::absent
                   : flags.header == "yes"                 ? CsvHeader::present
                                                           : CsvHeader::detect;
  options.drop_missing_labels = flags.drop_missing;
  if (flags.delimiter.empty()) {
  } else if (flags.delimiter == "," || flags.delimiter == "comma") {
    options.delimiter = ',';
  } else if (flags.delimiter == ";" || flags.delimiter == "semicolon") {
    options.delimiter = ';';
  } else if (flags.delimiter == "tab" || flags.delimiter == "\t" || flags.delimiter == "\\t") {
    options.delimiter = '\t';
  } else if (flags.delimiter == "space" || flags.delimiter == "whitespace" || flags.delimiter == " ") {
    options.delimiter = ' ';
  } else {
    throw CliError(exit_usage,
                   "--delimiter: expected ',', ';', 'tab' or 'space', got '" + flags.delimiter + "'");
  }
  return options;
}

Dataset load_data(const DataFlags& flags, const std::string& path) {
  return load_data(flags, path, csv_options(flags), flags.arrays, true);
}

Dataset load_data(const DataFlags& flags, const std::string& path, const CsvOptions& options,
                  const ArrayOptions& arrays, bool notes) {
  Dataset data = with_exit_code(exit_data, [&] {
    try {
      Dataset d = load_dataset(path, options, arrays);
      check_finite_features(d);
      return d;
    } catch (const Error& e) {
      const std::string message = e.what();
      if (!options.drop_missing_labels && message.find(": the label is missing (") != std::string::npos)
        throw Error(message.substr(0, message.find(" (rows with a missing label can be dropped instead)")) +
                    "; --drop-missing drops such rows");
      throw;
    }
  });
  (void)flags;
  if (notes) print_notes(data);
  return data;
}

Dataset load_like(const DataFlags& flags, const std::string& path, const std::vector<std::string>& feature_names,
                  const std::string& target_name, int features, const std::string& reference, bool need_labels) {
  const bool by_name = flags.label_column.empty() && !target_name.empty() && !feature_names.empty();
  CsvOptions options = csv_options(flags);
  ArrayOptions arrays = flags.arrays;
  arrays.labels_optional = !need_labels;
  if (by_name) {
    // The label column found by its name; prediction input may lack it.
    options.label_column = target_name;
    options.label_optional = true;
  } else if (!need_labels && flags.label_column.empty()) {
    options.features_only = true;
  }
  Dataset data = load_data(flags, path, options, arrays, false);
  const bool csv = !data.lines.empty();
  if (csv && flags.label_column.empty() && data.targets.empty() &&
      (need_labels || (!data.named_features && data.features() == features + 1))) {
    // No column by the label's name (or a headerless file with one column more
    // than the features): the last column is the label, as in training.
    data = load_data(flags, path, csv_options(flags), arrays, false);
    if (by_name && data.named_features)
      data.notes.push_back("no column is named '" + target_name + "' (the label of " + reference +
                           "); the last column '" + data.target_name + "' is taken as the label");
  }
  with_exit_code(exit_data, [&] {
    match_features(data, feature_names, reference);
    if (data.features() != features)
      throw Error(data.source + ": has " + std::to_string(data.features()) + " feature columns but " + reference +
                  " has " + std::to_string(features));
    if (need_labels && data.targets.empty()) throw Error(data.source + ": has no labels; expected a label column");
    return 0;
  });
  print_notes(data);
  return data;
}

Dataset load_for_model(const DataFlags& flags, const Model& model, const std::string& model_path, bool need_labels) {
  return load_like(flags, flags.data, model.feature_names, model.target_name, model.architecture.sizes.front(),
                   "the model " + model_path, need_labels);
}

void print_notes(const Dataset& data) {
  for (const std::string& note : data.notes) std::cerr << "deepnet: note: " << data.source << ": " << note << "\n";
}

void check_finite_features(const Dataset& data) {  // pixels (bytes) are always finite: X or the floats are read
  auto check = [&data](const auto& values) {
    for (Eigen::Index j = 0; j < values.cols(); ++j)
      for (Eigen::Index i = 0; i < values.rows(); ++i)
        if (!std::isfinite(values(i, j)))
          throw Error(data.source + ": example " + std::to_string(j + 1) + ", feature " + std::to_string(i + 1) +
                      ": expected a finite number, got " + std::to_string(values(i, j)));
  };
  if (data.has_singles())
    check(data.singles_view());
  else
    check(data.X);
}

void add_precision_flag(CLI::App& cmd, NetworkFlags& f) {
  cmd.add_option("--precision", f.precision,
                 "Products while training a float32 network: float32, or bf16 (bfloat16 inputs, float32 sums and "
                 "weights; needs a CPU with AVX512_BF16 or AMX)")
      ->capture_default_str();
}

void add_network_flags(CLI::App& cmd, NetworkFlags& f) {
  cmd.add_option("--layers", f.layers,
                 "Hidden layer sizes n[1],...,n[L-1], comma-separated; \"\" = no hidden layer "
                 "(logistic regression)")
      ->capture_default_str();
  cmd.add_option("--hidden-activation", f.hidden_activation,
                 "Hidden activation: sigmoid, tanh, relu, leaky_relu or linear; one name for all "
                 "hidden layers or one per layer, comma-separated")
      ->capture_default_str();
  cmd.add_option("--output", f.output,
                 "Output layer and loss: sigmoid (binary cross-entropy), softmax (categorical "
                 "cross-entropy), linear (mean squared error); default: 2 classes -> sigmoid, more "
                 "-> softmax, non-integer labels -> linear");
  cmd.add_option("--leaky-slope", f.leaky_slope, "Slope of leaky_relu for z <= 0")->capture_default_str();
  cmd.add_option("--init", f.init,
                 "Weight initialisation: small (randn x scale), xavier (randn / sqrt(n[l-1])), he "
                 "(randn x sqrt(2/n[l-1])), glorot (uniform +-sqrt(6/(n[l-1]+n[l])), biases 0: Keras's glorot_uniform), zeros, or auto (zeros without hidden layers, as the course starts logistic regression; he for relu/leaky_relu, else xavier); "
                 "biases start at 0")
      ->capture_default_str();
  cmd.add_option("--init-scale", f.init_scale, "Scale for --init small")->capture_default_str();
  cmd.add_option("--rng", f.rng,
                 "Random generator: portable (same bits everywhere) or numpy (draws exactly what "
                 "np.random.seed(s); np.random.randn(...) draws)")
      ->capture_default_str();
  cmd.add_option("--seed", f.seed, "Random seed 0..18446744073709551615 (numpy mode: 0..4294967295)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            // CLI11 would wrap -1 round to 2^64 - 1: a seed is never negative.
            return text.find('-') == std::string::npos ? "" : "expected a seed >= 0, got " + text;
          },
          ""));
  cmd.add_option("--dtype", f.dtype, "Element type: float32 or float64")->capture_default_str();
}

NetworkPlan plan_network(const NetworkFlags& f) {
  NetworkPlan plan;
  if (!f.layers.empty()) {
    int position = 0;
    for (const std::string& item : split_list(f.layers)) {
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
      plan.hidden.push_back(value);
    }
  }
  with_exit_code(exit_usage, [&] {
    for (const std::string& name : split_list(f.hidden_activation))
      plan.activations.push_back(parse_activation(name));
    if (plan.activations.empty()) throw Error("--hidden-activation: expected at least one name");
    if (!plan.hidden.empty() && plan.activations.size() != 1 && plan.activations.size() != plan.hidden.size())
      throw Error("--hidden-activation: " + std::to_string(plan.activations.size()) + " names for " +
                  std::to_string(plan.hidden.size()) + " hidden layers; give one, or one per hidden layer");
    plan.rng = parse_rng_kind(f.rng);
    if (f.init == "auto" && plan.hidden.empty()) {
      plan.init = InitScheme::zeros;  // as the library's plan_fit: logistic regression starts at zero
    } else if (f.init == "auto") {
      const Activation first = plan.activations[0];
      plan.init = first == Activation::relu || first == Activation::leaky_relu ? InitScheme::he : InitScheme::xavier;
    } else {
      plan.init = parse_init_scheme(f.init);
    }
    if (f.dtype != "float32" && f.dtype != "float64")
      throw Error("--dtype: expected float32 or float64, got '" + f.dtype + "'");
    if (f.precision != "float32" && f.precision != "bf16")
      throw Error("--precision: expected float32 or bf16, got '" + f.precision + "'");
    if (!(std::isfinite(f.init_scale) && f.init_scale > 0))
      throw Error("--init-scale: expected a finite value > 0, got " + std::to_string(f.init_scale));
    if (!std::isfinite(f.leaky_slope))
      throw Error("--leaky-slope: expected a finite value, got " + std::to_string(f.leaky_slope));
    if (!f.output.empty()) parse_output(f.output);
    Rng check_seed(f.seed, plan.rng);  // numpy mode rejects seeds >= 2^32
    return 0;
  });
  return plan;
}

Architecture make_architecture(const NetworkFlags& f, const NetworkPlan& plan, int features,
                               const TargetEncoding& encoding) {
  Architecture arch;
  arch.output = encoding.output;
  arch.sizes.push_back(features);
  for (int n : plan.hidden) arch.sizes.push_back(n);
  arch.sizes.push_back(encoding.output_units());
  arch.hidden_activations = plan.activations;
  arch.leaky_slope = f.leaky_slope;
  with_exit_code(exit_usage, [&] {
    arch.validate();
    return 0;
  });
  return arch;
}

}  // namespace deepnet::cli

namespace deepnet::cli {

void apply_network_flags(const NetworkFlags& f, FitSettings& settings) {
  const NetworkPlan plan = plan_network(f);
  settings.hidden_layers = plan.hidden;
  settings.hidden_activations = plan.activations;
  settings.leaky_slope = f.leaky_slope;
  if (f.init != "auto") settings.init = plan.init;
  settings.init_scale = f.init_scale;
  settings.rng = plan.rng;
  settings.seed = f.seed;
  settings.float64 = f.dtype == "float64";
  settings.float_products = f.precision == "bf16" ? FloatProducts::bf16 : FloatProducts::float32;
  if (!f.output.empty()) settings.output = parse_output(f.output);
}

std::string flag_for_setting(const std::string& setting) {
  static const std::pair<const char*, const char*> flags[] = {
      {"learning_rate", "--lr"}, {"hidden_layers", "--layers"}, {"architecture", "--layers"}, {"network", "--layers"},
      {"hidden_activations", "--hidden-activation"}, {"init_scale", "--init-scale"}, {"leaky_slope", "--leaky-slope"},
      {"record_every", "--print-every"}, {"max_epochs", "--max-epochs"}, {"tolerance", "--tol"},
      {"n_iter_no_change", "--n-iter-no-change"}, {"batch_size", "--batch-size"}, {"drop_last", "--drop-last"},
      {"clip_norm", "--clip-norm"}, {"min_delta", "--min-delta"}, {"checkpoint_every", "--checkpoint-every"}, {"gradient_blocks", "--gradient-blocks"},
      {"class_weights", "--class-weight"}, {"weight_decay", "--weight-decay"}, {"validation_fraction", "--val-split"},
      {"normalization", "--normalize"}, {"data_fingerprint", "--data"}, {"mode", "--iterations/--epochs"},
      {"hidden_activation", "--hidden-activation"}, {"dtype", "--dtype"}, {"float_products", "--precision"},
      {"trace_step", "--iteration"}};
  for (const auto& [name, flag] : flags)
    if (setting == name) return flag;
  std::string flag = "--" + setting;
  for (char& c : flag)
    if (c == '_') c = '-';
  return flag;
}

}  // namespace deepnet::cli
