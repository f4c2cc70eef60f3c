#pragma once
// Ctrl-C (SIGINT) and SIGTERM while `deepnet search` runs its trials: instead
// of dying at once, the search says what it kept and how to go on.
#include <functional>
#include <thread>

namespace deepnet::cli::search {

// While alive, SIGINT and SIGTERM no longer end the process by themselves:
// the signal handler only writes the signal's number to a pipe, and a thread
// of this watch reads it and calls on_signal(number) there, outside the
// handler (so it may lock, allocate and print). on_signal must end the
// process (_exit). The destructor puts back the handlers there were before.
class InterruptWatch {
 public:
  explicit InterruptWatch(std::function<void(int)> on_signal);
  ~InterruptWatch();
  InterruptWatch(const InterruptWatch&) = delete;
  InterruptWatch& operator=(const InterruptWatch&) = delete;

 private:
  std::function<void(int)> on_signal_;
  int read_fd_ = -1;
  std::thread watcher_;
};

}  // namespace deepnet::cli::search
