// vtanh, vexp, vsigmoid and vlog1p against long-double references (error in
// ulps of the result type), special values, tails of every length, aliasing
// and position independence, on every backend this CPU runs (deepnet's own
// AVX-512, AVX2 and portable kernels, libmvec's, scalar std::).
#include "deepnet/vmath.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace deepnet {
namespace {

// libmvec's accuracy criterion: glibc tests its vector functions "to pass 4-ulp
// maximum relative error" in round-to-nearest (sourceware.org/glibc/wiki/libmvec;
// its libm-test-ulps lists 1-2 ulp for tanh and exp). std::tanh and std::exp
// (the scalar backend) are within 2 ulp.
constexpr double libmvec_ulps = 4.0;

// vsigmoid from an exp with error k ulp (k = 4): for x >= 0, s = 1 / (1 + e)
// with s in [0.5, 1) takes at most k/2 ulp from e, 1 from rounding 1 + e and
// 0.5 from the division; for x < 0, s = e / (1 + e) may sit one binade below
// e, so e's k ulp become up to 2k ulp of s, plus 1 + 0.5 from the two
// roundings. Hence 2k + 1.5.
constexpr double sigmoid_ulps = 2 * libmvec_ulps + 1.5;

const char* const all_backends[] = {"avx512",      "avx2",        "portable", "libmvec avx512",
                                    "libmvec avx2", "libmvec sse", "scalar"};

enum class Fn { tanh, exp, sigmoid, log1p };

const char* name(Fn f) {
  switch (f) {
    case Fn::tanh: return "tanh";
    case Fn::exp: return "exp";
    case Fn::sigmoid: return "sigmoid";
    case Fn::log1p: return "log1p";
  }
  return "?";
}

template <typename T>
void run(Fn f, const T* x, T* y, std::size_t n) {
  switch (f) {
    case Fn::tanh: return vtanh(x, y, n);
    case Fn::exp: return vexp(x, y, n);
    case Fn::sigmoid: return vsigmoid(x, y, n);
    case Fn::log1p: return vlog1p(x, y, n);
  }
}

template <typename T>
std::vector<T> run(Fn f, const std::vector<T>& x) {
  std::vector<T> y(x.size());
  run(f, x.data(), y.data(), x.size());
  return y;
}

long double reference(Fn f, long double x) {
  switch (f) {
    case Fn::tanh: return std::tanh(x);
    case Fn::exp: return std::exp(x);
    case Fn::sigmoid: {
      const long double e = std::exp(-std::fabs(x));
      return x >= 0 ? 1 / (1 + e) : e / (1 + e);
    }
    case Fn::log1p: return std::log1p(x);
  }
  return 0;
}

double bound(Fn f) { return f == Fn::sigmoid ? sigmoid_ulps : libmvec_ulps; }

// |y - ref| in units of the last place of ref in T (subnormal ulp below the
// normal range). Infinities and NaN must match the correctly rounded result.
template <typename T>
double ulp_error(T y, long double ref) {
  if (std::isnan(ref)) return std::isnan(y) ? 0 : INFINITY;
  const T rounded = static_cast<T>(ref);
  if (std::isinf(rounded) || std::isinf(y)) return y == rounded ? 0 : INFINITY;
  int exponent = 0;
  if (ref != 0) std::frexp(ref, &exponent);  // ref = m 2^exponent, m in [0.5, 1)
  exponent = std::max(exponent, std::numeric_limits<T>::min_exponent);
  const long double ulp = std::ldexp(1.0L, exponent - std::numeric_limits<T>::digits);
  return static_cast<double>(std::fabs(static_cast<long double>(y) - ref) / ulp);
}

template <typename T>
auto bits(T v) {
  if constexpr (sizeof(T) == 8) return std::bit_cast<std::uint64_t>(v);
  else return std::bit_cast<std::uint32_t>(v);
}

template <typename T>
std::vector<T> special_values() {
  using L = std::numeric_limits<T>;
  std::vector<T> v = {T(0), -T(0), L::infinity(), -L::infinity(), L::quiet_NaN(),
                      -L::quiet_NaN(), L::denorm_min(), -L::denorm_min(), L::min() / 3,
                      -L::min() / 3, L::min(), -L::min(), L::max(), -L::max(), L::lowest(),
                      L::epsilon(), -L::epsilon(), T(1), T(-1), T(0.5), T(-0.5), T(20),
                      T(-20), T(50), T(-50), T(88.5), T(-88.5), T(-103.5), T(-104.5)};
  if constexpr (sizeof(T) == 8) {
    v.insert(v.end(), {1e30, -1e30, 1e300, -1e300, 709.78, 709.79, -708.5, -745.0, -745.2});
  } else {
    v.insert(v.end(), {1e30f, -1e30f, 88.72f, 88.73f, -87.3f, -103.9f, -104.0f});
  }
  return v;
}

// ~1.4 million points: an even grid over [-50, 50], random bit patterns (every
// magnitude, subnormals included), uniform draws over exp's finite range and
// over (-1, 3), and the special values.
template <typename T>
std::vector<T> test_points() {
  std::vector<T> x;
  const int grid = 1'000'000;
  for (int i = 0; i < grid; ++i) x.push_back(static_cast<T>(-50.0 + 100.0 * i / (grid - 1)));
  std::mt19937_64 rng(20240611);
  while (x.size() < grid + (1 << 17)) {
    const std::uint64_t r = rng();
    T v;
    if constexpr (sizeof(T) == 8) v = std::bit_cast<double>(r);
    else v = std::bit_cast<float>(static_cast<std::uint32_t>(r));
    if (std::isfinite(v)) x.push_back(v);
  }
  const double lo = std::log(static_cast<double>(std::numeric_limits<T>::denorm_min())) - 1;
  const double hi = std::log(static_cast<double>(std::numeric_limits<T>::max())) + 1;
  std::uniform_real_distribution<double> exp_range(lo, hi);
  for (int i = 0; i < (1 << 17); ++i) x.push_back(static_cast<T>(exp_range(rng)));
  std::uniform_real_distribution<double> near_zero(-1, 3);  // log1p's busiest range
  for (int i = 0; i < (1 << 17); ++i) x.push_back(static_cast<T>(near_zero(rng)));
  for (T v : special_values<T>()) x.push_back(v);
  return x;
}

// Runs body(backend) with each backend this CPU and build provide, then goes
// back to the automatic choice.
template <typename Body>
void for_each_backend(Body body) {
  struct Restore {
    ~Restore() { vmath_set_backend("auto"); }
  } restore;
  for (const char* backend : all_backends)
    if (vmath_set_backend(backend)) {
      SCOPED_TRACE(backend);
      body(std::string(backend));
    }
}

template <typename T>
void check_accuracy(Fn f, const char* type) {
  const std::vector<T> x = test_points<T>();
  std::vector<long double> ref(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) ref[i] = reference(f, x[i]);
  for_each_backend([&](const std::string& backend) {
    const std::vector<T> y = run(f, x);
    double worst = 0;
    std::size_t at = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double e = ulp_error(y[i], ref[i]);
      if (!(e <= worst)) worst = e, at = i;
    }
    std::printf("[  vmath   ] %-7s %-6s %-14s max error %.3f ulp\n", name(f), type,
                backend.c_str(), worst);
    EXPECT_LE(worst, bound(f)) << name(f) << "(" << x[at] << ") = " << y[at] << ", expected "
                               << static_cast<double>(ref[at]);
  });
}

