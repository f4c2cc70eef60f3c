// bfloat16 products through oneDNN's matmul primitive (see gemm_bf16.hpp).
#include "core/gemm_bf16.hpp"

#include <cstdint>
#include <cstring>
#include <map>
#include <tuple>
#include <vector>

#ifdef DEEPNET_WITH_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace deepnet::detail {

bool bf16_products_supported(const char** why) {
#ifdef DEEPNET_WITH_DNNL
  static const bool cpu = __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16");
  if (!cpu && why) *why = "this CPU has neither AVX512_BF16 nor AMX-BF16 (bfloat16 dot products)";
  return cpu;
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
// the first steps).
struct Bf16Product {
  dnnl::matmul primitive;
  dnnl::memory src, weights, dst;  // their data pointers are set at each call
};
struct Bf16Workspace {
  dnnl::stream stream;
  std::map<std::tuple<bool, bool, Eigen::Index, Eigen::Index, Eigen::Index>, Bf16Product> primitives;
  std::vector<std::uint16_t> src, weights;
  std::vector<float> dst;
};

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

Bf16Workspace& workspace() {
  thread_local Bf16Workspace w{dnnl::stream(cpu_engine()), {}, {}, {}, {}};
  return w;
}

}  // namespace

bool gemm_bf16_block(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, float alpha,
                     const float* A, Eigen::Index lda, const float* B, Eigen::Index ldb, float beta, float* C,
                     Eigen::Index ldc) {
  // oneDNN is row-major: C^T (n x m) = op(B)^T (n x k) op(A)^T (k x m).
  Bf16Workspace& w = workspace();
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  // A and B are converted as they are stored (contiguous columns); the
  // transposes are strides in oneDNN's memory descriptors:
  // src (n x k) = op(B)^T: B stored (k x n) -> strides {k, 1}; B^T stored (n x k) -> {1, n}.
  // weights (k x m) = op(A)^T: A stored (m x k) -> strides {m, 1}; A^T stored (k x m) -> {1, k}.
  const dnnl::memory::dims src_strides = trans_b ? dnnl::memory::dims{1, n} : dnnl::memory::dims{k, 1};
  const dnnl::memory::dims wei_strides = trans_a ? dnnl::memory::dims{1, k} : dnnl::memory::dims{m, 1};
  const auto key = std::make_tuple(trans_a, trans_b, m, n, k);
  auto found = w.primitives.find(key);
  if (found == w.primitives.end()) {
    try {
      const dnnl::memory::desc src({n, k}, dt::bf16, src_strides), wei({k, m}, dt::bf16, wei_strides),
          dst({n, m}, dt::f32, tag::ab);
      const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wei, dst), cpu_engine());
      found = w.primitives
                  .emplace(key, Bf16Product{dnnl::matmul(pd), dnnl::memory(src, cpu_engine(), DNNL_MEMORY_NONE),
                                            dnnl::memory(wei, cpu_engine(), DNNL_MEMORY_NONE),
                                            dnnl::memory(dst, cpu_engine(), DNNL_MEMORY_NONE)})
                  .first;
    } catch (const dnnl::error&) {
      return false;
    }
  }
  const auto sizes = [](Eigen::Index a, Eigen::Index b) { return static_cast<std::size_t>(a) * static_cast<std::size_t>(b); };
  if (w.src.size() < sizes(n, k)) w.src.resize(sizes(n, k));
  if (w.weights.size() < sizes(k, m)) w.weights.resize(sizes(k, m));
  if (w.dst.size() < sizes(n, m)) w.dst.resize(sizes(n, m));
  std::uint16_t* src = w.src.data();
  std::uint16_t* wei = w.weights.data();
  if (trans_b) pack_bf16(B, n, k, ldb, src);
  else pack_bf16(B, k, n, ldb, src);
  if (trans_a) pack_bf16(A, k, m, lda, wei);
  else pack_bf16(A, m, k, lda, wei);
  // The C interface: execute() of the C++ one builds a std::unordered_map (an allocation per call).
  Bf16Product& product = found->second;
  product.src.set_data_handle(src);
  product.weights.set_data_handle(wei);
  product.dst.set_data_handle(w.dst.data());
  const dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, product.src.get()},
                                   {DNNL_ARG_WEIGHTS, product.weights.get()},
                                   {DNNL_ARG_DST, product.dst.get()}};
  if (dnnl_primitive_execute(product.primitive.get(), w.stream.get(), 3, args) != dnnl_success) return false;
  dnnl_stream_wait(w.stream.get());
  const float* d = w.dst.data();
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
