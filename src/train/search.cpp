// Library pieces of hyperparameter search: k-fold indices, subsets, the
// successive-halving schedule, mean and standard deviation.
#include "deepnet/search.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "deepnet/error.hpp"
#include "deepnet/rng.hpp"

namespace deepnet {

Dataset subset(const Dataset& data, const std::vector<Eigen::Index>& columns) {
  Dataset part;
  const auto count = static_cast<Eigen::Index>(columns.size());
  if (data.has_pixels())
    part.pixels.resize(data.features(), count);
  else if (data.has_singles())
    part.singles.resize(data.features(), count);
  else
    part.X.resize(data.features(), count);
  part.targets.reserve(columns.size());
  for (std::size_t k = 0; k < columns.size(); ++k) {
    const Eigen::Index j = columns[k];
    if (j < 0 || j >= data.examples())
      throw Error("subset: example " + std::to_string(j) + " outside 0.." + std::to_string(data.examples() - 1));
    if (data.has_pixels())
      part.pixels.col(static_cast<Eigen::Index>(k)) = data.pixels.col(j);
    else if (data.has_singles())
      part.singles.col(static_cast<Eigen::Index>(k)) = data.singles_view().col(j);
    else
      part.X.col(static_cast<Eigen::Index>(k)) = data.X.col(j);
    part.targets.push_back(data.targets[static_cast<std::size_t>(j)]);
    if (!data.weights.empty()) part.weights.push_back(data.weights[static_cast<std::size_t>(j)]);
  }
  part.class_names = data.class_names;
  part.feature_names = data.feature_names;
  part.named_features = data.named_features;
  part.target_name = data.target_name;
  part.source = data.source;
  part.uint8_pixels = data.uint8_pixels;
  return part;
}

std::vector<std::vector<Eigen::Index>> kfold_indices(const Dataset& data, int folds, bool stratify,
                                                     std::uint64_t seed) {
  const Eigen::Index m = data.examples();
  if (folds < 2) throw Error("cross-validation: expected at least 2 folds, got " + std::to_string(folds));
  if (folds > m)
    throw Error("cross-validation: " + std::to_string(folds) + " folds need at least as many examples; " +
                data.source + " has " + std::to_string(m));
  Rng rng(seed);
  std::map<double, std::vector<Eigen::Index>> groups;  // one group per class, or one in all
  for (Eigen::Index j = 0; j < m; ++j) groups[stratify ? data.targets[static_cast<std::size_t>(j)] : 0.0].push_back(j);
  std::vector<std::vector<Eigen::Index>> out(static_cast<std::size_t>(folds));
  std::size_t next = 0;  // dealing continues across classes: fold sizes differ by at most one
  for (auto& [key, members] : groups) {
    for (std::size_t k = members.size(); k > 1; --k) std::swap(members[k - 1], members[rng.below(k)]);
    for (Eigen::Index j : members) {
      out[next].push_back(j);
      next = (next + 1) % out.size();
    }
  }
  for (auto& fold : out) std::sort(fold.begin(), fold.end());
  return out;
}

std::pair<Dataset, Dataset> fold_parts(const Dataset& data, const std::vector<std::vector<Eigen::Index>>& folds,
                                       std::size_t f) {
  if (f >= folds.size()) throw Error("cross-validation: fold " + std::to_string(f) + " of " + std::to_string(folds.size()));
  std::vector<bool> held(static_cast<std::size_t>(data.examples()), false);
  for (Eigen::Index j : folds[f]) held[static_cast<std::size_t>(j)] = true;
  std::vector<Eigen::Index> train;
  for (Eigen::Index j = 0; j < data.examples(); ++j)
    if (!held[static_cast<std::size_t>(j)]) train.push_back(j);
  return {subset(data, train), subset(data, folds[f])};
}

std::vector<HalvingRound> halving_rounds(int settings, int eta) {
  if (settings < 1) throw Error("successive halving: expected at least 1 setting, got " + std::to_string(settings));
  if (eta < 2) throw Error("successive halving: expected eta >= 2, got " + std::to_string(eta));
  std::vector<int> counts{settings};
  while (counts.back() > 1) counts.push_back((counts.back() + eta - 1) / eta);
  std::vector<HalvingRound> rounds;
  const std::size_t R = counts.size() - 1;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    long long divisor = 1;
    for (std::size_t k = r; k < R; ++k) divisor = divisor > std::numeric_limits<long long>::max() / eta ? divisor : divisor * eta;
    rounds.push_back({counts[r], divisor});
  }
  return rounds;
}

long long halving_budget(long long full, long long divisor) {
  return std::max(1LL, full / std::max(1LL, divisor));
}

MeanStd mean_std(const std::vector<double>& values) {
  if (values.empty()) return {std::nan(""), std::nan("")};
  double sum = 0;
  for (double v : values) sum += v;
  const double mean = sum / static_cast<double>(values.size());
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return {mean, std::sqrt(squares / static_cast<double>(values.size()))};
}

}  // namespace deepnet
