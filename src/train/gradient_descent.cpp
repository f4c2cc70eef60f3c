// Full-batch gradient descent: the course's training loop.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <type_traits>
#include <vector>
#include <string>

#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/train.hpp"
#include "train/health.hpp"

namespace deepnet {

namespace {

// The first non-finite value of iteration i, in the order it was computed:
// the parameters the update of iteration i-1 made (its gradients were
// checked and finite), then the forward pass, then the backward pass.
template <typename T>
std::string non_finite_place(const Network<T>& net, int i, bool backward_done) {
  if (const std::string p = detail::first_non_finite_parameter(net); !p.empty())
    return p + ", made by the update of iteration " + std::to_string(i - 1) + " (its gradients were finite)";
  if (const std::string f = detail::first_non_finite_forward(net); !f.empty()) return f + " of the forward pass";
  if (backward_done)
    if (const std::string b = detail::first_non_finite_backward(net); !b.empty()) return b + " of the backward pass";
  return "the cost (the layer values are finite)";
}

}  // namespace

namespace {

// Whether every value is finite: the exponent bits of each value are tested as
// integers (a loop the compiler vectorises, unlike Eigen's allFinite), in
// blocks of columns on the library's threads: a 784 x 60000 float matrix in
// about 10 ms (allFinite: 31 ms on one thread).
template <typename T>
bool all_finite(MatrixCRef<T> M) {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr Bits exponent = static_cast<Bits>(sizeof(T) == 4 ? 0x7f800000ull : 0x7ff0000000000000ull);
  const Eigen::Index rows = M.rows(), cols = M.cols();
  if (rows == 0 || cols == 0) return true;
  constexpr Eigen::Index kBlockValues = Eigen::Index{1} << 18;
  const Eigen::Index block_cols = std::max<Eigen::Index>(1, kBlockValues / rows);
  const Eigen::Index blocks = (cols + block_cols - 1) / block_cols;
  std::vector<unsigned char> bad(static_cast<std::size_t>(blocks), 0);
  parallel_blocks(blocks, [&](Eigen::Index block) {
    const Eigen::Index first = block * block_cols, last = std::min(cols, first + block_cols);
    Bits found = 0;
    for (Eigen::Index j = first; j < last; ++j) {
      const T* column = M.data() + j * M.outerStride();
      for (Eigen::Index i = 0; i < rows; ++i) {
        Bits word;
        std::memcpy(&word, column + i, sizeof word);
        found |= (word & exponent) == exponent ? Bits{1} : Bits{0};  // inf or NaN: all exponent bits set
      }
    }
    bad[static_cast<std::size_t>(block)] = found != 0;
  });
  return std::find(bad.begin(), bad.end(), 1) == bad.end();
}

}  // namespace

template <typename T>
void check_finite(MatrixCRef<T> M, const char* what) {
  if (all_finite<T>(M)) return;  // the loop below only finds the place
  for (Eigen::Index j = 0; j < M.cols(); ++j)
    for (Eigen::Index i = 0; i < M.rows(); ++i)
      if (!std::isfinite(M(i, j)))
        throw Error(std::string(what) + " has a non-finite value (" + std::to_string(M(i, j)) +
                    ") at row " + std::to_string(i) + ", column " + std::to_string(j) +
                    " (feature " + std::to_string(i) + " of example " + std::to_string(j) + ")");
}

template <typename T>
std::vector<CostRecord> train_gradient_descent(Network<T>& network, const Matrix<T>& X,
                                               const Matrix<T>& Y,
                                               const GradientDescentOptions& options,
                                               StepProbe<T>* probe) {
  if (!(std::isfinite(options.learning_rate) && options.learning_rate > 0))
    throw Error("learning rate: expected a finite value > 0, got " +
                std::to_string(options.learning_rate));
  if (options.iterations < 1)
    throw Error("iterations: expected at least 1, got " + std::to_string(options.iterations));
  if (options.record_every < 1)
    throw Error("record every: expected at least 1, got " + std::to_string(options.record_every));
  check_finite<T>(X, "X");
  check_finite<T>(Y, "Y");

  std::vector<CostRecord> history;
  // Room for every record up front (up to 2^20 of them), so the loop allocates nothing.
  history.reserve(std::min<std::size_t>(static_cast<std::size_t>((options.iterations - 1) / options.record_every + 2),
                                        std::size_t(1) << 20));
  detail::HealthGatherer<T> health(options.health, network,
                                   static_cast<std::size_t>((options.iterations - 1) / options.record_every + 2), true);
  const std::size_t parameter_count = network.gradients().size();
  auto diverged = [&](int i) {
    return TrainingDiverged("iteration " + std::to_string(i) + ": the first non-finite value is in " +
                            non_finite_place(network, i, true) + "; training diverged (try a smaller learning rate)");
  };
  for (int i = 0; i < options.iterations; ++i) {
    const bool record = i % options.record_every == 0 || i == options.iterations - 1;
    const bool probed = probe && probe->step == i;
    if (!record && !probed) {
      // Nothing to look at until the next recorded (or probed) iteration: its
      // steps in one call (the same values; on the small-net path the threads
      // keep their examples for all of them and meet once per step). X is
      // the last pass's X, unchanged (train.hpp: X must not change until
      // train_gradient_descent returns, its callbacks included).
      long long end = std::min<long long>((i / options.record_every + 1) * static_cast<long long>(options.record_every),
                                          options.iterations - 1);
      if (probe && probe->step > i) end = std::min<long long>(end, probe->step);
      const int steps = static_cast<int>(end - i), first = i;
      std::function<void(int)> after_step;
      if (options.on_iteration) after_step = [&options, first](int k) { options.on_iteration(first + k); };
      const int done = network.descend(X, Y, nullptr, steps, options.learning_rate, i > 0, after_step);
      if (done < steps) throw diverged(i + done);
      i += steps - 1;
      continue;
    }
    if (!record) {
      network.forward_backward(X, Y, nullptr, i > 0);  // the probed step
    } else {
      network.forward(X);
      const double cost = network.cost(Y);
      if (!std::isfinite(cost))
        throw TrainingDiverged("iteration " + std::to_string(i) + ": the cost is " + std::to_string(cost) +
                               "; the first non-finite value is in " + non_finite_place(network, i, false) +
                               "; training diverged (try a smaller learning rate)");
      history.push_back({i, cost});
      if (options.on_record) options.on_record(history.back());
      health.cost(i, cost, "iteration");
      health.after_forward(network);
      network.backward(Y, nullptr, nullptr, GradientMode::replace);
    }
    // A pass over the gradients (cheap beside the products over all m
    // examples): the first non-finite value is found in the iteration it appears.
    if (!Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(network.gradients().data(),
                                                              static_cast<Eigen::Index>(parameter_count))
             .allFinite())
      throw diverged(i);
    if (probed && probe->before_update) {
      const double cost = record ? history.back().cost : network.cost(Y);
      probe->before_update(network, X, Y, cost);
    }
    if (record) health.before_update(network);
    network.update(options.learning_rate);
    if (record) {
      health.after_update(network);
      health.end_window(network, i, "iteration");
    }
    if (probed) {
      probe->seen = true;
      if (probe->after_update) probe->after_update(network);
      return history;
    }
    if (options.on_iteration) options.on_iteration(i + 1);
  }
  if (const std::string where = detail::first_non_finite_parameter(network); !where.empty())
    throw TrainingDiverged("training diverged: " + where +
                           " became non-finite in the last update (try a smaller learning rate)");
  return history;
}

template void check_finite<float>(MatrixCRef<float>, const char*);
template void check_finite<double>(MatrixCRef<double>, const char*);
template std::vector<CostRecord> train_gradient_descent<float>(Network<float>&,
                                                               const Matrix<float>&,
                                                               const Matrix<float>&,
                                                               const GradientDescentOptions&,
                                                               StepProbe<float>*);
template std::vector<CostRecord> train_gradient_descent<double>(Network<double>&,
                                                                const Matrix<double>&,
                                                                const Matrix<double>&,
                                                                const GradientDescentOptions&,
                                                                StepProbe<double>*);

}  // namespace deepnet
