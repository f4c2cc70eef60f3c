#pragma once
// oneDNN (libdnnl), loaded when the first float product needs it, not when a
// program starts: mapping and relocating the 40 MB library (and the OpenCL
// loader it brings) costs about 1.2 ms in every process, a twentieth of the
// course's whole planar run, which never multiplies a float matrix. Every
// call goes through onednn(), whose members are libdnnl's C functions of the
// same names, found with dlsym in the library deepnet was built against
// (DEEPNET_DNNL_LIBRARY, a soname; cmake/soname.cmake) or in the
// one the environment variable DEEPNET_DNNL_LIBRARY names.
#ifdef DEEPNET_WITH_DNNL
#include <oneapi/dnnl/dnnl.h>

#include <string>

namespace deepnet::detail {

#define DEEPNET_DNNL_FUNCTIONS(X)                                                                         \
  X(dnnl_version) X(dnnl_sgemm) X(dnnl_engine_create) X(dnnl_engine_destroy) X(dnnl_stream_create)      \
  X(dnnl_stream_wait) X(dnnl_stream_destroy) X(dnnl_memory_desc_init_by_strides)                        \
  X(dnnl_memory_desc_init_by_tag) X(dnnl_matmul_desc_init) X(dnnl_primitive_desc_create)               \
  X(dnnl_primitive_desc_destroy) X(dnnl_primitive_create) X(dnnl_primitive_destroy)                     \
  X(dnnl_primitive_execute) X(dnnl_memory_create) X(dnnl_memory_set_data_handle) X(dnnl_memory_destroy)

struct OneDnn {
#define DEEPNET_DNNL_MEMBER(name) decltype(&::name) name = nullptr;
  DEEPNET_DNNL_FUNCTIONS(DEEPNET_DNNL_MEMBER)
#undef DEEPNET_DNNL_MEMBER
  std::string failure;  // why the library could not be loaded, or ""
  bool loaded() const { return failure.empty(); }
};

// Loaded once per process, on the first call; never unloaded.
const OneDnn& onednn();

}  // namespace deepnet::detail
#endif
