// Data-parallel gradients: K fixed blocks of the batch, summed in the
// canonical tree's order whichever rank computed them (deepnet/distributed.hpp).
#include "train/data_parallel.hpp"

#include <algorithm>
#include <cstdint>
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

void Communicator::alltoall(const std::vector<unsigned char>& send, const std::vector<std::size_t>& send_counts,
                            std::vector<unsigned char>& recv, const std::vector<std::size_t>& recv_counts) {
  // Through allgather: every rank's whole send buffer, then each takes its part of each.
  const auto ranks = static_cast<std::size_t>(size()), me = static_cast<std::size_t>(rank());
  std::vector<unsigned char> mine(8 * ranks), all;
  for (std::size_t q = 0; q < ranks; ++q) {
    const std::uint64_t c = send_counts[q];
    std::memcpy(mine.data() + 8 * q, &c, 8);
  }
  all.resize(8 * ranks * ranks);
  allgather(mine, std::vector<std::size_t>(ranks, 8 * ranks), all);
  std::vector<std::size_t> totals(ranks, 0);
  std::vector<std::vector<std::size_t>> counts(ranks, std::vector<std::size_t>(ranks));
  for (std::size_t r = 0; r < ranks; ++r)
    for (std::size_t q = 0; q < ranks; ++q) {
      std::uint64_t c = 0;
      std::memcpy(&c, all.data() + 8 * (r * ranks + q), 8);
      counts[r][q] = c;
      totals[r] += c;
    }
  for (std::size_t r = 0; r < ranks; ++r)
    if (counts[r][me] != recv_counts[r]) throw Error("alltoall: the counts do not match (internal error)");
  allgather(send, totals, all);
  recv.clear();
  std::size_t base = 0;
  for (std::size_t r = 0; r < ranks; ++r) {
    std::size_t at = base;
    for (std::size_t q = 0; q < me; ++q) at += counts[r][q];
    recv.insert(recv.end(), all.begin() + static_cast<std::ptrdiff_t>(at),
                all.begin() + static_cast<std::ptrdiff_t>(at + counts[r][me]));
    base += totals[r];
  }
}

namespace detail {

template <typename T>
BlockedStep<T>::BlockedStep(Network<T>& network, int blocks, Communicator* communicator, std::vector<double> dropout,
                            bool overlap)
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
  // The exchanged parts of the gradient: with several ranks, the whole of it
  // after the backward pass, or overlapped, each layer's W and b (part l-1)
  // as the pass finishes them.
  overlap_ = overlap && ranks > 1;
  if (overlap_) {
    parts_.resize(static_cast<std::size_t>(net_.layers()));
    for (int l = 1; l <= net_.layers(); ++l) {
      Part& x = parts_[static_cast<std::size_t>(l - 1)];
      x.first = net_.weight_offset(l);
      x.size = (l < net_.layers() ? net_.weight_offset(l + 1) : size_) - x.first;
    }
  } else if (ranks > 1) {
    parts_.resize(1);
    parts_[0].size = size_;
  }
}

template <typename T>
const typename BlockedStep<T>::Value* BlockedStep<T>::known(int a, int e) const {
  for (const auto& [node, value] : known_)
    if (node.begin == a && node.end == e) return &value;
  return nullptr;
}

template <typename T>
bool BlockedStep<T>::evaluate(int a, int size, T* out, double* cost, int depth) {
  const T* value = node(a, size, out, cost, depth);
  if (!value) return false;
  if (value != out) std::copy(value + offset_, value + offset_ + count_, out + offset_);
  return true;
}

// The node's value: a known value as it is (no copy), or computed into `out`;
// null when every block in it is empty. Never a scratch buffer: the caller's
// next sibling reuses those.
template <typename T>
const T* BlockedStep<T>::node(int a, int size, T* out, double* cost, int depth) {
  if (a >= blocks_) return nullptr;
  const int e = std::min(a + size, blocks_);
  bool any = false;
  for (int b = a; b < e && !any; ++b) any = batch_.end(b) > batch_.begin(b);
  if (!any) return nullptr;
  if (const Value* v = known(a, e)) {
    *cost = v->cost;
    return v->data;
  }
  if (size == 1) throw Error("data-parallel step: block " + std::to_string(a) + " has no value (internal error)");
  const int half = size / 2;
  T* scratch = scratch_[static_cast<std::size_t>(depth)].data();
  double right_cost = 0;
  const T* left = node(a, half, out, cost, depth + 1);
  const T* right = node(a + half, half, scratch, &right_cost, depth + 1);
  if (left && right) {
    for (std::size_t k = offset_; k < offset_ + count_; ++k) out[k] = left[k] + right[k];
    *cost += right_cost;
    return out;
  }
  if (left) return left;
  *cost = right_cost;
  if (right != scratch) return right;
  std::copy(right + offset_, right + offset_ + count_, out + offset_);
  return out;
}

