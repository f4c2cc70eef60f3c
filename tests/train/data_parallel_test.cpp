// Data-parallel training (deepnet/distributed.hpp) without MPI: the ranks are
// threads of this process joined by an in-memory Communicator, so the block
// sharing, the tree's order and the exchange are tested in every build; the
// MPI build's tests (tests/mpi) run the same over mpirun.
#include <gtest/gtest.h>

#include <barrier>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "deepnet/distributed.hpp"
#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/init.hpp"
#include "deepnet/train.hpp"

namespace deepnet {
namespace {

// N threads as N ranks: allgather through shared slots and a barrier.
class ThreadGroup {
 public:
  explicit ThreadGroup(int size) : size_(size), slots_(static_cast<std::size_t>(size)), barrier_(size) {}

  class Member final : public Communicator {
   public:
    Member(ThreadGroup& group, int rank) : group_(group), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return group_.size_; }
    std::string describe() const override { return "threads"; }
    void allgather(const std::vector<unsigned char>& mine, const std::vector<std::size_t>& counts,
                   std::vector<unsigned char>& all) override {
      ++exchanges;
      EXPECT_EQ(counts[static_cast<std::size_t>(rank_)], mine.size());
      group_.slots_[static_cast<std::size_t>(rank_)] = mine;
      group_.barrier_.arrive_and_wait();
      all.clear();
      for (int r = 0; r < group_.size_; ++r) {
        const auto& slot = group_.slots_[static_cast<std::size_t>(r)];
        EXPECT_EQ(slot.size(), counts[static_cast<std::size_t>(r)]);
        all.insert(all.end(), slot.begin(), slot.end());
      }
      group_.barrier_.arrive_and_wait();  // nobody overwrites a slot still being read
    }

    int exchanges = 0;  // allgather calls: a rank that trained alone made none

   private:
    ThreadGroup& group_;
    int rank_;
  };

