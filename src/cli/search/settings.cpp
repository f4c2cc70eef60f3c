// `deepnet search`'s settings: grid and random generation over the space's
// dimensions, and resolve(), which turns a setting into FitSettings.
#include "cli/search/settings.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>

#include "cli/cli.hpp"
#include "deepnet/optimizer.hpp"
#include "deepnet/rng.hpp"

namespace deepnet::cli::search {

namespace {

std::optional<std::string> get(const Setting& s, const char* name) {
  if (!s.contains(name)) return std::nullopt;
  return text_of(s[name]);
}

json sample(const Dimension& d, Rng& rng) {
  if (!d.range) return d.values[static_cast<std::size_t>(rng.below(d.values.size()))];
  if (d.param->kind == Kind::integer) {
    if (d.log) {
      const double v = std::exp(std::log(d.lo) + rng.uniform() * (std::log(d.hi + 1) - std::log(d.lo)));
      return std::min(static_cast<long long>(d.hi), static_cast<long long>(std::floor(v)));
    }
    return static_cast<long long>(d.lo) + static_cast<long long>(rng.below(static_cast<std::uint64_t>(d.hi - d.lo) + 1));
  }
  const double u = rng.uniform();
  const double v = d.log ? std::exp(std::log(d.lo) + u * (std::log(d.hi) - std::log(d.lo))) : d.lo + u * (d.hi - d.lo);
  // Four significant digits: what the table and the log show is exactly what was trained.
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return std::strtod(text, nullptr);
}

}  // namespace

std::string describe(const Setting& s) {
  std::string text;
  for (const auto& [key, value] : s.items()) {
    std::string v = shown(value);
    if (v.empty()) v = "\"\"";
    text += (text.empty() ? "" : ", ") + key + " " + v;
  }
  return text.empty() ? "(defaults)" : text;
}

long long grid_size(const std::vector<Dimension>& dims) {
  long long n = 1;
  for (const Dimension& d : dims) {
    n *= static_cast<long long>(d.values.size());
    if (n > 1000000000LL) return n;
  }
  return n;
}

// The cartesian product; the last parameter changes fastest.
std::vector<Setting> grid_settings(const std::vector<Dimension>& dims) {
  std::vector<Setting> out;
  std::vector<std::size_t> at(dims.size(), 0);
  for (;;) {
    Setting s = json::object();
    for (std::size_t k = 0; k < dims.size(); ++k) s[dims[k].param->name] = dims[k].values[at[k]];
    out.push_back(std::move(s));
    std::size_t k = dims.size();
    while (k > 0) {
      if (++at[k - 1] < dims[k - 1].values.size()) break;
      at[k - 1] = 0;
      --k;
    }
    if (k == 0) break;
  }
  return out;
}

// `trials` distinct settings drawn with a generator seeded from --seed (the
// whole grid, in grid order, when the space is finite and not larger).
std::vector<Setting> random_settings(const std::vector<Dimension>& dims, int trials, std::uint64_t seed) {
  const bool finite = std::none_of(dims.begin(), dims.end(), [](const Dimension& d) { return d.range; });
  if (finite && grid_size(dims) <= trials) return grid_settings(dims);
  Rng rng(seed);
  std::vector<Setting> out;
  std::set<std::string> seen;
  for (long long attempt = 0; static_cast<int>(out.size()) < trials && attempt < 100LL * trials + 1000; ++attempt) {
    Setting s = json::object();
    for (const Dimension& d : dims) s[d.param->name] = sample(d, rng);
    if (seen.insert(s.dump()).second) out.push_back(std::move(s));
  }
  return out;
}

TrialSpec resolve(const Setting& s, bool course, const std::string& rng, std::uint64_t seed, const std::string& output) {
  TrialSpec t;
  NetworkFlags network;
  network.layers = get(s, "layers").value_or("");
  network.hidden_activation = get(s, "hidden-activation").value_or("relu");
  network.init = get(s, "init").value_or("auto");
  network.init_scale = std::stod(get(s, "init-scale").value_or("0.01"));
  network.leaky_slope = std::stod(get(s, "leaky-slope").value_or("0.01"));
  network.dtype = get(s, "dtype").value_or("float32");
  network.rng = rng;
  network.seed = seed;
  network.output = output;
  FitSettings& fit = t.fit;
  apply_network_flags(network, fit);
  const std::string normalize = get(s, "normalize").value_or("auto");
  if (normalize != "auto") fit.normalization = parse_normalization(normalize);
  fit.full_batch_gd = course;
  fit.optimizer.kind = parse_optimizer(get(s, "optimizer").value_or(course ? "gd" : "adam"));
  if (const auto lr = get(s, "lr")) fit.learning_rate = std::stod(*lr);
  if (course) {
    fit.iterations = static_cast<int>(std::stoll(get(s, "iterations").value_or("2500")));
    fit.record_every = fit.iterations;
    fit.batch_size = 0;
  } else {
    fit.epochs = static_cast<int>(std::stoll(get(s, "epochs").value_or("10")));
    const std::string batch = get(s, "batch-size").value_or("128");
    fit.batch_size = batch == "full" ? 0 : std::stoll(batch);
    fit.l2 = std::stod(get(s, "l2").value_or("0"));
    for (const std::string& item : split_list(get(s, "dropout").value_or("0"))) fit.dropout.push_back(std::stod(item));
    if (fit.dropout.size() == 1 && fit.dropout[0] == 0) fit.dropout.clear();
    fit.schedule.kind = parse_schedule(get(s, "schedule").value_or("constant"));
    // momentum is a dimension of the momentum optimizers only; beside adam it is left out.
    if (fit.optimizer.kind == OptimizerKind::momentum || fit.optimizer.kind == OptimizerKind::nesterov)
      fit.optimizer.momentum = std::stod(get(s, "momentum").value_or("0.9"));
  }
  return t;
}

}  // namespace deepnet::cli::search