// Each rank's largest whole subtrees with a non-empty block. Which subtrees
// each rank sends depends only on the batch size (empty blocks), so they are
// worked out again only when it changes (the last batch).
template <typename T>
void BlockedStep<T>::work_out_covers(long long m) {
  const int ranks = comm_->size();
  if (covers_m_ != m) {
    auto present = [&](const TreeNode& n) {
      for (int b = n.begin; b < n.end; ++b)
        if (batch_.end(b) > batch_.begin(b)) return true;
      return false;
    };
    covers_.resize(static_cast<std::size_t>(ranks));
    for (int r = 0; r < ranks; ++r) {
      covers_[static_cast<std::size_t>(r)].clear();
      for (const TreeNode& n : cover_of_range(blocks_, blocks_of_rank(blocks_, r, ranks)))
        if (present(n)) covers_[static_cast<std::size_t>(r)].push_back(n);
    }
    covers_m_ = m;
  }
  const auto& own = covers_[static_cast<std::size_t>(comm_->rank())];
  if (own_values_.size() < own.size()) own_values_.resize(own.size(), std::vector<T>(size_));
  own_costs_.assign(own.size(), 0.0);
}

template <typename T>
void BlockedStep<T>::layer_ready(void* self, int l) {
  auto* step = static_cast<BlockedStep<T>*>(self);
  step->start_part(step->parts_[static_cast<std::size_t>(l - 1)]);
  step->comm_->progress();  // the layers started before move on meanwhile
}

// Slice q of a layer's n parameters among the ranks: [n q / N, n (q+1) / N).
namespace {
std::size_t slice_start(std::size_t n, int q, int ranks) {
  return n * static_cast<std::size_t>(q) / static_cast<std::size_t>(ranks);
}
}  // namespace

// 1. This rank's largest whole subtrees, summed over the part's parameters
// where their blocks were computed (a node clipped at the last block evaluates
// as the smallest whole subtree holding its blocks; the tree adds element by
// element, so a part's sums are the whole gradient's bits).
// 2. The reduce-scatter in the tree's order starts: rank q will get slice q of
// every rank's subtree sums over the part.
template <typename T>
void BlockedStep<T>::start_part(Part& x) {
  if (x.started) return;
  x.started = true;
  const int ranks = comm_->size(), me = comm_->rank();
  const auto& own = covers_[static_cast<std::size_t>(me)];
  offset_ = x.first;
  count_ = x.size;
  for (std::size_t k = 0; k < own.size(); ++k)
    evaluate(own[k].begin, tree_span(own[k].end - own[k].begin), own_values_[k].data(), &own_costs_[k], 0);
  offset_ = 0;
  auto first = [&](int q) { return slice_start(x.size, q, ranks); };
  auto count = [&](int q) { return first(q + 1) - first(q); };
  x.send_counts.assign(static_cast<std::size_t>(ranks), 0);
  x.recv_counts.assign(static_cast<std::size_t>(ranks), 0);
  std::size_t send_total = 0;
  for (int q = 0; q < ranks; ++q) {
    x.send_counts[static_cast<std::size_t>(q)] = own.size() * (sizeof(double) + count(q) * sizeof(T));
    x.recv_counts[static_cast<std::size_t>(q)] =
        covers_[static_cast<std::size_t>(q)].size() * (sizeof(double) + count(me) * sizeof(T));
    send_total += x.send_counts[static_cast<std::size_t>(q)];
  }
  x.send.resize(send_total);
  unsigned char* at = x.send.data();
  for (int q = 0; q < ranks; ++q)
    for (std::size_t k = 0; k < own.size(); ++k) {
      std::memcpy(at, &own_costs_[k], sizeof(double));
      std::memcpy(at + sizeof(double), own_values_[k].data() + x.first + first(q), count(q) * sizeof(T));
      at += sizeof(double) + count(q) * sizeof(T);
    }
  x.exchange = comm_->start_alltoall(x.send, x.send_counts, x.received, x.recv_counts);
}

