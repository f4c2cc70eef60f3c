// oneDNN loaded on first use (see onednn.hpp).
#include "core/onednn.hpp"

#ifdef DEEPNET_WITH_DNNL
#include "core/runtime_library.hpp"

namespace deepnet::detail {

const OneDnn& onednn() {
  static const OneDnn library = [] {
    OneDnn lib;
    RuntimeLibrary runtime = open_runtime_library("DEEPNET_DNNL_LIBRARY", DEEPNET_DNNL_LIBRARY);
    if (!runtime.failure.empty()) {
      lib.failure = runtime.failure;
      return lib;
    }
#define DEEPNET_DNNL_LOAD(name) lib.name = reinterpret_cast<decltype(lib.name)>(runtime.symbol(#name));
    DEEPNET_DNNL_FUNCTIONS(DEEPNET_DNNL_LOAD)
#undef DEEPNET_DNNL_LOAD
    lib.failure = runtime.failure;
    return lib;
  }();
  return library;
}

}  // namespace deepnet::detail
#endif
