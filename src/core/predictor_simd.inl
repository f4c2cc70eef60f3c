// The SIMD panel kernels of the single-example predictor, written once over a
// vector type. Included (inside an anonymous namespace) by
// predictor_avx512.cpp and predictor_avx2.cpp, which are compiled for their
// instruction set and define before the include, for float and double:
//   struct F32 / F64 { using T; using V; static constexpr int P;  // lanes
//     V zero(); V load(const T*); V broadcast(T); V fmadd(V a, V b, V c) (a b + c, one rounding);
//     V add(V, V); V relu(V) (max(z, 0), 0 for NaN); V leaky(V z, V slope) (z > 0 ? z : slope z);
//     void store(T*, V); }
// and for bfloat16 weights, in F32:
//   void widen(const std::uint16_t* p, V& k0, V& k1): the 2P bfloat16 of one
//   panel and input pair (layout in predictor_kernels.hpp) as the panel's
//   float weights of input k (k0) and input k + 1 (k1).
// Only intrinsics and these templates live in those files: nothing with
// external linkage is compiled for the wider instruction set except the tables.

// z = acc + b, the fused activation, stored: G panels of S::P rows.
template <class S, int G>
inline void finish_tile(typename S::V (&acc)[G], const typename S::T* bias, typename S::T* z, Fused fused,
                        typename S::T slope) {
  using V = typename S::V;
  const V slope_v = S::broadcast(slope);
  for (int g = 0; g < G; ++g) {
    V value = S::add(acc[g], S::load(bias + g * S::P));
    if (fused == Fused::relu) value = S::relu(value);
    else if (fused == Fused::leaky_relu) value = S::leaky(value, slope_v);
    S::store(z + g * S::P, value);
  }
}

// One tile of G panels: acc = sum over k of W(rows, k) x[k], in order of k.
template <class S, int G>
inline void dense_tile(const typename S::T* w, const typename S::T* bias, const typename S::T* x,
                       typename S::T* z, int inputs, Fused fused, typename S::T slope) {
  using V = typename S::V;
  V acc[G];
  for (int g = 0; g < G; ++g) acc[g] = S::zero();
  for (int k = 0; k < inputs; ++k, w += G * S::P) {
    const V xk = S::broadcast(x[k]);
    for (int g = 0; g < G; ++g) acc[g] = S::fmadd(S::load(w + g * S::P), xk, acc[g]);
  }
  finish_tile<S, G>(acc, bias, z, fused, slope);
}

// The same with bfloat16 weights, widened to float in registers (exactly:
// a bfloat16 is the high half of a float), two inputs per load.
template <class S, int G>
inline void bfloat16_tile(const std::uint16_t* w, const float* bias, const float* x, float* z, int inputs,
                          Fused fused, float slope) {
  using V = typename S::V;
  V acc[G];
  for (int g = 0; g < G; ++g) acc[g] = S::zero();
  const int pairs = inputs / 2;
  for (int p = 0; p < pairs; ++p, w += G * 2 * S::P) {
    const V x0 = S::broadcast(x[2 * p]), x1 = S::broadcast(x[2 * p + 1]);
    for (int g = 0; g < G; ++g) {
      V k0, k1;
      S::widen(w + g * 2 * S::P, k0, k1);
      acc[g] = S::fmadd(k0, x0, acc[g]);
      acc[g] = S::fmadd(k1, x1, acc[g]);
    }
  }
  if (inputs % 2 != 0) {  // the last input alone; its partner's weights are zero padding
    const V x0 = S::broadcast(x[inputs - 1]);
    for (int g = 0; g < G; ++g) {
      V k0, k1;
      S::widen(w + g * 2 * S::P, k0, k1);
      acc[g] = S::fmadd(k0, x0, acc[g]);
    }
  }
  finish_tile<S, G>(acc, bias, z, fused, slope);
}

// `panels` panels from the start of a tile: whole tiles, then the last one.
template <class S>
void dense_panels(const typename S::T* w, const typename S::T* bias, const typename S::T* x, typename S::T* z,
                  int inputs, int panels, Fused fused, typename S::T slope) {
  constexpr int P = S::P, G = dense_tile_panels;
  static_assert(G == 4, "the tail below handles 1..3 panels");
  for (; panels >= G; panels -= G) {
    dense_tile<S, G>(w, bias, x, z, inputs, fused, slope);
    w += static_cast<std::ptrdiff_t>(G) * P * inputs;
    bias += G * P;
    z += G * P;
  }
  switch (panels) {
    case 3: dense_tile<S, 3>(w, bias, x, z, inputs, fused, slope); break;
    case 2: dense_tile<S, 2>(w, bias, x, z, inputs, fused, slope); break;
    case 1: dense_tile<S, 1>(w, bias, x, z, inputs, fused, slope); break;
    default: break;
  }
}

template <class S>
void bfloat16_panels(const std::uint16_t* w, const float* bias, const float* x, float* z, int inputs, int panels,
                     Fused fused, float slope) {
  constexpr int P = S::P, G = bfloat16_tile_panels;
  static_assert(G == 8, "the tail below handles 1..7 panels");
  const std::ptrdiff_t padded_inputs = inputs + inputs % 2;
  for (; panels >= G; panels -= G) {
    bfloat16_tile<S, G>(w, bias, x, z, inputs, fused, slope);
    w += G * P * padded_inputs;
    bias += G * P;
    z += G * P;
  }
  switch (panels) {
    case 7: bfloat16_tile<S, 7>(w, bias, x, z, inputs, fused, slope); break;
    case 6: bfloat16_tile<S, 6>(w, bias, x, z, inputs, fused, slope); break;
    case 5: bfloat16_tile<S, 5>(w, bias, x, z, inputs, fused, slope); break;
    case 4: bfloat16_tile<S, 4>(w, bias, x, z, inputs, fused, slope); break;
    case 3: bfloat16_tile<S, 3>(w, bias, x, z, inputs, fused, slope); break;
    case 2: bfloat16_tile<S, 2>(w, bias, x, z, inputs, fused, slope); break;
    case 1: bfloat16_tile<S, 1>(w, bias, x, z, inputs, fused, slope); break;
    default: break;
  }
}