TEST(VmathAccuracy, TanhWithinLibmvecBound) {
  check_accuracy<double>(Fn::tanh, "double");
  check_accuracy<float>(Fn::tanh, "float");
}

TEST(VmathAccuracy, ExpWithinLibmvecBound) {
  check_accuracy<double>(Fn::exp, "double");
  check_accuracy<float>(Fn::exp, "float");
}

TEST(VmathAccuracy, SigmoidWithinDerivedBound) {
  check_accuracy<double>(Fn::sigmoid, "double");
  check_accuracy<float>(Fn::sigmoid, "float");
}

TEST(VmathAccuracy, Log1pWithinLibmvecBound) {
  check_accuracy<double>(Fn::log1p, "double");
  check_accuracy<float>(Fn::log1p, "float");
}

// log1p's edges as std:: gives them: log1p(-1) = -inf, NaN below -1, log1p(x) = x
// for tiny x (signed zeros kept), inf at inf.
template <typename T>
void check_log1p_special_values() {
  using L = std::numeric_limits<T>;
  const T inf = L::infinity();
  const std::vector<T> x = {T(0), -T(0), T(-1), T(-2), inf, -inf, L::quiet_NaN(), L::denorm_min(),
                            -L::denorm_min(), L::max(), T(-1) + L::epsilon() / 2};
  for_each_backend([&](const std::string&) {
    const std::vector<T> y = run(Fn::log1p, x);
    EXPECT_EQ(bits(y[0]), bits(T(0)));
    EXPECT_EQ(bits(y[1]), bits(-T(0)));
    EXPECT_EQ(y[2], -inf);
    EXPECT_TRUE(std::isnan(y[3]));
    EXPECT_EQ(y[4], inf);
    EXPECT_TRUE(std::isnan(y[5]));
    EXPECT_TRUE(std::isnan(y[6]));
    EXPECT_EQ(y[7], L::denorm_min());
    EXPECT_EQ(y[8], -L::denorm_min());
    EXPECT_NEAR(y[9], std::log(L::max()), 4 * L::epsilon() * std::log(L::max()));
    EXPECT_LT(y[10], T(-10));
    EXPECT_TRUE(std::isfinite(y[10]));
  });
}

