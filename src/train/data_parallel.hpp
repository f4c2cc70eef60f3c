// A mini-batch step whose gradient is the fixed-order sum of K block
// gradients, shared among the ranks of a Communicator (deepnet/distributed.hpp).
#pragma once

#include <cstdint>
#include <vector>

#include "deepnet/distributed.hpp"
#include "deepnet/network.hpp"
#include "deepnet/rng.hpp"

namespace deepnet::detail {

template <typename T>
class BlockedStep {
 public:
  // communicator: null for a single process. Throws Error when blocks < 1 or
  // fewer blocks than ranks.
  // overlap: exchange each layer's gradient (per-layer slices, the
  // communicator's non-blocking operations) while the backward pass goes on to
  // the layers before it; the same bits as the exchange after the pass.
  BlockedStep(Network<T>& network, int blocks, Communicator* communicator, std::vector<double> dropout,
              bool overlap = false);

  // One step's gradient over the batch order[begin, begin + m) of X, Y:
  // leaves it (with the L2 term lambda/m W) in network.gradients() on every
  // rank and returns the batch's cost (with the L2 term). The network's own
  // l2 must be 0 (this adds it once, for the whole batch).
  double gradient(MatrixCRef<T> X, const Matrix<T>& Y, const std::vector<Eigen::Index>& order, std::size_t begin,
                  long long m, const std::vector<double>& example_weights, double l2, std::uint64_t dropout_seed);

 private:
  struct Value {
    const T* data = nullptr;
    double cost = 0;
  };
  // The canonical tree's node [a, a + size) (clipped at the last block) into
  // out, its cost into *cost: false when every block in it is empty.
  bool evaluate(int a, int size, T* out, double* cost, int depth);
  const T* node(int a, int size, T* out, double* cost, int depth);
  const Value* known(int a, int e) const;

  // A part of the gradient exchanged among the ranks (the whole, or one layer's).
  struct Part {
    std::size_t first = 0, size = 0;  // the parameters [first, first + size) of the flat buffer
    std::vector<unsigned char> send, received, finished, gathered;
    std::vector<std::size_t> send_counts, recv_counts, gather_counts;
    int exchange = -1, gather = -1;  // the communicator's handles
    bool started = false;
  };
  void work_out_covers(long long m);
  // Sums this rank's subtrees over the part and starts its reduce-scatter (once per step).
  void start_part(Part& part);
  static void layer_ready(void* self, int l);
  double finish_exchange(T* total);

  Network<T>& net_;
  int blocks_;
  Communicator* comm_;
  std::vector<double> dropout_;
  Rng block_rng_;
  GradientBlocks batch_;
  BlockRange mine_;
  std::size_t size_;                      // parameters
  std::vector<Matrix<T>> xb_, yb_;        // the own blocks' columns
  std::vector<T> wb_;
  std::vector<std::vector<T>> leaves_;    // own blocks' weighted gradients
  std::vector<double> leaf_costs_;
  std::vector<std::vector<T>> scratch_;   // one per tree depth
  std::size_t count_ = 0;                 // evaluate(): the parameters [offset_, offset_ + count_) of each value
  std::size_t offset_ = 0;
  bool overlap_ = false;
  std::vector<Part> parts_;  // several ranks: the whole gradient, or overlapped one per layer (layer l: l-1)
  std::vector<std::vector<TreeNode>> covers_;  // every rank's subtrees (with a non-empty block)
  long long covers_m_ = -1;               // the batch size covers_ was worked out for
  std::vector<std::vector<T>> own_values_;
  std::vector<double> own_costs_;
  // Node values available to evaluate(): own leaves, then after the exchange every rank's cover.
  std::vector<std::pair<TreeNode, Value>> known_;
};

}  // namespace deepnet::detail
