#include "index/partial_search.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "engine/errors.h"

namespace celtrace::index {
namespace {

// Nearest library codes per query feature, among those within kMaxShift of it: more let a
// held background's copies in every key frame of a shot crowd out the drawing's own (measured on
// the real-art set: 32 lost a layer that 8 found).
constexpr int kNeighbours = 8;
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
// A reference's partial segment is kept when its votes (score x support) reach this share of the
// best reference's: the same character at the same place in other episodes is a rival worth a
// visual check, stray agreements are not.
constexpr double kRivalShare = 0.5;

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
  std::vector<std::size_t> layers;
  for (std::size_t i = 0; i < query.samples.size(); ++i) {
    if (query.samples[i].local_features.size() >= static_cast<std::size_t>(kMinVotes))
      layers.push_back(i);
  }
  // A version 3 library makes its grid on first use: a whole picture's lookup does not pay for it
  // (at 10 reference hours, 1.8 s of a 2.9 s lookup process and 230 of its 350 MB).
  if (layers.empty()) return out;
  const LocalFeatureGrid& grid = library.local_features();
  if (grid.size() == 0) return out;
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
    const std::vector<Neighbour> hits = grid.search(sample.local_features, kNeighbours, kMaxShift);
    const auto count = static_cast<std::int64_t>(sample.local_features.size());
    // Votes as (key frame, shift bin x, shift bin y, query feature); a feature votes once per bin.
    std::vector<std::tuple<std::int64_t, int, int, int>> votes;
    for (std::int64_t f = 0; f < count; ++f) {
      const engine::LocalFeature& feature = sample.local_features[static_cast<std::size_t>(f)];
      for (int j = 0; j < kNeighbours; ++j) {
        const Neighbour& n = hits[static_cast<std::size_t>(f * kNeighbours + j)];
        if (n.id < 0 || n.score > kMaxDistance) break;
        const IndexedLocalFeature found = grid.feature(n.id);
        if (found.frame >= static_cast<std::int64_t>(library.frames().size()))
          throw FormatError(library.directory() + ": a local feature of frame " +
                            std::to_string(found.frame) + ", beyond the library's " +
                            std::to_string(library.frames().size()) + " (damaged library)");
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

std::vector<Segment> align_partial(const PartialSearch& partial) {
  std::map<std::int64_t, std::vector<FrameMatch>> by_reference;
  for (const FrameMatch& m : partial.matches) by_reference[m.reference].push_back(m);
  AlignmentParams params = partial_alignment_params();
  params.max_segments = 1;
  std::vector<Segment> segments;
  for (const auto& [reference, matches] : by_reference) {
    std::vector<Segment> own = align(matches, partial.sample_times, params);
    segments.insert(segments.end(), own.begin(), own.end());
  }
  const auto votes = [](const Segment& s) { return s.score * s.support; };
  std::stable_sort(segments.begin(), segments.end(),
                   [&](const Segment& a, const Segment& b) { return votes(a) > votes(b); });
  if (!segments.empty()) {
    const double least = kRivalShare * votes(segments.front());
    segments.erase(std::remove_if(segments.begin(), segments.end(),
                                  [&](const Segment& s) { return votes(s) < least; }),
                   segments.end());
  }
  return segments;
}

}  // namespace celtrace::index
