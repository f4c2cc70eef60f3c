#pragma once
// Reading n bytes of an open file at an offset, for the loaders that read a
// file's bytes straight into their place (read_file.cpp, array_dataset.cpp).
// Private to the library.
#include <cerrno>
#include <cstddef>
#include <sys/types.h>
#include <unistd.h>

namespace deepnet::io {

// pread() until n bytes are in out (again after EINTR); false on an error or
// when the file ends first.
inline bool pread_all(int fd, char* out, std::size_t n, std::size_t offset) {
  for (std::size_t done = 0; done < n;) {
    const ssize_t got = ::pread(fd, out + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

}  // namespace deepnet::io
