// The single-example predictor (deepnet/predictor.hpp): packing the weights
// once, choosing the kernel for the CPU, and running the layers.
#include "deepnet/predictor.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <string>

#include "core/predictor_kernels.hpp"
#include "core/thread_pool.hpp"
#include "deepnet/error.hpp"
#include "deepnet/gemm.hpp"
#include "deepnet/vmath.hpp"

namespace deepnet {

namespace {

using detail::Fused;
using detail::PredictorKernels;

// Layers with fewer weights run on the caller alone. Handing half of a layer
// to the worker costs a start and a finish on the critical path, each a cache
// line from one core to the other (about 0.25 us each way on the project's
// machine: 490 ns round trip); the 128 x 256 layer of the 784-256-128-10 net
// (1 us alone) was measured slower split (7.9 against 7.0 us for the net).
constexpr std::size_t split_min_weights = std::size_t(1) << 16;

bool cpu_runs(const PredictorKernels& kernels) {
  if (&kernels == &detail::predictor_kernels_portable) return true;
  if (!kernels.float32) return false;  // not compiled into this build
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (&kernels == &detail::predictor_kernels_avx512)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  if (&kernels == &detail::predictor_kernels_avx2)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return false;
}

constexpr const PredictorKernels* all_kernels[] = {&detail::predictor_kernels_avx512, &detail::predictor_kernels_avx2,
                                                   &detail::predictor_kernels_portable};

const PredictorKernels& best_kernels() {
  static const PredictorKernels* const best = [] {
    for (const PredictorKernels* k : all_kernels)
      if (cpu_runs(*k)) return k;
    return &detail::predictor_kernels_portable;
  }();
  return *best;
}

const PredictorKernels& kernels_named(std::string_view name) {
  if (name == "auto") return best_kernels();
  for (const PredictorKernels* k : all_kernels) {
    if (name != k->name) continue;
    if (!cpu_runs(*k))
      throw Error("predictor: the kernel '" + std::string(name) + "' does not run on this " +
                  (k->float32 ? "CPU" : "build") + "; '" + best_kernels().name + "' does");
    return *k;
  }
  throw Error("predictor: expected kernel auto, avx512, avx2 or portable; got '" + std::string(name) + "'");
}

std::size_t round_up(std::size_t n, std::size_t multiple) { return (n + multiple - 1) / multiple * multiple; }

// 64-byte aligned storage for the packed weights (one cache line per tile row).
struct AlignedFree {
  void operator()(void* p) const { ::operator delete(p, std::align_val_t{64}); }
};
using AlignedBytes = std::unique_ptr<void, AlignedFree>;
AlignedBytes aligned_bytes(std::size_t bytes) {
  AlignedBytes p(::operator new(std::max<std::size_t>(bytes, 64), std::align_val_t{64}));
  std::memset(p.get(), 0, std::max<std::size_t>(bytes, 64));
  return p;
}

}  // namespace

float round_to_bfloat16(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    bits |= 0x00400000u;  // NaN: quiet, and kept NaN when the low half is cut off
  } else {
    bits += 0x7fffu + ((bits >> 16) & 1u);  // to nearest, ties to even (overflows to infinity)
  }
  bits &= 0xffff0000u;
  float rounded;
  std::memcpy(&rounded, &bits, sizeof rounded);
  return rounded;
}

bool predictor_kernel_available(std::string_view kernel) {
  if (kernel == "auto") return true;
  for (const PredictorKernels* k : all_kernels)
    if (kernel == k->name) return cpu_runs(*k);
  return false;
}

const char* predictor_best_kernel() { return best_kernels().name; }

template <typename T>
struct Predictor<T>::Packed {
  struct Layer {
    int rows = 0, inputs = 0, panels = 0;
    std::size_t weights = 0;  // offset of the first tile, in elements of the stored type
    std::size_t bias = 0;     // offset in `biases` (panels * P values, zero past rows)
    std::size_t output = 0;   // offset of this layer's activations in the scratch
    Activation g = Activation::linear;
    Fused fused = Fused::none;
    int split_panel = 0;      // first panel of the worker's half; 0 = not split
  };
  Architecture arch;
  const PredictorKernels* kernels = nullptr;
  bool bfloat16 = false;
  int P = 1;
  T slope = T(0);
  std::vector<Layer> layers;
  AlignedBytes weights;
  std::vector<T> biases;
  std::size_t scratch = 0;

