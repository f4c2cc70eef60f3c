// SIGINT and SIGTERM during `deepnet search`'s trials (interrupt.hpp): a
// handler that does nothing but write(2) one byte to a pipe (async-signal-safe),
// and a thread that waits on the pipe and hands the signal to the search.
#include "cli/search/interrupt.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "cli/cli.hpp"

namespace deepnet::cli::search {

namespace {

// The pipe's write end, for the handler; -1 while no watch is alive.
volatile sig_atomic_t write_fd = -1;
struct sigaction previous_int, previous_term;

extern "C" void on_signal_handler(int signo) {
  const int saved = errno;
  const unsigned char byte = static_cast<unsigned char>(signo);
  if (write_fd >= 0) {
    const ssize_t written = ::write(write_fd, &byte, 1);
    static_cast<void>(written);
  }
  errno = saved;
}

}  // namespace

InterruptWatch::InterruptWatch(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal)) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw CliError(exit_other, std::string("cannot make a pipe for Ctrl-C: ") + std::strerror(errno));
  // Never block the handler: a full pipe already holds a signal to act on.
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  read_fd_ = fds[0];
  write_fd = fds[1];
  watcher_ = std::thread([this] {
    for (;;) {
      unsigned char byte = 0;
      const ssize_t n = ::read(read_fd_, &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == 0) return;  // the watch ends
      on_signal_(byte);
    }
  });
  struct sigaction action {};
  action.sa_handler = on_signal_handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &previous_int);
  ::sigaction(SIGTERM, &action, &previous_term);
}

InterruptWatch::~InterruptWatch() {
  ::sigaction(SIGINT, &previous_int, nullptr);
  ::sigaction(SIGTERM, &previous_term, nullptr);
  const int fd = write_fd;
  const unsigned char stop = 0;
  const ssize_t written = ::write(fd, &stop, 1);
  static_cast<void>(written);
  watcher_.join();
  // A signal that came just before the handlers were put back, after the stop byte.
  ::fcntl(read_fd_, F_SETFL, O_NONBLOCK);
  unsigned char byte = 0;
  while (::read(read_fd_, &byte, 1) == 1)
    if (byte != 0) on_signal_(byte);
  write_fd = -1;
  ::close(fd);
  ::close(read_fd_);
}

}  // namespace deepnet::cli::search
