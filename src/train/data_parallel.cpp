// Data-parallel gradients: K fixed blocks of the batch, summed in the
// canonical tree's order whichever rank computed them (deepnet/distributed.hpp).
#include "train/data_parallel.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "deepnet/error.hpp"

namespace deepnet {

BlockRange blocks_of_rank(int blocks, int rank, int ranks) {
  const long long k = blocks;
  return {static_cast<int>(k * rank / ranks), static_cast<int>(k * (rank + 1) / ranks)};
}

namespace {

int tree_span(int blocks) {
  int span = 1;
  while (span < blocks) span *= 2;
  return span;
}

void cover(int blocks, BlockRange range, int a, int size, std::vector<TreeNode>& out) {
  const int e = std::min(a + size, blocks);
  if (a >= blocks || e <= range.first || a >= range.last) return;
  if (a >= range.first && e <= range.last) {
    out.push_back({a, e});
    return;
  }
  cover(blocks, range, a, size / 2, out);
  cover(blocks, range, a + size / 2, size / 2, out);
}

}  // namespace

std::vector<TreeNode> cover_of_range(int blocks, BlockRange range) {
  std::vector<TreeNode> nodes;
  if (blocks >= 1 && range.first < range.last) cover(blocks, range, 0, tree_span(blocks), nodes);
  return nodes;
}

namespace detail {

template <typename T>
BlockedStep<T>::BlockedStep(Network<T>& network, int blocks, Communicator* communicator, std::vector<double> dropout)
    : net_(network), blocks_(blocks), comm_(communicator), dropout_(std::move(dropout)), size_(network.parameters().size()) {
  const int ranks = comm_ ? comm_->size() : 1;
  if (blocks_ < 1) throw Error("gradient blocks: expected at least 1, got " + std::to_string(blocks_));
  if (blocks_ < ranks)
    throw Error("gradient blocks: " + std::to_string(blocks_) + " blocks cannot be shared by " + std::to_string(ranks) +
                " ranks; give at least as many blocks as ranks");
  mine_ = blocks_of_rank(blocks_, comm_ ? comm_->rank() : 0, ranks);
  const auto own = static_cast<std::size_t>(mine_.last - mine_.first);
  xb_.resize(own);
  yb_.resize(own);
  leaves_.assign(own, std::vector<T>(size_));
  leaf_costs_.assign(own, 0.0);
  int depth = 0;
  for (int span = tree_span(blocks_); span > 1; span /= 2) ++depth;
  scratch_.assign(static_cast<std::size_t>(depth) + 1, std::vector<T>(size_));
}

template <typename T>
const typename BlockedStep<T>::Value* BlockedStep<T>::known(int a, int e) const {
  for (const auto& [node, value] : known_)
    if (node.begin == a && node.end == e) return &value;
  return nullptr;
}

template <typename T>
bool BlockedStep<T>::evaluate(int a, int size, T* out, double* cost, int depth) {
  if (a >= blocks_) return false;
  const int e = std::min(a + size, blocks_);
  bool any = false;
  for (int b = a; b < e && !any; ++b) any = batch_.end(b) > batch_.begin(b);
  if (!any) return false;
  if (const Value* v = known(a, e)) {
    if (v->data != out) std::copy(v->data, v->data + size_, out);
    *cost = v->cost;
    return true;
  }
  if (size == 1) throw Error("data-parallel step: block " + std::to_string(a) + " has no value (internal error)");
  const int half = size / 2;
  T* right = scratch_[static_cast<std::size_t>(depth)].data();
  double right_cost = 0;
  const bool left_present = evaluate(a, half, out, cost, depth + 1);
  const bool right_present = evaluate(a + half, half, right, &right_cost, depth + 1);
  if (left_present && right_present) {
    for (std::size_t k = 0; k < size_; ++k) out[k] += right[k];
    *cost += right_cost;
  } else if (right_present) {
    std::copy(right, right + size_, out);
    *cost = right_cost;
  }
  return true;
}

template <typename T>
double BlockedStep<T>::gradient(const Matrix<T>& X, const Matrix<T>& Y, const std::vector<Eigen::Index>& order,
                                std::size_t begin, long long m, const std::vector<double>& example_weights, double l2,
                                std::uint64_t dropout_seed) {
  batch_ = GradientBlocks{m, blocks_};
  known_.clear();
  // The own blocks: forward and backward each, weighted by m_b / m.
  for (int b = mine_.first; b < mine_.last; ++b) {
    const long long b0 = batch_.begin(b), b1 = batch_.end(b);
    if (b1 == b0) continue;
    const auto i = static_cast<std::size_t>(b - mine_.first);
    Matrix<T>& xb = xb_[i];
    Matrix<T>& yb = yb_[i];
    xb.resize(X.rows(), b1 - b0);
    yb.resize(Y.rows(), b1 - b0);
    for (long long j = b0; j < b1; ++j) {
      const Eigen::Index from = order[begin + static_cast<std::size_t>(j)];
      xb.col(j - b0) = X.col(from);
      yb.col(j - b0) = Y.col(from);
    }
    const T* weights = nullptr;
    if (!example_weights.empty()) {
      wb_.resize(static_cast<std::size_t>(b1 - b0));
      for (long long j = b0; j < b1; ++j)
        wb_[static_cast<std::size_t>(j - b0)] =
            static_cast<T>(example_weights[static_cast<std::size_t>(order[begin + static_cast<std::size_t>(j)])]);
      weights = wb_.data();
    }
    // Block b's dropout masks: their own generator, the same on whichever rank.
    block_rng_ = Rng(dropout_seed ^ (0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(b + 1)));
    net_.set_dropout(dropout_, dropout_.empty() ? nullptr : &block_rng_);
    net_.forward(xb);
    const double share = static_cast<double>(b1 - b0) / static_cast<double>(m);
    leaf_costs_[i] = net_.cost(yb, weights) * share;
    net_.zero_grad();
    net_.backward(yb, nullptr, weights);
    const T w = static_cast<T>(share);
    const T* g = net_.gradients().data();
    T* leaf = leaves_[i].data();
    for (std::size_t k = 0; k < size_; ++k) leaf[k] = g[k] * w;
    known_.push_back({TreeNode{b, b + 1}, Value{leaf, leaf_costs_[i]}});
  }

  T* total = net_.gradients().data();
  double cost = 0;
  const int ranks = comm_ ? comm_->size() : 1;
  if (ranks > 1) {
    // Each rank's largest whole subtrees, summed where they were computed, then gathered by all.
    const std::size_t record = sizeof(double) + size_ * sizeof(T);
    auto present = [&](const TreeNode& n) {
      for (int b = n.begin; b < n.end; ++b)
        if (batch_.end(b) > batch_.begin(b)) return true;
      return false;
    };
    counts_.assign(static_cast<std::size_t>(ranks), 0);
    std::vector<std::vector<TreeNode>> covers(static_cast<std::size_t>(ranks));
    for (int r = 0; r < ranks; ++r) {
      for (const TreeNode& n : cover_of_range(blocks_, blocks_of_rank(blocks_, r, ranks)))
        if (present(n)) covers[static_cast<std::size_t>(r)].push_back(n);
      counts_[static_cast<std::size_t>(r)] = covers[static_cast<std::size_t>(r)].size() * record;
    }
    const auto& own = covers[static_cast<std::size_t>(comm_->rank())];
    send_.resize(own.size() * record);
    for (std::size_t k = 0; k < own.size(); ++k) {
      unsigned char* at = send_.data() + k * record;
      double node_cost = 0;
      // A node clipped at the last block evaluates as the smallest whole subtree holding its blocks.
      evaluate(own[k].begin, tree_span(own[k].end - own[k].begin), total, &node_cost, 0);
      std::memcpy(at, &node_cost, sizeof(double));
      std::memcpy(at + sizeof(double), total, size_ * sizeof(T));
    }
    comm_->allgather(send_, counts_, received_);
    known_.clear();
    std::size_t offset = 0;
    for (int r = 0; r < ranks; ++r)
      for (const TreeNode& n : covers[static_cast<std::size_t>(r)]) {
        Value v;
        std::memcpy(&v.cost, received_.data() + offset, sizeof(double));
        v.data = reinterpret_cast<const T*>(received_.data() + offset + sizeof(double));
        known_.push_back({n, v});
        offset += record;
      }
  }
  if (!evaluate(0, tree_span(blocks_), total, &cost, 0)) throw Error("data-parallel step: an empty batch");
  known_.clear();

  const double mm = static_cast<double>(m);
  if (l2 > 0) {
    double squares = 0;
    for (int l = 1; l <= net_.layers(); ++l) {
      net_.dW(l) += static_cast<T>(l2 / mm) * net_.W(l);
      squares += static_cast<double>(net_.W(l).squaredNorm());
    }
    cost += l2 / (2.0 * mm) * squares;
  }
  return cost;
}

template class BlockedStep<float>;
template class BlockedStep<double>;

}  // namespace detail
}  // namespace deepnet
