#pragma once
// The L-layer fully connected network in course notation.
//
//   A[0] = X (n[0], m);  Z[l] = W[l] A[l-1] + b[l];  A[l] = g[l](Z[l]),  l = 1..L
//   W[l]: (n[l], n[l-1]),  b[l]: (n[l], 1) broadcast over the m columns.
//
// All W[l] and b[l] live in one flat contiguous buffer (W[1], b[1], W[2], ...;
// each W column-major), and the gradients in a second buffer of the same layout.
// W(l), b(l), dW(l), db(l) are views into them. Workspace (Z, A, dZ caches) is
// sized for the batch size m and reused, so repeated passes with the same m
// allocate nothing.
//
// Small nets (every n[l] <= small_net_max_width: 64 for double, 32 for float)
// take the small-net path:
// forward, cost and backward run fused loops over the examples instead of one
// matrix product per layer (docs/performance.md, "Small nets"). Results agree
// with the general path within the bound stated there, not to the bit;
// set_small_net_path(false) forces the general path.
//
// Thread safety: a Network is not safe to use from several threads at once
// (forward writes its caches); const accessors are, except Z() and A(), which
// lay out the small-net path's caches on first access.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "deepnet/activation.hpp"
#include "deepnet/linear.hpp"
#include "deepnet/loss.hpp"
#include "deepnet/matrix.hpp"
#include "deepnet/rng.hpp"

namespace deepnet {

namespace detail {
struct KernelSet;  // src/core/kernels.hpp
}

struct Architecture {
  // n[0] .. n[L]: input size, hidden sizes, output size. L = sizes.size() - 1 >= 1.
  std::vector<int> sizes;
  // g[1] .. g[L-1]: one per hidden layer, or a single entry used for all of them.
  std::vector<Activation> hidden_activations = {Activation::relu};
  // g[L] and the loss it pairs with.
  Output output = Output::sigmoid;
  // Slope of leaky_relu for z <= 0.
  double leaky_slope = 0.01;

  int layers() const { return static_cast<int>(sizes.size()) - 1; }
  // g[l] for 1 <= l <= L.
  Activation activation(int l) const;
  // Throws Error naming the layer or setting that is invalid.
  void validate() const;
  // "2-4-1 tanh/sigmoid"
  std::string describe() const;
};

template <typename T>
class Network {
 public:
  using WeightMap = Eigen::Map<Matrix<T>>;
  using ConstWeightMap = Eigen::Map<const Matrix<T>>;

  // Parameters start at zero; see initialize() in init.hpp. Throws Error on an invalid architecture.
  explicit Network(Architecture architecture);

  const Architecture& architecture() const { return arch_; }
  int layers() const { return arch_.layers(); }  // L
  int units(int l) const { return arch_.sizes.at(l); }  // n[l], 0 <= l <= L

  // Views into the flat buffers, 1 <= l <= L. W: (n[l], n[l-1]), b: (n[l], 1).
  WeightMap W(int l);
  WeightMap b(int l);
  WeightMap dW(int l);
  WeightMap db(int l);
  ConstWeightMap W(int l) const;
  ConstWeightMap b(int l) const;
  ConstWeightMap dW(int l) const;
  ConstWeightMap db(int l) const;

  std::span<T> parameters() { return params_; }
  std::span<const T> parameters() const { return params_; }
  std::span<T> gradients() { return grads_; }
  std::span<const T> gradients() const { return grads_; }
  // Exchanges the gradient buffer with `other` (of the same size; Error
  // otherwise) without copying: data-parallel steps keep each block's
  // gradient this way.
  void swap_gradients(std::vector<T>& other);
  // For data-parallel steps: backward() calls ready(context, l) for l = L,
  // ..., 1 as soon as dW[l] and db[l] are final (the small-net path: after
  // its whole pass), so that their exchange can start while the rest of the
  // pass runs. Null: none.
  using GradientReady = void (*)(void* context, int layer);
  void set_gradient_ready(GradientReady ready, void* context) {
    ready_ = ready;
    ready_context_ = context;
  }
  // Offset of W[l] in the flat buffer; b[l] follows it.
  std::size_t weight_offset(int l) const;
  std::size_t bias_offset(int l) const;

