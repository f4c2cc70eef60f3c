#pragma once
// The training loops' side of deepnet/diagnostics.hpp: gathers the per-layer
// statistics into buffers allocated up front, checks the rules, and locates
// the first non-finite value when training breaks down.
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "deepnet/diagnostics.hpp"
#include "deepnet/network.hpp"

namespace deepnet::detail {

template <typename T>
class HealthGatherer {
 public:
  // health null: everything below does nothing. max_records: room for this
  // many records. fresh: the network was just initialised (the symmetry rule
  // looks at the starting weights; not on a resumed run).
  HealthGatherer(TrainingHealth* health, const Network<T>& net, std::size_t max_records, bool fresh);

  bool gathering() const { return health_ && health_->gather; }
  // After the forward pass of a step (its Z and A).
  void after_forward(const Network<T>& net);
  // After backward (and clipping), before the optimizer's step; then after it.
  void before_update(const Network<T>& net);
  void after_update(const Network<T>& net);
  // Ends the window: a record at `at` (epoch or iteration), and the rules on it.
  void end_window(const Network<T>& net, int at, const char* unit);
  // A recorded training cost (every record, gathering or not): the rising-cost rule.
  void cost(int at, double value, const char* unit);

 private:
  void fire(HealthRule rule, int layer, int at, std::string message);

  TrainingHealth* health_ = nullptr;
  int L_ = 0;
  std::vector<int> units_;                 // n[l]
  std::vector<Activation> activation_;     // g[l]
  std::vector<std::size_t> unit_at_;       // first unit of layer l in the per-unit buffers
  std::vector<unsigned char> alive_;       // per unit of hidden ReLU layers: z > 0 on some example
  std::vector<long long> saturated_;       // per unit of hidden sigmoid/tanh layers: examples with |z| > 4
  std::vector<double> a_sum_, a_squares_, dw_sum_, ratio_sum_;  // per layer
  std::vector<long long> ratio_steps_;
  long long examples_ = 0, entries_per_example_ = 0, steps_ = 0;
  std::vector<T> before_;                  // the parameters before a step
  std::array<bool, 6> fired_{};
  int records_ = 0;
  std::array<double, 8> costs_{};          // the last recorded costs
  std::array<int, 8> cost_at_{};
  int cost_count_ = 0;
};

// The first non-finite value of the last forward pass: "Z[2] (layer 2)", or
// an empty text when Z and A are finite.
template <typename T>
std::string first_non_finite_forward(const Network<T>& net);
// Of the last backward pass, in the order it computes them (layer L down to
// 1: dZ[l], then dW[l] and db[l]); empty when every one is finite.
template <typename T>
std::string first_non_finite_backward(const Network<T>& net);
// Of the parameters: "W[l]" or "b[l]"; empty when finite.
template <typename T>
std::string first_non_finite_parameter(const Network<T>& net);

}  // namespace deepnet::detail