TEST(VmathSpecialValues, Log1pEdgesMatchStd) {
  check_log1p_special_values<double>();
  check_log1p_special_values<float>();
}

// Infinities, NaN and signed zeros exactly as std:: gives them.
template <typename T>
void check_special_values() {
  using L = std::numeric_limits<T>;
  const T inf = L::infinity(), nan = L::quiet_NaN();
  const std::vector<T> x = {T(0), -T(0), inf, -inf, nan, L::max(), L::lowest(), T(1e30),
                            T(-1e30), L::denorm_min(), -L::denorm_min()};
  for_each_backend([&](const std::string&) {
    const std::vector<T> t = run(Fn::tanh, x), e = run(Fn::exp, x), s = run(Fn::sigmoid, x);
    EXPECT_EQ(bits(t[0]), bits(T(0)));
    EXPECT_EQ(bits(t[1]), bits(-T(0)));
    EXPECT_EQ(t[2], T(1));
    EXPECT_EQ(t[3], T(-1));
    EXPECT_TRUE(std::isnan(t[4]));
    EXPECT_EQ(t[5], T(1));
    EXPECT_EQ(t[6], T(-1));
    EXPECT_EQ(t[7], T(1));
    EXPECT_EQ(t[8], T(-1));
    EXPECT_EQ(t[9], L::denorm_min());  // tanh(x) = x for tiny x
    EXPECT_EQ(t[10], -L::denorm_min());

    EXPECT_EQ(e[0], T(1));
    EXPECT_EQ(e[1], T(1));
    EXPECT_EQ(e[2], inf);
    EXPECT_EQ(bits(e[3]), bits(T(0)));
    EXPECT_TRUE(std::isnan(e[4]));
    EXPECT_EQ(e[5], inf);
    EXPECT_EQ(bits(e[6]), bits(T(0)));
    EXPECT_EQ(e[7], inf);
    EXPECT_EQ(bits(e[8]), bits(T(0)));
    EXPECT_EQ(e[9], T(1));
    EXPECT_EQ(e[10], T(1));

    EXPECT_EQ(s[0], T(0.5));
    EXPECT_EQ(s[1], T(0.5));
    EXPECT_EQ(s[2], T(1));
    EXPECT_EQ(bits(s[3]), bits(T(0)));
    EXPECT_TRUE(std::isnan(s[4]));
    EXPECT_EQ(s[5], T(1));
    EXPECT_EQ(bits(s[6]), bits(T(0)));
    EXPECT_EQ(s[7], T(1));
    EXPECT_EQ(bits(s[8]), bits(T(0)));
    EXPECT_EQ(s[9], T(0.5));
    EXPECT_EQ(s[10], T(0.5));
  });
}

TEST(VmathSpecialValues, MatchStd) {
  check_special_values<double>();
  check_special_values<float>();
}

TEST(VmathSpecialValues, SigmoidIsNeverNaNForFiniteInput) {
  for_each_backend([](const std::string&) {
    std::vector<double> x;
    for (int k = -1074; k <= 1023; ++k)
      x.insert(x.end(), {std::ldexp(1.0, k), -std::ldexp(1.0, k)});
    const std::vector<double> s = run(Fn::sigmoid, x);
    for (std::size_t i = 0; i < x.size(); ++i) {
      ASSERT_FALSE(std::isnan(s[i])) << x[i];
      ASSERT_GE(s[i], 0.0) << x[i];
      ASSERT_LE(s[i], 1.0) << x[i];
    }
  });
}

