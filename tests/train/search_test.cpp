// Library pieces of `deepnet search`: stratified k-fold indices, subsets, the
// successive-halving schedule, mean and standard deviation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "deepnet/error.hpp"
#include "deepnet/search.hpp"

namespace deepnet {
namespace {

// m examples, feature = index, class 1 for every third example (imbalanced).
Dataset toy(int m) {
  Dataset d;
  d.X.resize(1, m);
  for (int j = 0; j < m; ++j) {
    d.X(0, j) = j;
    d.targets.push_back(j % 3 == 0 ? 1.0 : 0.0);
  }
  d.source = "toy";
  return d;
}

TEST(KFold, EveryExampleIsHeldOutOnceAndFoldsAreBalancedAndStratified) {
  const Dataset d = toy(103);
  const auto folds = kfold_indices(d, 5, true, 7);
  ASSERT_EQ(folds.size(), 5u);
  std::vector<int> seen(103, 0);
  for (const auto& fold : folds) {
    EXPECT_TRUE(std::is_sorted(fold.begin(), fold.end()));
    EXPECT_GE(fold.size(), 20u);
    EXPECT_LE(fold.size(), 21u);
    int positives = 0;
    for (Eigen::Index j : fold) {
      ++seen[static_cast<std::size_t>(j)];
      positives += d.targets[static_cast<std::size_t>(j)] == 1.0;
    }
    // 35 of 103 are class 1: 7 per fold.
    EXPECT_EQ(positives, 7) << "fold of " << fold.size();
  }
  for (int n : seen) EXPECT_EQ(n, 1);
}

TEST(KFold, SameSeedSameFoldsOtherSeedOtherFolds) {
  const Dataset d = toy(60);
  EXPECT_EQ(kfold_indices(d, 4, true, 3), kfold_indices(d, 4, true, 3));
  EXPECT_NE(kfold_indices(d, 4, true, 3), kfold_indices(d, 4, true, 4));
  const auto plain = kfold_indices(d, 4, false, 3);
  for (const auto& fold : plain) EXPECT_EQ(fold.size(), 15u);
}

TEST(KFold, BadFoldCountsAreErrors) {
  const Dataset d = toy(4);
  EXPECT_THROW(kfold_indices(d, 1, true, 1), Error);
  EXPECT_THROW(kfold_indices(d, 5, true, 1), Error);
  EXPECT_NO_THROW(kfold_indices(d, 4, true, 1));
}

TEST(KFold, FoldPartsSplitTheDataWithoutOverlap) {
  Dataset d = toy(30);
  d.class_names = {"no", "yes"};
  const auto folds = kfold_indices(d, 3, true, 1);
  for (std::size_t f = 0; f < folds.size(); ++f) {
    const auto [train, held] = fold_parts(d, folds, f);
    EXPECT_EQ(train.examples() + held.examples(), 30);
    EXPECT_EQ(held.examples(), static_cast<Eigen::Index>(folds[f].size()));
    EXPECT_EQ(train.class_names, d.class_names);
    std::set<double> a, b;
    for (Eigen::Index j = 0; j < train.examples(); ++j) a.insert(train.X(0, j));
    for (Eigen::Index j = 0; j < held.examples(); ++j) b.insert(held.X(0, j));
    for (double x : b) EXPECT_EQ(a.count(x), 0u);
    // Targets travel with their examples.
    for (Eigen::Index j = 0; j < held.examples(); ++j)
      EXPECT_EQ(held.targets[static_cast<std::size_t>(j)], static_cast<int>(held.X(0, j)) % 3 == 0 ? 1.0 : 0.0);
  }
}

TEST(Subset, TakesColumnsInOrder) {
  const Dataset d = toy(10);
  const Dataset s = subset(d, {7, 2, 2});
  ASSERT_EQ(s.examples(), 3);
  EXPECT_EQ(s.X(0, 0), 7);
  EXPECT_EQ(s.X(0, 1), 2);
  EXPECT_EQ(s.targets, (std::vector<double>{0, 0, 0}));
  EXPECT_THROW(subset(d, {10}), Error);
}

TEST(Halving, ThirdsUntilOneRemainsAtTheFullBudget) {
  const auto rounds = halving_rounds(20, 3);
  ASSERT_EQ(rounds.size(), 4u);
  EXPECT_EQ(rounds[0].settings, 20);
  EXPECT_EQ(rounds[0].divisor, 27);
  EXPECT_EQ(rounds[1].settings, 7);
  EXPECT_EQ(rounds[1].divisor, 9);
  EXPECT_EQ(rounds[2].settings, 3);
  EXPECT_EQ(rounds[2].divisor, 3);
  EXPECT_EQ(rounds[3].settings, 1);
  EXPECT_EQ(rounds[3].divisor, 1);
  const auto nine = halving_rounds(9, 3);
  ASSERT_EQ(nine.size(), 3u);
  EXPECT_EQ(nine[0].settings, 9);
  EXPECT_EQ(nine[1].settings, 3);
  EXPECT_EQ(nine[2].settings, 1);
  const auto one = halving_rounds(1, 3);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].divisor, 1);
  EXPECT_THROW(halving_rounds(0, 3), Error);
  EXPECT_THROW(halving_rounds(5, 1), Error);
}

TEST(Halving, BudgetIsDividedAndAtLeastOne) {
  EXPECT_EQ(halving_budget(54, 27), 2);
  EXPECT_EQ(halving_budget(54, 1), 54);
  EXPECT_EQ(halving_budget(10, 27), 1);
  EXPECT_EQ(halving_budget(5000, 9), 555);
}

TEST(MeanStd, PopulationStandardDeviation) {
  const MeanStd a = mean_std({1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(a.mean, 2.5);
  EXPECT_DOUBLE_EQ(a.std, std::sqrt(1.25));
  const MeanStd b = mean_std({0.9});
  EXPECT_DOUBLE_EQ(b.mean, 0.9);
  EXPECT_EQ(b.std, 0.0);
  EXPECT_TRUE(std::isnan(mean_std({}).mean));
}

}  // namespace
}  // namespace deepnet
