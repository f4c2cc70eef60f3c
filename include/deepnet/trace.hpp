#pragma once
// One training step, shown whole: every value the course's equations compute
// in that step, under the course's names and in the course's shapes, for a
// learner to hold next to their own numpy code (deepnet trace).
//
// trace_step() runs fit() (the same planning, normalisation, initialisation
// and training loop) up to step K, looks at the network inside the loop
// (StepProbe, train.hpp) and stops after that step's update. It changes
// nothing training computes: the parameters after the update (W1_next, ...)
// are the bits fit() would have after K + 1 steps.
//
// Names, in forward-then-backward order (L = the number of layers):
//   X (n[0], m), Y (n[L], m)            the step's batch, as the network sees it
//                                        (normalised X; targets: 0/1, one-hot
//                                        columns for softmax, scaled for regression)
//   W1 (n[1], n[0]), b1 (n[1], 1), ...   parameters before the update
//   Z1, A1, ..., ZL, AL (n[l], m)        forward: Z[l] = W[l] A[l-1] + b[l], A[l] = g[l](Z[l])
//                                        (with dropout: A[l] after the mask)
//   cost (a scalar)                      J of the batch (with the L2 term when set)
//   dAL (n[L], m)                        sigmoid output: -(Y / AL - (1 - Y) / (1 - AL));
//                                        linear output: AL - Y; none for softmax
//   dZL, dWL, dbL, dA(L-1), dZ(L-1), dW(L-1), db(L-1), ..., dA1, dZ1, dW1, db1
//                                        backward, in the order it computes them:
//                                        dZ[L] = A[L] - Y, dW[l] = (1/m) dZ[l] A[l-1]^T
//                                        (+ (lambda/m) W[l] with L2), db[l] = (1/m)
//                                        sum over columns of dZ[l], dA[l-1] = W[l]^T dZ[l],
//                                        dZ[l-1] = dA[l-1] * g'[l-1](Z[l-1])
//   W1_next, b1_next, ..., WL_next, bL_next  parameters after the step's update
//                                        (gradient descent: W - alpha dW; else the optimizer's)
// dW and db are the gradients of the backward pass, before gradient clipping.
#include <string>
#include <string_view>
#include <vector>

#include "deepnet/checkpoint.hpp"
#include "deepnet/dataset.hpp"
#include "deepnet/fit.hpp"
#include "deepnet/matrix.hpp"

namespace deepnet {

struct TracedArray {
  std::string name;         // course name: "W1", "dZ2", "W1_next", "cost", ...
  std::string formula;      // how it is computed, in course notation: "dW[2] = (1/m) dZ[2] A[1]^T"
  Matrix<double> values;    // the course's shape; a float32 run's values exactly (float -> double)
  bool scalar = false;      // the cost: one value (values is 1 x 1)
  int layer = 0;            // l for per-layer quantities (0 for X, Y, cost)
};

struct StepTrace {
  long long step = 0;       // 0-based over the run
  long long steps_per_epoch = 0;  // mini-batch training (0: the course's full-batch loop)
  int epoch = 0;            // mini-batch: 1-based epoch of the step (0: full batch)
  long long batch = 0;      // mini-batch: 1-based batch within the epoch
  bool float64 = false;     // the network's element type
  double cost = 0;
  FitPlan plan;             // what fit() decided (network, normalisation, ...)
  std::vector<TracedArray> arrays;  // in the order of the header comment

  // The array of that name, or null.
  const TracedArray* find(std::string_view name) const;
};

// Trains as fit(train, validation, settings, callbacks, resume) does, up to
// step `step` (the iteration of full-batch gradient descent, or the mini-batch
// step counted over the whole run from 0), and returns that step. Throws
// SettingError "trace_step" when the run has no such step (before it starts,
// or it ends earlier), "gradient_blocks" for blocked or data-parallel steps
// (no single forward pass), "class_weights", "dropout" and "clip_norm" (and
// Error for a data set with per-example weights): the arrays follow the
// course's unweighted equations without masks or clipping; and whatever fit()
// throws.
StepTrace trace_step(const Dataset& train, const Dataset* validation, const FitSettings& settings, long long step,
                     const FitCallbacks& callbacks = {}, const Checkpoint* resume = nullptr);

}  // namespace deepnet
