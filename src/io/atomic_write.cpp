#include "deepnet/files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "deepnet/error.hpp"

namespace deepnet::io {

namespace {

// The temporary for target NAME is ".NAME.tmp-XXXXXX" (mkstemp's six characters)
// in the target's own folder, so that the final rename never crosses a file system.
std::string temp_prefix(const std::string& name) { return "." + name + ".tmp-"; }

// TEST-ONLY hook (issue #7, tests/cli/crash_test.cpp), compiled only with
// DEEPNET_TEST_HOOKS, i.e. into the test copy of the CLI (deepnet_cli_testhooks,
// tests/CMakeLists.txt); the library and the installed `deepnet` have no such
// hook. There, the environment variable DEEPNET_TEST_SLOW_WRITE_MS=N (a positive
// integer of milliseconds) makes the writer sleep N ms after writing half of the
// temporary file, before the fsync and the rename, to widen the window in which
// the crash test's SIGKILL lands in the middle of a write. Unset, empty or not a
// positive integer: no sleep, no other effect.
#ifdef DEEPNET_TEST_HOOKS
int test_slow_write_ms() {
  const char* value = std::getenv("DEEPNET_TEST_SLOW_WRITE_MS");
  if (value == nullptr || *value == '\0') return 0;
  char* end = nullptr;
  errno = 0;
  const long ms = std::strtol(value, &end, 10);
  if (errno != 0 || *end != '\0' || ms <= 0) return 0;
  return static_cast<int>(std::min(ms, 60000L));
}
#else
constexpr int test_slow_write_ms() { return 0; }
#endif

// write(2) until everything is written; false with errno set on failure.
bool write_all(int fd, const char* data, std::size_t size) {
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd, data + written, size - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  return true;
}

// A writer killed between creating its temporary and the rename (SIGKILL, a
// crash, power loss) leaves the temporary behind. Each writer holds an flock(2)
// on its temporary until after the rename, and the kernel drops that lock when
// the process dies; so a temporary of this target that can be locked now
// belongs to no live writer and is removed. Best effort: errors are ignored,
// and a file system without flock keeps its leftovers (they are hidden and
// clearly named, and nothing reads them).
void remove_stale_temporaries(const std::filesystem::path& dir, const std::string& name) {
  const std::string prefix = temp_prefix(name);
  std::vector<std::string> stale;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* entry = ::readdir(d)) {
      const std::string entry_name = entry->d_name;
      if (entry_name.size() == prefix.size() + 6 && entry_name.compare(0, prefix.size(), prefix) == 0)
        stale.push_back(entry_name);
    }
    ::closedir(d);
  }
  for (const std::string& entry_name : stale) {
    const std::string path = (dir / entry_name).string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) continue;
    struct stat opened {}, named {};
    // Unlink only what we hold locked and what the name still refers to (a
    // writer that renamed its temporary meanwhile has made it the target).
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::fstat(fd, &opened) == 0 && S_ISREG(opened.st_mode) &&
        ::lstat(path.c_str(), &named) == 0 && opened.st_dev == named.st_dev && opened.st_ino == named.st_ino)
      ::unlink(path.c_str());
    ::close(fd);
  }
}

}  // namespace

// Crash safety, step by step:
//  1. the temporary is created in the target's folder (same file system, so
//     rename(2) is atomic) with mkstemp, and locked (see remove_stale_temporaries);
//  2. the whole content is written and fsync'ed before the rename, so the name
//     never points at data that is not on disk yet;
//  3. rename(2) replaces the target atomically: readers and a crash see the old
//     file or the new one;
//  4. the folder is fsync'ed after the rename, so the new name itself survives
//     a power loss.
void write_file_atomically(const std::string& path, std::string_view content) {
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  const std::string name = target.filename().string();
  remove_stale_temporaries(dir, name);

  std::string temp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    temp = (dir / (temp_prefix(name) + "XXXXXX")).string();
    fd = ::mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0) throw Error(path + ": cannot write the file (" + std::strerror(errno) + ")");
    // Where flock is not supported, go on unlocked: others' clean-up never
    // removes a file it cannot lock.
    ::flock(fd, LOCK_EX);
    // Another writer's clean-up may have removed the file between mkstemp and
    // flock (it held the lock then); take a new one.
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_nlink == 0 && attempt < 10) {
      ::close(fd);
      fd = -1;
    }
  }
  auto fail = [&](const std::string& what) {
    const int saved = errno;
    ::unlink(temp.c_str());
    ::close(fd);
    throw Error(path + ": " + what + " (" + std::strerror(saved) + "); the previous file is unchanged");
  };
  const int slow_ms = test_slow_write_ms();
  const std::size_t half = slow_ms > 0 ? content.size() / 2 : content.size();
  if (!write_all(fd, content.data(), half)) fail("write failed");
  if (slow_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms));  // test only, see above
  if (!write_all(fd, content.data() + half, content.size() - half)) fail("write failed");
  ::fchmod(fd, 0644);
  if (::fsync(fd) != 0) fail("sync failed");
  // The lock is held (fd open) until after the rename.
  if (std::rename(temp.c_str(), path.c_str()) != 0) fail("cannot replace the file");
  (void)::close(fd);  // the data was fsync'ed before the rename: a late close error changes nothing
  // Best effort where the folder cannot be opened (no read permission on it).
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return;
  if (::fsync(dir_fd) != 0 && errno != EINVAL) {  // EINVAL: the file system does not sync folders
    const int saved = errno;
    ::close(dir_fd);
    throw Error(path + ": written, but syncing its folder failed (" + std::strerror(saved) +
                "); the new file may not survive a power loss");
  }
  ::close(dir_fd);
}

void check_writable(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target(path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (path.empty() || !target.has_filename()) throw Error(path + ": expected a file name, not a folder");
  if (fs::is_directory(target, ec)) throw Error(path + ": is a folder; expected a file name");
  if (!fs::exists(folder, ec)) throw Error(path + ": cannot write here: the folder " + folder.string() + " does not exist");
  if (!fs::is_directory(folder, ec)) throw Error(path + ": cannot write here: " + folder.string() + " is not a folder");
  if (::access(folder.c_str(), W_OK | X_OK) != 0)
    throw Error(path + ": cannot write here: the folder " + folder.string() + " is not writable (" +
                std::strerror(errno) + ")");
}

}  // namespace deepnet::io
