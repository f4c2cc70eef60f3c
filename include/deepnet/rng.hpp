#pragma once
// Seeded random numbers with two modes.
//
// - portable (default): xoshiro256** seeded through splitmix64, normals by the
//   polar method with a logarithm written here in plain arithmetic, so one seed
//   gives the same bits with every compiler and standard library
//   (std::normal_distribution does not).
// - numpy: MT19937 + numpy's legacy polar normal (np.random.seed(s); np.random.randn()).
//   With seed s it draws exactly what numpy draws. Requires 0 <= s < 2^32.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace deepnet {

enum class RngKind { portable, numpy };

// "portable" or "numpy"; throws Error on anything else.
RngKind parse_rng_kind(std::string_view name);
std::string_view to_string(RngKind kind);

class Rng {
 public:
  // Throws Error when kind is numpy and seed >= 2^32.
  explicit Rng(std::uint64_t seed = 0, RngKind kind = RngKind::portable);

  RngKind kind() const { return kind_; }
  // Uniform double in [0, 1) with 53 random bits.
  double uniform();
  // Standard normal N(0, 1).
  double normal();
  // normal() n times into out: the same values and the same state after
  // (faster: the portable kind computes a block of draws at once).
  void normals(double* out, std::size_t n);
  // Uniform integer in [0, n); n > 0.
  std::uint64_t below(std::uint64_t n);

  // The whole state as bytes (for checkpoints), and back. restore() throws
  // Error on bytes that are not a saved state.
  std::string save_state() const;
  static Rng restore(const std::string& bytes);

 private:
  std::uint32_t next32();
  std::uint64_t next64();
  void seed_mt19937(std::uint32_t seed);

  RngKind kind_;
  // xoshiro256** state (portable mode)
  std::uint64_t xo_[4] = {0, 0, 0, 0};
  // MT19937 state (numpy mode)
  std::uint32_t mt_[624] = {};
  int mt_index_ = 624;
  bool has_cached_normal_ = false;
  double cached_normal_ = 0.0;
};

}  // namespace deepnet
