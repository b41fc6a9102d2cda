#include "index/camera.h"

#include <algorithm>
#include <cmath>

#include "index/verify.h"

namespace celtrace::index {

std::optional<double> camera_shift(const std::vector<TimedPicture>& moments,
                                   const std::vector<TimedPicture>& frames, double around,
                                   double reach, bool mirrored) {
  if (moments.empty() || frames.empty()) return std::nullopt;
  // Offsets of each moment against the frames (1: not registered near the canvas's scale; -1: not
  // computed yet), each computed once.
  std::vector<std::vector<double>> offsets(moments.size(), std::vector<double>(frames.size(), -1));
  const auto compute = [&](std::size_t moment, const std::vector<std::size_t>& wanted) {
    std::vector<std::size_t> missing;
    std::vector<engine::GrayImage> pictures;
    for (const std::size_t j : wanted) {
      if (j >= frames.size() || offsets[moment][j] >= 0 ||
          std::find(missing.begin(), missing.end(), j) != missing.end())
        continue;
      missing.push_back(j);
      pictures.push_back(frames[j].picture);
    }
    const auto found = canvas_offsets(moments[moment].picture, pictures, mirrored);
    for (std::size_t k = 0; k < missing.size(); ++k)
      offsets[moment][missing[k]] = found[k].value_or(1);
  };
  // Coarse to fine: every other frame, then the neighbours of the coarse local least offsets (a
  // pan of up to 0.08 of the picture a second stands within 0.04 at one of them, at frames a
  // quarter of a second apart).
  std::vector<std::size_t> coarse, fine;
  for (std::size_t j = 0; j < frames.size(); j += 2) {
    if (std::abs(frames[j].time - around) <= reach) coarse.push_back(j);
  }
  compute(0, coarse);
  std::vector<double>& first = offsets.front();
  for (std::size_t k = 0; k < coarse.size(); ++k) {
    const double o = first[coarse[k]];
    if (o > 4 * kCameraTolerance || (k > 0 && first[coarse[k - 1]] < o) ||
        (k + 1 < coarse.size() && first[coarse[k + 1]] < o))
      continue;
    if (coarse[k] > 0) fine.push_back(coarse[k] - 1);
    fine.push_back(coarse[k] + 1);
  }
  compute(0, fine);
  // Frames where the first moment stands in place, least offset first.
  const auto computed = [&](std::size_t j) { return j < frames.size() && first[j] >= 0; };
  std::vector<std::size_t> proposed;
  for (std::size_t j = 0; j < frames.size(); ++j) {
    if (!computed(j) || first[j] > kCameraTolerance) continue;
    if ((j > 0 && computed(j - 1) && first[j - 1] < first[j]) ||
        (computed(j + 1) && first[j + 1] < first[j]))
      continue;
    proposed.push_back(j);
  }
  std::sort(proposed.begin(), proposed.end(),
            [&](std::size_t a, std::size_t b) { return first[a] < first[b]; });
  const double spacing = frames.size() > 1 ? (frames.back().time - frames.front().time) /
                                                 static_cast<double>(frames.size() - 1)
                                           : 0;
  std::optional<double> best;
  double best_score = kCameraTolerance;
  for (const std::size_t j : proposed) {
    const double shift = frames[j].time - moments.front().time;
    double score = first[j];
    for (std::size_t i = 1; i < moments.size() && score <= best_score; ++i) {
      // The frame nearest the moment's time so shifted, and its neighbours.
      const double wanted = moments[i].time + shift;
      const auto nearest = static_cast<std::size_t>(
          std::min_element(frames.begin(), frames.end(),
                           [&](const TimedPicture& a, const TimedPicture& b) {
                             return std::abs(a.time - wanted) < std::abs(b.time - wanted);
                           }) -
          frames.begin());
      double least = 1;
      if (std::abs(frames[nearest].time - wanted) <= spacing) {
        const std::size_t from = nearest == 0 ? 0 : nearest - 1;
        compute(i, {from, from + 1, from + 2});
        for (std::size_t k = from; k <= std::min(from + 2, frames.size() - 1); ++k)
          least = std::min(least, offsets[i][k]);
      }
      score = std::max(score, least);
    }
    if (best ? score < best_score : score <= best_score) {
      best_score = score;
      best = shift;
    }
  }
  return best;
}

}  // namespace celtrace::index
