#include "tools/progress.h"

#include <algorithm>
#include <cstdio>

#include <unistd.h>

namespace celtrace::tools {

Progress::Progress(double total, std::string label, bool quiet,
                   std::chrono::milliseconds line_interval)
    : total_(total),
      label_(std::move(label)),
      terminal_(::isatty(STDERR_FILENO) != 0),
      quiet_(quiet),
      line_interval_(line_interval),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  finish();
}

void Progress::advance_to(double done, const std::string& detail) {
  if (quiet_ || total_ <= 0) return;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < (terminal_ ? std::chrono::milliseconds(200) : line_interval_)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double fraction = std::min(1.0, done / total_);
  char eta[32] = "--";
  if (fraction > 0.01) {
    const int remaining = static_cast<int>(elapsed / fraction - elapsed);
    std::snprintf(eta, sizeof eta, "%dm%02ds", remaining / 60, remaining % 60);
  }
  if (terminal_) {
    std::fprintf(stderr, "\r\033[K%s %3.0f%%  ETA %s  %.50s", label_.c_str(), 100 * fraction, eta,
                 detail.c_str());
  } else {
    std::fprintf(stderr, "celtrace: %s %.0f%%, ETA %s, %s\n", label_.c_str(), 100 * fraction, eta,
                 detail.c_str());
  }
  std::fflush(stderr);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (terminal_ && !finished_) std::fprintf(stderr, "\r\033[K");
  finished_ = true;
}

}  // namespace celtrace::tools
