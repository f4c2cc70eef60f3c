#pragma once
// A one-line progress bar on stderr for terminals: iteration, cost,
// examples per second, elapsed time and ETA, redrawn at most 10 times a second.
#include <chrono>
#include <cstdio>
#include <string>

namespace deepnet::cli {

class ProgressBar {
 public:
  ProgressBar(long long total, long long examples_per_step, const char* unit)
      : total_(total), examples_per_step_(examples_per_step), unit_(unit), start_(Clock::now()) {}

  void set_cost(double cost) { cost_ = cost; }

  // Erases the bar so a plain line can be printed in its place.
  void clear() {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    last_draw_ = {};
  }

  void update(long long done, long long total = -1) {
    if (total >= 0) total_ = total;
    const auto now = Clock::now();
    if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done * examples_per_step_) / elapsed : 0;
    const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / static_cast<double>(done) : 0;
    const int width = 24;
    const int filled = static_cast<int>(width * done / (total_ > 0 ? total_ : 1));
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r[%s] %s %lld/%lld  cost %.6f  %.0f examples/s  %s elapsed  ETA %s ", bar.c_str(), unit_,
                 done, total_, cost_, rate, clock_text(elapsed).c_str(), clock_text(eta).c_str());
    if (done >= total_) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  using Clock = std::chrono::steady_clock;
  static std::string clock_text(double seconds) {
    const long long s = static_cast<long long>(seconds + 0.5);
    char text[32];
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    return text;
  }
  long long total_, examples_per_step_;
  const char* unit_;
  double cost_ = 0;
  Clock::time_point start_, last_draw_{};
};

}  // namespace deepnet::cli
