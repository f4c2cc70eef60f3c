// `deepnet summary`: the network's layers in course notation, with parameter
// counts, FLOPs and memory.
#include <cstdio>

#include "cli/cli.hpp"
#include "deepnet/model_file.hpp"

namespace deepnet::cli {

namespace {

struct SummarySettings {
  std::string model;
  int inputs = 0;
  int outputs = 0;
  NetworkFlags network;
  long long batch_size = 64;
};

std::string shape(long long rows, const std::string& cols) {
  return "(" + std::to_string(rows) + ", " + cols + ")";
}

std::string bytes_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
  return text;
}

int run_summary(const SummarySettings& s) {
  Architecture arch;
  int element = 4;
  Model model;
  if (!s.model.empty()) {
    model = with_exit_code(exit_model, [&] { return load_model(s.model); });
    arch = model.architecture;
    element = model.float64 ? 8 : 4;
  } else {
    if (s.inputs < 1 || s.outputs < 1)
      throw CliError(exit_usage, "summary: give --model FILE, or --inputs N and --outputs K (and --layers)");
    const NetworkPlan plan = plan_network(s.network);
    TargetEncoding encoding;
    encoding.output = s.network.output.empty() ? (s.outputs == 1 ? Output::sigmoid : Output::softmax)
                                               : with_exit_code(exit_usage, [&] { return parse_output(s.network.output); });
    if (encoding.output == Output::softmax)
      for (int k = 0; k < s.outputs; ++k) encoding.classes.push_back(k);
    arch = make_architecture(s.network, plan, s.inputs, encoding);
    arch.sizes.back() = s.outputs;
    with_exit_code(exit_usage, [&] {
      arch.validate();
      return 0;
    });
    element = s.network.dtype == "float64" ? 8 : 4;
  }
  if (s.batch_size < 1) throw CliError(exit_usage, "--batch-size: expected at least 1, got " + std::to_string(s.batch_size));
  const int L = arch.layers();
  std::printf("network: %s, L = %d\n\n", arch.describe().c_str(), L);
  std::printf("%-3s %-8s %-11s %-18s %-10s %-16s %s\n", "l", "n[l]", "g[l]", "W[l]", "b[l]", "Z[l], A[l]", "parameters");
  std::printf("%-3d %-8d %-11s %-18s %-10s %-16s %d\n", 0, arch.sizes[0], "(input)", "-", "-",
              ("A[0] " + shape(arch.sizes[0], "m")).c_str(), 0);
  long long total = 0, weights = 0, activations = 0;
  for (int l = 1; l <= L; ++l) {
    const long long n = arch.sizes[l], n_prev = arch.sizes[l - 1];
    const long long count = n * n_prev + n;
    total += count;
    weights += n * n_prev;
    activations += n;
    std::printf("%-3d %-8lld %-11s %-18s %-10s %-16s %lld\n", l, n, std::string(to_string(arch.activation(l))).c_str(),
                shape(n, std::to_string(n_prev)).c_str(), shape(n, "1").c_str(), shape(n, "m").c_str(), count);
  }
  std::printf("\ntotal parameters: %lld\n", total);
  std::printf("FLOPs per example: forward %lld (2 x weights), training %lld (6 x weights)\n", 2 * weights, 6 * weights);
  const double parameter_bytes = static_cast<double>(total) * element;
  // Training keeps Z, A and dZ for every layer: 3 x sum n[l] x m values.
  const double cache_bytes = 3.0 * static_cast<double>(activations) * static_cast<double>(s.batch_size) * element;
  std::printf("memory (%s, batch size m = %lld): parameters %s, gradients %s, caches Z/A/dZ %s\n",
              element == 8 ? "float64" : "float32", s.batch_size, bytes_text(parameter_bytes).c_str(),
              bytes_text(parameter_bytes).c_str(), bytes_text(cache_bytes).c_str());
  if (!s.model.empty()) {
    // How the model was made: what it was trained on and with.
    std::printf("\ntrained by deepnet %s", model.training.deepnet_version.c_str());
    if (model.training.settings.empty())
      std::printf(" (a format version 1 file: optimizer %s, learning rate %g, %lld %s)\n", model.training.optimizer.c_str(),
                  model.training.learning_rate, static_cast<long long>(model.training.iterations),
                  model.training.optimizer == "gd" ? "iterations" : "epochs");
    else
      std::printf(" with:\n");
    for (const auto& [key, value] : model.training.settings) std::printf("  %-20s %s\n", key.c_str(), value.c_str());
    if (!model.training.settings.empty())
      std::printf("  %-20s %lld\n  %-20s %.6g\n", model.training.optimizer == "gd" ? "iterations run" : "epochs run",
                  static_cast<long long>(model.training.iterations), "final cost", model.training.final_cost);
    std::string features;
    for (std::size_t k = 0; k < model.feature_names.size(); ++k)
      features += (k ? ", " : "") + model.feature_names[k];
    if (!features.empty()) std::printf("  %-20s %s\n", "features", features.c_str());
    if (!model.target_name.empty()) std::printf("  %-20s %s\n", "label", model.target_name.c_str());
    std::string classes;
    for (std::size_t k = 0; k < model.encoding.class_names.size(); ++k)
      classes += (k ? ", " : "") + model.encoding.class_names[k];
    if (!classes.empty()) std::printf("  %-20s %s\n", "classes", classes.c_str());
    std::printf("  %-20s %s\n", "normalization", std::string(to_string(model.normalizer.kind)).c_str());
  }
  return exit_ok;
}

}  // namespace

Runner add_summary_command(CLI::App& app) {
  auto s = std::make_shared<SummarySettings>();
  CLI::App* cmd = app.add_subcommand(
      "summary", "Print the network layer by layer in course notation: shapes of W[l], b[l], Z[l]/A[l], "
                 "parameter counts, FLOPs per example and memory");
  cmd->add_option("--model", s->model, "A model file (instead of --inputs/--layers/--outputs)");
  cmd->add_option("--inputs", s->inputs, "n[0], the number of input features");
  cmd->add_option("--outputs", s->outputs, "n[L], the number of output units");
  add_network_flags(*cmd, s->network);
  cmd->add_option("--batch-size", s->batch_size, "Batch size m for the memory estimate")->capture_default_str();
  return [s] { return run_summary(*s); };
}

}  // namespace deepnet::cli
