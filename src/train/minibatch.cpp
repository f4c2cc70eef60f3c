// Mini-batch training: shuffled batches, optimizers, schedules, L2, dropout,
// gradient clipping, example weights, early stopping and checkpoints.
#include <algorithm>
#include <chrono>
#include <limits>
#include <cmath>
#include <numeric>
#include <optional>
#include <string>
#include <type_traits>

#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/train.hpp"
#include "train/data_parallel.hpp"
#include "train/health.hpp"

namespace deepnet {

namespace {

// Where training broke down, for the message of TrainingDiverged. Called when
// the cost of (epoch, step) (1-based) is non-finite, or (step 0) when the
// parameters are non-finite at the end of an epoch. Non-finite parameters were
// made by the update of the step before, whose gradients are still in the
// buffers (zero_grad comes after this check): its backward pass is searched;
// otherwise the forward pass of this step.
template <typename T>
std::string non_finite_place(const Network<T>& net, int epoch, long long step, long long steps_per_epoch) {
  const std::string parameter = detail::first_non_finite_parameter(net);
  if (!parameter.empty()) {
    long long e = epoch, s = step - 1;
    if (s < 1) --e, s = steps_per_epoch;
    if (step == 0) e = epoch, s = steps_per_epoch;
    if (e < 1)  // before the first step of the run: the starting parameters themselves
      return parameter + " is non-finite before the first step (the starting weights, e.g. a resumed checkpoint's, hold it)";
    const std::string step_text = "epoch " + std::to_string(e) + ", step " + std::to_string(s);
    const std::string gradient = detail::first_non_finite_backward(net);
    if (!gradient.empty())
      return "the first non-finite value is in " + gradient + " of the backward pass of " + step_text +
             ", whose update made " + parameter + " non-finite";
    return "the update of " + step_text + " made " + parameter + " non-finite (its gradients were finite)";
  }
  const std::string forward = detail::first_non_finite_forward(net);
  if (!forward.empty()) return "the first non-finite value is in " + forward + " of the forward pass";
  return "the layer values are finite; the cost itself overflowed";
}

template <typename T>
void copy_columns(std::type_identity_t<MatrixCRef<T>> from, const std::vector<Eigen::Index>& order, std::size_t begin, Matrix<T>& to) {
  // Gathering scattered columns is bound by memory latency: share it among threads.
  const ColumnBlocks blocks = column_blocks(to.cols(), 64.0 * static_cast<double>(to.size()));
  parallel_blocks(blocks.count, [&](Eigen::Index block) {
    for (Eigen::Index j = blocks.begin(block); j < blocks.end(block); ++j)
      to.col(j) = from.col(order[begin + static_cast<std::size_t>(j)]);
  });
}

// A batch's running figure from its forward pass (A[L], before the update):
// how many examples it predicts right (a sigmoid output of one unit: A > 0.5
// against the 0/1 target; softmax: the largest A against the one-hot target's
// class, as Network::predict and the scores decide), or, for a linear output
// of one unit, the sum of its squared errors. NaN for other outputs.
template <typename T>
double running_figure(Output output, const Matrix<T>& A, const Matrix<T>& Y) {
  const Eigen::Index m = A.cols();
  double sum = 0;
  if (output == Output::softmax) {
    for (Eigen::Index j = 0; j < m; ++j) {
      Eigen::Index predicted = 0, truth = 0;
      A.col(j).maxCoeff(&predicted);
      Y.col(j).maxCoeff(&truth);
      sum += predicted == truth ? 1 : 0;
    }
    return sum;
  }
  if (A.rows() != 1) return std::numeric_limits<double>::quiet_NaN();
  for (Eigen::Index j = 0; j < m; ++j) {
    if (output == Output::sigmoid) {
      sum += (A(0, j) > T(0.5)) == (Y(0, j) > T(0.5)) ? 1 : 0;
    } else {
      const double e = static_cast<double>(A(0, j)) - static_cast<double>(Y(0, j));
      sum += e * e;
    }
  }
  return sum;
}

// The convergence rule over the history so far (recomputed from the history,
// so a resumed run decides exactly as an uninterrupted one).
bool training_cost_converged(const std::vector<EpochRecord>& history, double tolerance, int n_iter_no_change) {
  if (n_iter_no_change <= 0) return false;
  double best = std::numeric_limits<double>::infinity();
  int without_improvement = 0;
  for (const EpochRecord& r : history) {
    without_improvement = r.train_cost > best - tolerance ? without_improvement + 1 : 0;
    best = std::min(best, r.train_cost);
  }
  return without_improvement > n_iter_no_change;
}

}  // namespace

template <typename T>
TrainerState train_minibatch(Network<T>& network, std::type_identity_t<MatrixCRef<T>> X, const Matrix<T>& Y,
                             const ValidationSet& validation, const MiniBatchOptions& options,
                             const TrainerState* resume, StepProbe<T>* probe) {
  if (options.epochs < 1) throw Error("epochs: expected at least 1, got " + std::to_string(options.epochs));
  if (options.batch_size < 0) throw Error("batch size: expected 0 (full batch) or more, got " + std::to_string(options.batch_size));
  if (!(options.clip_norm >= 0 && std::isfinite(options.clip_norm))) throw Error("clip norm: expected a finite value >= 0");
  if (options.patience < 0) throw Error("patience: expected 0 or more");
  if (!(options.tolerance >= 0 && std::isfinite(options.tolerance))) throw Error("tolerance: expected a finite value >= 0");
  if (options.n_iter_no_change < 0) throw Error("n_iter_no_change: expected 0 or more");
  options.schedule.validate();
  const Eigen::Index m = X.cols();
  if (m < 1) throw Error("training data has no examples");
  if (X.rows() != network.units(0) || Y.rows() != network.units(network.layers()) || Y.cols() != m)
    throw Error("training data: X is (" + std::to_string(X.rows()) + ", " + std::to_string(m) + ") and Y is (" +
                std::to_string(Y.rows()) + ", " + std::to_string(Y.cols()) + ") for a " + network.architecture().describe() +
                " network");
  if (!options.example_weights.empty() && static_cast<Eigen::Index>(options.example_weights.size()) != m)
    throw Error("example weights: " + std::to_string(options.example_weights.size()) + " weights for " +
                std::to_string(m) + " examples");
  check_finite<T>(X, "X");
  check_finite<T>(Y, "Y");
  if (validation.X && (validation.X->rows() != X.rows() || !validation.Y || validation.Y->cols() != validation.X->cols()))
    throw Error("validation data does not fit the network");

  const long long batch = options.batch_size == 0 ? m : std::min<long long>(options.batch_size, m);
  const long long full_batches = m / batch, remainder = m % batch;
  const long long steps_per_epoch = full_batches + (remainder > 0 && !options.drop_last ? 1 : 0);
  if (steps_per_epoch == 0) throw Error("batch size " + std::to_string(batch) + " with drop_last leaves no batch");

  Optimizer optimizer(options.optimizer, network.parameters().size());
  Rng shuffle_rng(options.seed);
  Rng dropout_rng(options.seed ^ 0x5DEECE66Dull);
  TrainerState state;
  if (resume) {
    state = *resume;
    if (state.parameters.size() != network.parameters().size())
      throw Error("resume: the checkpoint holds " + std::to_string(state.parameters.size()) +
                  " parameters but the network has " + std::to_string(network.parameters().size()));
    for (std::size_t k = 0; k < state.parameters.size(); ++k) network.parameters()[k] = static_cast<T>(state.parameters[k]);
    optimizer.set_steps(state.optimizer_steps);
    if (!state.first_moment.empty()) optimizer.first_moment() = state.first_moment;
    if (!state.second_moment.empty()) optimizer.second_moment() = state.second_moment;
    shuffle_rng = Rng::restore(state.shuffle_rng);
    dropout_rng = Rng::restore(state.dropout_rng);
  }
  // Data-parallel (or blocked) steps: the gradient is a fixed-order sum of blocks
  // (train/data_parallel.hpp); the blocks add the L2 term once per batch.
  const bool blocked = options.gradient_blocks > 1 || (options.communicator && options.communicator->size() > 1);
  if (blocked && probe)
    throw Error("gradient_blocks: a step summed over blocks has no single forward pass to look at; use one block");
  std::optional<detail::BlockedStep<T>> blocked_step;
  if (blocked)
    blocked_step.emplace(network, options.gradient_blocks, options.communicator, options.dropout, options.overlap_exchange);
  network.set_l2(blocked ? 0.0 : options.l2);
  network.set_dropout(options.dropout, &dropout_rng);

  // Workspace for batches, allocated once (and once more for a smaller last batch).
  // (Blocked steps gather their own blocks.)
  Matrix<T> Xb(X.rows(), blocked ? 0 : batch), Yb(Y.rows(), blocked ? 0 : batch), X_last, Y_last;
  std::vector<T> wb(static_cast<std::size_t>(blocked ? 0 : batch)), w_last;
  if (remainder > 0 && !options.drop_last && !blocked) {
    X_last.resize(X.rows(), remainder);
    Y_last.resize(Y.rows(), remainder);
    w_last.resize(static_cast<std::size_t>(remainder));
  }
  Matrix<T> X_val, Y_val;
  if (validation.X) {
    X_val = validation.X->cast<T>();
    Y_val = validation.Y->cast<T>();
  }
  std::vector<Eigen::Index> order(static_cast<std::size_t>(m));
  if (options.health && options.health->gather && blocked)
    throw Error("diagnostics: the per-layer statistics are gathered from one pass over each batch; blocked "
                "(data-parallel) steps split it (gradient_blocks > 1 or several ranks)");
  detail::HealthGatherer<T> health(options.health, network, static_cast<std::size_t>(options.epochs), resume == nullptr);
  const auto start = std::chrono::steady_clock::now();
  const long long total_steps = steps_per_epoch * options.epochs;
  // Copies what a resume needs into the state: only for checkpoints and at the end, not every epoch.
  auto snapshot = [&] {
    state.parameters.assign(network.parameters().begin(), network.parameters().end());
    state.optimizer_steps = optimizer.steps();
    state.first_moment = optimizer.first_moment();
    state.second_moment = optimizer.second_moment();
    state.shuffle_rng = shuffle_rng.save_state();
    state.dropout_rng = dropout_rng.save_state();
  };

  for (int epoch = state.epochs_done; epoch < options.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), Eigen::Index{0});
    for (std::size_t k = order.size(); k > 1; --k) std::swap(order[k - 1], order[shuffle_rng.below(k)]);
    double cost_sum = 0, figure_sum = 0, lr = 0;
    long long seen = 0;
    for (long long s = 0; s < steps_per_epoch; ++s) {
      const bool last = s == full_batches;
      Matrix<T>& xb = last ? X_last : Xb;
      Matrix<T>& yb = last ? Y_last : Yb;
      std::vector<T>& w = last ? w_last : wb;
      const std::size_t begin = static_cast<std::size_t>(s * batch);
      const T* weights = nullptr;
      if (!blocked && !options.example_weights.empty()) {
        for (std::size_t j = 0; j < w.size(); ++j) w[j] = static_cast<T>(options.example_weights[static_cast<std::size_t>(order[begin + j])]);
        weights = w.data();
      }
      const long long mb = last ? remainder : batch;
      double cost = 0;
      if (blocked) {
        // One draw per step seeds every block's dropout masks.
        const std::uint64_t dropout_seed = options.dropout.empty() ? 0 : dropout_rng.below(~std::uint64_t{0});
        cost = blocked_step->gradient(X, Y, order, begin, mb, options.example_weights, options.l2, dropout_seed);
      } else {
        copy_columns(X, order, begin, xb);
        copy_columns(Y, order, begin, yb);
        const Matrix<T>& A = network.forward(xb);
        cost = network.cost(yb, weights);
        figure_sum += running_figure(network.architecture().output, A, yb);
      }
      if (!std::isfinite(cost))
        throw TrainingDiverged("epoch " + std::to_string(epoch + 1) + ", step " + std::to_string(s + 1) + ": the cost became " +
                    std::to_string(cost) + "; " + non_finite_place(network, epoch + 1, s + 1, steps_per_epoch) +
                    "; training stopped (try a smaller learning rate)");
      if (!blocked) health.after_forward(network);
      cost_sum += cost * static_cast<double>(mb);
      seen += mb;
      if (!blocked) {
        network.backward(yb, nullptr, weights, GradientMode::replace);
      }
      const bool probed = probe && probe->step == static_cast<long long>(epoch) * steps_per_epoch + s;
      if (probed && probe->before_update) probe->before_update(network, xb, yb, cost);
      if (options.clip_norm > 0) {
        double squares = 0;
        for (T g : network.gradients()) squares += static_cast<double>(g) * static_cast<double>(g);
        const double norm = std::sqrt(squares);
        if (norm > options.clip_norm) {
          const T scale = static_cast<T>(options.clip_norm / norm);
          for (T& g : network.gradients()) g *= scale;
        }
      }
      lr = options.schedule.rate(epoch, options.epochs, s, steps_per_epoch);
      health.before_update(network);
      optimizer.step<T>(network.parameters(), network.gradients(), lr);
      health.after_update(network);
      if (probed) {
        probe->seen = true;
        if (probe->after_update) probe->after_update(network);
        network.set_dropout(options.dropout, nullptr);
        snapshot();
        return state;
      }
      if (options.on_step) options.on_step(static_cast<long long>(epoch) * steps_per_epoch + s + 1, total_steps);
    }