  // Forward propagation. Caches Z[l], A[l] and keeps a reference to X as A[0]:
  // X must stay alive and unchanged until backward() is done. X: (n[0], m), m >= 1.
  // Returns A[L]: (n[L], m).
  const Matrix<T>& forward(const Matrix<T>& X);

  // Cost of the last forward pass against targets Y (n[L], m) (stable, from Z[L]),
  // plus the L2 term lambda/(2m) sum_l ||W[l]||^2 when set_l2 is on.
  // example_weights: m values w_j, J = (1/m) sum_j w_j L_j; null means all 1.
  double cost(MatrixCRef<T> Y, const T* example_weights = nullptr) const;

  // Sets every gradient to zero.
  void zero_grad();

  // Backward propagation for the last forward pass; accumulates into the
  // gradients (call zero_grad() first), or, with GradientMode::replace, sets
  // them without reading them (linear.hpp; the training loops' way: no pass
  // that zeroes them first). Y: (n[L], m).
  //   dZ[L] = A[L] - Y;  dW[l] = (1/m) dZ[l] A[l-1]^T;  db[l] = (1/m) sum_columns dZ[l]
  //   dA[l-1] = W[l]^T dZ[l];  dZ[l-1] = dA[l-1] * g'[l-1](Z[l-1])
  // When input_gradient is non-null it receives dA[0] = W[1]^T dZ[1]: (n[0], m).
  // example_weights scale the columns of dZ[L] (see cost); L2 adds (lambda/m) W[l] to dW[l];
  // dropout masks of the last forward pass multiply dA[l] of the hidden layers.
  void backward(MatrixCRef<T> Y, Matrix<T>* input_gradient = nullptr, const T* example_weights = nullptr,
                GradientMode mode = GradientMode::accumulate);

  // forward(X), zero_grad() and backward(Y, nullptr, example_weights) in one
  // call: the same values, bits and caches (the gradients set as
  // GradientMode::replace sets them, without a pass that zeroes them first).
  // On the small-net path each chunk of examples goes forward and back at
  // once, so a full-batch step hands work to the library's threads once
  // instead of twice.
  // input_unchanged: the caller's promise that X is the matrix of the last
  // pass (the same object) and that its values have not changed since (a
  // full-batch loop's X): the small-net path then skips comparing X with the
  // copy it laid out. A different X object is compared whatever the flag says.
  void forward_backward(const Matrix<T>& X, MatrixCRef<T> Y, const T* example_weights = nullptr,
                        bool input_unchanged = false);

  // L2 regularisation strength lambda >= 0 (0 = off).
  void set_l2(double lambda);
  double l2() const { return l2_; }
  // Inverted dropout on the hidden layers: drop[l-1] is the probability that a
  // unit of hidden layer l is dropped (one value for all, or one per hidden
  // layer; 0 <= p < 1). Active in forward() only while rng is non-null; kept
  // units are scaled by 1/(1-p) so nothing changes at prediction time.
  void set_dropout(std::vector<double> drop, Rng* rng);

  // One gradient-descent step on the flat buffer: theta -= learning_rate * dtheta.
  void update(double learning_rate);

  // `steps` steps of full-batch gradient descent on (X, Y): for k = 1..steps,
  // forward_backward(X, Y, example_weights, input_unchanged for k = 1; X is
  // unchanged after that), then, when every gradient is finite,
  // update(learning_rate) and after_step(k) on the calling thread (empty:
  // none). Stops before the update of the first step whose gradient has a
  // non-finite value (the network then holds that step's gradients and
  // caches) and returns the number of updates made. The values and bits of
  // those calls made one by one. X must not change until descend returns
  // (after_step included). after_step may read the parameters and gradients,
  // not the caches (Z, A, dZ, cost): other threads may already be computing
  // the next step's. An exception from after_step comes out of descend after
  // that step's update, with the caches released (release_workspaces). On the small-net path with threads, each thread
  // keeps its chunks of examples for all the steps: the threads meet once per
  // step to add up the chunks' gradient sums in chunk order, and each applies
  // the same update to its own copy of the parameters (instead of a hand-off
  // to the threads and back per step, and the update on one of them). Not
  // with dropout or a gradient-ready hook (set_gradient_ready): those take
  // the one-by-one calls.
  int descend(const Matrix<T>& X, MatrixCRef<T> Y, const T* example_weights, int steps, double learning_rate,
              bool input_unchanged, const std::function<void(int)>& after_step);

