#pragma once
// Pieces of hyperparameter search (`deepnet search`, docs/search.md) that do
// not depend on the command line: k-fold splitting, taking a subset of a data
// set, the successive-halving schedule, and the mean and spread of scores.
#include <cstdint>
#include <utility>
#include <vector>

#include "deepnet/dataset.hpp"

namespace deepnet {

// The examples of `data` at `columns`, in that order, with the data set's
// names, classes and weights.
Dataset subset(const Dataset& data, const std::vector<Eigen::Index>& columns);

// Splits the examples into `folds` (2 <= folds <= m) held-out parts for k-fold
// cross-validation. Stratified (stratify = true): each class is shuffled
// (seeded) and dealt out in turn, continuing from fold to fold across classes,
// so every fold gets its share of each class and the folds differ in size by
// at most one. Returns the held-out example indices of each fold, sorted.
// Throws Error on a bad fold count.
std::vector<std::vector<Eigen::Index>> kfold_indices(const Dataset& data, int folds, bool stratify,
                                                     std::uint64_t seed);

// (training part, held-out part) for fold f of kfold_indices.
std::pair<Dataset, Dataset> fold_parts(const Dataset& data, const std::vector<std::vector<Eigen::Index>>& folds,
                                       std::size_t f);

// Successive halving with `settings` candidates and reduction factor eta >= 2:
// round r trains `settings` candidates on the full budget divided by
// `divisor`; the best ceil(settings / eta) go on to the next round; the last
// round has one candidate and divisor 1 (the full budget). With 20 and eta 3:
// 20 at 1/27, 7 at 1/9, 3 at 1/3, 1 at the full budget.
struct HalvingRound {
  int settings = 0;
  long long divisor = 1;
};
std::vector<HalvingRound> halving_rounds(int settings, int eta = 3);
// A budget (epochs or iterations) divided by `divisor`, rounded down, at least 1.
long long halving_budget(long long full, long long divisor);

// Mean and population standard deviation (divides by n, as numpy's std); NaN for no values.
struct MeanStd {
  double mean = 0;
  double std = 0;
};
MeanStd mean_std(const std::vector<double>& values);

}  // namespace deepnet
