#pragma once
// `deepnet search`'s settings, the points of its space: every combination
// (grid) or distinct draws (random), and each made concrete as the library's
// FitSettings, as `deepnet train` would make it.
#include <cstdint>
#include <string>
#include <vector>

#include "cli/search/space.hpp"
#include "deepnet/fit.hpp"

namespace deepnet::cli::search {

using Setting = json;  // parameter -> value, in the order of params()

// "layers 4, lr 0.01", or "(defaults)" for an empty setting.
std::string describe(const Setting& s);

// The number of settings of the grid; stops counting above 10^9.
long long grid_size(const std::vector<Dimension>& dims);
// The cartesian product; the last parameter changes fastest.
std::vector<Setting> grid_settings(const std::vector<Dimension>& dims);
// `trials` distinct settings drawn with a generator seeded from --seed (the
// whole grid, in grid order, when the space is finite and not larger).
std::vector<Setting> random_settings(const std::vector<Dimension>& dims, int trials, std::uint64_t seed);

// A setting made concrete: the library's settings for it.
struct TrialSpec {
  FitSettings fit;
};

// The setting as train's flags would give it, the rest at train's defaults;
// course: the course's full-batch loop (--iterations) instead of mini-batch
// training. rng, seed and output are the search's --rng, --seed and --output.
// Throws CliError or deepnet::Error for a value train would refuse.
TrialSpec resolve(const Setting& s, bool course, const std::string& rng, std::uint64_t seed, const std::string& output);

}  // namespace deepnet::cli::search
