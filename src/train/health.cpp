// Training-health diagnostics (deepnet/diagnostics.hpp, train/health.hpp).
#include "train/health.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "deepnet/error.hpp"

namespace deepnet {

std::string_view to_string(HealthRule rule) {
  switch (rule) {
    case HealthRule::symmetric_units: return "symmetric-units";
    case HealthRule::dead_relu: return "dead-relu";
    case HealthRule::saturated_units: return "saturated-units";
    case HealthRule::update_too_large: return "update-too-large";
    case HealthRule::update_too_small: return "update-too-small";
    case HealthRule::rising_cost: return "rising-cost";
  }
  return "?";
}

namespace detail {

namespace {

std::string short_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

std::string percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0f%%", 100 * share);
  return text;
}

bool hidden_relu(const std::vector<Activation>& g, int l, int L) { return l < L && g[l] == Activation::relu; }
bool hidden_squashing(const std::vector<Activation>& g, int l, int L) {
  return l < L && (g[l] == Activation::sigmoid || g[l] == Activation::tanh);
}

}  // namespace

template <typename T>
HealthGatherer<T>::HealthGatherer(TrainingHealth* health, const Network<T>& net, std::size_t max_records, bool fresh)
    : health_(health) {
  if (!health_) return;
  L_ = net.layers();
  health_->layers = L_;
  health_->at.clear();
  health_->values.clear();
  health_->warnings.clear();
  units_.assign(static_cast<std::size_t>(L_) + 1, 0);
  activation_.assign(static_cast<std::size_t>(L_) + 1, Activation::linear);
  unit_at_.assign(static_cast<std::size_t>(L_) + 2, 0);
  for (int l = 0; l <= L_; ++l) units_[l] = net.units(l);
  for (int l = 1; l <= L_; ++l) {
    activation_[l] = net.architecture().activation(l);
    unit_at_[l + 1] = unit_at_[l] + static_cast<std::size_t>(units_[l]);
  }
  if (health_->gather) {
    const std::size_t room = std::min<std::size_t>(max_records, std::size_t(1) << 20);
    health_->at.reserve(room);
    health_->values.reserve(room * static_cast<std::size_t>(L_));
    alive_.assign(unit_at_[L_ + 1], 0);
    saturated_.assign(unit_at_[L_ + 1], 0);
    for (auto* v : {&a_sum_, &a_squares_, &dw_sum_, &ratio_sum_}) v->assign(static_cast<std::size_t>(L_) + 1, 0.0);
    ratio_steps_.assign(static_cast<std::size_t>(L_) + 1, 0);
    before_.assign(net.parameters().size(), T(0));
  }
  health_->warnings.reserve(fired_.size());
  if (!fresh || !health_->warn) return;
  // Symmetric hidden units: every row of W[l] (and entry of b[l]) the same.
  for (int l = 1; l < L_; ++l) {
    if (units_[l] < 2) continue;
    const auto W = net.W(l);
    const auto b = net.b(l);
    bool same = true;
    for (Eigen::Index i = 1; i < W.rows() && same; ++i) same = W.row(i) == W.row(0) && b(i, 0) == b(0, 0);
    if (!same) continue;
    fire(HealthRule::symmetric_units, l, 0,
         "layer " + std::to_string(l) + ": its " + std::to_string(units_[l]) +
             " units start with identical incoming weights (zero or constant initialisation), so they compute the "
             "same value and get the same gradient at every step: the layer acts as one unit; initialise the "
             "weights randomly (init he for relu, xavier for tanh and sigmoid, or small random values) to break "
             "the symmetry");
    break;
  }
}

template <typename T>
void HealthGatherer<T>::after_forward(const Network<T>& net) {
  if (!gathering()) return;
  const Eigen::Index m = net.A(L_).cols();
  examples_ += m;
  for (int l = 1; l <= L_; ++l) {
    const Matrix<T>& A = net.A(l);
    const T* a = A.data();
    double sum = 0, squares = 0;
    for (Eigen::Index k = 0; k < A.size(); ++k) {
      const double v = static_cast<double>(a[k]);
      sum += v;
      squares += v * v;
    }
    a_sum_[l] += sum;
    a_squares_[l] += squares;
    const bool relu = hidden_relu(activation_, l, L_), squashing = hidden_squashing(activation_, l, L_);
    if (!relu && !squashing) continue;
    const Matrix<T>& Z = net.Z(l);
    const Eigen::Index n = Z.rows();
    const T* z = Z.data();
    if (relu) {
      unsigned char* alive = alive_.data() + unit_at_[l];
      for (Eigen::Index j = 0; j < m; ++j)
        for (Eigen::Index i = 0; i < n; ++i) alive[i] |= z[j * n + i] > T(0);
    } else {
      long long* count = saturated_.data() + unit_at_[l];
      const T limit = static_cast<T>(health_limits::saturated_z);
      for (Eigen::Index j = 0; j < m; ++j)
        for (Eigen::Index i = 0; i < n; ++i) count[i] += std::abs(z[j * n + i]) > limit;
    }
  }
}

template <typename T>
void HealthGatherer<T>::before_update(const Network<T>& net) {
  if (!gathering()) return;
  ++steps_;
  for (int l = 1; l <= L_; ++l) dw_sum_[l] += static_cast<double>(net.dW(l).template cast<double>().norm());
  std::copy(net.parameters().begin(), net.parameters().end(), before_.begin());
}

template <typename T>
void HealthGatherer<T>::after_update(const Network<T>& net) {
  if (!gathering()) return;
  for (int l = 1; l <= L_; ++l) {
    const auto W = net.W(l);
    const T* before = before_.data() + net.weight_offset(l);
    double change = 0, size = 0;
    for (Eigen::Index k = 0; k < W.size(); ++k) {
      const double w0 = static_cast<double>(before[k]), d = static_cast<double>(W.data()[k]) - w0;
      change += d * d;
      size += w0 * w0;
    }
    if (size > 0 && std::isfinite(size) && std::isfinite(change)) {
      ratio_sum_[l] += std::sqrt(change) / std::sqrt(size);
      ++ratio_steps_[l];
    }
  }
}

template <typename T>
void HealthGatherer<T>::end_window(const Network<T>& net, int at, const char* unit) {
  if (!gathering()) return;
  health_->at.push_back(at);
  double largest_ratio = -1;
  int largest_layer = 0;
  for (int l = 1; l <= L_; ++l) {
    LayerHealth h;
    const double n = static_cast<double>(units_[l]);
    if (examples_ > 0) {
      const double entries = n * static_cast<double>(examples_);
      h.a_mean = a_sum_[l] / entries;
      h.a_std = std::sqrt(std::max(0.0, a_squares_[l] / entries - h.a_mean * h.a_mean));
      if (hidden_relu(activation_, l, L_))
        h.dead = static_cast<double>(std::count(alive_.begin() + static_cast<std::ptrdiff_t>(unit_at_[l]),
                                                alive_.begin() + static_cast<std::ptrdiff_t>(unit_at_[l + 1]), 0)) / n;
      if (hidden_squashing(activation_, l, L_)) {
        const double most = health_limits::saturated_share * static_cast<double>(examples_);
        long long saturated = 0;
        for (std::size_t i = unit_at_[l]; i < unit_at_[l + 1]; ++i) saturated += static_cast<double>(saturated_[i]) > most;
        h.saturated = static_cast<double>(saturated) / n;
      }
    }
    if (steps_ > 0) h.dw_norm = dw_sum_[l] / static_cast<double>(steps_);
    h.w_norm = static_cast<double>(net.W(l).template cast<double>().norm());
    if (ratio_steps_[l] > 0) h.update_ratio = ratio_sum_[l] / static_cast<double>(ratio_steps_[l]);
    if (h.update_ratio > largest_ratio) largest_ratio = h.update_ratio, largest_layer = l;
    health_->values.push_back(h);
  }
  // Reset for the next window.
  std::fill(alive_.begin(), alive_.end(), 0);
  std::fill(saturated_.begin(), saturated_.end(), 0);
  for (auto* v : {&a_sum_, &a_squares_, &dw_sum_, &ratio_sum_}) std::fill(v->begin(), v->end(), 0.0);
  std::fill(ratio_steps_.begin(), ratio_steps_.end(), 0);
  examples_ = 0;
  steps_ = 0;
  const bool first = records_++ == 0;
  if (!health_->warn) return;

  const std::string when = std::string(unit) + " " + std::to_string(at);
  const std::size_t r = health_->records() - 1;
  for (int l = 1; l < L_ && !fired_[static_cast<int>(HealthRule::dead_relu)]; ++l) {
    const double dead = health_->of(r, l).dead;
    if (dead > health_limits::dead_layer)
      fire(HealthRule::dead_relu, l, at,
           "layer " + std::to_string(l) + ": " + percent(dead) + " of its " + std::to_string(units_[l]) +
               " ReLU units are dead (output 0 on every example of " + when +
               "): they pass no gradient and never learn again; lower the learning rate, start the biases at 0 "
               "(or slightly positive), or use leaky_relu, whose gradient is never 0");
  }
  // Saturation at the start (weights too large, inputs not normalised) keeps
  // the units from learning; later it is often the mark of confident units
  // that learned (the course's planar tanh net), so only the first records count.
  for (int l = 1; l < L_ && records_ <= health_limits::saturated_records &&
                  !fired_[static_cast<int>(HealthRule::saturated_units)]; ++l) {
    const double saturated = health_->of(r, l).saturated;
    if (saturated > health_limits::saturated_layer)
      fire(HealthRule::saturated_units, l, at,
           "layer " + std::to_string(l) + ": " + percent(saturated) + " of its " + std::to_string(units_[l]) + " " +
               std::string(to_string(activation_[l])) + " units are saturated (|z| > 4 on most examples of " + when +
               "): their slope is near 0 and they learn very slowly; start from smaller weights (init xavier or "
               "small), normalise the inputs, or use relu in the hidden layers");
  }
  // The first record's steps start from the initial (often small) weights,
  // where ratios of 0.1 to 0.5 are usual: there only a step larger than the
  // weights themselves counts.
  const double high = first ? health_limits::update_high_first : health_limits::update_high;
  if (largest_layer > 0 && largest_ratio > high)
    fire(HealthRule::update_too_large, largest_layer, at,
         "layer " + std::to_string(largest_layer) + ": each step changes the weights by " + short_number(largest_ratio) +
             " of their size (update/weight ratio above " + short_number(high) + " in " + when +
             "): the learning rate is too high; lower it (a ratio near 1e-3 is healthy)");
  if (first && largest_layer > 0 && largest_ratio < health_limits::update_low)
    fire(HealthRule::update_too_small, largest_layer, at,
         "the largest update/weight ratio is " + short_number(largest_ratio) + " (below " +
             short_number(health_limits::update_low) + ", in " + when +
             "): the steps barely move the weights; the learning rate is too low, raise it (a ratio near 1e-3 is "
             "healthy)");
}

template <typename T>
void HealthGatherer<T>::cost(int at, double value, const char* unit) {
  if (!health_ || !health_->warn) return;
  constexpr int keep = health_limits::rising_records + 1;
  static_assert(keep <= 8);
  if (cost_count_ == keep) {
    std::copy(costs_.begin() + 1, costs_.begin() + keep, costs_.begin());
    std::copy(cost_at_.begin() + 1, cost_at_.begin() + keep, cost_at_.begin());
    --cost_count_;
  }
  costs_[cost_count_] = value;
  cost_at_[cost_count_] = at;
  ++cost_count_;
  if (cost_count_ < keep || fired_[static_cast<int>(HealthRule::rising_cost)]) return;
  for (int k = 1; k < keep; ++k)
    if (!(costs_[k] > costs_[k - 1])) return;
  if (!(costs_[keep - 1] - costs_[0] > health_limits::rising_total * std::abs(costs_[0]))) return;
  char text[160];
  std::snprintf(text, sizeof text, "the training cost rose %d records in a row (%.6g at %s %d -> %.6g at %s %d)",
                health_limits::rising_records, costs_[0], unit, cost_at_[0], costs_[keep - 1], unit,
                cost_at_[keep - 1]);
  fire(HealthRule::rising_cost, 0, at,
       std::string(text) + ": training is moving away from a minimum; the learning rate is probably too high, "
                           "lower it");
}

template <typename T>
void HealthGatherer<T>::fire(HealthRule rule, int layer, int at, std::string message) {
  bool& fired = fired_[static_cast<std::size_t>(rule)];
  if (fired) return;
  fired = true;
  health_->warnings.push_back({rule, layer, at, std::move(message)});
  if (health_->on_warning) health_->on_warning(health_->warnings.back());
}

template <typename T>
std::string first_non_finite_forward(const Network<T>& net) {
  try {
    for (int l = 1; l <= net.layers(); ++l) {
      const std::string layer = "[" + std::to_string(l) + "] (layer " + std::to_string(l) + ")";
      if (!net.Z(l).allFinite()) return "Z" + layer;
      if (!net.A(l).allFinite()) return "A" + layer;
    }
  } catch (const Error&) {  // no forward pass yet
  }
  return "";
}

template <typename T>
std::string first_non_finite_backward(const Network<T>& net) {
  for (int l = net.layers(); l >= 1; --l) {
    const std::string layer = "[" + std::to_string(l) + "] (layer " + std::to_string(l) + ")";
    if (!net.dZ_finite(l)) return "dZ" + layer;
    if (!net.dW(l).allFinite()) return "dW" + layer;
    if (!net.db(l).allFinite()) return "db" + layer;
  }
  return "";
}

template <typename T>
std::string first_non_finite_parameter(const Network<T>& net) {
  for (int l = 1; l <= net.layers(); ++l) {
    if (!net.W(l).allFinite()) return "W[" + std::to_string(l) + "]";
    if (!net.b(l).allFinite()) return "b[" + std::to_string(l) + "]";
  }
  return "";
}

template class HealthGatherer<float>;
template class HealthGatherer<double>;
template std::string first_non_finite_forward<float>(const Network<float>&);
template std::string first_non_finite_forward<double>(const Network<double>&);
template std::string first_non_finite_backward<float>(const Network<float>&);
template std::string first_non_finite_backward<double>(const Network<double>&);
template std::string first_non_finite_parameter<float>(const Network<float>&);
template std::string first_non_finite_parameter<double>(const Network<double>&);

}  // namespace detail
}  // namespace deepnet
