// Progress on stderr for long work: a redrawn line with ETA on a terminal, nothing otherwise.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace celtrace::tools {

class Progress {
 public:
  // total: units of work (e.g. media seconds); label: what is being done.
  Progress(double total, std::string label);
  ~Progress();
  void advance_to(double done, const std::string& detail);  // thread-safe
  void finish();

 private:
  double total_;
  std::string label_;
  bool terminal_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mutex_;
};

}  // namespace celtrace::tools
