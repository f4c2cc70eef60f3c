#pragma once
// bfloat16 products for gemm<float> (core room, private): oneDNN's matmul on
// bfloat16 copies of op(A) and op(B), accumulated in float32
// (deepnet/gemm.hpp set_float_products).
#include <Eigen/Core>

namespace deepnet::detail {

// Whether this CPU has bfloat16 dot products (AVX512_BF16 or AMX-BF16) and
// deepnet was built with oneDNN. Otherwise the reason in `why` (for messages).
bool bf16_products_supported(const char** why = nullptr);

// One product C = alpha op(A) op(B) + beta C (column-major, BLAS arguments) on
// the calling thread, with op(A) and op(B) rounded to bfloat16 (round to
// nearest even) and the sums in float32. false when oneDNN refused the shape
// (the caller then computes it in float32).
bool gemm_bf16_block(bool trans_a, bool trans_b, Eigen::Index m, Eigen::Index n, Eigen::Index k, float alpha,
                     const float* A, Eigen::Index lda, const float* B, Eigen::Index ldb, float beta, float* C,
                     Eigen::Index ldc);

}  // namespace deepnet::detail