 private:
  int size_;
  std::vector<std::vector<unsigned char>> slots_;
  std::barrier<> barrier_;
};

TEST(GradientBlocks, RanksShareTheBlocksAndTheirCoversTileTheTree) {
  for (int blocks = 1; blocks <= 13; ++blocks)
    for (int ranks = 1; ranks <= blocks; ++ranks) {
      std::vector<int> seen(static_cast<std::size_t>(blocks), 0);
      int next = 0;
      for (int r = 0; r < ranks; ++r) {
        const BlockRange range = blocks_of_rank(blocks, r, ranks);
        EXPECT_EQ(range.first, next);
        EXPECT_GT(range.last, range.first) << "every rank gets a block";
        next = range.last;
        int at = range.first;
        for (const TreeNode& n : cover_of_range(blocks, range)) {
          EXPECT_EQ(n.begin, at) << "covers run left to right without gaps";
          const int size = n.end - n.begin;
          int whole = 1;
          while (whole < size) whole *= 2;
          EXPECT_EQ(n.begin % whole, 0) << "a cover node starts a subtree of the canonical tree";
          for (int b = n.begin; b < n.end; ++b) ++seen[static_cast<std::size_t>(b)];
          at = n.end;
        }
        EXPECT_EQ(at, range.last);
      }
      EXPECT_EQ(next, blocks);
      for (int b = 0; b < blocks; ++b) EXPECT_EQ(seen[static_cast<std::size_t>(b)], 1) << "block " << b;
    }
  // A power-of-two rank count dividing the blocks: one node per rank.
  EXPECT_EQ(cover_of_range(8, blocks_of_rank(8, 1, 4)).size(), 1u);
  EXPECT_EQ(cover_of_range(8, blocks_of_rank(8, 1, 3)).size(), 2u);  // blocks 2..4: [2,4) and [4,5)
}

template <typename T>
struct Problem {
  Matrix<T> X, Y;
  std::vector<double> weights;
  Problem() {
    const Eigen::Index m = 203;  // batches of 32 and a last one of 11
    Rng rng(11);
    X.resize(6, m);
    Y = Matrix<T>::Zero(3, m);
    weights.resize(static_cast<std::size_t>(m));
    for (Eigen::Index j = 0; j < m; ++j) {
      for (Eigen::Index i = 0; i < X.rows(); ++i) X(i, j) = static_cast<T>(rng.normal());
      Y((X(0, j) > 0) + (X(1, j) > 0.5), j) = 1;
      weights[static_cast<std::size_t>(j)] = 0.5 + rng.uniform();
    }
  }
};

struct Case {
  bool dropout = false, l2 = false, weights = false;
  int widths = 40;  // hidden width: 40 takes the general path in float, 16 the small-net path
  bool overlap = false;  // each layer's exchange during the backward pass
  int batch = 32;
};

template <typename T>
std::vector<T> train(const Problem<T>& p, const Case& c, int blocks, Communicator* comm, int epochs = 3) {
  Network<T> net(Architecture{{6, c.widths, c.widths, 3}, {Activation::tanh}, Output::softmax});
  Rng rng(3);
  initialize(net, InitScheme::xavier, rng);
  MiniBatchOptions o;
  o.epochs = epochs;
  o.batch_size = c.batch;
  o.optimizer.kind = OptimizerKind::adam;
  o.schedule.alpha = 0.01;
  o.seed = 9;
  o.gradient_blocks = blocks;
  o.communicator = comm;
  o.overlap_exchange = c.overlap;
  if (c.dropout) o.dropout = {0.2};
  if (c.l2) o.l2 = 0.05;
  if (c.weights) o.example_weights = p.weights;
  train_minibatch(net, p.X, p.Y, ValidationSet{}, o);
  return {net.parameters().begin(), net.parameters().end()};
}

// Every rank's parameters after training with `ranks` thread-ranks.
template <typename T>
std::vector<std::vector<T>> train_on_ranks(const Problem<T>& p, const Case& c, int blocks, int ranks) {
  ThreadGroup group(ranks);
  std::vector<std::vector<T>> out(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  std::vector<std::string> errors(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      ThreadGroup::Member member(group, r);
      try {
        out[static_cast<std::size_t>(r)] = train<T>(p, c, blocks, &member);
        // Three allgathers per step (7 steps per epoch, 3 epochs) when the ranks really share the batches:
        // the reduce-scatter's alltoall (Communicator's default: counts, then data) and the slices;
        // overlapped, those three for each of the 3 layers.
        if (ranks > 1 && c.batch == 32) {
          EXPECT_EQ(member.exchanges, (c.overlap ? 3 * 3 : 3) * 7 * 3);
        }
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(r)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  return out;
}

template <typename T>
void expect_same_bits_at_any_rank_count() {
  set_threads(1);
  const Problem<T> p;
  for (const Case c : {Case{}, Case{true, false, false}, Case{false, true, true}, Case{true, true, true, 16}}) {
    SCOPED_TRACE(::testing::Message() << "dropout " << c.dropout << ", l2 " << c.l2 << ", weights " << c.weights
                                      << ", width " << c.widths);
    for (int blocks : {4, 5}) {
      const std::vector<T> alone = train<T>(p, c, blocks, nullptr);
      for (int ranks = 1; ranks <= 4; ++ranks) {
        SCOPED_TRACE(::testing::Message() << blocks << " blocks, " << ranks << " ranks");
        for (const auto& params : train_on_ranks<T>(p, c, blocks, ranks)) EXPECT_EQ(params, alone);
        // Each layer exchanged during the backward pass (per-layer slices): the same bits.
        Case overlapped = c;
        overlapped.overlap = true;
        if (ranks > 1) {
          for (const auto& params : train_on_ranks<T>(p, overlapped, blocks, ranks)) EXPECT_EQ(params, alone);
        }
      }
    }
    // The blocks do change the sum's order: 4 and 1 block give (slightly) other bits, but both learn.
    const std::vector<T> one = train<T>(p, c, 1, nullptr), four = train<T>(p, c, 4, nullptr);
    EXPECT_NE(one, four);
    if (!c.dropout) {  // (with dropout the two draw other masks)
      double largest = 0;
      for (std::size_t k = 0; k < one.size(); ++k)
        largest = std::max(largest, std::abs(double(one[k]) - double(four[k])));
      EXPECT_LT(largest, 1e-3) << "only the rounding of the sums differs";
    }
  }
}

TEST(DataParallel, SameBitsAtAnyRankCountFloat) { expect_same_bits_at_any_rank_count<float>(); }
TEST(DataParallel, SameBitsAtAnyRankCountDouble) { expect_same_bits_at_any_rank_count<double>(); }

// Batches of 40 leave a last batch of 3 examples for 8 blocks: rank 0 of 4
// (blocks 0 and 1) has no example in it and starts every layer's exchange
// after its (empty) pass; the other ranks start them during theirs.
TEST(DataParallel, OverlappedExchangeWithARankWithoutExamples) {
  set_threads(1);
  const Problem<double> p;
  Case c{true, false, true};
  c.batch = 40;
  const std::vector<double> alone = train<double>(p, c, 8, nullptr);
  c.overlap = true;
  for (int ranks : {2, 4})
    for (const auto& params : train_on_ranks<double>(p, c, 8, ranks)) EXPECT_EQ(params, alone) << ranks << " ranks";
}

TEST(DataParallel, ResumedUnderAnotherRankCountFinishesWithTheSameBits) {
  set_threads(1);
  const Problem<double> p;
  const Case c{true, true, false};
  const std::vector<double> straight = train<double>(p, c, 4, nullptr, 4);
  // Two epochs on 2 ranks, checkpointed; the last two on 4 ranks (and on 1).
  auto run = [&](int ranks, int epochs, const TrainerState* resume) {
    ThreadGroup group(ranks);
    std::vector<TrainerState> states(static_cast<std::size_t>(ranks));
    std::vector<std::thread> threads;
    for (int r = 0; r < ranks; ++r)
      threads.emplace_back([&, r] {
        ThreadGroup::Member member(group, r);
        Network<double> net(Architecture{{6, 40, 40, 3}, {Activation::tanh}, Output::softmax});
        Rng rng(3);
        initialize(net, InitScheme::xavier, rng);
        MiniBatchOptions o;
        o.epochs = epochs;
        o.batch_size = 32;
        o.optimizer.kind = OptimizerKind::adam;
        o.schedule.alpha = 0.01;
        o.seed = 9;
        o.gradient_blocks = 4;
        o.communicator = &member;
        o.dropout = {0.2};
        o.l2 = 0.05;
        states[static_cast<std::size_t>(r)] = train_minibatch(net, p.X, p.Y, ValidationSet{}, o, resume);
      });
    for (auto& t : threads) t.join();
    return states;
  };
  const auto half = run(2, 2, nullptr);
  EXPECT_EQ(half[0].parameters, half[1].parameters);
  for (int ranks : {4, 1}) {
    const auto rest = run(ranks, 4, &half[0]);
    for (const auto& s : rest) EXPECT_EQ(s.parameters, straight) << ranks << " ranks after resuming";
  }
}

TEST(DataParallel, FewerBlocksThanRanksIsRefused) {
  ThreadGroup group(3);
  ThreadGroup::Member member(group, 0);
  const Problem<double> p;
  try {
    (void)train<double>(p, Case{}, 2, &member);
    FAIL() << "2 blocks for 3 ranks accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2 blocks cannot be shared by 3 ranks"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deepnet
