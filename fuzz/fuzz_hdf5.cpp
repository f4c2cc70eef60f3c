// Fuzzes the HDF5 reader (src/io/hdf5.cpp over libhdf5). libhdf5 opens files by
// path, so each input goes to a temporary file; then the dataset names are
// listed and every dataset (up to 16) is loaded, plus the usual keys X and y.
//
// The target calls the in-process reader (io/hdf5_reader.hpp), not the public
// functions: those fork a child per call that runs the same code, and
// libFuzzer's coverage counters live in this process (a child's coverage is
// lost, so fuzzing through them would be blind), and a deepnet bug inside the
// child would come back as "libhdf5 crashed" instead of a sanitizer report.
// With DEEPNET_FUZZ_HDF5_CONTAINED=1 it calls the public functions instead:
// scripts/fuzz runs every crash it sorted as libhdf5's again that way, where it
// must come back as a deepnet::Error (the containment is checked, not assumed).
//
// libhdf5 1.10 itself crashes on some corrupted files, in its own code, before
// deepnet can check anything (docs/reliability.md). In-process, such crashes
// are libhdf5's, not deepnet's: scripts/fuzz runs this target in fork mode so
// that fuzzing goes on after one, and sorts every crash by whether its first
// frame outside the sanitizer runtime and libc lies in libhdf5 (reported, not
// failed, once contained) or anywhere else (a finding that fails the run). In this process:
//  - as in a normal build, libhdf5 gets NULL for an impossible malloc (a size
//    from a corrupt header) and reports an error; deepnet's own allocations go
//    through operator new, whose std::bad_alloc still fails the input;
//  - leaks of libhdf5's internal objects (free-list objects H5FL_*, decoded
//    header messages H5O_msg_read*: what it loses on error paths of corrupt
//    files) are suppressed; they never reach deepnet. Memory libhdf5 hands to
//    its caller (H5MM_*, e.g. H5Tget_member_name) is not suppressed. Allocation
//    stacks are unwound slowly, as libhdf5 has no frame pointers;
//  - deepnet's own duty, closing every identifier it opens, is checked after
//    each input instead (an identifier left open is no leak to LeakSanitizer);
//  - libhdf5's atexit clean-up is off: after a corrupt file it can crash at
//    exit, outside any input, which no artifact could reproduce.
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "deepnet/array.hpp"
#include "fuzz_common.hpp"
#include "io/hdf5_reader.hpp"

extern "C" const char* __asan_default_options() {
  return "allocator_may_return_null=1:fast_unwind_on_malloc=0:malloc_context_size=10";
}
extern "C" const char* __lsan_default_suppressions() { return "leak:H5FL_\nleak:H5O_msg_read\n"; }

namespace {
bool contained = false;  // DEEPNET_FUZZ_HDF5_CONTAINED=1: through the reader process
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  H5dont_atexit();
  const char* mode = std::getenv("DEEPNET_FUZZ_HDF5_CONTAINED");
  contained = mode != nullptr && std::string(mode) == "1";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const deepnet_fuzz::TempFile file("hdf5", ".h5", data, size);
  std::vector<std::string> names;
  deepnet_fuzz::accepts([&] {
    names = contained ? deepnet::hdf5_dataset_names(file.path()) : deepnet::io::hdf5_dataset_names_in_process(file.path());
  });
  names.resize(std::min<std::size_t>(names.size(), 16));
  if (names.empty()) names = {"X", "/y"};
  for (const std::string& name : names)
    for (bool compact : {false, true})  // as doubles; uint8 as bytes and float32 as floats
      deepnet_fuzz::accepts([&] {
        const deepnet::NumericArray array = contained ? deepnet::load_hdf5_dataset(file.path(), name, compact)
                                                      : deepnet::io::load_hdf5_dataset_in_process(file.path(), name, compact);
        const std::size_t held = array.values.size() + array.bytes.size() + array.floats.size();
        FUZZ_CHECK(held == array.size());
        FUZZ_CHECK(compact || (array.bytes.empty() && array.floats.empty()));
      });
  FUZZ_CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);  // deepnet closed what it opened
  return 0;
}
