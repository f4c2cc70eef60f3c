#pragma once
// deepnet's own double-precision product kernels, one translation unit per
// instruction set (dgemm_avx512.cpp, dgemm_avx2.cpp), compiled with that
// set's flags; gemm.cpp picks one at run time for the CPU (gemm.hpp).
//
// Each kernel computes one single-threaded product on column-major storage:
//   C = alpha op(A) op(B) + beta C,  op(A): (m, k), op(B): (k, n),  m, n, k > 0
// (beta = 0: C is not read). The arithmetic, the same for every element:
//   acc = sum over p of op(A)(i, p) op(B)(p, j), one FMA after the other in
//         the order p = 0, 1, ..., k - 1, restarted at 0 every `kc_block`
//         values of p (the inner dimension cut into blocks of kc_block);
//   block 0:   c = fma(beta, c, alpha acc)   (c = alpha acc when beta = 0)
//   block q>0: c = fma(1, c, alpha acc)      (c + alpha acc, one rounding)
// So an element's bits depend on k, its row of op(A), its column of op(B),
// alpha, beta and its old value only: never on m, n, on where the element
// lies in C, on the column blocks gemm() cuts, or on the thread count.
//
// This header is included by the instruction-set translation units, so it
// declares plain functions only: nothing inline that a wider-ISA object could
// define for the whole program (tests/isa_objects_check.cmake checks that
// those objects export nothing but their kernel).
#include <cstddef>

namespace deepnet::detail {

// The arguments of one product, as gemm() takes them (a plain aggregate: no
// member function for an instruction-set object to emit).
struct DgemmCall {
  bool trans_a, trans_b;
  std::ptrdiff_t m, n, k;
  double alpha;
  const double* A;
  std::ptrdiff_t lda;
  const double* B;
  std::ptrdiff_t ldb;
  double beta;
  double* C;
  std::ptrdiff_t ldc;
};

// The blocking every kernel uses: the inner dimension is cut into blocks of
// kc_block (the arithmetic above depends on it), the rows of op(A) into blocks
// of mc_block, packed once per block into the workspace with a kc_block x
// max_nr panel of op(B) after it.
constexpr std::ptrdiff_t kc_block = 256;
constexpr std::ptrdiff_t mc_block = 144;  // a multiple of every kernel's tile height
constexpr std::ptrdiff_t max_nr = 8;
// Doubles of workspace a kernel needs (64-byte aligned, one per thread).
constexpr std::ptrdiff_t dgemm_workspace_doubles = mc_block * kc_block + kc_block * max_nr;

// AVX-512F + FMA: tiles of 24 x 8 (three 8-double registers per column).
void dgemm_avx512(const DgemmCall& call, double* workspace);
// AVX2 + FMA: tiles of 8 x 6 (two 4-double registers per column).
void dgemm_avx2(const DgemmCall& call, double* workspace);

}  // namespace deepnet::detail
