#pragma once
// The blocked double product of dgemm.hpp, written once over a vector type V
// and included only by the instruction-set files (dgemm_avx512.cpp,
// dgemm_avx2.cpp), which define V with their intrinsics. Everything here is in
// an anonymous namespace: each file compiles its own copy with its own flags,
// and no function of it is visible to the linker (no inline function or
// template that the linker could merge with a copy compiled for another
// instruction set). It includes no standard header with functions for the
// same reason.
//
// V provides: type (a vector of V::width doubles), zero(), load(p), store(p, v),
// broadcast(x), fma(a, b, c) = a b + c rounded once, mul(a, b); mask,
// first(count) (the first `count` lanes: none for count <= 0, all from width
// on), load_masked(p, mask) (other lanes 0, and not read), load_first(p, count)
// and store_first(p, v, count) (the other lanes neither read nor written);
// masked_loads_are_cheap.
//
// The loops (BLIS's order): for each block of kc_block inner indices, for each
// block of mc_block rows of op(A): pack the block of op(A) into tiles of MR
// rows; for each group of NR columns of op(B): run the micro-kernel over the
// tiles of rows. When one tile of rows covers the block (the products of a
// narrow layer, m = 20 in deep-fullbatch) every value of op(A) and op(B) is
// used once per group: both are read where they lie (A's columns with masked
// loads, where those are cheap), not copied first. When several tiles share
// a group of columns, op(A) is packed and the group copied into a contiguous
// panel.
#include <cstddef>

#include "core/dgemm.hpp"

