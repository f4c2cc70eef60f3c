// The L-layer network: flat parameter buffers, forward and backward propagation.
#include "deepnet/network.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "deepnet/error.hpp"
#include "deepnet/linear.hpp"

namespace deepnet {

// ---------------------------------------------------------------- architecture

Activation Architecture::activation(int l) const {
  if (l == layers()) return output_activation(output);
  if (hidden_activations.size() == 1) return hidden_activations[0];
  return hidden_activations.at(static_cast<std::size_t>(l - 1));
}

void Architecture::validate() const {
  if (sizes.size() < 2)
    throw Error("architecture: need at least the input and output sizes n[0] and n[L], got " +
                std::to_string(sizes.size()) + " size(s)");
  for (std::size_t l = 0; l < sizes.size(); ++l)
    if (sizes[l] <= 0)
      throw Error("architecture: layer " + std::to_string(l) + " has n[" + std::to_string(l) +
                  "] = " + std::to_string(sizes[l]) + ", expected at least 1 unit");
  const std::size_t hidden = sizes.size() - 2;
  if (hidden > 0 && hidden_activations.size() != 1 && hidden_activations.size() != hidden)
    throw Error("architecture: " + std::to_string(hidden) + " hidden layer(s) but " +
                std::to_string(hidden_activations.size()) +
                " hidden activations; give one, or one per hidden layer");
  for (std::size_t l = 0; l < hidden_activations.size() && hidden > 0; ++l)
    if (hidden_activations[l] == Activation::softmax)
      throw Error("architecture: layer " + std::to_string(hidden_activations.size() == 1 ? 1 : l + 1) +
                  ": softmax is only available as the output activation");
  if (!std::isfinite(leaky_slope))
    throw Error("architecture: leaky_relu slope must be finite, got " + std::to_string(leaky_slope));
  if (output == Output::softmax && sizes.back() < 2)
    throw Error("architecture: layer " + std::to_string(layers()) +
                ": a softmax output needs n[L] >= 2 classes, got " + std::to_string(sizes.back()));
}

std::string Architecture::describe() const {
  std::ostringstream out;
  for (std::size_t l = 0; l < sizes.size(); ++l) out << (l ? "-" : "") << sizes[l];
  out << ' ';
  for (int l = 1; l < layers(); ++l) out << to_string(activation(l)) << ',';
  std::string text = out.str();
  if (text.back() == ',') text.back() = '/';
  return text + std::string(to_string(output));
}

// ---------------------------------------------------------------- network

template <typename T>
Network<T>::Network(Architecture architecture) : arch_(std::move(architecture)) {
  arch_.validate();
  const int L = layers();
  offsets_.assign(static_cast<std::size_t>(L) + 1, 0);
  std::size_t total = 0;
  for (int l = 1; l <= L; ++l) {
    offsets_[l] = total;
    std::size_t layer = 0;
    if (__builtin_mul_overflow(static_cast<std::size_t>(units(l)), static_cast<std::size_t>(units(l - 1)) + 1, &layer) ||
        __builtin_add_overflow(total, layer, &total) || total > std::size_t(1) << 60)
      throw Error("architecture: layer " + std::to_string(l) + ": the parameter count is beyond any memory (n[" +
                  std::to_string(l) + "] = " + std::to_string(units(l)) + ")");
  }
  params_.assign(total, T(0));
  grads_.assign(total, T(0));
  workspaces_.reserve(max_workspaces);
  kernel_activation_.assign(static_cast<std::size_t>(L) + 1, 0);
  for (int l = 1; l <= L; ++l) kernel_activation_[l] = static_cast<int>(arch_.activation(l));
}

template <typename T>
void Network<T>::check_layer(int l) const {
  if (l < 1 || l > layers())
    throw Error("layer " + std::to_string(l) + " does not exist: the network has layers 1.." +
                std::to_string(layers()));
}

// Each view checks the layer before reading n[l] and n[l-1].
template <typename T>
std::size_t Network<T>::weight_offset(int l) const {
  check_layer(l);
  return offsets_[l];
}

template <typename T>
std::size_t Network<T>::bias_offset(int l) const {
  return weight_offset(l) + static_cast<std::size_t>(units(l)) * units(l - 1);
}

template <typename T>
typename Network<T>::WeightMap Network<T>::W(int l) {
  check_layer(l);
  return WeightMap(params_.data() + weight_offset(l), units(l), units(l - 1));
}
template <typename T>
typename Network<T>::WeightMap Network<T>::b(int l) {
  check_layer(l);
  return WeightMap(params_.data() + bias_offset(l), units(l), 1);
}
template <typename T>
typename Network<T>::WeightMap Network<T>::dW(int l) {
  check_layer(l);
  return WeightMap(grads_.data() + weight_offset(l), units(l), units(l - 1));
}
template <typename T>
typename Network<T>::WeightMap Network<T>::db(int l) {
  check_layer(l);
  return WeightMap(grads_.data() + bias_offset(l), units(l), 1);
}
template <typename T>
typename Network<T>::ConstWeightMap Network<T>::W(int l) const {
  check_layer(l);
  return ConstWeightMap(params_.data() + weight_offset(l), units(l), units(l - 1));
}
template <typename T>
typename Network<T>::ConstWeightMap Network<T>::b(int l) const {
  check_layer(l);
  return ConstWeightMap(params_.data() + bias_offset(l), units(l), 1);
}
template <typename T>
typename Network<T>::ConstWeightMap Network<T>::dW(int l) const {
  check_layer(l);
  return ConstWeightMap(grads_.data() + weight_offset(l), units(l), units(l - 1));
}
template <typename T>
typename Network<T>::ConstWeightMap Network<T>::db(int l) const {
  check_layer(l);
  return ConstWeightMap(grads_.data() + bias_offset(l), units(l), 1);
}

template <typename T>
void Network<T>::ensure_workspace(Eigen::Index m, bool small) {
  ++passes_;
  Workspace* chosen = nullptr;
  for (Workspace& w : workspaces_)
    if (w.m == m) chosen = &w;
  if (!chosen) {
    if (workspaces_.size() < max_workspaces) {
      chosen = &workspaces_.emplace_back();
    } else {  // reuse the least recently used one
      chosen = &workspaces_[0];
      for (Workspace& w : workspaces_)
        if (w.last_used < chosen->last_used) chosen = &w;
    }
    const std::size_t slots = static_cast<std::size_t>(layers()) + 1;
    chosen->Z.assign(slots, Matrix<T>());
    chosen->A.assign(slots, Matrix<T>());
    chosen->dZ.assign(slots, Matrix<T>());
    chosen->mask.assign(slots, Matrix<T>());
    chosen->general = false;
    chosen->ld = 0;
    chosen->m = m;
  }
  if (!small && !chosen->general) {
    for (int l = 1; l <= layers(); ++l) {
      chosen->Z[l].resize(units(l), m);
      chosen->A[l].resize(units(l), m);
    }
    chosen->general = true;
  }
  if (small && chosen->ld == 0) allocate_small(*chosen);
  chosen->last_used = passes_;
  active_ = static_cast<std::size_t>(chosen - workspaces_.data());
  m_ = m;
}

template <typename T>
const Matrix<T>& Network<T>::forward(const Matrix<T>& X) {
  if (X.rows() != units(0))
    throw Error("layer 1: W[1] is (" + std::to_string(units(1)) + ", " + std::to_string(units(0)) +
                ") but A[0] = X has " + std::to_string(X.rows()) + " rows");
  if (X.cols() < 1) throw Error("forward: X has no examples (m = 0 columns)");
  if (small_net_path() && X.cols() < (Eigen::Index(1) << 31)) {
    forward_small(X);
    return ws().A[layers()];
  }
  ensure_workspace(X.cols(), false);
  X_ = &X;
  backward_done_ = false;
  masked_ = false;
  small_pass_ = false;
  for (int l = 1; l <= layers(); ++l) {
    const Matrix<T>& A_prev = l == 1 ? X : ws().A[l - 1];
    linear_activation_forward<T>(A_prev, W(l), b(l), arch_.activation(l), arch_.leaky_slope, ws().Z[l],
                                 ws().A[l], l);
    const double p = l < layers() && dropout_rng_ ? dropout(l) : 0.0;
    if (p > 0) {
      // Inverted dropout: keep each unit with probability 1-p and scale it by 1/(1-p).
      const T keep_scale = static_cast<T>(1.0 / (1.0 - p));
      Matrix<T>& mask = ws().mask[l];
      mask.resize(ws().Z[l].rows(), ws().Z[l].cols());
      T* m = mask.data();
      T* a = ws().A[l].data();
      for (Eigen::Index k = 0; k < mask.size(); ++k) {
        m[k] = dropout_rng_->uniform() < p ? T(0) : keep_scale;
        a[k] *= m[k];
      }
      masked_ = true;
    }
  }
  return ws().A[layers()];
}

template <typename T>
double Network<T>::dropout(int l) const {
  if (dropout_.empty()) return 0.0;
  return dropout_.size() == 1 ? dropout_[0] : dropout_[static_cast<std::size_t>(l - 1)];
}

template <typename T>
void Network<T>::set_l2(double lambda) {
  if (!(std::isfinite(lambda) && lambda >= 0))
    throw Error("l2: expected a finite lambda >= 0, got " + std::to_string(lambda));
  l2_ = lambda;
}

template <typename T>
void Network<T>::set_dropout(std::vector<double> drop, Rng* rng) {
  const std::size_t hidden = static_cast<std::size_t>(layers() - 1);
  if (!drop.empty() && drop.size() != 1 && drop.size() != hidden)
    throw Error("dropout: " + std::to_string(drop.size()) + " rates for " + std::to_string(hidden) +
                " hidden layers; give one, or one per hidden layer");
  for (std::size_t k = 0; k < drop.size(); ++k)
    if (!(drop[k] >= 0 && drop[k] < 1))
      throw Error("dropout: layer " + std::to_string(drop.size() == 1 ? 1 : k + 1) +
                  ": expected a drop probability in [0, 1), got " + std::to_string(drop[k]));
  dropout_ = std::move(drop);
  dropout_rng_ = rng;
}

template <typename T>
void Network<T>::check_targets(MatrixCRef<T> Y) const {
  if (!X_) throw Error("no forward pass to compare with: call forward() first");
  if (Y.rows() != units(layers()) || Y.cols() != m_)
    throw Error("layer " + std::to_string(layers()) + ": Y is (" + std::to_string(Y.rows()) + ", " +
                std::to_string(Y.cols()) + ") but A[" + std::to_string(layers()) + "] is (" +
                std::to_string(units(layers())) + ", " + std::to_string(m_) + ")");
}

template <typename T>
double Network<T>::cost(MatrixCRef<T> Y, const T* example_weights) const {
  check_targets(Y);
  double cost = small_pass_ ? loss_sum_small(Y, example_weights) / static_cast<double>(m_)
                            : cost_from_logits<T>(arch_.output, ws().Z[layers()], Y, example_weights);
  if (l2_ > 0) {
    // lambda/(2m) sum_l ||W[l]||_F^2
    double squares = 0;
    for (int l = 1; l <= layers(); ++l) squares += static_cast<double>(W(l).squaredNorm());
    cost += l2_ / (2.0 * static_cast<double>(m_)) * squares;
  }
  return cost;
}

template <typename T>
void Network<T>::swap_gradients(std::vector<T>& other) {
  if (other.size() != grads_.size())
    throw Error("swap_gradients: a buffer of " + std::to_string(other.size()) + " values for " +
                std::to_string(grads_.size()) + " gradients");
  grads_.swap(other);
}

template <typename T>
void Network<T>::forward_backward(const Matrix<T>& X, MatrixCRef<T> Y, const T* example_weights,
                                  bool input_unchanged) {
  const bool fused = small_net_path() && X.rows() == units(0) && X.cols() >= 1 &&
                     X.cols() < (Eigen::Index(1) << 31) && Y.rows() == units(layers()) && Y.cols() == X.cols();
  if (!fused) {  // the general path (or an error from forward or backward, as they would give it)
    forward(X);
    backward(Y, nullptr, example_weights, GradientMode::replace);
    return;
  }
  forward_small(X, &Y, example_weights, input_unchanged);
  zero_grad();
  add_small_gradients();
  if (ready_)
    for (int l = layers(); l >= 1; --l) ready_(ready_context_, l);
}

template <typename T>
void Network<T>::zero_grad() {
  std::fill(grads_.begin(), grads_.end(), T(0));
}

template <typename T>
void Network<T>::backward(MatrixCRef<T> Y, Matrix<T>* input_gradient, const T* example_weights,
                          GradientMode mode) {
  check_targets(Y);
  backward_done_ = true;
  if (small_pass_) {
    if (mode == GradientMode::replace) zero_grad();  // the small-net pass adds its chunks' sums
    backward_small(Y, input_gradient, example_weights);
    if (ready_)
      for (int l = layers(); l >= 1; --l) ready_(ready_context_, l);
    return;
  }
  const int L = layers();
  // dZ is sized on the workspace's first backward pass (a forward-only pass,
  // as in predict and scoring, never needs it); a no-op after that.
  for (int l = 1; l <= L; ++l) ws().dZ[l].resize(units(l), m_);
  // dZ[L] = A[L] - Y for every matched output/loss pair (times w_j per column when weighted).
  ws().dZ[L].noalias() = ws().A[L] - Y;
  if (example_weights)
    for (Eigen::Index j = 0; j < m_; ++j) ws().dZ[L].col(j) *= example_weights[j];
  for (int l = L; l >= 1; --l) {
    const Matrix<T>& A_prev = l == 1 ? *X_ : ws().A[l - 1];
    Matrix<T>* dA_prev = l > 1 ? &ws().dZ[l - 1] : input_gradient;
    if (l == 1 && input_gradient) input_gradient->resize(units(0), m_);
    linear_backward<T>(ws().dZ[l], A_prev, W(l), dW(l), db(l), dA_prev, l, mode);
    if (l2_ > 0) dW(l) += static_cast<T>(l2_ / static_cast<double>(m_)) * W(l);  // d/dW of lambda/(2m) ||W||^2
    if (ready_) ready_(ready_context_, l);
    if (l > 1) {
      // dZ[l-1] = dA[l-1] * g'(Z[l-1]), in place over dA[l-1].
      Matrix<T>& dZ_prev = ws().dZ[l - 1];
      const Matrix<T>& Z_prev = ws().Z[l - 1];
      const Matrix<T>& A_cached = ws().A[l - 1];
      const bool dropped = masked_ && ws().mask[l - 1].size() == dZ_prev.size() && dropout(l - 1) > 0;
      dispatch_activation(arch_.activation(l - 1), arch_.leaky_slope, [&](auto fn) {
        const Eigen::Index size = dZ_prev.size();
        T* dz = dZ_prev.data();
        const T* z = Z_prev.data();
        const T* a = A_cached.data();
        if (!dropped) {
          for (Eigen::Index k = 0; k < size; ++k) dz[k] *= fn.derivative(z[k], a[k]);
        } else {
          // A[l-1] was multiplied by the mask, so dA[l-1] is too; g' needs the activation before it.
          const T* mask = ws().mask[l - 1].data();
          for (Eigen::Index k = 0; k < size; ++k)
            dz[k] = mask[k] == T(0) ? T(0) : dz[k] * mask[k] * fn.derivative(z[k], a[k] / mask[k]);
        }
      });
    }
  }
}

template <typename T>
void Network<T>::step(T* theta, const T* dtheta, std::size_t n, T alpha) {
  for (std::size_t k = 0; k < n; ++k) theta[k] -= alpha * dtheta[k];
}

template <typename T>
void Network<T>::update(double learning_rate) {
  step(params_.data(), grads_.data(), params_.size(), static_cast<T>(learning_rate));
}

template <typename T>
void Network<T>::add_l2(const T* params, T* grads) const {
  // A plain loop, the same operations for every element wherever the buffer
  // lies (a descend team's copies sit at other addresses than params_).
  const T scale = static_cast<T>(l2_ / static_cast<double>(m_));
  for (int l = 1; l <= layers(); ++l) {
    const std::size_t begin = offsets_[l], end = begin + static_cast<std::size_t>(units(l)) * units(l - 1);
    for (std::size_t q = begin; q < end; ++q) grads[q] += scale * params[q];
  }
}

template <typename T>
int Network<T>::descend(const Matrix<T>& X, MatrixCRef<T> Y, const T* example_weights, int steps,
                        double learning_rate, bool input_unchanged, const std::function<void(int)>& after_step) {
  if (steps < 1) return 0;
  bool dropping = false;
  for (int l = 1; l < layers(); ++l) dropping = dropping || (dropout_rng_ && dropout(l) > 0);
  // forward_backward's condition for the fused small-net pass
  if (small_net_path() && !dropping && !ready_ && X.rows() == units(0) && X.cols() >= 1 &&
      X.cols() < (Eigen::Index(1) << 31) && Y.rows() == units(layers()) && Y.cols() == X.cols())
    return descend_small(X, Y, example_weights, steps, learning_rate, input_unchanged, after_step);
  return descend_one_by_one(X, Y, example_weights, steps, learning_rate, input_unchanged, after_step, 0);
}

template <typename T>
int Network<T>::descend_one_by_one(const Matrix<T>& X, MatrixCRef<T> Y, const T* example_weights, int steps,
                                   double learning_rate, bool input_unchanged,
                                   const std::function<void(int)>& after_step, int done) {
  for (int k = done + 1; k <= steps; ++k) {
    forward_backward(X, Y, example_weights, input_unchanged || k > 1);
    if (!Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(grads_.data(), static_cast<Eigen::Index>(grads_.size()))
             .allFinite())
      return k - 1;
    update(learning_rate);
    if (after_step) after_step(k);
  }
  return steps;
}

template <typename T>
void Network<T>::release_workspaces() {
  workspaces_.clear();  // the capacity (max_workspaces) stays reserved: pointers into it stay valid
  active_ = 0;
  m_ = 0;
  X_ = nullptr;
  backward_done_ = false;
  small_pass_ = false;
}

template <typename T>
const Matrix<T>& Network<T>::Z(int l) const {
  check_layer(l);
  if (m_ == 0) throw Error("Z[" + std::to_string(l) + "]: no forward pass yet");
  if (small_pass_) lay_out_small(l, 0);
  return ws().Z[l];
}

template <typename T>
const Matrix<T>& Network<T>::A(int l) const {
  check_layer(l);
  if (m_ == 0) throw Error("A[" + std::to_string(l) + "]: no forward pass yet");
  if (small_pass_) lay_out_small(l, 1);
  return ws().A[l];
}

template <typename T>
const Matrix<T>& Network<T>::dZ(int l) const {
  check_layer(l);
  if (m_ == 0 || !backward_done_) throw Error("dZ[" + std::to_string(l) + "]: no backward pass after the last forward pass");
  if (small_pass_) lay_out_small(l, 2);
  return ws().dZ[l];
}

template <typename T>
Matrix<T> Network<T>::predict(const Matrix<T>& X) {
  const Matrix<T>& AL = forward(X);
  switch (arch_.output) {
    case Output::sigmoid:
      return (AL.array() > T(0.5)).template cast<T>().matrix();
    case Output::softmax: {
      Matrix<T> classes(1, AL.cols());
      for (Eigen::Index j = 0; j < AL.cols(); ++j) {
        Eigen::Index best = 0;
        AL.col(j).maxCoeff(&best);
        classes(0, j) = static_cast<T>(best);
      }
      return classes;
    }
    case Output::linear:
      return AL;
  }
  return AL;
}

template <typename T>
double accuracy(MatrixCRef<T> predictions, MatrixCRef<T> labels) {
  if (predictions.rows() != labels.rows() || predictions.cols() != labels.cols())
    throw Error("accuracy: predictions are (" + std::to_string(predictions.rows()) + ", " +
                std::to_string(predictions.cols()) + ") but labels are (" +
                std::to_string(labels.rows()) + ", " + std::to_string(labels.cols()) + ")");
  if (labels.cols() == 0) throw Error("accuracy: no examples (m = 0)");
  Eigen::Index correct = 0;
  for (Eigen::Index j = 0; j < labels.cols(); ++j)
    if ((predictions.col(j).array() == labels.col(j).array()).all()) ++correct;
  return static_cast<double>(correct) / static_cast<double>(labels.cols());
}

template class Network<float>;
template class Network<double>;
template double accuracy<float>(MatrixCRef<float>, MatrixCRef<float>);
template double accuracy<double>(MatrixCRef<double>, MatrixCRef<double>);

}  // namespace deepnet