  // Start of the tile holding `panel` (a tile boundary) of `layer`.
  const void* weights_at(const Layer& layer, int panel) const {
    const std::size_t per_panel = static_cast<std::size_t>(P) *
                                  (bfloat16 ? round_up(static_cast<std::size_t>(layer.inputs), 2)
                                            : static_cast<std::size_t>(layer.inputs));
    const std::size_t offset = layer.weights + static_cast<std::size_t>(panel) * per_panel;
    if (bfloat16) return static_cast<const std::uint16_t*>(weights.get()) + offset;
    return static_cast<const T*>(weights.get()) + offset;
  }

  // Rows of panels [p0, p1) of `layer`: z = W a + b and the activation
  // (fused, or tanh / sigmoid of vmath.hpp over the block's rows).
  void run_panels(const Layer& layer, int p0, int p1, const T* in, T* z) const {
    if (p1 <= p0) return;
    const std::size_t first_row = static_cast<std::size_t>(p0) * P;
    const void* w = weights_at(layer, p0);
    const T* b = biases.data() + layer.bias + first_row;
    if constexpr (sizeof(T) == sizeof(float)) {
      if (bfloat16)
        kernels->bfloat16(static_cast<const std::uint16_t*>(w), b, in, z + first_row, layer.inputs, p1 - p0,
                          layer.fused, slope);
      else
        kernels->float32(static_cast<const float*>(w), b, in, z + first_row, layer.inputs, p1 - p0, layer.fused,
                         slope);
    } else {
      kernels->float64(static_cast<const double*>(w), b, in, z + first_row, layer.inputs, p1 - p0, layer.fused,
                       slope);
    }
    const bool last = &layer == &layers.back();
    if (!last && (layer.g == Activation::tanh || layer.g == Activation::sigmoid)) {
      const std::size_t end_row = std::min<std::size_t>(static_cast<std::size_t>(p1) * P, layer.rows);
      T* a = z + first_row;
      if (layer.g == Activation::tanh) vtanh(a, a, end_row - first_row);
      else vsigmoid(a, a, end_row - first_row);
    }
  }
};

template <typename T>
Predictor<T>::Predictor(const Network<T>& network, const PredictorOptions& options) {
  auto packed = std::make_shared<Packed>();
  Packed& p = *packed;
  p.arch = network.architecture();
  p.kernels = &kernels_named(options.kernel);
  p.bfloat16 = options.bfloat16_weights;
  if (p.bfloat16 && sizeof(T) != sizeof(float))
    throw Error("predictor: bfloat16_weights is for float networks; this one is double");
  p.P = sizeof(T) == sizeof(float) ? p.kernels->panel_float : p.kernels->panel_double;
  p.slope = static_cast<T>(p.arch.leaky_slope);
  const int L = network.layers();
  const std::size_t P = static_cast<std::size_t>(p.P);

  // Sizes and offsets first, then one allocation for all the weights.
  std::size_t weight_count = 0, bias_count = 0;
  for (int l = 1; l <= L; ++l) {
    typename Packed::Layer layer;
    layer.rows = network.units(l);
    layer.inputs = network.units(l - 1);
    layer.panels = static_cast<int>(round_up(static_cast<std::size_t>(layer.rows), P) / P);
    layer.weights = weight_count;
    layer.bias = bias_count;
    layer.output = p.scratch;
    layer.g = p.arch.activation(l);
    if (l < L && layer.g == Activation::relu) layer.fused = Fused::relu;
    if (l < L && layer.g == Activation::leaky_relu) layer.fused = Fused::leaky_relu;
    const std::size_t padded_rows = static_cast<std::size_t>(layer.panels) * P;
    const std::size_t stored_inputs =
        p.bfloat16 ? round_up(static_cast<std::size_t>(layer.inputs), 2) : static_cast<std::size_t>(layer.inputs);
    weight_count += padded_rows * stored_inputs;
    bias_count += padded_rows;
    p.scratch += padded_rows;
    // Two halves at a tile boundary, the caller's the larger.
    const int per_tile = detail::tile_panels(p.bfloat16);
    const int tiles = (layer.panels + per_tile - 1) / per_tile;
    if (tiles >= 2 && static_cast<std::size_t>(layer.rows) * static_cast<std::size_t>(layer.inputs) >= split_min_weights)
      layer.split_panel = std::min(layer.panels, (tiles + 1) / 2 * per_tile);
    p.layers.push_back(layer);
  }
  p.weights = aligned_bytes(weight_count * (p.bfloat16 ? sizeof(std::uint16_t) : sizeof(T)));
  p.biases.assign(bias_count, T(0));

  for (int l = 1; l <= L; ++l) {
    const typename Packed::Layer& layer = p.layers[static_cast<std::size_t>(l - 1)];
    const auto W = network.W(l);  // column-major (n[l], n[l-1])
    const auto b = network.b(l);
    for (int r = 0; r < layer.rows; ++r) p.biases[layer.bias + static_cast<std::size_t>(r)] = b(r, 0);
    auto weight = [&](int row, int k) -> T { return row < layer.rows && k < layer.inputs ? W(row, k) : T(0); };
    const int per_tile = detail::tile_panels(p.bfloat16);
    for (int panel0 = 0; panel0 < layer.panels; panel0 += per_tile) {
      const int g = std::min(per_tile, layer.panels - panel0);
      if (!p.bfloat16) {
        T* out = static_cast<T*>(p.weights.get()) + layer.weights +
                 static_cast<std::size_t>(panel0) * P * static_cast<std::size_t>(layer.inputs);
        for (int k = 0; k < layer.inputs; ++k)
          for (int r = 0; r < g * p.P; ++r) *out++ = weight(panel0 * p.P + r, k);
      } else {
        const std::size_t pairs = round_up(static_cast<std::size_t>(layer.inputs), 2) / 2;
        std::uint16_t* out = static_cast<std::uint16_t*>(p.weights.get()) + layer.weights +
                             static_cast<std::size_t>(panel0) * P * 2 * pairs;
        for (std::size_t pair = 0; pair < pairs; ++pair)
          for (int q = 0; q < g; ++q)
            for (int e = 0; e < 2 * p.P; ++e) {
              // Group e / 8 of 8: rows 4j..4j+3 of input 2 pair, then of input 2 pair + 1.
              const int row = (panel0 + q) * p.P + 4 * (e / 8) + e % 4;
              const int k = static_cast<int>(2 * pair) + (e % 8 >= 4 ? 1 : 0);
              const float rounded = round_to_bfloat16(static_cast<float>(weight(row, k)));
              std::uint32_t bits;
              std::memcpy(&bits, &rounded, sizeof bits);
              *out++ = static_cast<std::uint16_t>(bits >> 16);
            }
      }
    }
  }
  packed_ = std::move(packed);
  scratch_.assign(packed_->scratch, T(0));
}

