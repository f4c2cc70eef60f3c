// oneDNN loaded on first use (see onednn.hpp).
#include "core/onednn.hpp"

#ifdef DEEPNET_WITH_DNNL
#include <dlfcn.h>

#include <cstdlib>

namespace deepnet::detail {

const OneDnn& onednn() {
  static const OneDnn library = [] {
    OneDnn lib;
    const char* from_environment = std::getenv("DEEPNET_DNNL_LIBRARY");
    const std::string name = from_environment && *from_environment ? from_environment : DEEPNET_DNNL_LIBRARY;
    void* handle = ::dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      lib.failure = why ? why : name + ": cannot be loaded";
      return lib;
    }
    auto find = [&](const char* symbol) {
      void* address = ::dlsym(handle, symbol);
      if (address == nullptr && lib.failure.empty()) lib.failure = name + " has no symbol " + symbol;
      return address;
    };
#define DEEPNET_DNNL_LOAD(name) lib.name = reinterpret_cast<decltype(lib.name)>(find(#name));
    DEEPNET_DNNL_FUNCTIONS(DEEPNET_DNNL_LOAD)
#undef DEEPNET_DNNL_LOAD
    return lib;
  }();
  return library;
}

}  // namespace deepnet::detail
#endif