// Element i gives the same bits in an array of any length, at any offset, in
// place or not, as alone (n = 1), and nothing outside [0, n) is written.
template <typename T>
void check_positions(Fn f) {
  std::vector<T> x = special_values<T>();
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-12, 12);
  while (x.size() < 2000) x.push_back(static_cast<T>(u(rng)));
  std::shuffle(x.begin(), x.end(), rng);

  for_each_backend([&](const std::string&) {
    std::vector<T> alone(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) run(f, &x[i], &alone[i], 1);

    const std::vector<T> whole = run(f, x);
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(bits(whole[i]), bits(alone[i])) << i;

    const T sentinel = T(12345);
    for (std::size_t start : {0, 1, 3, 7, 100}) {
      for (std::size_t n = 0; n <= 67; ++n) {
        std::vector<T> y(n + 2, sentinel);
        run(f, &x[start], &y[1], n);
        EXPECT_EQ(y.front(), sentinel);
        EXPECT_EQ(y.back(), sentinel) << "n = " << n;
        std::vector<T> in_place(x.begin() + start, x.begin() + start + n);
        run(f, in_place.data(), in_place.data(), n);
        for (std::size_t i = 0; i < n; ++i) {
          ASSERT_EQ(bits(y[i + 1]), bits(alone[start + i])) << "n = " << n << ", i = " << i;
          ASSERT_EQ(bits(in_place[i]), bits(alone[start + i])) << "n = " << n << ", i = " << i;
        }
      }
    }
    std::vector<T> in_place = x;  // crosses vsigmoid's internal chunks
    run(f, in_place.data(), in_place.data(), in_place.size());
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(bits(in_place[i]), bits(alone[i])) << i;
  });
}

TEST(VmathPositions, ResultsDoNotDependOnLengthOffsetOrAliasing) {
  for (Fn f : {Fn::tanh, Fn::exp, Fn::sigmoid, Fn::log1p}) {
    SCOPED_TRACE(name(f));
    check_positions<double>(f);
    check_positions<float>(f);
  }
}

template <typename T>
auto all_bits(const std::vector<T>& v) {
  std::vector<decltype(bits(T()))> out;
  for (T x : v) out.push_back(bits(x));
  return out;
}

TEST(VmathDeterminism, TwoCallsGiveTheSameBits) {
  std::vector<double> x(1600);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal(0, 3);
  for (double& v : x) v = normal(rng);
  const std::vector<float> xf(x.begin(), x.end());
  for_each_backend([&](const std::string&) {
    for (Fn f : {Fn::tanh, Fn::exp, Fn::sigmoid, Fn::log1p}) {  // log1p: NaN below -1
      EXPECT_EQ(all_bits(run(f, x)), all_bits(run(f, x))) << name(f);
      EXPECT_EQ(all_bits(run(f, xf)), all_bits(run(f, xf))) << name(f);
    }
  });
}

TEST(VmathBackend, NamesTheChoiceAndCanBeForced) {
  const std::string automatic = vmath_backend();
  EXPECT_NE(std::find(std::begin(all_backends), std::end(all_backends), automatic),
            std::end(all_backends))
      << automatic;
  // The automatic choice is one of deepnet's own kernel sets (the small-net path needs one).
  EXPECT_TRUE(automatic == "avx512" || automatic == "avx2" || automatic == "portable") << automatic;
  EXPECT_FALSE(vmath_set_backend("libmvec sse5"));
  EXPECT_EQ(vmath_backend(), automatic);
  ASSERT_TRUE(vmath_set_backend("scalar"));
  EXPECT_EQ(std::string(vmath_backend()), "scalar");
  const double x = 0.75;
  double y = 0;
  vtanh(&x, &y, 1);
  EXPECT_EQ(y, std::tanh(x));  // the scalar backend is std:: itself
  ASSERT_TRUE(vmath_set_backend("portable"));  // runs on every CPU
  EXPECT_EQ(std::string(vmath_backend()), "portable");
  ASSERT_TRUE(vmath_set_backend("auto"));
  EXPECT_EQ(vmath_backend(), automatic);
}

TEST(VmathBackend, EmptyInputTouchesNothing) {
  for_each_backend([](const std::string&) {
    vtanh(static_cast<const double*>(nullptr), nullptr, 0);
    vexp(static_cast<const float*>(nullptr), nullptr, 0);
    vsigmoid(static_cast<const double*>(nullptr), nullptr, 0);
    vlog1p(static_cast<const float*>(nullptr), nullptr, 0);
  });
}

}  // namespace
}  // namespace deepnet
