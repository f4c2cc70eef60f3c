#pragma once
// Shared pieces of the libFuzzer targets: a deepnet::Error is a parser's normal
// way to reject bad input and is caught; any other exception escapes (libFuzzer
// reports it as a crash, through std::terminate), and so do sanitizer reports.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "deepnet/error.hpp"

namespace deepnet_fuzz {

// Runs `parse`; true when it returned, false when it threw deepnet::Error.
template <typename F>
bool accepts(F&& parse) {
  try {
    parse();
    return true;
  } catch (const deepnet::Error&) {
    return false;
  }
}

// A property that must hold for every input a parser accepts.
#define FUZZ_CHECK(condition)                                                          \
  do {                                                                                 \
    if (!(condition)) {                                                                \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

// For parsers that only read a path: the input written to a file of this
// process (DEEPNET_FUZZ_TMPDIR, else /dev/shm, else $TMPDIR, else /tmp), removed
// again when the object goes. A crash leaves it behind: scripts/fuzz points
// DEEPNET_FUZZ_TMPDIR at a folder of its own and removes that at the end.
class TempFile {
 public:
  TempFile(const char* tag, const char* extension, const std::uint8_t* data, std::size_t size) {
    path_ = directory() + "/deepnet-fuzz-" + tag + "-" + std::to_string(::getpid()) + extension;
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) fatal("cannot create");
    for (std::size_t done = 0; done < size;) {
      const ssize_t n = ::write(fd, data + done, size - done);
      if (n <= 0) fatal("cannot write");
      done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) fatal("cannot close");
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static bool usable(const char* dir) {
    struct stat info {};
    return dir != nullptr && *dir != '\0' && ::stat(dir, &info) == 0 && S_ISDIR(info.st_mode) &&
           ::access(dir, W_OK) == 0;
  }
  static std::string directory() {
    for (const char* dir : {static_cast<const char*>(std::getenv("DEEPNET_FUZZ_TMPDIR")), "/dev/shm",
                            static_cast<const char*>(std::getenv("TMPDIR")), "/tmp"})
      if (usable(dir)) return dir;
    return ".";
  }
  [[noreturn]] void fatal(const char* what) const {
    // The harness failing is not a finding about the parser: stop loudly.
    std::fprintf(stderr, "fuzz harness: %s %s\n", what, path_.c_str());
    std::_Exit(2);
  }
  std::string path_;
};

}  // namespace deepnet_fuzz
