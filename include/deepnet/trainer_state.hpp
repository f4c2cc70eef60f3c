#pragma once
// The state of a mini-batch training run (train room): the per-epoch history
// and everything needed to continue the run bit for bit. train_minibatch
// (deepnet/train.hpp) produces it; a checkpoint (deepnet/checkpoint.hpp) holds it.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace deepnet {

struct EpochRecord {
  int epoch = 0;                 // 1-based
  double train_cost = 0;         // mean over the epoch's batches (dropout active), weighted by batch size
  // The same batches' running figures, taken from each step's forward pass
  // before its update (NaN where the output has none; not in checkpoints):
  // the fraction predicted right (sigmoid and softmax outputs) and the mean
  // squared error in the network's target units (a linear output of one unit).
  double train_accuracy = std::numeric_limits<double>::quiet_NaN();
  double train_squared_error = std::numeric_limits<double>::quiet_NaN();
  double validation_cost = std::numeric_limits<double>::quiet_NaN();
  double validation_accuracy = std::numeric_limits<double>::quiet_NaN();  // classifiers with a validation set
  double learning_rate = 0;      // at the epoch's last step
  double seconds = 0;            // elapsed since training started (not counting resumed runs)
};

// Everything needed to continue a run bit for bit: saved in checkpoints.
struct TrainerState {
  int epochs_done = 0;
  std::vector<double> parameters;
  std::uint64_t optimizer_steps = 0;
  std::vector<double> first_moment, second_moment;
  std::string shuffle_rng, dropout_rng;  // Rng::save_state()
  std::vector<double> best_parameters;   // early stopping
  int best_epoch = 0;
  double best_cost = std::numeric_limits<double>::infinity();
  int bad_epochs = 0;
  std::vector<EpochRecord> history;
  // Not saved in checkpoints (they follow from the history and the options):
  bool converged = false;  // the training-cost convergence rule stopped the run
  bool finished = false;   // this is the run's last epoch (the limit, early stopping or convergence)
};

}  // namespace deepnet