template <typename T>
Predictor<T>::Predictor(const Predictor& other) : packed_(other.packed_), scratch_(other.scratch_.size(), T(0)) {}

template <typename T>
Predictor<T>& Predictor<T>::operator=(const Predictor& other) {
  if (this != &other) {
    packed_ = other.packed_;
    scratch_.assign(other.scratch_.size(), T(0));
  }
  return *this;
}

template <typename T>
Predictor<T>::~Predictor() = default;

template <typename T>
const Architecture& Predictor<T>::architecture() const { return packed_->arch; }
template <typename T>
int Predictor<T>::inputs() const { return packed_->arch.sizes.front(); }
template <typename T>
int Predictor<T>::outputs() const { return packed_->arch.sizes.back(); }
template <typename T>
const char* Predictor<T>::kernel() const { return packed_->kernels->name; }
template <typename T>
bool Predictor<T>::bfloat16_weights() const { return packed_->bfloat16; }

template <typename T>
void Predictor<T>::predict_one(const T* x, T* out) {
  const Packed& p = *packed_;
  T* scratch = scratch_.data();
  const bool two_threads = threads() >= 2;
  const T* in = x;
  for (const typename Packed::Layer& layer : p.layers) {
    T* z = scratch + layer.output;
    if (two_threads && layer.split_panel > 0) {
      // Block 0 (rows before split_panel) is the caller's: it claims first.
      auto half = [&](Eigen::Index block) {
        if (block == 0) p.run_panels(layer, 0, layer.split_panel, in, z);
        else p.run_panels(layer, layer.split_panel, layer.panels, in, z);
      };
      detail::thread_pool().run(threads(), 2, half);
    } else {
      p.run_panels(layer, 0, layer.panels, in, z);
    }
    in = z;
  }
  // The output activation, as activation_forward computes it.
  const typename Packed::Layer& last = p.layers.back();
  const std::size_t n = static_cast<std::size_t>(last.rows);
  const T* z = scratch + last.output;
  switch (p.arch.output) {
    case Output::sigmoid:
      vsigmoid(z, out, n);
      break;
    case Output::softmax: {
      // A = exp(Z - max Z) / sum exp(Z - max Z), summed in order of the rows.
      T shift = z[0];
      for (std::size_t i = 1; i < n; ++i) shift = z[i] > shift ? z[i] : shift;
      for (std::size_t i = 0; i < n; ++i) out[i] = z[i] - shift;
      vexp(out, out, n);
      T total = T(0);
      for (std::size_t i = 0; i < n; ++i) total += out[i];
      for (std::size_t i = 0; i < n; ++i) out[i] /= total;
      break;
    }
    case Output::linear:
      std::copy(z, z + n, out);
      break;
  }
}

template class Predictor<float>;
template class Predictor<double>;

}  // namespace deepnet
