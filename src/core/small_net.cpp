// The small-net path of Network: nets whose layers are all at most
// small_net_max_width wide (docs/performance.md, "Small nets").
//
// A general pass is one matrix product per layer plus element-wise sweeps; for
// a 2-4-1 net those products are 4x2x400 and the call, packing and blocking
// around them cost more than the arithmetic. Here the examples are the vector
// lanes: buffers are unit-major (row i = unit i of every example), one loop
// over the examples per layer computes W A_prev + b, the activation and the
// dropout mask in registers (kernels.hpp, small_net_kernels.inc), and the
// backward loop gives dZ[l-1] and the gradient sums of layer l. What this file
// does: the buffers, X^T in, A[L] out, the dropout draws (in the general
// path's order, so the same Rng gives the same masks), the chunks and their
// sums in a fixed order, L2, and the column-major caches on demand.
#include <cmath>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <thread>

#include "core/kernels.hpp"
#include "core/thread_pool.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/network.hpp"

namespace deepnet {

namespace {

// Columns [begin, end) of chunk c (kernels.hpp: small_net_chunks).
template <typename T>
struct ChunkLayout {
  detail::SmallNetChunks chunks;
  std::size_t ld;
  explicit ChunkLayout(std::size_t ld_) : chunks(detail::small_net_chunks(ld_, detail::small_net_granularity<T>)), ld(ld_) {}
  std::size_t count() const { return chunks.count; }
  std::size_t begin(std::size_t c) const { return c * chunks.width; }
  std::size_t end(std::size_t c) const { return std::min(ld, (c + 1) * chunks.width); }
};

template <typename T>
const detail::SmallNetKernels<T>& kernels_for(const detail::KernelSet& set) {
  if constexpr (sizeof(T) == sizeof(float)) return set.small_float;
  else return set.small_double;
}

// Values from one chunk's gradient sums to the next: at least a 64-byte
// cache line apart (whatever the buffer's alignment), so threads running
// neighbouring chunks never write to one line.
template <typename T>
std::size_t sums_stride(std::size_t parameters) {
  constexpr std::size_t line = 64;
  return (parameters * sizeof(T) + 2 * line - 1) / line * line / sizeof(T);
}

// Multiply-adds of one pass over m examples (to decide whether threads pay).
double pass_work(const std::vector<int>& sizes, std::size_t m) {
  double weights = 0;
  for (std::size_t l = 1; l < sizes.size(); ++l) weights += double(sizes[l]) * double(sizes[l - 1]);
  return weights * double(m);
}

// Runs f(c) for every chunk c: shared among threads when the work is worth
// it. Which thread runs a chunk never changes what it computes. A hand-off to
// the pool's spinning worker costs about 0.25 us (docs/performance.md, "Small
// nets"); a pass of 4096 multiply-adds with its activations takes longer.
// The pool is called directly, not through parallel_blocks: the kernels call
// no OpenMP backend, so there is no OpenMP thread count to pin (two calls to
// omp_set_num_threads per pass, ~70 ns on a 3 us step).
// Whether a pass of `chunks` chunks and `multiply_adds` is shared among the
// threads (for_each_chunk, and descend's teams).
bool threads_pay(std::size_t chunks, double multiply_adds) {
  return chunks > 1 && threads() > 1 && multiply_adds >= 4096;
}

template <typename F>
void for_each_chunk(std::size_t chunks, double multiply_adds, F&& f) {
  if (threads_pay(chunks, multiply_adds)) {
    detail::thread_pool().run(threads(), static_cast<std::int64_t>(chunks),
                              [&](Eigen::Index c) { f(static_cast<std::size_t>(c)); });
  } else {
    for (std::size_t c = 0; c < chunks; ++c) f(c);
  }
}

}  // namespace

template <typename T>
void Network<T>::set_small_net_path(bool allowed) {
  small_allowed_ = allowed;
}

template <typename T>
bool Network<T>::small_net_path() const {
  if (!small_allowed_ || !detail::active_kernels()) return false;
  for (int n : arch_.sizes)
    if (n > small_net_max_width) return false;
  return true;
}

// Unit-major buffers for the workspace's m, one region per chunk: A[0] = X^T,
// and Z, A, dZ (and a dropout mask for hidden layers) per layer, each n[l]
// rows of the chunk width; the padding columns start at 0. Plus one set of
// gradient sums per chunk.
template <typename T>
void Network<T>::allocate_small(Workspace& w) const {
  const int L = layers();
  const std::size_t m = static_cast<std::size_t>(w.m);
  constexpr std::size_t granularity = detail::small_net_granularity<T>;
  const std::size_t columns = (m + granularity - 1) / granularity * granularity;
  const ChunkLayout<T> chunks(columns);
  const std::size_t ld = chunks.chunks.width;
  const std::size_t slots = static_cast<std::size_t>(L) + 1;
  w.Z_at.assign(slots, 0);
  w.A_at.assign(slots, 0);
  w.dZ_at.assign(slots, 0);
  w.mask_at.assign(slots, detail::no_mask);
  w.mask_used.assign(slots, detail::no_mask);
  std::size_t at = 0;
  auto take = [&](int rows) {
    const std::size_t start = at;
    at += static_cast<std::size_t>(rows) * ld;
    return start;
  };
  w.A_at[0] = take(units(0));
  for (int l = 1; l <= L; ++l) {
    w.Z_at[l] = take(units(l));
    w.A_at[l] = take(units(l));
    w.dZ_at[l] = take(units(l));
    if (l < L) w.mask_at[l] = take(units(l));
  }
  w.E_at = arch_.output == Output::sigmoid ? take(units(L)) : detail::no_mask;
  // Regions 64-byte aligned, with 4 spare lines between them.
  constexpr std::size_t line = 64 / sizeof(T);
  w.region = (at + 4 * line + line - 1) / line * line;
  w.small.assign(chunks.count() * w.region + line, T(0));
  const auto address = reinterpret_cast<std::uintptr_t>(w.small.data());
  w.small_base = ((64 - address % 64) % 64) / sizeof(T);
  w.sums.assign(2 * chunks.count() * sums_stride<T>(params_.size()), T(0));
  w.A[L].resize(units(L), w.m);
  w.laid_out.assign(3 * slots, 0);
  w.x_copy.assign(static_cast<std::size_t>(units(0)) * m, T(0));
  w.x_current = false;
  w.columns = columns;
  w.ld = ld;
}

namespace {

// f(j, at) for every real example j < m in order, `at` the place of column j
// in the workspace's buffers (past small_base): chunk j / ld's region plus the
// column within the chunk. The value (i, j) of the buffer at offset B
// (Z_at[l], ...) is at B + at + i ld.
template <typename W, typename F>
void for_each_example(const W& w, std::size_t m, F&& f) {
  for (std::size_t c = 0, j = 0; j < m; ++c)
    for (std::size_t jj = 0; jj < w.ld && j < m; ++jj, ++j) f(j, c * w.region + jj);
}

// A[0] = X^T for chunk c (columns [j0, j1) of X, those below m): row k holds
// feature k of the chunk's examples, laid out on the thread that runs the
// chunk. Full-batch training passes the same X every iteration: when the
// chunk's columns of X have the bytes of the last pass's (x_known: the same
// X object as last time), its A[0] is still right (comparing costs less than
// transposing); x_same: the caller promised they have.
template <typename W, typename T>
void lay_out_input(W& w, T* work, const Matrix<T>& X, std::size_t c, std::size_t j0, std::size_t j1, bool x_known,
                   bool x_same) {
  const std::size_t n = static_cast<std::size_t>(X.rows());
  j1 = std::min(j1, static_cast<std::size_t>(X.cols()));
  if (j0 >= j1) return;
  const T* x = X.data() + j0 * n;
  T* copy = w.x_copy.data() + j0 * n;
  const std::size_t bytes = (j1 - j0) * n * sizeof(T);
  if (x_same || (x_known && std::memcmp(copy, x, bytes) == 0)) return;
  std::memcpy(copy, x, bytes);
  T* a0 = work + c * w.region + w.A_at[0];
  for (std::size_t jj = 0; jj < j1 - j0; ++jj)
    for (std::size_t k = 0; k < n; ++k) a0[jj + k * w.ld] = x[jj * n + k];
}

// grads[q] += (1/m) sum_c sums[c stride + q] (c = 0, 1, ... in order).
template <typename T>
void add_chunk_sums(const T* sums, std::size_t chunks, std::size_t stride, std::size_t count, T inv_m, T* grads) {
  for (std::size_t q = 0; q < count; ++q) {  // (the values between count and stride: padding)
    T total = sums[q];
    for (std::size_t c = 1; c < chunks; ++c) total += sums[c * stride + q];
    grads[q] += inv_m * total;
  }
}

// How long a thread of a team waits for another at a step's meeting before
// it calls the team stalled: a step of a net this small takes microseconds,
// so the other thread has lost its core (another process, or the host of a
// virtual machine, runs there) and each further step would wait for the OS
// to give it back. The rest of the steps then go the one-by-one way, whose
// blocks the caller takes over from a worker that does not come.
constexpr auto team_stall_time = std::chrono::microseconds(200);

// Spins until `value` reaches `target` (true), or `abort` is set, or (with
// `may_stall`) the wait passes team_stall_time (then `stalled` and `abort`
// are set): false. The first step's meeting may not stall: a worker that
// slept since the last job takes a while to wake. Time thread 0 spends in
// the caller's after_step (`calling`: a progress bar, Python taking the GIL
// to look for Ctrl-C) is not a stall: the clock starts again after it. The
// other threads of a team are at most a step away: no pause at first (see
// thread_pool.cpp, hot_spin_time), then pauses, and a yield now and then.
bool wait_for(const std::atomic<int>& value, int target, std::atomic<bool>& abort, std::atomic<bool>& stalled,
              const std::atomic<bool>& calling, bool may_stall) {
  std::chrono::steady_clock::time_point start{};
  for (unsigned spins = 0; value.load(std::memory_order_acquire) < target; ++spins) {
    if (abort.load(std::memory_order_relaxed)) return false;
    if ((spins & 1023) == 1023) {
      if (may_stall) {
        const auto now = std::chrono::steady_clock::now();
        if (spins == 1023 || calling.load(std::memory_order_relaxed)) {
          start = now;
        } else if (now - start > team_stall_time) {
          stalled.store(true, std::memory_order_relaxed);
          abort.store(true, std::memory_order_relaxed);
          return false;
        }
      }
      if (spins > 4096) std::this_thread::yield();
    } else if (spins > 4096) {
      detail::cpu_pause();
    }
  }
  return true;
}

}  // namespace

// The kernels' view of chunk c of the active workspace: its region, its row
// stride (the chunk width) and its real examples (columns below m).
#define DEEPNET_SMALL_PASS(w, work, c)                                                                 \
  detail::SmallNetPass<T> {                                                                            \
    layers(), arch_.sizes.data(), kernel_activation_.data(), static_cast<T>(arch_.leaky_slope),        \
        params_.data(), offsets_.data(), (work) + (c) * (w).region, (w).Z_at.data(), (w).A_at.data(),   \
        (w).dZ_at.data(), (w).mask_used.data(), (w).E_at, (w).ld,                                       \
        std::min((w).ld, static_cast<std::size_t>(m_) - std::min(static_cast<std::size_t>(m_), (c) * (w).ld)) \
  }

template <typename T>
void Network<T>::forward_small(const Matrix<T>& X, const MatrixCRef<T>* Y, const T* example_weights,
                               bool input_unchanged) {
  const Eigen::Index m = X.cols();
  ensure_workspace(m, true);
  Workspace& w = ws();
  X_ = &X;
  backward_done_ = false;
  small_pass_ = true;
  small_kernels_ = detail::active_kernels();
  std::fill(w.laid_out.begin(), w.laid_out.end(), char(0));
  T* work = w.small.data() + w.small_base;

  // A[0] = X^T, laid out by each chunk (lay_out_input above); the caller of
  // forward_backward may promise that X is the last pass's, unchanged.
  const bool x_known = w.x_current && w.x_source == X.data();
  const bool x_same = x_known && input_unchanged;

  // Inverted dropout: the same draws, in the same order, as the general path
  // (layer by layer, column-major within a layer).
  masked_ = false;
  for (int l = 1; l < layers(); ++l) {
    const double p = dropout_rng_ ? dropout(l) : 0.0;
    w.mask_used[l] = detail::no_mask;
    if (p <= 0) continue;
    const T keep_scale = static_cast<T>(1.0 / (1.0 - p));
    const std::size_t n = static_cast<std::size_t>(units(l));
    for_each_example(w, static_cast<std::size_t>(m), [&](std::size_t, std::size_t at) {
      for (std::size_t i = 0; i < n; ++i) work[w.mask_at[l] + at + i * w.ld] = dropout_rng_->uniform() < p ? T(0) : keep_scale;
    });
    w.mask_used[l] = w.mask_at[l];
    masked_ = true;
  }

  const auto& kernels = kernels_for<T>(*small_kernels_);
  const ChunkLayout<T> chunks(w.columns);
  const std::size_t y_stride = Y ? static_cast<std::size_t>(Y->outerStride()) : 0;
  if (Y == nullptr) {
    for_each_chunk(chunks.count(), pass_work(arch_.sizes, w.columns), [&](std::size_t c) {
      lay_out_input(w, work, X, c, chunks.begin(c), chunks.end(c), x_known, x_same);
      kernels.forward(DEEPNET_SMALL_PASS(w, work, c), 0, chunks.end(c) - chunks.begin(c));
    });
  } else {
    // forward_backward: each chunk forward, then back (the values of forward, then backward)
    backward_done_ = true;
    const std::size_t P = sums_stride<T>(params_.size());
    for (int l = 1; l <= layers(); ++l) w.laid_out[3 * static_cast<std::size_t>(l) + 2] = 0;
    for_each_chunk(chunks.count(), 3 * pass_work(arch_.sizes, w.columns), [&](std::size_t c) {
      const detail::SmallNetPass<T> pass = DEEPNET_SMALL_PASS(w, work, c);
      const std::size_t j0 = chunks.begin(c), width = chunks.end(c) - j0;
      lay_out_input(w, work, X, c, j0, chunks.end(c), x_known, x_same);
      kernels.forward(pass, 0, width);
      kernels.backward(pass, Y->data() + j0 * y_stride, y_stride, example_weights ? example_weights + j0 : nullptr,
                       w.sums.data() + c * P, nullptr, 0, width);
    });
  }

  w.x_current = true;
  w.x_source = X.data();

  // forward() returns A[L] column-major; forward_backward lays it out only when asked
  // (A(L)): the caller's thread would read the other threads' freshly written lines.
  if (Y != nullptr) return;
  lay_out_small(layers(), 1);
}

template <typename T>
double Network<T>::loss_sum_small(MatrixCRef<T> Y, const T* example_weights) const {
  const Workspace& w = ws();
  // The kernels only read through the pass; the buffer is the workspace's own.
  T* work = const_cast<T*>(w.small.data()) + w.small_base;
  const auto& kernels = kernels_for<T>(*small_kernels_);
  const int output = static_cast<int>(arch_.output);
  const ChunkLayout<T> chunks(w.columns);
  const std::size_t y_stride = static_cast<std::size_t>(Y.outerStride());
  double total = 0;  // chunk by chunk, in order
  for (std::size_t c = 0; c < chunks.count(); ++c) {
    const std::size_t j0 = chunks.begin(c);
    total += kernels.loss_sum(DEEPNET_SMALL_PASS(w, work, c), output, Y.data() + j0 * y_stride, y_stride,
                              example_weights ? example_weights + j0 : nullptr, 0, chunks.end(c) - j0);
  }
  return total;
}

template <typename T>
void Network<T>::backward_small(MatrixCRef<T> Y, Matrix<T>* input_gradient, const T* example_weights) {
  Workspace& w = ws();
  T* work = w.small.data() + w.small_base;
  const auto& kernels = kernels_for<T>(*small_kernels_);
  const std::size_t P = sums_stride<T>(params_.size());
  const ChunkLayout<T> chunks(w.columns);
  // dA[0] = W[1]^T dZ[1]: per chunk, n[0] rows of the chunk width.
  const std::size_t n0 = static_cast<std::size_t>(units(0)), per_chunk = n0 * w.ld;
  if (input_gradient && w.input_gradient.size() != chunks.count() * per_chunk)
    w.input_gradient.assign(chunks.count() * per_chunk, T(0));
  T* dA0 = input_gradient ? w.input_gradient.data() : nullptr;
  const std::size_t y_stride = static_cast<std::size_t>(Y.outerStride());
  for (int l = 1; l <= layers(); ++l) w.laid_out[3 * static_cast<std::size_t>(l) + 2] = 0;
  for_each_chunk(chunks.count(), 2 * pass_work(arch_.sizes, w.columns), [&](std::size_t c) {
    const std::size_t j0 = chunks.begin(c);
    kernels.backward(DEEPNET_SMALL_PASS(w, work, c), Y.data() + j0 * y_stride, y_stride,
                     example_weights ? example_weights + j0 : nullptr, w.sums.data() + c * P,
                     dA0 ? dA0 + c * per_chunk : nullptr, 0, chunks.end(c) - j0);
  });
  add_small_gradients();
  if (input_gradient) {
    input_gradient->resize(units(0), m_);
    for (std::size_t c = 0, j = 0; j < static_cast<std::size_t>(m_); ++c)
      for (std::size_t jj = 0; jj < w.ld && j < static_cast<std::size_t>(m_); ++jj, ++j)
        for (std::size_t k = 0; k < n0; ++k)
          (*input_gradient)(static_cast<Eigen::Index>(k), static_cast<Eigen::Index>(j)) = dA0[c * per_chunk + k * w.ld + jj];
  }
}

// dW += (1/m) sum_j dZ A_prev^T, db += (1/m) sum_j dZ: each chunk's sums, in
// chunk order; then L2's (lambda/m) W.
template <typename T>
void Network<T>::add_small_gradients() {
  const Workspace& w = ws();
  const std::size_t chunks = ChunkLayout<T>(w.columns).count(), stride = sums_stride<T>(params_.size());
  add_chunk_sums(w.sums.data(), chunks, stride, params_.size(), T(1) / static_cast<T>(m_), grads_.data());
  if (l2_ > 0) add_l2(params_.data(), grads_.data());
}

// descend on the small-net path: each thread of a team takes a fixed range of
// chunks for every step, and per step: forward and back over its chunks (with
// its own parameters: the network's on thread 0, a copy on the others), its
// chunks' sums into the step's set of sums (two sets, alternating: a thread
// may start step k+1 while another still reads step k's), a meeting (each
// thread's count of finished steps on a line of its own), then every thread
// adds all the chunks' sums in chunk order and updates its parameters: the
// same operations as add_small_gradients and update, so the same bits on
// every thread, and those of forward_backward + update.
//
// A team that stalls (wait_for) stops after its last full step; the next
// team_rest_ steps go one by one (the pool hands each pass's chunks to
// whichever thread runs), then a team is tried again; each stall in a row
// doubles the rest (from team_rest_first to team_rest_most steps).
template <typename T>
int Network<T>::descend_small(const Matrix<T>& X, MatrixCRef<T> Y, const T* example_weights, int steps,
                              double learning_rate, bool input_unchanged, const std::function<void(int)>& after_step) {
  int done = 0;
  while (done < steps) {
    if (team_rest_ > 0) {
      const int last = done + static_cast<int>(std::min<long long>(team_rest_, steps - done));
      const int reached =
          descend_one_by_one(X, Y, example_weights, last, learning_rate, input_unchanged || done > 0, after_step, done);
      team_rest_ -= reached - done;
      if (reached < last) return reached;  // a non-finite gradient
      done = reached;
      continue;
    }
    bool stalled = false;
    done = descend_team(X, Y, example_weights, done, steps, learning_rate, input_unchanged || done > 0, after_step,
                        stalled);
    if (!stalled) {
      team_rest_next_ = team_rest_first;
      return done;
    }
    team_rest_ = team_rest_next_;
    team_rest_next_ = std::min(2 * team_rest_next_, team_rest_most);
  }
  return done;
}

// Steps done + 1 .. steps by a team (one thread where threads do not pay);
// returns the updates made in all. stalled: the team stopped early (the steps
// from the returned count on are still to do; none is when a gradient is not
// finite).
template <typename T>
int Network<T>::descend_team(const Matrix<T>& X, MatrixCRef<T> Y, const T* example_weights, int done, int steps,
                             double learning_rate, bool input_unchanged, const std::function<void(int)>& after_step,
                             bool& stalled_out) {
  ensure_workspace(X.cols(), true);
  Workspace& w = ws();
  X_ = &X;
  backward_done_ = true;
  small_pass_ = true;
  masked_ = false;
  small_kernels_ = detail::active_kernels();
  std::fill(w.laid_out.begin(), w.laid_out.end(), char(0));
  std::fill(w.mask_used.begin(), w.mask_used.end(), detail::no_mask);
  T* work = w.small.data() + w.small_base;
  const bool x_known = w.x_current && w.x_source == X.data();
  const bool x_same = x_known && input_unchanged;
  w.x_current = false;  // until every chunk has laid out its columns

  const auto& kernels = kernels_for<T>(*small_kernels_);
  const ChunkLayout<T> chunks(w.columns);
  const std::size_t C = chunks.count(), P = sums_stride<T>(params_.size()), count = params_.size();
  const std::size_t y_stride = static_cast<std::size_t>(Y.outerStride());
  const T inv_m = T(1) / static_cast<T>(m_), alpha = static_cast<T>(learning_rate);
  const bool l2 = l2_ > 0;
  // The threads for_each_chunk would use, at most one per chunk.
  constexpr int max_team = 16;
  int team = 1;
  if (threads_pay(C, 3 * pass_work(arch_.sizes, w.columns)))  // as forward_backward's pass
    team = static_cast<int>(std::min<std::size_t>({static_cast<std::size_t>(threads()), C, max_team}));
  if (team > 1) {
    const std::size_t size = static_cast<std::size_t>(team - 1) * 2 * P;
    if (w.team_buffers.size() < size) w.team_buffers.assign(size, T(0));
    for (int t = 1; t < team; ++t) std::copy(params_.begin(), params_.end(), w.team_buffers.begin() + (t - 1) * 2 * P);
  }

  struct alignas(64) Arrival {
    std::atomic<int> steps{0};
  };
  Arrival arrived[max_team];
  std::atomic<bool> abort{false}, stalled{false};
  alignas(64) std::atomic<bool> calling{false};  // thread 0 is in after_step
  int completed = done;  // written by thread 0
  std::exception_ptr failure;
  auto run = [&](Eigen::Index thread) {
    const std::size_t t = static_cast<std::size_t>(thread), size = static_cast<std::size_t>(team);
    const std::size_t c0 = t * C / size, c1 = (t + 1) * C / size;
    T* params = t == 0 ? params_.data() : w.team_buffers.data() + (t - 1) * 2 * P;
    T* grads = t == 0 ? grads_.data() : params + P;
    for (int k = done; k < steps; ++k) {
      T* sums = w.sums.data() + static_cast<std::size_t>(k & 1) * C * P;
      for (std::size_t c = c0; c < c1; ++c) {
        detail::SmallNetPass<T> pass = DEEPNET_SMALL_PASS(w, work, c);
        pass.params = params;
        const std::size_t j0 = chunks.begin(c), width = chunks.end(c) - j0;
        if (k == done) lay_out_input(w, work, X, c, j0, chunks.end(c), x_known, x_same);
        kernels.forward(pass, 0, width);
        kernels.backward(pass, Y.data() + j0 * y_stride, y_stride, example_weights ? example_weights + j0 : nullptr,
                         sums + c * P, nullptr, 0, width);
      }
      if (size > 1) {
        arrived[t].steps.store(k + 1 - done, std::memory_order_release);
        for (std::size_t u = 0; u < size; ++u)
          if (u != t && !wait_for(arrived[u].steps, k + 1 - done, abort, stalled, calling, k > done)) return;
      }
      std::fill(grads, grads + count, T(0));
      add_chunk_sums(sums, C, P, count, inv_m, grads);
      if (l2) add_l2(params, grads);
      bool finite = true;
      for (std::size_t q = 0; q < count; ++q) finite = finite && std::isfinite(grads[q]);
      if (!finite) return;  // every thread sees the same sums
      step(params, grads, count, alpha);
      if (t == 0) {
        completed = k + 1;
        if (after_step) {
          if (size > 1) calling.store(true, std::memory_order_relaxed);
          try {
            after_step(k + 1);
          } catch (...) {
            failure = std::current_exception();
            abort.store(true, std::memory_order_relaxed);
            calling.store(false, std::memory_order_relaxed);
            return;
          }
          if (size > 1) calling.store(false, std::memory_order_relaxed);
        }
      }
    }
  };
  if (team == 1 || !detail::thread_pool().run_together(team, run)) {
    team = 1;
    run(0);
  }
  // (Every chunk laid out its columns before the first meeting, which every
  // stop comes after.)
  w.x_current = true;
  w.x_source = X.data();
  if (failure) {
    // The other threads may have begun the next step over their chunks: the
    // caches mix two steps, so none is kept (the parameters and gradients
    // are those of the last update, as one by one).
    release_workspaces();
    std::rethrow_exception(failure);
  }
  stalled_out = stalled.load();
  return completed;
}

// Z[l] (which 0), A[l] (1) or dZ[l] (2) of the last small-net pass,
// column-major, into the general caches, once per pass.
template <typename T>
void Network<T>::lay_out_small(int l, int which) const {
  const Workspace& w = ws();
  char& done = w.laid_out[3 * static_cast<std::size_t>(l) + static_cast<std::size_t>(which)];
  if (done) return;
  // dZ's column-major copy is only ever read (dZ() is const): the general path's buffer holds it.
  Matrix<T>& out = which == 0 ? w.Z[l] : which == 1 ? w.A[l] : const_cast<Matrix<T>&>(w.dZ[l]);
  out.resize(units(l), m_);
  const T* work = w.small.data() + w.small_base;
  const std::size_t at = which == 0 ? w.Z_at[l] : which == 1 ? w.A_at[l] : w.dZ_at[l];
  const std::size_t n = static_cast<std::size_t>(units(l));
  T* column = out.data();
  for_each_example(w, static_cast<std::size_t>(m_), [&](std::size_t, std::size_t place) {
    for (std::size_t i = 0; i < n; ++i) *column++ = work[at + place + i * w.ld];
  });
  done = 1;
}

template <typename T>
bool Network<T>::dZ_finite(int l) const {
  check_layer(l);
  if (m_ == 0) return true;
  const Workspace& w = ws();
  if (!small_pass_) return w.dZ[l].size() == 0 || w.dZ[l].allFinite();
  if (w.ld == 0) return true;
  const T* work = w.small.data() + w.small_base;
  const std::size_t n = static_cast<std::size_t>(units(l));
  bool finite = true;
  for_each_example(w, static_cast<std::size_t>(m_), [&](std::size_t, std::size_t at) {
    for (std::size_t i = 0; i < n; ++i) finite = finite && std::isfinite(work[w.dZ_at[l] + at + i * w.ld]);
  });
  if (!finite) return false;
  return true;
}

#undef DEEPNET_SMALL_PASS

// The members defined here (network.cpp instantiates the rest).
#define DEEPNET_INSTANTIATE(T)                                                                 \
  template void Network<T>::set_small_net_path(bool);                                         \
  template bool Network<T>::small_net_path() const;                                           \
  template void Network<T>::allocate_small(Workspace&) const;                                 \
  template void Network<T>::forward_small(const Matrix<T>&, const MatrixCRef<T>*, const T*, bool);  \
  template double Network<T>::loss_sum_small(MatrixCRef<T>, const T*) const;                  \
  template void Network<T>::backward_small(MatrixCRef<T>, Matrix<T>*, const T*);              \
  template void Network<T>::add_small_gradients();                                            \
  template int Network<T>::descend_team(const Matrix<T>&, MatrixCRef<T>, const T*, int, int, double, bool,     \
                                        const std::function<void(int)>&, bool&);                        \
  template int Network<T>::descend_small(const Matrix<T>&, MatrixCRef<T>, const T*, int, double, bool,     \
                                         const std::function<void(int)>&);                       \
  template void Network<T>::lay_out_small(int, int) const;                                    \
  template bool Network<T>::dZ_finite(int) const;
DEEPNET_INSTANTIATE(float)
DEEPNET_INSTANTIATE(double)
#undef DEEPNET_INSTANTIATE

}  // namespace deepnet
