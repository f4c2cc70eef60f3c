#pragma once
// Optimizers and learning-rate schedules. Every optimizer is one loop over the
// flat parameter and gradient buffers (DESIGN.md), with its state in buffers
// of the same layout. t counts steps from 1.
//   sgd/gd:   theta -= a g
//   momentum: v = beta v + g;                 theta -= a v
//   nesterov: v = beta v + g;                 theta -= a (g + beta v)
//   rmsprop:  s = rho s + (1-rho) g^2;        theta -= a g / (sqrt(s) + eps)
//   adam:     m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//             m^ = m / (1 - b1^t);  v^ = v / (1 - b2^t);  theta -= a m^ / (sqrt(v^) + eps)
//   adamw:    adam, plus the decoupled decay theta -= a wd theta (before the adam step)
// Momentum and Nesterov use the "v = beta v + g" form (PyTorch's), so alpha is
// the step size of a steady gradient divided by (1 - beta).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace deepnet {

enum class OptimizerKind { sgd, momentum, nesterov, rmsprop, adam, adamw };
// Names: gd, sgd, momentum, nesterov, rmsprop, adam, adamw. Throws Error otherwise.
OptimizerKind parse_optimizer(std::string_view name);
std::string_view to_string(OptimizerKind kind);

struct OptimizerSettings {
  OptimizerKind kind = OptimizerKind::adam;
  double momentum = 0.9;      // beta of momentum and nesterov
  double rho = 0.9;           // rmsprop's decay of the squared-gradient average
  double beta1 = 0.9;         // adam, adamw
  double beta2 = 0.999;       // adam, adamw
  double epsilon = 1e-8;      // rmsprop, adam, adamw
  double weight_decay = 0.01; // adamw only (decoupled)
  void validate() const;      // Throws Error naming the bad setting.
};

class Optimizer {
 public:
  Optimizer(OptimizerSettings settings, std::size_t parameters);

  // One step with learning rate alpha over the flat buffers.
  template <typename T>
  void step(std::span<T> theta, std::span<const T> gradient, double alpha);

  const OptimizerSettings& settings() const { return settings_; }
  // State, for checkpoints: steps taken and the moment buffers (empty when unused).
  std::uint64_t steps() const { return steps_; }
  std::vector<double>& first_moment() { return first_; }
  std::vector<double>& second_moment() { return second_; }
  const std::vector<double>& first_moment() const { return first_; }
  const std::vector<double>& second_moment() const { return second_; }
  void set_steps(std::uint64_t steps) { steps_ = steps; }

 private:
  OptimizerSettings settings_;
  std::uint64_t steps_ = 0;
  // Kept in double for every element type: the moments are sums of many small terms.
  std::vector<double> first_;   // velocity (momentum, nesterov) or m (adam)
  std::vector<double> second_;  // s (rmsprop) or v (adam)
};

enum class ScheduleKind { constant, step, exponential, inverse_time, cosine };
ScheduleKind parse_schedule(std::string_view name);  // constant, step, exponential, inverse-time, cosine
std::string_view to_string(ScheduleKind kind);

// The learning rate of epoch e (0-based) of E, with an optional linear warmup
// over the first warmup_epochs epochs (rising per step from alpha/steps to alpha):
//   constant:     alpha
//   step:         alpha * gamma^floor(e / step_size)
//   exponential:  alpha * gamma^e
//   inverse-time: alpha / (1 + decay * e)
//   cosine:       min_lr + (alpha - min_lr) (1 + cos(pi e / E)) / 2
struct Schedule {
  ScheduleKind kind = ScheduleKind::constant;
  double alpha = 1e-3;
  double gamma = 0.5;     // step, exponential
  int step_size = 10;     // step: epochs per decay
  double decay = 0.1;     // inverse-time
  double min_lr = 0;      // cosine
  int warmup_epochs = 0;
  void validate() const;
  // epoch in [0, epochs); step_in_epoch in [0, steps_per_epoch).
  double rate(int epoch, int epochs, long long step_in_epoch, long long steps_per_epoch) const;
};

}  // namespace deepnet
