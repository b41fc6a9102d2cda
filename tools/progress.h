// Progress on stderr for long work: a redrawn line with ETA on a terminal; elsewhere (a log, a
// pipe, a scheduler) one line every `line_interval`, so a long run is not silent until it ends.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace celtrace::tools {

class Progress {
 public:
  // total: units of work (e.g. bytes of media); label: what is being done; quiet: print nothing.
  Progress(double total, std::string label, bool quiet = false,
           std::chrono::milliseconds line_interval = std::chrono::seconds(10));
  ~Progress();
  void advance_to(double done, const std::string& detail);  // thread-safe
  void finish();

 private:
  double total_;
  std::string label_;
  bool terminal_, quiet_;
  bool finished_ = false;
  std::chrono::milliseconds line_interval_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mutex_;
};

}  // namespace celtrace::tools
