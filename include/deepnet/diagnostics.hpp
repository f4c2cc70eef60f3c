#pragma once
// Training-health diagnostics (train room): per-layer statistics recorded
// while a network trains, and one-line warnings with advice when a rule of
// docs/training.md ("Diagnostics") fires.
//
// A training loop takes a TrainingHealth* in its options (null: nothing is
// gathered and nothing is checked, at no cost). With `gather` on, every
// record holds, for each layer l = 1..L:
//   dead          fraction of the units of a hidden ReLU layer whose output
//                 was 0 on every example of the record's window (NaN for
//                 other layers)
//   saturated     fraction of the units of a hidden sigmoid/tanh layer with
//                 |z| > 4 on more than half of the window's examples (NaN
//                 for other layers)
//   a_mean, a_std mean and standard deviation of every entry of A[l] over
//                 the window (after dropout, when it is on)
//   dw_norm       ||dW[l]||_F, the gradient the optimizer was given (after
//                 L2 and clipping), averaged over the window's steps
//   w_norm        ||W[l]||_F at the end of the window
//   update_ratio  ||W[l] after - W[l] before||_F / ||W[l] before||_F of one
//                 step: the optimizer's actual step (learning rate, momentum,
//                 Adam's scaling and weight decay included), averaged over
//                 the window's steps (steps from W[l] = 0 do not count; NaN
//                 when none counts)
// The window is an epoch in mini-batch training (every step's batch) and the
// recorded iteration in full-batch gradient descent (every record_every
// iterations: the whole data set at that iteration).
// Gathering reads the caches and buffers only: the trained parameters are
// the same bits with or without it. Its buffers are allocated before the loop.
#include <cstddef>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace deepnet {

struct LayerHealth {
  static constexpr double none = std::numeric_limits<double>::quiet_NaN();
  double dead = none;
  double saturated = none;
  double a_mean = none, a_std = none;
  double dw_norm = none, w_norm = none;
  double update_ratio = none;
};

// The rules, in the order docs/training.md lists them.
enum class HealthRule { symmetric_units, dead_relu, saturated_units, update_too_large, update_too_small, rising_cost };
std::string_view to_string(HealthRule rule);  // "symmetric-units", "dead-relu", ...

struct HealthWarning {
  HealthRule rule = HealthRule::rising_cost;
  int layer = 0;        // the first layer it fired on (0: the whole network)
  int at = 0;           // epoch (mini-batch) or iteration (full-batch) when it fired
  std::string message;  // one line: what was seen, and the advice
};

struct TrainingHealth {
  // ---- settings
  // Gather the per-layer statistics above (and check the rules that need
  // them: dead, saturated, update ratio). Off: only the cheap rules run
  // (symmetric units at the start, rising cost), when `warn` is on.
  bool gather = false;
  bool warn = true;  // check the rules and report each one once
  // Called once per rule, when it first fires (also kept in `warnings`).
  std::function<void(const HealthWarning&)> on_warning;

  // ---- results
  int layers = 0;                    // L
  std::vector<int> at;               // record r: its epoch (mini-batch) or iteration (full-batch)
  std::vector<LayerHealth> values;   // record r, layer l (1..L): values[r * layers + l - 1]
  std::vector<HealthWarning> warnings;

  std::size_t records() const { return at.size(); }
  const LayerHealth& of(std::size_t record, int layer) const {
    return values[record * static_cast<std::size_t>(layers) + static_cast<std::size_t>(layer - 1)];
  }
};

// Thresholds of the rules (docs/training.md).
namespace health_limits {
constexpr double saturated_z = 4;            // |z| above this is a saturated sigmoid/tanh unit
constexpr double saturated_share = 0.5;      // ... on more than this share of the examples
constexpr double dead_layer = 0.5;           // more than this share of a layer's ReLUs dead
constexpr double saturated_layer = 0.5;      // more than this share of a layer's units saturated
constexpr double update_high = 1e-1;         // update/weight ratio above: learning rate too high
constexpr double update_high_first = 1;      // ... in the first record, whose steps start from small weights
constexpr double update_low = 1e-6;          // largest update/weight ratio below: learning rate too low (first record)
constexpr int saturated_records = 2;         // the saturation rule looks at the first records only
constexpr int rising_records = 3;            // the cost rose in this many records in a row
constexpr double rising_total = 0.1;         // ... by more than this share in all
}  // namespace health_limits

}  // namespace deepnet
