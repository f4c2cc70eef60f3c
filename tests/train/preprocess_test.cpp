// Normalisers and the stratified validation split.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "deepnet/error.hpp"
#include "deepnet/preprocess.hpp"

namespace deepnet {
namespace {

TEST(Normalizer, StandardGivesMeanZeroAndStdOne) {
  Matrix<double> X(2, 4);
  X << 1, 2, 3, 4, 10, 10, 10, 10;  // feature 2 is constant
  const Normalizer n = Normalizer::fit(Normalization::standard, X);
  EXPECT_DOUBLE_EQ(n.offset[0], 2.5);
  EXPECT_DOUBLE_EQ(n.scale[0], std::sqrt(1.25));
  EXPECT_EQ(n.scale[1], 1.0);  // zero spread: scale 1, not a division by zero
  Matrix<double> Z = X;
  n.apply(Z);
  EXPECT_NEAR(Z.row(0).sum(), 0.0, 1e-15);
  EXPECT_NEAR(Z.row(0).squaredNorm() / 4, 1.0, 1e-15);
  EXPECT_TRUE(Z.row(1).isZero());
}

TEST(Normalizer, MinMaxAndDiv255) {
  Matrix<double> X(1, 3);
  X << -2, 0, 6;
  Matrix<double> Z = X;
  Normalizer::fit(Normalization::minmax, X).apply(Z);
  EXPECT_EQ(Z(0, 0), 0.0);
  EXPECT_EQ(Z(0, 1), 0.25);
  EXPECT_EQ(Z(0, 2), 1.0);
  Z = X;
  Normalizer::fit(Normalization::div255, X).apply(Z);
  EXPECT_DOUBLE_EQ(Z(0, 2), 6.0 / 255);
  Matrix<double> wrong(2, 1);
  EXPECT_THROW(Normalizer::fit(Normalization::minmax, X).apply(wrong), Error);
  EXPECT_THROW(parse_normalization("zscore"), Error);
}

TEST(Normalizer, AutoDividesEightBitImagesBy255AndLeavesTheRest) {
  Dataset images, table;
  images.uint8_pixels = true;
  EXPECT_EQ(choose_normalization("auto", images), Normalization::div255);
  EXPECT_EQ(choose_normalization("auto", table), Normalization::none);
  EXPECT_EQ(choose_normalization("standard", images), Normalization::standard);
  EXPECT_THROW(choose_normalization("zscore", table), Error);
}

TEST(Normalizer, HugeValuesAreAnErrorNotNaN) {
  Matrix<double> X(1, 2);
  X << 1e308, -1e308;
  EXPECT_THROW(Normalizer::fit(Normalization::standard, X), Error);
}

Dataset labelled(int per_class_0, int per_class_1) {
  Dataset d;
  const int m = per_class_0 + per_class_1;
  d.X.resize(1, m);
  for (int j = 0; j < m; ++j) {
    d.X(0, j) = j;
    d.targets.push_back(j < per_class_0 ? 0 : 1);
  }
  return d;
}

TEST(Split, StratifiedKeepsEachClassShareAndCoversEveryExampleOnce) {
  const Dataset d = labelled(80, 20);
  const auto [train, validation] = split_dataset(d, 0.25, true, 5);
  EXPECT_EQ(validation.examples(), 25);
  EXPECT_EQ(train.examples(), 75);
  int ones = 0;
  for (double t : validation.targets) ones += t == 1;
  EXPECT_EQ(ones, 5);  // 25% of the 20 of class 1
  std::set<double> seen;
  for (Eigen::Index j = 0; j < train.examples(); ++j) seen.insert(train.X(0, j));
  for (Eigen::Index j = 0; j < validation.examples(); ++j) seen.insert(validation.X(0, j));
  EXPECT_EQ(seen.size(), 100u);
  // The targets travel with their examples.
  for (Eigen::Index j = 0; j < validation.examples(); ++j)
    EXPECT_EQ(validation.targets[static_cast<std::size_t>(j)], validation.X(0, j) < 80 ? 0 : 1);
}

TEST(Split, SameSeedSameSplitOtherSeedOtherSplit) {
  const Dataset d = labelled(50, 50);
  const auto a = split_dataset(d, 0.2, true, 1).second.X;
  const auto b = split_dataset(d, 0.2, true, 1).second.X;
  const auto c = split_dataset(d, 0.2, true, 2).second.X;
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(Split, BadFractionsAreErrors) {
  const Dataset d = labelled(3, 3);
  EXPECT_THROW(split_dataset(d, 0.0, true, 1), Error);
  EXPECT_THROW(split_dataset(d, 1.0, true, 1), Error);
  EXPECT_THROW(split_dataset(d, 0.01, true, 1), Error);  // leaves an empty validation part
}

}  // namespace
}  // namespace deepnet
