// Seeded, stratified splitting of a data set into training and validation parts.
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "deepnet/error.hpp"
#include "deepnet/preprocess.hpp"
#include "deepnet/rng.hpp"
#include "deepnet/search.hpp"

namespace deepnet {

namespace {

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
  return {subset(data, train), subset(data, validation)};
}

}  // namespace deepnet