    // One pass over the parameters per epoch: a last step that made them
    // non-finite is caught here, not written into a model.
    if (!detail::first_non_finite_parameter(network).empty())
      throw TrainingDiverged("epoch " + std::to_string(epoch + 1) + ": " +
                             non_finite_place(network, epoch + 1, 0, steps_per_epoch) +
                             "; training stopped (try a smaller learning rate)");
    EpochRecord record;
    record.epoch = epoch + 1;
    record.train_cost = cost_sum / static_cast<double>(seen);
    if (!blocked) {  // (blocked steps keep no forward pass of the whole batch here)
      const double figure = figure_sum / static_cast<double>(seen);
      (network.architecture().output == Output::linear ? record.train_squared_error : record.train_accuracy) = figure;
    }
    record.learning_rate = lr;
    if (validation.X) {
      network.set_dropout(options.dropout, nullptr);  // no dropout when measuring
      const Matrix<T>& A = network.forward(X_val);
      record.validation_cost = network.cost(Y_val);
      if (validation.labels) {
        const Eigen::Index mv = A.cols();
        Eigen::Index correct = 0;
        for (Eigen::Index j = 0; j < mv; ++j) {
          Eigen::Index predicted = 0;
          if (A.rows() == 1) {
            predicted = A(0, j) > T(0.5) ? 1 : 0;
          } else {
            A.col(j).maxCoeff(&predicted);
          }
          correct += predicted == static_cast<Eigen::Index>((*validation.labels)(0, j));
        }
        record.validation_accuracy = static_cast<double>(correct) / static_cast<double>(mv);
      }
      network.set_dropout(options.dropout, &dropout_rng);
    }
    record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.history.push_back(record);
    state.epochs_done = epoch + 1;

