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
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
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
  std::map<std::tuple<Eigen::Index, Eigen::Index, Eigen::Index>, Bf16Product> primitives;
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
  const auto key = std::make_tuple(m, n, k);
  auto found = w.primitives.find(key);
  if (found == w.primitives.end()) {
    try {
      const dnnl::memory::desc src({n, k}, dt::bf16, tag::ab), wei({k, m}, dt::bf16, tag::ab),
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
  // src[j][p] = op(B)(p, j); weights[p][i] = op(A)(i, p).
  std::uint16_t* src = w.src.data();
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index p = 0; p < k; ++p) src[j * k + p] = to_bf16(trans_b ? B[j + p * ldb] : B[p + j * ldb]);
  std::uint16_t* wei = w.weights.data();
  for (Eigen::Index p = 0; p < k; ++p)
    for (Eigen::Index i = 0; i < m; ++i) wei[p * m + i] = to_bf16(trans_a ? A[p + i * lda] : A[i + p * lda]);
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
