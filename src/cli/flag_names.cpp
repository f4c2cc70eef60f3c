// Library setting names -> CLI flags in error messages (flag_names.hpp).
#include "cli/flag_names.hpp"

#include <string_view>

namespace deepnet::cli {

namespace {

struct Rename {
  std::string_view library, cli;
};

// Phrases exactly as the library writes them (src/io/array_dataset.cpp,
// src/io/dataset.cpp, src/io/limits.cpp, src/train/minibatch.cpp); the tests
// in tests/cli pin the CLI's side.
constexpr Rename kRenames[] = {
    {"the X key (x_key)", "--x-key"},
    {"or the labels key (y_key)", "or --y-key NAME"},
    {"the labels key (y_key)", "--y-key"},
    {"a labels file (labels_path)", "--labels FILE"},
    {"examples_as_columns needs", "--examples-as-columns needs"},
    {"set examples_as_columns)", "use --examples-as-columns)"},
    {"with drop_last leaves", "with --drop-last leaves"},
    {" (set with set_memory_limit)", " (--max-memory); --max-memory raises it"},
    {" (the memory available now)", " (the memory available now); --max-memory raises it"},
    {"has no test part", "has no test part; use --val-split or --test FILE"},
};

}  // namespace

std::string with_flag_names(std::string message) {
  for (const Rename& r : kRenames) {
    for (std::size_t at = message.find(r.library); at != std::string::npos;
         at = message.find(r.library, at + r.cli.size()))
      message.replace(at, r.library.size(), r.cli);
  }
  return message;
}

}  // namespace deepnet::cli
