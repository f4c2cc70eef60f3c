#pragma once
// Shared libraries deepnet loads when first needed, not when a program starts
// (libhdf5: src/io/hdf5.cpp; oneDNN: src/core/onednn.hpp): opened with
// dlopen(RTLD_NOW | RTLD_LOCAL) by the soname the build found
// (cmake/soname.cmake), or by the file an environment variable names.
#include <string>

namespace deepnet::detail {

struct RuntimeLibrary {
  void* handle = nullptr;
  std::string name;     // what was opened (or tried)
  std::string failure;  // why it could not be opened, or the first symbol it lacks; "" when all is well
  // The symbol's address, or null (the first missing one goes into failure).
  void* symbol(const char* symbol);
};

// Opens the file the environment variable `variable` names when it is set and
// not empty, else `soname`; failure says why when it cannot.
RuntimeLibrary open_runtime_library(const char* variable, const char* soname);

}  // namespace deepnet::detail
