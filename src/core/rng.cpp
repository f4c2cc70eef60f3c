// Random numbers: a portable generator of our own and numpy's legacy one.
// Compiled with -ffp-contract=off so no compiler fuses a*b+c differently.
#include "deepnet/rng.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "deepnet/error.hpp"

namespace deepnet {

RngKind parse_rng_kind(std::string_view name) {
  if (name == "portable") return RngKind::portable;
  if (name == "numpy") return RngKind::numpy;
  throw Error("rng: expected 'portable' or 'numpy', got '" + std::string(name) + "'");
}

std::string_view to_string(RngKind kind) { return kind == RngKind::numpy ? "numpy" : "portable"; }

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// xoshiro256** (Blackman & Vigna): the next 64 bits of state s.
inline std::uint64_t xoshiro_next(std::uint64_t* s) {
  const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
  const std::uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

// The portable kind's uniform double in [0, 1) from 53 bits.
inline double xoshiro_uniform(std::uint64_t* s) { return static_cast<double>(xoshiro_next(s) >> 11) / 9007199254740992.0; }

// The vectorised loops below compiled for AVX-512, AVX2 and baseline x86-64,
// picked at load time (GCC target_clones): + - * / and sqrt are correctly
// rounded in every instruction set and this file has no FMA contraction
// (-ffp-contract=off), so every clone gives the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)  // ifunc resolvers run before a sanitizer runtime starts
#define DEEPNET_RNG_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DEEPNET_RNG_CLONES
#endif

// Natural logarithm for 0 < x < 1 from + - * / only, so its bits do not depend
// on the C library. x = f * 2^e with f in [sqrt(1/2), sqrt(2)); then
// log f = 2 atanh(s), s = (f - 1) / (f + 1), |s| < 0.172, summed as a series.
// y[i] = log(x[i]) for n values, each 0 < x[i] < 1 and normal (the polar
// method's x1^2 + x2^2 is at least 2^-104): frexp by the bits, then the same
// operations for every value, so the loop vectorises and each value's bits do
// not depend on n or on its neighbours.
DEEPNET_RNG_CLONES void portable_log(const double* x, double* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t bits;
    std::memcpy(&bits, &x[i], sizeof bits);
    // x = f 2^e with f in [0.5, 1): f keeps x's mantissa under the exponent of 0.5
    const std::uint64_t f_bits = (bits & 0x000fffffffffffffull) | 0x3fe0000000000000ull;
    double f;
    std::memcpy(&f, &f_bits, sizeof f);
    // The biased exponent (bits >> 52, 1..1022: x is positive and normal) as a
    // double without an integer conversion (baseline x86-64 has no packed
    // int64 -> double): 2^52 + k has k in its low bits, so subtracting 2^52
    // leaves exactly k.
    const std::uint64_t k_bits = (bits >> 52) | 0x4330000000000000ull;
    double k;
    std::memcpy(&k, &k_bits, sizeof k);
    const double e0 = (k - 4503599627370496.0) - 1022.0;
    // below sqrt(1/2): f * 2 and e - 1 (times 1 and minus 0 otherwise: the
    // same values, without a branch)
    const bool low = f < 0.70710678118654752440;
    f = f * (low ? 2.0 : 1.0);
    const double e = e0 - (low ? 1.0 : 0.0);
    const double s = (f - 1.0) / (f + 1.0);
    const double s2 = s * s;
    // Horner form of 1 + s2/3 + s2^2/5 + ... + s2^12/25 (terms beyond are < 1e-19),
    // written out so that the loop over i vectorises.
    double series = 1.0 / 25.0;
    series = 1.0 / 23 + s2 * series;
    series = 1.0 / 21 + s2 * series;
    series = 1.0 / 19 + s2 * series;
    series = 1.0 / 17 + s2 * series;
    series = 1.0 / 15 + s2 * series;
    series = 1.0 / 13 + s2 * series;
    series = 1.0 / 11 + s2 * series;
    series = 1.0 / 9 + s2 * series;
    series = 1.0 / 7 + s2 * series;
    series = 1.0 / 5 + s2 * series;
    series = 1.0 / 3 + s2 * series;
    series = 1.0 / 1 + s2 * series;
    const double log_f = 2.0 * s * series;
    const double ln2_hi = 6.93147180369123816490e-01;  // fdlibm's split of ln 2
    const double ln2_lo = 1.90821492927058770002e-10;
    y[i] = e * ln2_hi + (e * ln2_lo + log_f);
  }
}

// f[i] = sqrt(-2 log_r2[i] / r2[i]) in place over log_r2 (0 < r2 < 1, so the
// square root never sees a negative number and never sets errno: without
// errno the loop vectorises).
DEEPNET_RNG_CLONES __attribute__((optimize("no-math-errno"))) void polar_factors(double* log_r2, const double* r2, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) log_r2[i] = std::sqrt(-2.0 * log_r2[i] / r2[i]);
}

}  // namespace

