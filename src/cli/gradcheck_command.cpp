// `deepnet gradcheck`: compares backpropagation with centred differences on
// real data, layer by layer, in double precision.
#include <cmath>
#include <cstdio>

#include "cli/cli.hpp"
#include "deepnet/gradient_check.hpp"

namespace deepnet::cli {

namespace {

struct GradcheckSettings {
  DataFlags data;
  NetworkFlags network;
  std::string normalize = "auto";
  long long examples = 64;
  std::size_t max_parameters = 2000;
  double epsilon = 1e-7;
  double threshold = 1e-7;
  double l2 = 0;
};

int run_gradcheck(const GradcheckSettings& s) {
  FitSettings settings;
  apply_network_flags(s.network, settings);
  // Normalised as the course's full-batch loop would: auto is none (div255 for 8-bit images).
  settings.full_batch_gd = true;
  settings.optimizer.kind = OptimizerKind::sgd;
  if (s.normalize != "auto")
    settings.normalization = with_exit_code(exit_usage, [&] { return parse_normalization(s.normalize); });
  if (s.examples < 1) throw CliError(exit_usage, "--examples: expected at least 1, got " + std::to_string(s.examples));
  if (!(std::isfinite(s.epsilon) && s.epsilon > 0))
    throw CliError(exit_usage, "--epsilon: expected a finite value > 0, got " + std::to_string(s.epsilon));
  if (!(s.threshold > 0)) throw CliError(exit_usage, "--threshold: expected a value > 0");
  const Dataset data = load_data(s.data, s.data.data);
  const FitPlan plan = with_fit_errors(exit_data, [&] { return plan_fit(data, settings); });
  const Architecture& arch = plan.architecture;
  const TargetEncoding& encoding = plan.encoding;
  // The first --examples examples, normalised like training would.
  const Eigen::Index m = std::min<Eigen::Index>(data.examples(), s.examples);
  Matrix<double> X = Normalizer::fit(plan.normalization, data).features<double>(data, 0, m);
  std::vector<double> targets(data.targets.begin(), data.targets.begin() + m);
  Dataset subset = data;
  subset.targets = targets;
  const Matrix<double> labels = with_exit_code(exit_data, [&] {
    return encode_labels<double>(encoding, targets_in_encoding(subset, encoding));
  });
  const Matrix<double> Y = with_exit_code(exit_data, [&] { return make_targets<double>(arch.output, arch.sizes.back(), labels); });

  Network<double> net(arch);
  Rng rng(settings.seed, settings.rng);
  initialize(net, plan.init, rng, settings.init_scale);
  with_exit_code(exit_usage, [&] {
    net.set_l2(s.l2);
    return 0;
  });
  GradientCheckOptions options;
  options.epsilon = s.epsilon;
  options.max_parameters = s.max_parameters;
  options.seed = s.network.seed;
  const GradientCheckResult result = gradient_check(net, X, Y, options);
  std::printf("gradient check: %s, %lld examples, %zu of %zu parameters, epsilon %g, l2 %g (double)\n",
              arch.describe().c_str(), static_cast<long long>(m), result.checked, net.parameters().size(), s.epsilon,
              s.l2);
  for (std::size_t l = 0; l < result.layer_relative_error.size(); ++l)
    std::printf("layer %zu (W[%zu], b[%zu]): relative error %.3e\n", l + 1, l + 1, l + 1, result.layer_relative_error[l]);
  const bool pass = result.relative_error < s.threshold;
  std::printf("overall: relative error %.3e (threshold %g): %s\n", result.relative_error, s.threshold,
              pass ? "PASS" : "FAIL");
  return pass ? exit_ok : exit_other;
}

}  // namespace

Runner add_gradcheck_command(CLI::App& app) {
  auto s = std::make_shared<GradcheckSettings>();
  CLI::App* cmd = app.add_subcommand(
      "gradcheck", "Check backpropagation against centred differences on data (double precision); exit 1 when "
                   "the relative error is above the threshold");
  add_data_flags(*cmd, s->data, "Data: a CSV file or a built-in set name");
  add_network_flags(*cmd, s->network);
  cmd->add_option("--normalize", s->normalize, "auto, none, standard, minmax or div255")->capture_default_str();
  cmd->add_option("--examples", s->examples, "Use the first N examples")->capture_default_str();
  cmd->add_option("--max-parameters", s->max_parameters,
                  "Check at most this many parameters (a seeded random subset); 0 = all")
      ->capture_default_str();
  cmd->add_option("--epsilon", s->epsilon, "Step of the centred differences")->capture_default_str();
  cmd->add_option("--threshold", s->threshold, "Largest relative error that passes")->capture_default_str();
  cmd->add_option("--l2", s->l2, "Check with L2 regularisation lambda in the cost and gradient")->capture_default_str();
  return [s] { return run_gradcheck(*s); };
}

}  // namespace deepnet::cli
