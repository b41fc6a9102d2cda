// Picks frames on a regular grid of presentation times: the first frame at or after each grid
// point is kept. Works for any frame rate, variable ones included, since it looks only at PTS.
#pragma once

#include <algorithm>
#include <cmath>

namespace celtrace::engine {

class FrameSampler {
 public:
  // sample_fps <= 0 keeps every frame. tolerance_seconds lets a frame that is slightly early
  // (rounding of PTS) still count for the grid point it belongs to.
  explicit FrameSampler(double sample_fps, double tolerance_seconds = 1e-3)
      : period_(sample_fps > 0 ? 1.0 / sample_fps : 0.0), tolerance_(tolerance_seconds) {}

  // Whether a frame at time t (seconds) would be kept; does not change state.
  bool wants(double t) const { return !started_ || period_ <= 0 || t >= next_ - tolerance_; }

  // Keeps or drops the frame at time t; call in presentation order.
  bool take(double t) {
    if (!wants(t)) return false;
    if (period_ <= 0) return true;
    if (!started_) {
      started_ = true;
      next_ = t;
    }
    // The next grid point after t, by one jump: a period too small to move next_ by addition
    // (a sampling rate far above any frame rate) must not loop; the grid point then becomes t
    // itself plus the tolerance, and every frame is kept.
    if (next_ <= t + tolerance_) {
      next_ += (std::floor((t + tolerance_ - next_) / period_) + 1) * period_;
      next_ = std::max(next_, t + tolerance_);
    }
    return true;
  }

 private:
  double period_;
  double tolerance_;
  double next_ = 0.0;
  bool started_ = false;
};

}  // namespace celtrace::engine