    bool stop = false;
    if (options.patience > 0 && validation.X) {
      if (record.validation_cost < state.best_cost - options.min_delta) {
        state.best_cost = record.validation_cost;
        state.best_epoch = epoch + 1;
        state.best_parameters.assign(network.parameters().begin(), network.parameters().end());
        state.bad_epochs = 0;
      } else if (++state.bad_epochs >= options.patience) {
        stop = true;
      }
    }
    if (!stop && training_cost_converged(state.history, options.tolerance, options.n_iter_no_change)) {
      state.converged = true;
      stop = true;
    }
    state.finished = stop || state.epochs_done >= options.epochs;
    if (options.on_epoch) options.on_epoch(record);
    health.end_window(network, epoch + 1, "epoch");
    // (With dropout the training cost is a noisy measure: the rule stays off.)
    if (std::none_of(options.dropout.begin(), options.dropout.end(), [](double p) { return p > 0; }))
      health.cost(epoch + 1, record.train_cost, "epoch");

    if (options.on_checkpoint && options.checkpoint_every > 0 &&
        (state.epochs_done % options.checkpoint_every == 0 || state.epochs_done == options.epochs || stop)) {
      snapshot();
      options.on_checkpoint(state);
    }
    if (stop) break;
  }
  snapshot();
  network.set_dropout(options.dropout, nullptr);
  if (options.patience > 0 && !state.best_parameters.empty()) {
    // Early stopping keeps the weights of the best validation epoch.
    for (std::size_t k = 0; k < state.best_parameters.size(); ++k)
      network.parameters()[k] = static_cast<T>(state.best_parameters[k]);
    state.parameters = state.best_parameters;
  }
  return state;
}

template TrainerState train_minibatch<float>(Network<float>&, MatrixCRef<float>, const Matrix<float>&,
                                             const ValidationSet&, const MiniBatchOptions&, const TrainerState*,
                                             StepProbe<float>*);
template TrainerState train_minibatch<double>(Network<double>&, MatrixCRef<double>, const Matrix<double>&,
                                              const ValidationSet&, const MiniBatchOptions&, const TrainerState*,
                                              StepProbe<double>*);

}  // namespace deepnet
