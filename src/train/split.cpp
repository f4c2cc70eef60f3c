// Seeded, stratified splitting of a data set into training and validation parts.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "deepnet/error.hpp"
#include "deepnet/preprocess.hpp"
#include "deepnet/rng.hpp"

namespace deepnet {

namespace {

Dataset take(const Dataset& data, const std::vector<Eigen::Index>& columns) {
  Dataset part;
  part.X.resize(data.X.rows(), static_cast<Eigen::Index>(columns.size()));
  part.targets.reserve(columns.size());
  for (std::size_t k = 0; k < columns.size(); ++k) {
    part.X.col(static_cast<Eigen::Index>(k)) = data.X.col(columns[k]);
    part.targets.push_back(data.targets[static_cast<std::size_t>(columns[k])]);
    if (!data.weights.empty()) part.weights.push_back(data.weights[static_cast<std::size_t>(columns[k])]);
  }
  part.class_names = data.class_names;
  part.feature_names = data.feature_names;
  part.target_name = data.target_name;
  part.source = data.source;
  part.uint8_pixels = data.uint8_pixels;
  return part;
}

void shuffle(std::vector<Eigen::Index>& items, Rng& rng) {
  for (std::size_t k = items.size(); k > 1; --k) std::swap(items[k - 1], items[rng.below(k)]);
}

}  // namespace

std::pair<Dataset, Dataset> split_dataset(const Dataset& data, double fraction, bool stratify,
                                          std::uint64_t seed) {
  if (!(fraction > 0 && fraction < 1))
    throw Error("validation split: expected a fraction between 0 and 1 (exclusive), got " +
                std::to_string(fraction));
  Rng rng(seed);
  std::map<double, std::vector<Eigen::Index>> groups;  // one group per class, or one in all
  for (Eigen::Index j = 0; j < data.examples(); ++j)
    groups[stratify ? data.targets[static_cast<std::size_t>(j)] : 0.0].push_back(j);
  std::vector<Eigen::Index> train, validation;
  for (auto& [key, members] : groups) {
    shuffle(members, rng);
    const auto held_out = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(members.size())));
    validation.insert(validation.end(), members.begin(), members.begin() + static_cast<std::ptrdiff_t>(held_out));
    train.insert(train.end(), members.begin() + static_cast<std::ptrdiff_t>(held_out), members.end());
  }
  if (train.empty() || validation.empty())
    throw Error("validation split " + std::to_string(fraction) + " of " +
                std::to_string(data.examples()) + " examples leaves an empty part");
  // Keep the file order inside each part.
  std::sort(train.begin(), train.end());
  std::sort(validation.begin(), validation.end());
  return {take(data, train), take(data, validation)};
}

}  // namespace deepnet
