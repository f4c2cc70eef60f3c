// bfloat16 products through oneDNN's matmul primitive (see gemm_bf16.hpp).
#include "core/gemm_bf16.hpp"

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/onednn.hpp"

namespace deepnet::detail {

bool bf16_products_supported(const char** why) {
#ifdef DEEPNET_WITH_DNNL
  static const bool cpu = __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16");
  if (!cpu && why) *why = "this CPU has neither AVX512_BF16 nor AMX-BF16 (bfloat16 dot products)";
  if (!cpu) return false;
  static const std::string failure = onednn().loaded() ? "" : "oneDNN could not be loaded: " + onednn().failure;
  if (!failure.empty() && why) *why = failure.c_str();
  return failure.empty();
#else
  if (why) *why = "deepnet was built without oneDNN (DEEPNET_WITH_DNNL=OFF)";
  return false;
#endif
}

#ifdef DEEPNET_WITH_DNNL
namespace {

// float32 -> bfloat16, round to nearest even; NaN stays a (quiet) NaN.
inline std::uint16_t to_bf16(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
  const std::uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;  // branch-free: vectorises
  return static_cast<std::uint16_t>(nan ? (bits >> 16) | 0x0040u : rounded);
}

// A stored (rows x cols, column-major, leading dimension ld) float matrix as
// packed bfloat16 columns (leading dimension rows).
void pack_bf16(const float* M, Eigen::Index rows, Eigen::Index cols, Eigen::Index ld, std::uint16_t* out) {
  for (Eigen::Index c = 0; c < cols; ++c) {
    const float* column = M + c * ld;
    std::uint16_t* to = out + c * rows;
    for (Eigen::Index r = 0; r < rows; ++r) to[r] = to_bf16(column[r]);
  }
}

// Per thread: the matmul primitives by shape, and the bfloat16 and float32 buffers
// (grown once; the training loop's shapes repeat, so nothing is allocated after
// the first steps). oneDNN's C interface, through onednn().
struct Bf16Product {
  dnnl_primitive_t primitive = nullptr;
  dnnl_memory_t src = nullptr, weights = nullptr, dst = nullptr;  // their data pointers are set at each call
};
struct Bf16Workspace {
  dnnl_stream_t stream = nullptr;
  std::map<std::tuple<bool, bool, Eigen::Index, Eigen::Index, Eigen::Index>, Bf16Product> primitives;
  std::vector<std::uint16_t> src, weights;
  std::vector<float> dst;
  Bf16Workspace(const Bf16Workspace&) = delete;
  Bf16Workspace& operator=(const Bf16Workspace&) = delete;
  Bf16Workspace() = default;
  ~Bf16Workspace() {
    const OneDnn& dnnl = onednn();
    for (auto& [key, p] : primitives) {
      dnnl.dnnl_primitive_destroy(p.primitive);
      for (dnnl_memory_t memory : {p.src, p.weights, p.dst}) dnnl.dnnl_memory_destroy(memory);
    }
    if (stream) dnnl.dnnl_stream_destroy(stream);
  }
};

// The CPU engine, made once (kept until the process ends), or null.
dnnl_engine_t cpu_engine() {
  static const dnnl_engine_t engine = [] {
    dnnl_engine_t made = nullptr;
    if (onednn().dnnl_engine_create(&made, dnnl_cpu, 0) != dnnl_success) return dnnl_engine_t{nullptr};
    return made;
  }();
  return engine;
}

// This thread's workspace; null when oneDNN gives no engine or stream.
Bf16Workspace* workspace() {
  thread_local Bf16Workspace w;
  if (w.stream == nullptr) {
    const dnnl_engine_t engine = cpu_engine();
    if (engine == nullptr || onednn().dnnl_stream_create(&w.stream, engine, dnnl_stream_default_flags) != dnnl_success) {
      w.stream = nullptr;
      return nullptr;
    }
  }
  return &w;
}

// The matmul of src (n x k, bf16) and weights (k x m, bf16) into dst (n x m, f32,
// row-major) with the given strides, and its three memory objects; false when
// oneDNN refuses (whatever was made is destroyed).
bool make_product(dnnl_engine_t engine, const dnnl_dims_t src_dims, const dnnl_dims_t src_strides,
                  const dnnl_dims_t wei_dims, const dnnl_dims_t wei_strides, const dnnl_dims_t dst_dims,
                  Bf16Product& out) {
  const OneDnn& dnnl = onednn();
  dnnl_memory_desc_t src, wei, dst;
  dnnl_matmul_desc_t desc;
  if (dnnl.dnnl_memory_desc_init_by_strides(&src, 2, src_dims, dnnl_bf16, src_strides) != dnnl_success ||
      dnnl.dnnl_memory_desc_init_by_strides(&wei, 2, wei_dims, dnnl_bf16, wei_strides) != dnnl_success ||
      dnnl.dnnl_memory_desc_init_by_tag(&dst, 2, dst_dims, dnnl_f32, dnnl_ab) != dnnl_success ||
      dnnl.dnnl_matmul_desc_init(&desc, &src, &wei, nullptr, &dst) != dnnl_success)
    return false;
  dnnl_primitive_desc_t pd = nullptr;
  if (dnnl.dnnl_primitive_desc_create(&pd, &desc, nullptr, engine, nullptr) != dnnl_success) return false;
  Bf16Product p;
  const bool made = dnnl.dnnl_primitive_create(&p.primitive, pd) == dnnl_success &&
                    dnnl.dnnl_memory_create(&p.src, &src, engine, DNNL_MEMORY_NONE) == dnnl_success &&
                    dnnl.dnnl_memory_create(&p.weights, &wei, engine, DNNL_MEMORY_NONE) == dnnl_success &&
                    dnnl.dnnl_memory_create(&p.dst, &dst, engine, DNNL_MEMORY_NONE) == dnnl_success;
  dnnl.dnnl_primitive_desc_destroy(pd);
  if (!made) {
    if (p.primitive) dnnl.dnnl_primitive_destroy(p.primitive);
    for (dnnl_memory_t memory : {p.src, p.weights, p.dst})
      if (memory) dnnl.dnnl_memory_destroy(memory);
    return false;
  }
  out = p;
  return true;
}

}  // namespace

bool gemm_bf16_block(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, float alpha,
                     const float* A, Eigen::Index lda, const float* B, Eigen::Index ldb, float beta, float* C,
                     Eigen::Index ldc) {
  // oneDNN is row-major: C^T (n x m) = op(B)^T (n x k) op(A)^T (k x m).
  if (!onednn().loaded()) return false;
  Bf16Workspace* const w = workspace();
  if (w == nullptr) return false;
  const OneDnn& dnnl = onednn();
  // A and B are converted as they are stored (contiguous columns); the
  // transposes are strides in oneDNN's memory descriptors:
  // src (n x k) = op(B)^T: B stored (k x n) -> strides {k, 1}; B^T stored (n x k) -> {1, n}.
  // weights (k x m) = op(A)^T: A stored (m x k) -> strides {m, 1}; A^T stored (k x m) -> {1, k}.
  const auto key = std::make_tuple(trans_a, trans_b, m, n, k);
  auto found = w->primitives.find(key);
  if (found == w->primitives.end()) {
    const dnnl_dims_t src_dims = {n, k}, wei_dims = {k, m}, dst_dims = {n, m};
    const dnnl_dims_t src_strides = {trans_b ? 1 : k, trans_b ? n : 1};
    const dnnl_dims_t wei_strides = {trans_a ? 1 : m, trans_a ? k : 1};
    Bf16Product product;
    if (!make_product(cpu_engine(), src_dims, src_strides, wei_dims, wei_strides, dst_dims, product)) return false;
    found = w->primitives.emplace(key, product).first;
  }
  const auto sizes = [](Eigen::Index a, Eigen::Index b) { return static_cast<std::size_t>(a) * static_cast<std::size_t>(b); };
  if (w->src.size() < sizes(n, k)) w->src.resize(sizes(n, k));
  if (w->weights.size() < sizes(k, m)) w->weights.resize(sizes(k, m));
  if (w->dst.size() < sizes(n, m)) w->dst.resize(sizes(n, m));
  std::uint16_t* src = w->src.data();
  std::uint16_t* wei = w->weights.data();
  if (trans_b) pack_bf16(B, n, k, ldb, src);
  else pack_bf16(B, k, n, ldb, src);
  if (trans_a) pack_bf16(A, k, m, lda, wei);
  else pack_bf16(A, m, k, lda, wei);
  const Bf16Product& product = found->second;
  dnnl.dnnl_memory_set_data_handle(product.src, src);
  dnnl.dnnl_memory_set_data_handle(product.weights, wei);
  dnnl.dnnl_memory_set_data_handle(product.dst, w->dst.data());
  const dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, product.src},
                                   {DNNL_ARG_WEIGHTS, product.weights},
                                   {DNNL_ARG_DST, product.dst}};
  if (dnnl.dnnl_primitive_execute(product.primitive, w->stream, 3, args) != dnnl_success) return false;
  dnnl.dnnl_stream_wait(w->stream);
  const float* d = w->dst.data();
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < m; ++i) {
      const float product = alpha * d[j * m + i];
      C[i + j * ldc] = beta == 0.0f ? product : product + beta * C[i + j * ldc];
    }
  return true;
}
#else
bool gemm_bf16_block(bool, bool, Eigen::Index, Eigen::Index, Eigen::Index, float, const float*, Eigen::Index,
                     const float*, Eigen::Index, float, float*, Eigen::Index) {
  return false;
}
#endif

}  // namespace deepnet::detail