Rng::Rng(std::uint64_t seed, RngKind kind) : kind_(kind) {
  if (kind == RngKind::numpy) {
    if (seed > 0xFFFFFFFFull)
      throw Error("rng: numpy mode needs a seed in [0, 4294967295], got " + std::to_string(seed));
    seed_mt19937(static_cast<std::uint32_t>(seed));
  } else {
    std::uint64_t state = seed;
    for (auto& word : xo_) word = splitmix64(state);
  }
}

// MT19937 init_genrand (Matsumoto & Nishimura, 2002 version).
void Rng::seed_mt19937(std::uint32_t seed) {
  mt_[0] = seed;
  for (int i = 1; i < 624; ++i)
    mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
  mt_index_ = 624;
  has_cached_normal_ = false;
}

std::uint32_t Rng::next32() {
  if (kind_ == RngKind::portable) return static_cast<std::uint32_t>(next64() >> 32);
  if (mt_index_ >= 624) {  // regenerate the whole block (genrand_int32)
    constexpr std::uint32_t upper = 0x80000000u, lower = 0x7fffffffu, matrix_a = 0x9908b0dfu;
    for (int k = 0; k < 624; ++k) {
      const std::uint32_t y = (mt_[k] & upper) | (mt_[(k + 1) % 624] & lower);
      mt_[k] = mt_[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? matrix_a : 0u);
    }
    mt_index_ = 0;
  }
  std::uint32_t y = mt_[mt_index_++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= (y >> 18);
  return y;
}

std::uint64_t Rng::next64() {
  if (kind_ == RngKind::numpy) {
    const std::uint64_t high = next32();
    return (high << 32) | next32();
  }
  return xoshiro_next(xo_);
}

double Rng::uniform() {
  if (kind_ == RngKind::numpy) {  // numpy's random_double: 27 + 26 bits
    const std::uint32_t a = next32() >> 5, b = next32() >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }
  return xoshiro_uniform(xo_);
}

// Marsaglia's polar method with one cached value (numpy's legacy_gauss order).
double Rng::normal() {
  if (has_cached_normal_) {
    has_cached_normal_ = false;
    return cached_normal_;
  }
  double x1, x2, r2;
  do {
    x1 = 2.0 * uniform() - 1.0;
    x2 = 2.0 * uniform() - 1.0;
    r2 = x1 * x1 + x2 * x2;
  } while (r2 >= 1.0 || r2 == 0.0);
  double log_r2;
  if (kind_ == RngKind::numpy) log_r2 = std::log(r2);
  else portable_log(&r2, &log_r2, 1);
  const double f = std::sqrt(-2.0 * log_r2 / r2);
  cached_normal_ = f * x1;
  has_cached_normal_ = true;
  return f * x2;
}

// normal() n times: the same draws, values and cached value; in the portable
// kind the pairs of a block are drawn first (the generator is sequential),
// then their logarithms and factors computed together (vectorised).
void Rng::normals(double* out, std::size_t n) {
  std::size_t k = 0;
  if (n > 0 && has_cached_normal_) {
    has_cached_normal_ = false;
    out[k++] = cached_normal_;
  }
  if (kind_ == RngKind::numpy) {
    for (; k < n; ++k) out[k] = normal();
    return;
  }
  constexpr std::size_t block = 256;
  double x1[block], x2[block], r2[block], f[block];
  std::uint64_t s[4] = {xo_[0], xo_[1], xo_[2], xo_[3]};  // the generator's state in registers, back at the end
  while (k < n) {
    const std::size_t pairs = std::min(block, (n - k + 1) / 2);
    for (std::size_t p = 0; p < pairs; ++p) {
      double a, b, r;
      do {
        a = 2.0 * xoshiro_uniform(s) - 1.0;
        b = 2.0 * xoshiro_uniform(s) - 1.0;
        r = a * a + b * b;
      } while (r >= 1.0 || r == 0.0);
      x1[p] = a;
      x2[p] = b;
      r2[p] = r;
    }
    portable_log(r2, f, pairs);
    polar_factors(f, r2, pairs);
    for (std::size_t p = 0; p < pairs; ++p) {
      out[k++] = f[p] * x2[p];
      if (k < n) {
        out[k++] = f[p] * x1[p];
      } else {
        cached_normal_ = f[p] * x1[p];
        has_cached_normal_ = true;
      }
    }
  }
  std::copy(s, s + 4, xo_);
}

// Layout: kind (1 byte), xoshiro state (4 x 8), MT state (624 x 4), MT index
// (4), cached-normal flag (1), cached normal (8); all little-endian.
std::string Rng::save_state() const {
  std::string bytes;
  auto put = [&](std::uint64_t v, int width) {
    for (int k = 0; k < width; ++k) bytes.push_back(static_cast<char>(v >> (8 * k)));
  };
  put(kind_ == RngKind::numpy ? 1 : 0, 1);
  for (std::uint64_t w : xo_) put(w, 8);
  for (std::uint32_t w : mt_) put(w, 4);
  put(static_cast<std::uint32_t>(mt_index_), 4);
  put(has_cached_normal_ ? 1 : 0, 1);
  std::uint64_t cached;
  std::memcpy(&cached, &cached_normal_, 8);
  put(cached, 8);
  return bytes;
}

Rng Rng::restore(const std::string& bytes) {
  constexpr std::size_t size = 1 + 32 + 624 * 4 + 4 + 1 + 8;
  if (bytes.size() != size)
    throw Error("rng state: expected " + std::to_string(size) + " bytes, got " + std::to_string(bytes.size()));
  std::size_t at = 0;
  auto get = [&](int width) {
    std::uint64_t v = 0;
    for (int k = 0; k < width; ++k) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[at++])) << (8 * k);
    return v;
  };
  Rng rng(0, get(1) ? RngKind::numpy : RngKind::portable);
  for (auto& w : rng.xo_) w = get(8);
  for (auto& w : rng.mt_) w = static_cast<std::uint32_t>(get(4));
  rng.mt_index_ = static_cast<int>(get(4));
  if (rng.mt_index_ < 0 || rng.mt_index_ > 624) throw Error("rng state: MT index out of range");
  rng.has_cached_normal_ = get(1) != 0;
  const std::uint64_t cached = get(8);
  std::memcpy(&rng.cached_normal_, &cached, 8);
  return rng;
}

std::uint64_t Rng::below(std::uint64_t n) {
  if (n == 0) throw Error("rng: below(n) needs n > 0");
  // Rejection keeps every value equally likely.
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                              std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t x;
  do x = next64();
  while (x >= limit);
  return x % n;
}

}  // namespace deepnet