namespace deepnet::detail {
namespace {

using Index = std::ptrdiff_t;

constexpr Index smaller(Index a, Index b) { return a < b ? a : b; }

// Rows [i0, i0 + mc) and inner indices [p0, p0 + kc) of op(A), packed in tiles
// of MR rows: tile t (rows i0 + t MR ...) is out[t MR kc ...], holding
// op(A)(i0 + t MR + r, p0 + p) at [p MR + r]; rows past mc are 0.
// A: (m, k), or (k, m) when transposed.
template <class V, Index MR>
void pack_a(const DgemmCall& c, Index i0, Index mc, Index p0, Index kc, double* out) {
  constexpr Index W = V::width;
  for (Index t0 = 0; t0 < mc; t0 += MR) {
    const Index rows = smaller(MR, mc - t0);
    double* tile = out + t0 * kc;
    if (!c.trans_a) {  // op(A)(i, p) = A[i + p lda]: the tile's rows are neighbours
      const double* a = c.A + (i0 + t0) + p0 * c.lda;
      for (Index p = 0; p < kc; ++p, a += c.lda)
#pragma GCC unroll 4
        for (Index r = 0; r < MR; r += W)
          V::store(tile + p * MR + r, rows > r ? V::load_first(a + r, rows - r) : V::zero());
    } else {  // op(A)(i, p) = A[p + i lda]: one row of op(A) per column of A
      for (Index r = 0; r < rows; ++r) {
        const double* a = c.A + p0 + (i0 + t0 + r) * c.lda;
        for (Index p = 0; p < kc; ++p) tile[p * MR + r] = a[p];
      }
      for (Index r = rows; r < MR; ++r)
        for (Index p = 0; p < kc; ++p) tile[p * MR + r] = 0;
    }
  }
}

// How many groups of columns ahead B transposed is fetched (measured on the
// backward pass's dW = dZ A_prev^T with A_prev 12288 x 209: 1 group 5.7 ms,
// 2 groups 3.8 ms, 4 groups 3.8 ms, none 6.9 ms).
constexpr Index fetch_ahead_groups = 2;

// Columns [j0, j0 + cols) and inner indices [p0, p0 + kc) of op(B), packed as
// out[p NR + j] = op(B)(p0 + p, j0 + j), j < cols. B: (k, n), or (n, k) when
// transposed.
template <Index NR>
void pack_b(const DgemmCall& c, Index j0, Index cols, Index p0, Index kc, double* out) {
  if (c.trans_b) {  // op(B)(p, j) = B[j + p ldb]: cols neighbours per p
    const double* b = c.B + j0 + p0 * c.ldb;
    for (Index p = 0; p < kc; ++p, b += c.ldb) {
      __builtin_prefetch(b + fetch_ahead_groups * NR);  // a later group's row (never faults)
      for (Index j = 0; j < cols; ++j) out[p * NR + j] = b[j];
    }
  } else {  // op(B)(p, j) = B[p + j ldb]: one column of B per column
    for (Index j = 0; j < cols; ++j) {
      const double* b = c.B + p0 + (j0 + j) * c.ldb;
      for (Index p = 0; p < kc; ++p) out[p * NR + j] = b[p];
    }
  }
}

// Where op(B)(p, j) of a group of columns lies: at b[p stride + j] (a packed
// panel), the same with the rows of a later group fetched ahead (B transposed,
// read where it lies: one row per p, `stride` apart, a page each when B is
// wide, and no hardware prefetcher follows them), or at b[p + j stride] (B's
// own columns, read where they lie).
enum class Layout { rows, rows_fetch_ahead, columns };
template <Layout L>
struct LayoutConstant {
  static constexpr Layout value = L;
};

// One tile: C(0:rows, 0:NC) = alpha a b + beta C, where a is rows x kc (MV
// vectors of V::width rows, column p at a + p a_stride: a packed tile, or
// op(A) in place, its rows past `rows` not read) and b is kc x NC in `layout`.
// Every element is one FMA chain over p = 0 .. kc-1 (dgemm.hpp).
template <class V, int MV, int NC, bool a_in_place, Layout layout>
void micro_kernel(Index kc, const double* a, Index a_stride, const double* b, Index stride,
                  const double* b_ahead, double* c, Index ldc, Index rows, const double& alpha,
                  const double& beta) {
  constexpr Index W = V::width;
  typename V::mask a_rows[MV];  // op(A) read in place: the rows of each vector that exist
  if constexpr (a_in_place)
#pragma GCC unroll 4
    for (int r = 0; r < MV; ++r) a_rows[r] = V::first(rows - r * W);
  typename V::type acc[NC][MV];
#pragma GCC unroll 16
  for (int j = 0; j < NC; ++j)
#pragma GCC unroll 4
    for (int r = 0; r < MV; ++r) acc[j][r] = V::zero();
  for (Index p = 0; p < kc; ++p) {
    if constexpr (layout == Layout::rows_fetch_ahead) __builtin_prefetch(b_ahead + p * stride);
    typename V::type column[MV];
#pragma GCC unroll 4
    for (int r = 0; r < MV; ++r)
      column[r] = a_in_place ? V::load_masked(a + p * a_stride + r * W, a_rows[r])
                             : V::load(a + p * a_stride + r * W);
#pragma GCC unroll 16
    for (int j = 0; j < NC; ++j) {
      const typename V::type bj =
          V::broadcast(layout == Layout::columns ? b[p + j * stride] : b[p * stride + j]);
#pragma GCC unroll 4
      for (int r = 0; r < MV; ++r) acc[j][r] = V::fma(column[r], bj, acc[j][r]);
    }
  }
  const typename V::type va = V::broadcast(alpha), vb = V::broadcast(beta);
#pragma GCC unroll 16
  for (int j = 0; j < NC; ++j)
#pragma GCC unroll 4
    for (int r = 0; r < MV; ++r) {
      const Index left = rows - r * W;
      if (left <= 0) break;
      double* cj = c + j * ldc + r * W;
      typename V::type t = V::mul(va, acc[j][r]);
      if (beta != 0) t = V::fma(vb, V::load_first(cj, left), t);
      V::store_first(cj, t, left);
    }
}

// The micro-kernel for the `cols` (1..NC) columns left: a narrow group of
// columns costs what its columns cost, and reads no column past the last.
template <class V, int MV, int NC, bool a_in_place, Layout layout>
void tile(Index cols, Index kc, const double* a, Index a_stride, const double* b, Index stride,
          const double* b_ahead, double* c, Index ldc, Index rows, const double& alpha,
          const double& beta) {
  if constexpr (NC > 1) {
    if (cols < NC) {
      tile<V, MV, NC - 1, a_in_place, layout>(cols, kc, a, a_stride, b, stride, b_ahead, c, ldc,
                                              rows, alpha, beta);
      return;
    }
  }
  micro_kernel<V, MV, NC, a_in_place, layout>(kc, a, a_stride, b, stride, b_ahead, c, ldc, rows,
                                              alpha, beta);
}


// C = alpha op(A) op(B) + beta C with tiles of MV vectors x NR columns.
template <class V, int MV, int NR>
void blocked_product(const DgemmCall& c, double* workspace) {
  constexpr Index MR = MV * V::width;
  static_assert(mc_block % MR == 0, "a block of rows is whole tiles");
  static_assert(NR <= max_nr, "the panel of op(B) fits the workspace");
  double* const a_packed = workspace;
  double* const b_packed = workspace + mc_block * kc_block;
  for (Index p0 = 0; p0 < c.k; p0 += kc_block) {
    const Index kc = smaller(kc_block, c.k - p0);
    const double beta = p0 == 0 ? c.beta : 1.0;  // later blocks add to what the first wrote
    for (Index i0 = 0; i0 < c.m; i0 += mc_block) {
      const Index mc = smaller(mc_block, c.m - i0);
      const bool reuse_b = mc > MR;  // several tiles of rows read each group of columns
      const bool a_in_place = V::masked_loads_are_cheap && !reuse_b && !c.trans_a;
      if (!a_in_place) pack_a<V, MR>(c, i0, mc, p0, kc, a_packed);
      for (Index j0 = 0; j0 < c.n; j0 += NR) {
        const Index cols = smaller(NR, c.n - j0);
        double* const c_block = c.C + i0 + j0 * c.ldc;
        auto run = [&](auto layout_constant, const double* b, Index stride, const double* b_ahead) {
          constexpr Layout layout = decltype(layout_constant)::value;
          // (a packed group of columns always comes with a packed op(A))
          constexpr bool may_read_a_in_place = V::masked_loads_are_cheap && layout != Layout::rows;
          for (Index t0 = 0; t0 < mc; t0 += MR) {
            const Index rows = smaller(MR, mc - t0);
            if (beta != 0)  // the tile of C is read at its end: fetch it while the sums run
              for (Index j = 0; j < cols; ++j)
                for (Index r = 0; r < rows; r += 8) __builtin_prefetch(c_block + t0 + j * c.ldc + r);
            if (may_read_a_in_place && a_in_place)  // one tile: t0 = 0
              tile<V, MV, NR, may_read_a_in_place, layout>(cols, kc, c.A + i0 + p0 * c.lda, c.lda, b,
                                                           stride, b_ahead, c_block, c.ldc, rows,
                                                           c.alpha, beta);
            else
              tile<V, MV, NR, false, layout>(cols, kc, a_packed + t0 * kc, MR, b, stride, b_ahead,
                                             c_block + t0, c.ldc, rows, c.alpha, beta);
          }
        };
        if (reuse_b) {
          pack_b<NR>(c, j0, cols, p0, kc, b_packed);
          run(LayoutConstant<Layout::rows>{}, b_packed, NR, nullptr);
        } else if (c.trans_b) {
          const Index ahead = j0 + fetch_ahead_groups * NR < c.n ? j0 + fetch_ahead_groups * NR : j0;
          run(LayoutConstant<Layout::rows_fetch_ahead>{}, c.B + j0 + p0 * c.ldb, c.ldb,
              c.B + ahead + p0 * c.ldb);
        } else {
          run(LayoutConstant<Layout::columns>{}, c.B + p0 + j0 * c.ldb, c.ldb, nullptr);
        }
      }
    }
  }
}

}  // namespace
}  // namespace deepnet::detail
