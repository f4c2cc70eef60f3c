#pragma once
// The HDF5 reader itself, in this process. deepnet::load_hdf5_dataset and
// deepnet::hdf5_dataset_names (deepnet/array.hpp) run these in a child process,
// because libhdf5 1.10 crashes inside its own code on some damaged files; the
// fuzz target (fuzz/fuzz_hdf5.cpp) calls them directly, where libFuzzer sees
// their coverage. Same results and errors as the public functions.
#include <string>
#include <vector>

#include "deepnet/array.hpp"

namespace deepnet::io {

NumericArray load_hdf5_dataset_in_process(const std::string& path, const std::string& key, bool compact = false);
std::vector<std::string> hdf5_dataset_names_in_process(const std::string& path);

}  // namespace deepnet::io
