// `deepnet export` and `deepnet import`: parameters to and from NPZ with the
// course's names W1, b1, W2, b2, ... in the course's shapes (W[l]: (n[l], n[l-1]),
// b[l]: (n[l], 1)), so weights move between numpy and deepnet.
#include <algorithm>
#include <cstdio>
#include <string>

#include "cli/cli.hpp"
#include "deepnet/array.hpp"
#include "deepnet/model_file.hpp"

namespace deepnet::cli {

namespace {

struct ExportSettings {
  std::string model, npz;
};

struct ImportSettings {
  std::string npz, out;
  NetworkFlags network;
  std::string classes;
};

// A column-major (rows, cols) block of the flat buffer as a row-major array.
NumericArray course_array(const std::vector<double>& flat, std::size_t offset, std::size_t rows, std::size_t cols,
                          bool float64) {
  NumericArray a;
  a.shape = {rows, cols};
  a.dtype = float64 ? "<f8" : "<f4";
  a.values.resize(rows * cols);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) a.values[i * cols + j] = flat[offset + j * rows + i];
  return a;
}

int run_export(const ExportSettings& s) {
  const Model model = with_exit_code(exit_model, [&] { return load_model(s.model); });
  std::vector<std::pair<std::string, NpzArray>> arrays;
  const auto& n = model.architecture.sizes;
  std::size_t offset = 0;
  for (int l = 1; l <= model.architecture.layers(); ++l) {
    const auto rows = static_cast<std::size_t>(n[l]), cols = static_cast<std::size_t>(n[l - 1]);
    arrays.emplace_back("W" + std::to_string(l), course_array(model.parameters, offset, rows, cols, model.float64));
    offset += rows * cols;
    arrays.emplace_back("b" + std::to_string(l), course_array(model.parameters, offset, rows, 1, model.float64));
    offset += rows;
  }
  with_exit_code(exit_other, [&] {
    save_npz(s.npz, arrays);
    return 0;
  });
  std::printf("exported %s (%s) to %s: W1..W%d, b1..b%d\n", s.model.c_str(), model.architecture.describe().c_str(),
              s.npz.c_str(), model.architecture.layers(), model.architecture.layers());
  return exit_ok;
}

int run_import(const ImportSettings& s) {
  const NetworkPlan plan = plan_network(s.network);
  Model model;
  Architecture& arch = model.architecture;
  std::vector<NumericArray> W, b;
  with_exit_code(exit_data, [&] {
    const std::vector<std::string> keys = npz_keys(s.npz);
    auto has = [&](const std::string& k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
    if (!has("W1")) throw Error(s.npz + ": no member 'W1'; expected the course's names W1, b1, W2, b2, ...");
    for (int l = 1; has("W" + std::to_string(l)); ++l) {
      const std::string wl = "W" + std::to_string(l), bl = "b" + std::to_string(l);
      if (!has(bl)) throw Error(s.npz + ": has " + wl + " but no " + bl);
      W.push_back(load_npz_array(s.npz, wl));
      b.push_back(load_npz_array(s.npz, bl));
      const NumericArray& w = W.back();
      const NumericArray& bias = b.back();
      if (w.shape.size() != 2)
        throw Error(s.npz + ": member '" + wl + "': expected a 2-D array (n[" + std::to_string(l) + "], n[" +
                    std::to_string(l - 1) + "])");
      if (l == 1) arch.sizes.push_back(static_cast<int>(w.shape[1]));
      if (w.shape[1] != static_cast<std::size_t>(arch.sizes.back()))
        throw Error(s.npz + ": member '" + wl + "': has " + std::to_string(w.shape[1]) + " columns but n[" +
                    std::to_string(l - 1) + "] = " + std::to_string(arch.sizes.back()));
      arch.sizes.push_back(static_cast<int>(w.shape[0]));
      const bool column = (bias.shape.size() == 2 && bias.shape[1] == 1) || bias.shape.size() == 1;
      if (!column || bias.shape[0] != w.shape[0])
        throw Error(s.npz + ": member '" + bl + "': expected shape (" + std::to_string(w.shape[0]) + ", 1)");
    }
    return 0;
  });
  // Output and classes: --output, else one unit -> sigmoid, several -> softmax.
  const int units = arch.sizes.back();
  arch.output = s.network.output.empty() ? (units == 1 ? Output::sigmoid : Output::softmax)
                                         : with_exit_code(exit_usage, [&] { return parse_output(s.network.output); });
  arch.hidden_activations = plan.activations;
  arch.leaky_slope = s.network.leaky_slope;
  with_exit_code(exit_usage, [&] {
    arch.validate();
    return 0;
  });
  model.encoding.output = arch.output;
  if (arch.output != Output::linear) {
    const int classes = arch.output == Output::softmax ? units : 2;
    std::vector<std::string> names = s.classes.empty() ? std::vector<std::string>{} : split_list(s.classes);
    if (!names.empty() && static_cast<int>(names.size()) != classes)
      throw CliError(exit_usage, "--classes: " + std::to_string(names.size()) + " names for " + std::to_string(classes) +
                                     " classes");
    for (int k = 0; k < classes; ++k) {
      model.encoding.classes.push_back(k);
      model.encoding.class_names.push_back(names.empty() ? std::to_string(k) : names[static_cast<std::size_t>(k)]);
    }
  }
  model.float64 = s.network.dtype == "float64";
  for (std::size_t l = 0; l < W.size(); ++l) {
    const std::size_t rows = W[l].shape[0], cols = W[l].shape[1];
    for (std::size_t j = 0; j < cols; ++j)
      for (std::size_t i = 0; i < rows; ++i) model.parameters.push_back(W[l].values[i * cols + j]);
    for (std::size_t i = 0; i < rows; ++i) model.parameters.push_back(b[l].values[i]);
  }
  if (!model.float64)
    for (double& v : model.parameters) v = static_cast<double>(static_cast<float>(v));
  for (int i = 0; i < arch.sizes[0]; ++i) model.feature_names.push_back("x" + std::to_string(i + 1));
  model.target_name = "y";
  model.training.optimizer = "imported";
  model.training.deepnet_version = DEEPNET_VERSION;
  with_exit_code(exit_model, [&] {
    save_model(s.out, model);
    return 0;
  });
  std::printf("imported %s as %s into %s\n", s.npz.c_str(), arch.describe().c_str(), s.out.c_str());
  return exit_ok;
}

}  // namespace

Runner add_export_command(CLI::App& app) {
  auto s = std::make_shared<ExportSettings>();
  CLI::App* cmd = app.add_subcommand(
      "export", "Write a model's parameters to NPZ with the course's names and shapes: W1 (n[1], n[0]), b1 (n[1], 1), ...");
  cmd->add_option("--model", s->model, "Model file")->required();
  cmd->add_option("--npz", s->npz, "NPZ file to write (atomically)")->required();
  return [s] { return run_export(*s); };
}

Runner add_import_command(CLI::App& app) {
  auto s = std::make_shared<ImportSettings>();
  CLI::App* cmd = app.add_subcommand(
      "import", "Make a model file from an NPZ of W1, b1, W2, b2, ... in the course's shapes (e.g. from numpy)");
  cmd->add_option("--npz", s->npz, "NPZ file with W1, b1, ...")->required();
  cmd->add_option("--out", s->out, "Model file to write")->required();
  add_network_flags(*cmd, s->network);
  cmd->add_option("--classes", s->classes, "Class names, comma-separated (default: 0, 1, ...)");
  return [s] { return run_import(*s); };
}

}  // namespace deepnet::cli
