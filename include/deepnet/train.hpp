#pragma once
// Training loops. First the course's full-batch gradient descent:
//   for i in 0..N-1: forward, cost, backward, update with learning rate alpha.
// The cost of iteration i is the one computed in that iteration's forward pass,
// before its update. It is recorded when i % record_every == 0 and at i = N-1.
#include <cstdint>
#include <functional>
#include <type_traits>
#include <string>
#include <vector>

#include "deepnet/diagnostics.hpp"
#include "deepnet/distributed.hpp"
#include "deepnet/network.hpp"
#include "deepnet/optimizer.hpp"
#include "deepnet/trainer_state.hpp"

namespace deepnet {

struct CostRecord {
  int iteration;
  double cost;
};

struct GradientDescentOptions {
  double learning_rate = 0.0075;  // alpha; finite and > 0
  int iterations = 2500;          // N >= 1
  int record_every = 100;         // K >= 1
  // Called for every recorded cost, in order (for progress printing).
  std::function<void(const CostRecord&)> on_record;
  // Called after every iteration with the number done so far (for progress
  // bars), on the calling thread. Between recorded iterations the steps run
  // in Network::descend: the callback may look at the network's parameters
  // and gradients, not at its caches (Z, A, dZ), which other threads may be
  // filling for the next step. An exception from it ends training there.
  std::function<void(int completed)> on_iteration;
  // Training-health diagnostics (diagnostics.hpp): null = off. Statistics are
  // taken at the recorded iterations; the symmetry rule looks at the weights
  // the loop starts from.
  TrainingHealth* health = nullptr;
};

// A look at one step of a training loop (deepnet/trace.hpp is built on it).
// At step `step` (0-based over the whole run: the iteration of full-batch
// gradient descent, or epoch * steps_per_epoch + batch in mini-batch
// training), `before_update` sees the network after that step's forward pass,
// cost and backward pass: its parameters, caches (Z, A, dZ) and gradients
// (with the L2 term, before gradient clipping), the batch X and targets Y,
// and the cost. Then the step's update runs, `after_update` sees the
// parameters after it, and the loop returns at once (nothing after that
// step: no later steps, records, validation or checkpoints). Looking changes
// nothing the loop computes: the parameters after the update are those of
// an uninterrupted run after step + 1 steps.
template <typename T>
struct StepProbe {
  long long step = 0;
  std::function<void(const Network<T>& network, const Matrix<T>& X, const Matrix<T>& Y, double cost)> before_update;
  std::function<void(const Network<T>& network)> after_update;
  bool seen = false;  // set by the loop when it reached the step
};

// Trains in place. X: (n[0], m), Y: (n[L], m) in the output's target form
// (see make_targets in preprocess.hpp). Throws Error on invalid settings, shapes or
// non-finite input, and (TrainingDiverged) when a value becomes non-finite:
// the message names the iteration and the first non-finite quantity (Z, A,
// dZ, dW, db of a layer), found by a check of the gradients every iteration.
// probe: see StepProbe (null: none). X and Y must not change until the call
// returns (the callbacks of options included): every iteration's pass is
// taken to see the X of the first.
template <typename T>
std::vector<CostRecord> train_gradient_descent(Network<T>& network, const Matrix<T>& X,
                                               const Matrix<T>& Y,
                                               const GradientDescentOptions& options,
                                               StepProbe<T>* probe = nullptr);

// Throws Error naming the first non-finite entry of M (row, column), described as `what`.
template <typename T>
void check_finite(MatrixCRef<T> M, const char* what);

}  // namespace deepnet

// ---------------------------------------------------------------- mini-batch training
// Shuffled mini-batches with an optimizer from optimizer.hpp, a schedule, L2,
// dropout, clipping, example weights, early stopping and checkpoints.

namespace deepnet {

struct MiniBatchOptions {
  int epochs = 10;            // the total, also when resuming
  long long batch_size = 128; // 0: full batch
  bool drop_last = false;     // drop a last batch smaller than batch_size
  OptimizerSettings optimizer;
  Schedule schedule;          // alpha is the learning rate
  double l2 = 0;
  std::vector<double> dropout;         // per hidden layer, or one for all
  double clip_norm = 0;                // clip the global gradient norm to this (0 = off)
  std::vector<double> example_weights; // m training-example weights (empty = all 1)
  int patience = 0;                    // early stopping on validation cost (0 = off); restores the best weights
  double min_delta = 0;                // an improvement smaller than this does not count
  // Convergence on the training cost (scikit-learn's rule): an epoch whose cost
  // is not below the best so far minus `tolerance` does not improve; more than
  // n_iter_no_change such epochs in a row end the run (0 = off).
  double tolerance = 0;
  int n_iter_no_change = 0;
  std::uint64_t seed = 1;              // shuffling and dropout
  // Data-parallel training (deepnet/distributed.hpp): the batch's gradient is
  // the fixed-order sum of this many blocks (1: one pass over the batch).
  // Runs with the same gradient_blocks give the same bits whether one process
  // or the ranks of `communicator` compute the blocks (blocks >= ranks).
  int gradient_blocks = 1;
  Communicator* communicator = nullptr;  // null: this process alone
  // With several ranks: each layer's gradient is exchanged while the backward
  // pass goes on to the layers before it (non-blocking operations on
  // per-layer slices) instead of after the pass. The same bits either way.
  bool overlap_exchange = false;
  std::function<void(const EpochRecord&)> on_epoch;
  std::function<void(long long done, long long total)> on_step;  // steps over the whole run
  int checkpoint_every = 0;                                      // epochs; 0 = never
  std::function<void(const TrainerState&)> on_checkpoint;
  // Training-health diagnostics (diagnostics.hpp): null = off; one record per
  // epoch. Gathering is refused (Error) with blocked (data-parallel) steps.
  TrainingHealth* health = nullptr;
};

struct ValidationSet {
  const Matrix<double>* X = nullptr;  // (n[0], m_val), already normalised
  const Matrix<double>* Y = nullptr;  // targets (n[L], m_val)
  const Matrix<double>* labels = nullptr;  // label form (1, m_val); null for regression
};

// Trains with shuffled mini-batches. X: (n[0], m); Y: targets (n[L], m).
// resume: a state from a checkpoint (epochs_done < epochs). Returns the final
// state (its history has one record per epoch). Throws TrainingDiverged naming
// the epoch, the step and the first non-finite quantity (Z[l], A[l] of the
// forward pass; dZ[l], dW[l], db[l] of the step before, when its update made
// the parameters non-finite) when the cost becomes NaN or infinite, or the
// parameters are non-finite at the end of an epoch.
// probe: see StepProbe (null: none); blocked steps (gradient_blocks > 1 or a
// communicator) have no single forward pass to show and refuse a probe.
// X may be any column-major view of the examples (a Matrix, or an
// Eigen::Map over memory the caller keeps alive and unchanged, such as float32
// data that needs no normalising): it is read, never copied whole.
template <typename T>
TrainerState train_minibatch(Network<T>& network, std::type_identity_t<MatrixCRef<T>> X, const Matrix<T>& Y,
                             const ValidationSet& validation, const MiniBatchOptions& options,
                             const TrainerState* resume = nullptr, StepProbe<T>* probe = nullptr);

}  // namespace deepnet