  // The small-net path: taken by forward() (and the cost() and backward() of
  // that pass) when every n[l], l = 0..L, is at most small_net_max_width and
  // deepnet's own vector kernels are the vmath backend (vmath.hpp; the default).
  // Any activation, output, L2, dropout and example weights. Widths above
  // the limit gain nothing over the matrix products (docs/performance.md:
  // double products run Eigen's kernels, float ones oneDNN's, which a fused
  // loop only beats up to about 32 units).
  static constexpr int small_net_max_width = sizeof(T) == sizeof(float) ? 32 : 64;
  // true (the default): take it when it applies; false: always the general
  // path (for comparisons and tests).
  void set_small_net_path(bool allowed);
  // Whether the next forward() takes the small-net path.
  bool small_net_path() const;

  // Cached values of the last forward pass, 1 <= l <= L: (n[l], m_last).
  const Matrix<T>& Z(int l) const;
  const Matrix<T>& A(int l) const;
  // Whether dZ[l] of the last backward pass holds only finite values (true
  // before any backward pass): for locating the first non-finite value.
  bool dZ_finite(int l) const;
  // dZ[l] = dJ/dZ[l] times m (the course's dZ: dW[l] = (1/m) dZ[l] A[l-1]^T) of
  // the last backward pass, 1 <= l <= L: (n[l], m_last). Error when no
  // backward pass followed the last forward pass.
  const Matrix<T>& dZ(int l) const;

  // Predictions for X (n[0], m): sigmoid: 1 where a > 0.5 else 0, (n[L], m);
  // softmax: the row index of the largest probability, (1, m); linear: A[L].
  // Uses the forward caches (not const).
  Matrix<T> predict(const Matrix<T>& X);

  // Frees the forward and backward caches of every batch size seen (the
  // workspaces); the next pass allocates them again. Z(), A(), dZ() are
  // unavailable until the next forward pass. A finished evaluation or a
  // chunk of another size then holds no memory it no longer needs.
  void release_workspaces();

 private:
  void check_layer(int l) const;
  void check_targets(MatrixCRef<T> Y) const;
  double dropout(int l) const;  // drop probability of hidden layer l
  // Selects (or makes) the workspace for batch size m, with the buffers of the
  // general path (small false) or of the small-net path.
  void ensure_workspace(Eigen::Index m, bool small);
  // The small-net path (small_net.cpp).
  // With Y, each chunk's backward pass follows its forward pass (forward_backward).
  void forward_small(const Matrix<T>& X, const MatrixCRef<T>* Y = nullptr, const T* example_weights = nullptr,
                     bool input_unchanged = false);
  double loss_sum_small(MatrixCRef<T> Y, const T* example_weights) const;
  void backward_small(MatrixCRef<T> Y, Matrix<T>* input_gradient, const T* example_weights);
  void add_small_gradients();  // the chunks' gradient sums, in chunk order, into the gradients (and L2)
  // descend's steps done + 1 .. steps, each forward_backward, update and after_step (descend's loop
  // off the small-net path, and on it after a stalled team); returns the updates made in all.
  int descend_one_by_one(const Matrix<T>& X, MatrixCRef<T> Y, const T* example_weights, int steps,
                         double learning_rate, bool input_unchanged, const std::function<void(int)>& after_step,
                         int done);
  // descend on the small-net path (its conditions checked by descend), by teams of threads (descend_team).
  int descend_small(const Matrix<T>& X, MatrixCRef<T> Y, const T* example_weights, int steps, double learning_rate,
                    bool input_unchanged, const std::function<void(int)>& after_step);
  int descend_team(const Matrix<T>& X, MatrixCRef<T> Y, const T* example_weights, int done, int steps,
                   double learning_rate, bool input_unchanged, const std::function<void(int)>& after_step,
                   bool& stalled);
  // grads += (lambda/m) W for every layer, on buffers laid out as params_ (add_small_gradients, descend).
  void add_l2(const T* params, T* grads) const;
  // theta -= alpha dtheta over n values (update, descend).
  static void step(T* theta, const T* dtheta, std::size_t n, T alpha);
  void lay_out_small(int l, int which) const;  // Z(l) (0), A(l) (1) or dZ(l) (2) column-major from the unit-major buffers

