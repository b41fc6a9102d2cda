#include "index/partial_search.h"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace celtrace::index {
namespace {

constexpr int kNeighbours = 8;  // nearest library codes per query feature
// ORB codes of one corner under re-rendering, rescaling and line changes stay within about 60 of
// 256 bits; unrelated corners are 90 to 128 apart.
constexpr float kMaxDistance = 64;
// Shift bins, shares of the picture: 0.04 is 13 pixels at the described size. Each vote counts in
// the 2x2 bins around its shift, so a shift on a bin edge is not split.
constexpr double kShiftBin = 0.04;
// Layers are exported on the episode's canvas: a feature lies where the published frame has it, up
// to this shift (shares of the picture), or the frame is another moment (the same drawing
// elsewhere on the screen) or another episode. This pins the time while a character slides
// across the frame without changing pose.
constexpr double kMaxShift = 0.06;
constexpr int kMinVotes = 6;          // consistent features for a key frame to be a candidate
constexpr int kFramesPerSample = 24;  // candidates kept per query picture, most votes first
constexpr double kHalfVotes = 12;     // votes at which partial_similarity is 0.5
// Layer pictures searched per query, evenly spread: each costs a few hundred code searches, and
// alignment needs no more than the whole-picture search's samples.
constexpr std::size_t kMaxSamples = 12;

}  // namespace

float partial_similarity(int votes) {
  return static_cast<float>(votes / (votes + kHalfVotes));
}

AlignmentParams partial_alignment_params() {
  AlignmentParams params;
  params.offset_bin = 1.0;
  params.inlier_tolerance = 1.1;
  params.min_similarity = partial_similarity(kMinVotes) - 1e-3f;
  return params;
}

PartialSearch search_partial(const Library& library, const engine::Fingerprint& query) {
  PartialSearch out;
  if (library.local_features().empty()) return out;
  const int k = static_cast<int>(std::min<std::int64_t>(
      kNeighbours, static_cast<std::int64_t>(library.local_features().size())));
  std::vector<std::size_t> layers;
  for (std::size_t i = 0; i < query.samples.size(); ++i) {
    if (query.samples[i].local_features.size() >= static_cast<std::size_t>(kMinVotes))
      layers.push_back(i);
  }
  if (layers.size() > kMaxSamples) {
    std::vector<std::size_t> spread;
    for (std::size_t j = 0; j < kMaxSamples; ++j)
      spread.push_back(layers[j * layers.size() / kMaxSamples]);
    layers = spread;
  }
  for (const std::size_t i : layers) {
    const engine::Sample& sample = query.samples[i];
    const int q = static_cast<int>(out.sample_times.size());
    out.sample_times.push_back(sample.pts_seconds);
    std::vector<std::uint8_t> codes;
    for (const engine::LocalFeature& f : sample.local_features)
      codes.insert(codes.end(), f.code.begin(), f.code.end());
    const auto count = static_cast<std::int64_t>(sample.local_features.size());
    const std::vector<Neighbour> hits = library.local_index().search(codes.data(), count, k);
    // Votes as (key frame, shift bin x, shift bin y, query feature); a feature votes once per bin.
    std::vector<std::tuple<std::int64_t, int, int, int>> votes;
    for (std::int64_t f = 0; f < count; ++f) {
      const engine::LocalFeature& feature = sample.local_features[static_cast<std::size_t>(f)];
      for (int j = 0; j < k; ++j) {
        const Neighbour& n = hits[static_cast<std::size_t>(f * k + j)];
        if (n.id < 0 || n.score > kMaxDistance) break;
        const IndexedLocalFeature& found = library.local_features()[static_cast<std::size_t>(n.id)];
        if (std::abs(found.x - feature.x) > kMaxShift || std::abs(found.y - feature.y) > kMaxShift)
          continue;
        const int bx = static_cast<int>(std::floor((found.x - feature.x) / kShiftBin - 0.5));
        const int by = static_cast<int>(std::floor((found.y - feature.y) / kShiftBin - 0.5));
        for (int dx = 0; dx < 2; ++dx) {
          for (int dy = 0; dy < 2; ++dy)
            votes.emplace_back(found.frame, bx + dx, by + dy, static_cast<int>(f));
        }
      }
    }
    std::sort(votes.begin(), votes.end());
    votes.erase(std::unique(votes.begin(), votes.end()), votes.end());
    // The best bin of each key frame.
    std::vector<std::pair<int, std::int64_t>> best;  // (votes, frame)
    for (std::size_t a = 0; a < votes.size();) {
      std::size_t b = a;
      while (b < votes.size() && std::get<0>(votes[b]) == std::get<0>(votes[a]) &&
             std::get<1>(votes[b]) == std::get<1>(votes[a]) &&
             std::get<2>(votes[b]) == std::get<2>(votes[a])) {
        ++b;
      }
      const int n = static_cast<int>(b - a);
      const std::int64_t frame = std::get<0>(votes[a]);
      if (n >= kMinVotes) {
        if (!best.empty() && best.back().second == frame) {
          best.back().first = std::max(best.back().first, n);
        } else {
          best.emplace_back(n, frame);
        }
      }
      a = b;
    }
    std::sort(best.begin(), best.end(),
              [](const auto& x, const auto& y) { return x.first > y.first; });
    if (best.size() > kFramesPerSample) best.resize(kFramesPerSample);
    for (const auto& [n, frame_id] : best) {
      const IndexedFrame& frame = library.frames()[static_cast<std::size_t>(frame_id)];
      out.matches.push_back({q, sample.pts_seconds, frame.reference, frame.pts_seconds,
                             partial_similarity(n), false, frame.shared});
    }
  }
  return out;
}

}  // namespace celtrace::index
