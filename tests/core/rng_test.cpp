// The numpy-compatible generator against numpy's own draws (values copied from
// the reference spec, produced with numpy 1.24.2), and the portable generator's
// determinism and distribution.
#include "deepnet/rng.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "deepnet/error.hpp"
#include "deepnet/init.hpp"

namespace deepnet {
namespace {

const std::map<int, std::vector<double>> numpy_first_eight = {
    {0, {1.764052345967664, 0.4001572083672233, 0.9787379841057392, 2.240893199201458,
         1.8675579901499675, -0.977277879876411, 0.9500884175255894, -0.1513572082976979}},
    {1, {1.6243453636632417, -0.6117564136500754, -0.5281717522634557, -1.0729686221561705,
         0.8654076293246785, -2.3015386968802827, 1.74481176421648, -0.7612069008951028}},
    {2, {-0.4167578474054706, -0.056266827226329474, -2.136196095668454, 1.6402708084049886,
         -1.7934355851948631, -0.841747365656204, 0.5028814171580428, -1.2452880866072316}},
    {3, {1.7886284734303186, 0.43650985051198943, 0.09649746807200862, -1.8634927033644908,
         -0.27738820251439905, -0.35475897926898675, -0.08274148148245977, -0.6270006768238473}},
    {42, {0.4967141530112327, -0.13826430117118466, 0.6476885381006925, 1.5230298564080254,
          -0.23415337472333597, -0.23413695694918055, 1.5792128155073915, 0.7674347291529088}},
};

struct ThousandDraws {
  double sum;
  double last;
};
const std::map<int, ThousandDraws> numpy_thousand = {
    {0, {-45.25670749019538, -0.35811407547985674}},
    {1, {38.81247615960185, -0.18695501653274957}},
    {2, {-47.84993519517787, 0.1967852699696977}},
    {3, {17.284332980834296, -0.5030752195310859}},
    {42, {19.33205582232549, 0.5725827813561586}},
};

TEST(NumpyRng, FirstEightDrawsEqualNumpyBitForBit) {
  for (const auto& [seed, expected] : numpy_first_eight) {
    Rng rng(seed, RngKind::numpy);
    for (std::size_t k = 0; k < expected.size(); ++k)
      EXPECT_EQ(rng.normal(), expected[k]) << "seed " << seed << " draw " << k;
  }
}

TEST(NumpyRng, ThousandDrawsSumAndLastDrawEqualNumpy) {
  for (const auto& [seed, expected] : numpy_thousand) {
    Rng rng(seed, RngKind::numpy);
    double sum = 0.0, draw = 0.0;
    for (int k = 0; k < 1000; ++k) {
      draw = rng.normal();
      sum += draw;
    }
    EXPECT_EQ(draw, expected.last) << "seed " << seed;
    EXPECT_NEAR(sum, expected.sum, 1e-11) << "seed " << seed;
  }
}

TEST(NumpyRng, InitFillsEachWeightMatrixRowByRowLikeRandn) {
  // np.random.seed(1); np.random.randn(2, 3)
  Network<double> net(Architecture{{3, 2}, {Activation::relu}, Output::sigmoid});
  Rng rng(1, RngKind::numpy);
  initialize(net, InitScheme::small, rng, 1.0);
  const double expected[2][3] = {{1.6243453636632417, -0.6117564136500754, -0.5281717522634557},
                                 {-1.0729686221561705, 0.8654076293246785, -2.3015386968802827}};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(net.W(1)(i, j), expected[i][j]);
}

TEST(NumpyRng, GlorotDrawsLikeNumpyUniform) {
  // np.random.seed(3); r = sqrt(6 / (2 + 3)); np.random.uniform(-r, r, (3, 2)); then
  // r2 = sqrt(6 / (3 + 1)); np.random.uniform(-r2, r2, (1, 3))   (numpy 1.24.2)
  Network<double> net(Architecture{{2, 3, 1}, {Activation::tanh}, Output::sigmoid});
  Rng rng(3, RngKind::numpy);
  initialize(net, InitScheme::glorot, rng);
  const double w1[3][2] = {{0.11129262845617904, 0.4560290309740802},
                           {-0.4581047646592502, 0.023722094442080843},
                           {0.8609036431966526, 0.8682346567689796}};
  const double w2[3] = {-0.9171249415661811, -0.7171055671272364, -1.0986764848164696};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) EXPECT_DOUBLE_EQ(net.W(1)(i, j), w1[i][j]) << i << "," << j;
  for (int j = 0; j < 3; ++j) EXPECT_DOUBLE_EQ(net.W(2)(0, j), w2[j]) << j;
  EXPECT_EQ(net.b(1).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(parse_init_scheme("glorot"), InitScheme::glorot);
  EXPECT_EQ(to_string(InitScheme::glorot), "glorot");
}

TEST(PortableRng, GlorotStaysWithinItsLimitAndFillsIt) {
  Network<float> net(Architecture{{300, 100, 10}, {Activation::relu}, Output::softmax});
  Rng rng(11);
  initialize(net, InitScheme::glorot, rng);
  const float r = std::sqrt(6.0f / 400.0f);
  EXPECT_LE(net.W(1).cwiseAbs().maxCoeff(), r);
  EXPECT_GT(net.W(1).cwiseAbs().maxCoeff(), 0.99f * r);
  // Variance of uniform(-r, r) is r^2 / 3 = 2 / (fan_in + fan_out).
  const double var = net.W(1).cast<double>().array().square().mean();
  EXPECT_NEAR(var, 2.0 / 400.0, 0.03 * 2.0 / 400.0);
}

TEST(NumpyRng, RejectsSeedsOutsideNumpyRange) {
  EXPECT_NO_THROW(Rng(4294967295ull, RngKind::numpy));
  EXPECT_THROW(Rng(4294967296ull, RngKind::numpy), Error);
}

TEST(PortableRng, SameSeedSameDrawsDifferentSeedDifferentDraws) {
  Rng a(7), b(7), c(8);
  int differ = 0;
  for (int k = 0; k < 1000; ++k) {
    const double x = a.normal();
    EXPECT_EQ(x, b.normal());
    differ += x != c.normal();
  }
  EXPECT_GT(differ, 990);
}

// The portable normals' bits, as deepnet drew them before the batch path
// (Rng::normals) and the branch-free logarithm (recorded from the previous
// implementation, which took frexp from the C library): a model trained
// with a seed keeps its weights across versions.
TEST(PortableRng, NormalsKeepTheirBitsAcrossVersions) {
  struct Case {
    unsigned long long seed;
    double first[3];
    double sum, last;  // of the next 100000
  };
  const Case cases[] = {
      {1, {0x1.84abd879d0e18p-3, 0x1.e267c87ac62ebp+0, -0x1.e8d0b0399ee9cp+0}, 0x1.2a8639e10c6d8p+7,
       -0x1.106308071be4ep+0},
      {7, {-0x1.1052212a30fdep+0, 0x1.edc0d635eea0bp-1, -0x1.19560dad02138p+0}, -0x1.caa37466d1fabp+6,
       0x1.c5eb7c2fcd0f1p-2},
      {123456789, {0x1.7ba8dba16fd71p-4, 0x1.3e476e24ac287p-4, 0x1.1813d23f07ed4p-4}, 0x1.4504ddd0e8cf3p+8,
       0x1.743552dc4673ep-2},
  };
  for (const Case& c : cases) {
    Rng rng(c.seed);
    for (double expected : c.first) EXPECT_EQ(rng.normal(), expected) << "seed " << c.seed;
    for (int k = 0; k < 3; ++k) rng.normal();  // the values the recording printed beyond the first 3
    double sum = 0, last = 0;
    for (int k = 0; k < 100000; ++k) sum += (last = rng.normal());
    EXPECT_EQ(sum, c.sum) << "seed " << c.seed;
    EXPECT_EQ(last, c.last) << "seed " << c.seed;
  }
}

// normals(out, n) is normal() n times: the same values, and the same state
// after (the cached second value of a pair included), in both kinds, for
// counts around the block of 256 pairs and odd ones.
TEST(Rng, NormalsAreNormalCalledNTimes) {
  for (RngKind kind : {RngKind::portable, RngKind::numpy})
    for (std::size_t n : {0, 1, 2, 3, 511, 512, 513, 1000, 1537}) {
      Rng one(42, kind), many(42, kind);
      one.normal();  // start with a cached value in both
      many.normal();
      std::vector<double> expected(n), got(n);
      for (double& x : expected) x = one.normal();
      many.normals(got.data(), n);
      EXPECT_EQ(got, expected) << to_string(kind) << " n = " << n;
      EXPECT_EQ(many.normal(), one.normal()) << to_string(kind) << " n = " << n << ": the state after";
      EXPECT_EQ(many.uniform(), one.uniform()) << to_string(kind) << " n = " << n;
    }
}

TEST(PortableRng, NormalsHaveMeanZeroAndVarianceOne) {
  Rng rng(123);
  const int n = 200000;
  double sum = 0, sum2 = 0, beyond3 = 0;
  for (int k = 0; k < n; ++k) {
    const double x = rng.normal();
    sum += x;
    sum2 += x * x;
    beyond3 += std::abs(x) > 3;
  }
  const double mean = sum / n, variance = sum2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.01);        // standard error 0.0022
  EXPECT_NEAR(variance, 1.0, 0.015);   // standard error 0.0032
  EXPECT_NEAR(beyond3 / n, 0.0027, 0.0008);
}

TEST(PortableRng, UniformsFillTheUnitIntervalEvenly) {
  Rng rng(5);
  std::vector<int> bins(10, 0);
  for (int k = 0; k < 100000; ++k) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ++bins[static_cast<int>(u * 10)];
  }
  for (int count : bins) EXPECT_NEAR(count, 10000, 500);
}

TEST(PortableRng, BelowStaysInRange) {
  Rng rng(9);
  std::vector<int> seen(7, 0);
  for (int k = 0; k < 7000; ++k) ++seen[rng.below(7)];
  for (int count : seen) EXPECT_GT(count, 800);
  EXPECT_THROW(rng.below(0), Error);
}

TEST(RngKindNames, ParseAndPrint) {
  EXPECT_EQ(parse_rng_kind("numpy"), RngKind::numpy);
  EXPECT_EQ(parse_rng_kind("portable"), RngKind::portable);
  EXPECT_EQ(to_string(RngKind::numpy), "numpy");
  EXPECT_THROW(parse_rng_kind("mt"), Error);
}

}  // namespace
}  // namespace deepnet
