// Shared libraries loaded on first use (see runtime_library.hpp).
#include "core/runtime_library.hpp"

#include <dlfcn.h>

#include <cstdlib>

namespace deepnet::detail {

void* RuntimeLibrary::symbol(const char* symbol) {
  void* address = handle ? ::dlsym(handle, symbol) : nullptr;
  if (address == nullptr && failure.empty()) failure = name + " has no symbol " + symbol;
  return address;
}

RuntimeLibrary open_runtime_library(const char* variable, const char* soname) {
  RuntimeLibrary library;
  const char* from_environment = std::getenv(variable);
  library.name = from_environment && *from_environment ? from_environment : soname;
  library.handle = ::dlopen(library.name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library.handle == nullptr) {
    const char* why = ::dlerror();
    library.failure = why ? why : library.name + ": cannot be loaded";
  }
  return library;
}

}  // namespace deepnet::detail