  Architecture arch_;
  std::vector<T> params_;
  std::vector<T> grads_;
  std::vector<std::size_t> offsets_;  // offsets_[l] = start of W[l]; size L+1 (index 0 unused)
  // Workspace for one batch size m: index l = 1..L (index 0 unused), each (n[l], m).
  struct Workspace {
    Eigen::Index m = 0;
    std::uint64_t last_used = 0;
    bool general = false;  // Z, A sized for the general path (dZ on the first backward pass)
    // Z, A: the general path's caches; after a small-net pass, A[L] is written
    // by forward and the others are laid out on first access (Z(), A()).
    mutable std::vector<Matrix<T>> Z, A;
    std::vector<Matrix<T>> dZ, mask;
    mutable std::vector<char> laid_out;  // [3l] Z[l], [3l+1] A[l], [3l+2] dZ[l] current (small-net pass)
    // The small-net path's unit-major buffers (kernels.hpp), allocated on its
    // first pass: offsets into `small` (64-byte aligned at small_base) within
    // each chunk's region. Chunk c's buffers start at small_base + c region:
    // its own rows of ld values (the chunk width), so threads running
    // different chunks never write near each other's lines (not even where a
    // prefetcher runs past the end of a row). columns: m rounded up to
    // the type's small_net_granularity, which the chunks cover.
    std::size_t ld = 0, small_base = 0, E_at = 0, columns = 0, region = 0;
    // sums: two sets of per-chunk gradient sums (descend alternates them; one pass uses the first).
    std::vector<T> small, sums, input_gradient;
    std::vector<T> team_buffers;  // descend: each further thread's parameters and gradients
    std::vector<T> x_copy;  // the X that A[0] = X^T was made from (a full batch comes back every pass)
    bool x_current = false;
    const T* x_source = nullptr;  // that X's data
    std::vector<std::size_t> Z_at, A_at, dZ_at, mask_at, mask_used;  // [l]
  };
  void allocate_small(Workspace& w) const;
  // A few workspaces, one per batch size in use (full batches, the last short
  // batch, validation), so alternating sizes allocate nothing after the first pass.
  static constexpr std::size_t max_workspaces = 3;
  std::vector<Workspace> workspaces_;
  std::size_t active_ = 0;   // index of the workspace the last forward pass used (valid when m_ > 0)
  Workspace& ws() { return workspaces_[active_]; }
  const Workspace& ws() const { return workspaces_[active_]; }
  std::uint64_t passes_ = 0;
  Eigen::Index m_ = 0;
  const Matrix<T>* X_ = nullptr;
  double l2_ = 0;
  std::vector<double> dropout_;   // per hidden layer (index l-1)
  Rng* dropout_rng_ = nullptr;
  bool masked_ = false;           // whether the last forward pass used dropout (masks in ws_->mask)
  bool small_allowed_ = true;     // set_small_net_path
  bool small_pass_ = false;       // the last forward pass took the small-net path
  bool backward_done_ = false;    // backward() ran after the last forward pass (dZ() is valid)
  const detail::KernelSet* small_kernels_ = nullptr;  // the kernels of that pass
  std::vector<int> kernel_activation_;  // g[l] as the kernels' codes, index 0 unused
  // descend's steps left to go one by one after a team of threads stalled, and
  // the rest after the next stall (small_net.cpp: descend_small).
  long long team_rest_ = 0;
  static constexpr long long team_rest_first = 1024, team_rest_most = 1 << 20;
  long long team_rest_next_ = team_rest_first;
  GradientReady ready_ = nullptr;       // set_gradient_ready
  void* ready_context_ = nullptr;
};

// Fraction of examples (columns) whose predictions equal the labels in every row.
// predictions, labels: same shape.
template <typename T>
double accuracy(MatrixCRef<T> predictions, MatrixCRef<T> labels);

extern template class Network<float>;
extern template class Network<double>;

}  // namespace deepnet