// After the own blocks, for each part in the order they were started (the
// last layer first): 3. the tree finished on this rank's slice once the part's
// exchange has arrived; 4. every rank gathers the finished slices. Returns the
// batch's cost (every part's tree adds the same costs in the same order).
template <typename T>
double BlockedStep<T>::finish_exchange(T* total) {
  const int ranks = comm_->size(), me = comm_->rank();
  // A rank without a non-empty block (or the blocking exchange) starts them here.
  for (auto x = parts_.rbegin(); x != parts_.rend(); ++x) start_part(*x);
  double cost = 0;
  for (auto part = parts_.rbegin(); part != parts_.rend(); ++part) {
    Part& x = *part;
    comm_->wait(x.exchange);
    const std::size_t mine = slice_start(x.size, me, ranks), count = slice_start(x.size, me + 1, ranks) - mine;
    known_.clear();
    std::size_t offset = 0;
    const std::size_t record = sizeof(double) + count * sizeof(T);
    for (int r = 0; r < ranks; ++r)
      for (const TreeNode& n : covers_[static_cast<std::size_t>(r)]) {
        Value v;
        std::memcpy(&v.cost, x.received.data() + offset, sizeof(double));
        v.data = reinterpret_cast<const T*>(x.received.data() + offset + sizeof(double));
        known_.push_back({n, v});
        offset += record;
      }
    offset_ = 0;
    count_ = count;
    if (!evaluate(0, tree_span(blocks_), total + x.first + mine, &cost, 0))
      throw Error("data-parallel step: an empty batch");
    x.finished.resize(count * sizeof(T));
    std::memcpy(x.finished.data(), total + x.first + mine, x.finished.size());
    x.gather_counts.assign(static_cast<std::size_t>(ranks), 0);
    for (int q = 0; q < ranks; ++q)
      x.gather_counts[static_cast<std::size_t>(q)] =
          (slice_start(x.size, q + 1, ranks) - slice_start(x.size, q, ranks)) * sizeof(T);
    x.gather = comm_->start_allgather(x.finished, x.gather_counts, x.gathered);
  }
  known_.clear();
  for (auto part = parts_.rbegin(); part != parts_.rend(); ++part) {
    comm_->wait(part->gather);
    std::memcpy(total + part->first, part->gathered.data(), part->size * sizeof(T));
  }
  return cost;
}

template <typename T>
double BlockedStep<T>::gradient(MatrixCRef<T> X, const Matrix<T>& Y, const std::vector<Eigen::Index>& order,
                                std::size_t begin, long long m, const std::vector<double>& example_weights, double l2,
                                std::uint64_t dropout_seed) {
  batch_ = GradientBlocks{m, blocks_};
  known_.clear();
  const int ranks = comm_ ? comm_->size() : 1;
  if (ranks > 1) work_out_covers(m);
  for (Part& x : parts_) x.started = false;
  // Overlapped: each layer's exchange starts from the last own non-empty block's backward pass.
  int last_block = -1;
  if (overlap_) {
    for (int b = mine_.first; b < mine_.last; ++b)
      if (batch_.end(b) > batch_.begin(b)) last_block = b;
  }
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
    // Each example weighted by the block's share m_b / m of the batch (times its
    // own weight): the block's cost and gradient come out already weighted.
    const double share = static_cast<double>(b1 - b0) / static_cast<double>(m);
    wb_.resize(static_cast<std::size_t>(b1 - b0));
    for (long long j = b0; j < b1; ++j)
      wb_[static_cast<std::size_t>(j - b0)] = static_cast<T>(
          example_weights.empty() ? share
                                  : share * example_weights[static_cast<std::size_t>(order[begin + static_cast<std::size_t>(j)])]);
    const T* weights = wb_.data();
    // Block b's dropout masks: their own generator, the same on whichever rank.
    block_rng_ = Rng(dropout_seed ^ (0x9E3779B97F4A7C15ull * static_cast<std::uint64_t>(b + 1)));
    net_.set_dropout(dropout_, dropout_.empty() ? nullptr : &block_rng_);
    net_.forward(xb);
    leaf_costs_[i] = net_.cost(yb, weights);
    net_.zero_grad();
    if (b == last_block) {
      // The block's gradient, layer by layer as backward finishes it, is read
      // where backward writes it (the swap below keeps that buffer).
      known_.push_back({TreeNode{b, b + 1}, Value{net_.gradients().data(), leaf_costs_[i]}});
      struct Unhook {
        Network<T>& net;
        ~Unhook() { net.set_gradient_ready(nullptr, nullptr); }
      } unhook{net_};
      net_.set_gradient_ready(&BlockedStep::layer_ready, this);
      net_.backward(yb, nullptr, weights);
      net_.swap_gradients(leaves_[i]);
      continue;
    }
    net_.backward(yb, nullptr, weights);
    net_.swap_gradients(leaves_[i]);  // the block's gradient, kept without a copy
    known_.push_back({TreeNode{b, b + 1}, Value{leaves_[i].data(), leaf_costs_[i]}});
  }

  T* total = net_.gradients().data();
  double cost = 0;
  count_ = size_;  // one process: evaluate() works on whole gradients
  offset_ = 0;
  if (ranks == 1) {
    if (!evaluate(0, tree_span(blocks_), total, &cost, 0)) throw Error("data-parallel step: an empty batch");
  } else {
    cost = finish_exchange(total);
  }
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
