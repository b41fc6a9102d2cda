// Temporal alignment: which frame matches of a query agree on one mapping of query time to
// reference time, reference_time = speed * query_time + offset. Pure computation on plain
// structs, no FAISS, no I/O.
#pragma once

#include <cstdint>
#include <vector>

namespace celtrace::index {

// One nearest-neighbour hit of one query sample.
struct FrameMatch {
  int query_sample = 0;   // index of the query sample
  double query_time = 0;  // seconds
  std::int64_t reference = 0;
  double reference_time = 0;
  float similarity = 0;   // descriptor inner product, -1..1
  bool mirrored = false;  // found through the query's mirrored descriptor
  bool shared = false;    // the reference frame recurs in other references
};

// The speeds (reference seconds per query second) the vote tries: 0.90 to 1.10 in steps of
// 0.01 (speed changes up to 10%, PAL speed-up), and bands of +-0.02 around the ratios of a frame
// rate relabelled without retiming between 24, 25 and 30 fps (24 frames played at 30 fps:
// 1.25), which damaged and carelessly converted copies show.
std::vector<double> default_speeds();

struct AlignmentParams {
  std::vector<double> speeds = default_speeds();
  double offset_bin = 0.5;        // seconds; Hough bin width of the offset
  double inlier_tolerance = 0.6;  // seconds between predicted and matched reference time
  float min_similarity = 0.5f;    // matches below this do not vote
  int max_segments = 4;           // per query
  double away_seconds = 2.0;      // see Segment::specificity
  // Speed is model selection, not the best least-squares line: reference frames are sampled at
  // 2 fps and a held drawing matches one reference sample for its whole length, so reference
  // times climb in steps that tilt a line fitted over a few seconds (a 5 s Megamind clip cut at
  // 3.0 s fitted speed 0.911 and started at 3.40 s). Speed 1 stands unless another speed leaves
  // at most `speed_error_share` of speed 1's total timing error and moves the reference times over
  // the supporting samples' span by `drift_to_noise` times the mean timing error it leaves itself
  // (and by `min_speed_drift` seconds at least): a drift the steps could make is no evidence.
  double speed_error_share = 0.7;
  double drift_to_noise = 3;
  double min_speed_drift = 0.1;
  int min_fit_pairs = 6;      // a speed is fitted from at least this many samples ...
  double min_fit_span = 3.5;  // ... spread like samples evenly over this many seconds or more
  // Sub-sample timing: a query sample between two reference samples matches both; reference
  // samples within `between_reach` seconds of its best match, at most `between_margin` less
  // similar, place it between them (weights: similarity - best + margin).
  double between_reach = 0.75;
  float between_margin = 0.05f;
};

struct Segment {
  std::int64_t reference = 0;
  bool mirrored = false;
  double speed = 1, offset = 0;
  double query_start = 0, query_end = 0;  // seconds, span of the supporting query samples
  double reference_start = 0, reference_end = 0;
  int support = 0;             // query samples whose match agrees with the mapping
  int span_samples = 0;        // informative query samples inside [query_start, query_end]
  double score = 0;            // sum of supporting similarities / span_samples: 0..1
  double shared_fraction = 0;  // share of supporting matches on shared reference frames
  // How much better the aligned matches are than the same query samples' best matches to that
  // reference at least `away_seconds` off the mapping (mean similarity difference). Near zero
  // when the content is static (a held background matches at any offset), so that the
  // mapping, however well supported, says nothing about *where* the query is.
  double specificity = 0;
  std::vector<FrameMatch> evidence;  // the supporting matches, one per query sample, by time
};

// Finds up to max_segments segments, best first. Each query sample supports at most one
// segment; `sample_times` are the times of the informative query samples (those that were
// searched), used to measure coverage.
std::vector<Segment> align(const std::vector<FrameMatch>& matches,
                           const std::vector<double>& sample_times,
                           const AlignmentParams& params = {});

// One picture (a still): the best match of each reference (and orientation) as a one-sample
// segment, when its similarity reaches `min_similarity`. Its evidence: that match and, of the
// reference's others by similarity, those more than `spacing` seconds from every one kept, up to
// `moments` in all (a layer's character may stand at its place at several moments of an episode).
std::vector<Segment> still_segments(const std::vector<FrameMatch>& matches, double min_similarity,
                                    std::size_t moments, double spacing);

// Moments a second or so apart at which a layer is checked (index/lookup.cpp): `chosen` query
// times, then of `candidates` the farthest from every time chosen so far, while at least
// `spacing` seconds from all of them, until `count` are chosen. Returns the times added.
std::vector<double> spread_times(std::vector<double> chosen, const std::vector<double>& candidates,
                                 double spacing, std::size_t count);

// The offset moments (query time, reference time; at least one) of one clip share at `speed`:
// their median offset, reference - speed * query.
double shared_offset(const std::vector<std::pair<double, double>>& moments, double speed);

// Of moments of one clip, those more than `slack` seconds off the mapping they share (`speed` and
// shared_offset): their indices and the reference times that mapping gives them. One moment
// found at a drawing's other passage through its place stands out of three.
std::vector<std::pair<std::size_t, double>> off_shared_timing(
    const std::vector<std::pair<double, double>>& moments, double speed, double slack);

}  // namespace celtrace::index
