#include "index/alignment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>

namespace celtrace::index {
namespace {

// reference time = speed x query time + offset, seconds.
struct Mapping {
  double speed = 1, offset = 0;
};

// (query time, reference time) of the samples supporting a mapping.
using TimePairs = std::vector<std::pair<double, double>>;

// The median offset of `pairs` at `speed`: robust to a few stray matches.
double median_offset(const TimePairs& pairs, double speed) {
  std::vector<double> offsets;
  for (const auto& [q, r] : pairs) offsets.push_back(r - speed * q);
  std::nth_element(offsets.begin(), offsets.begin() + offsets.size() / 2, offsets.end());
  return offsets[offsets.size() / 2];
}

// The least-squares line through `pairs`, when they are enough and spread over enough query time
// to tell a speed.
std::optional<Mapping> least_squares(const TimePairs& pairs, const AlignmentParams& p) {
  double sq = 0, sr = 0, sqq = 0, sqr = 0;
  for (const auto& [q, r] : pairs) sq += q, sr += r, sqq += q * q, sqr += q * r;
  const double n = static_cast<double>(pairs.size());
  // n x the variance of the query times: n x span^2 / 12 for evenly spread samples.
  const double spread = sqq - sq * sq / n;
  if (static_cast<int>(pairs.size()) < p.min_fit_pairs ||
      spread <= n * p.min_fit_span * p.min_fit_span / 12)
    return std::nullopt;
  const double speed = (sqr - sq * sr / n) / spread;
  return Mapping{speed, (sr - speed * sq) / n};
}

// Sum of absolute reference-time errors of `pairs` under `m`.
double total_error(const TimePairs& pairs, const Mapping& m) {
  double error = 0;
  for (const auto& [q, r] : pairs) error += std::abs(r - (m.speed * q + m.offset));
  return error;
}

// A fitted speed is kept only this near a speed the vote tries: twice the finest step between
// tried speeds (a fit between two tried speeds, and a little beyond the outermost).
double speed_tolerance(const std::vector<double>& speeds) {
  std::vector<double> sorted = speeds;
  std::sort(sorted.begin(), sorted.end());
  double step = 1;
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i] - sorted[i - 1] > 1e-9) step = std::min(step, sorted[i] - sorted[i - 1]);
  }
  return 2 * step;
}

// The mapping that explains `pairs` (see AlignmentParams::speed_error_share): speed 1 with the
// median offset, unless the voted speed or the least-squares line, each near a tried speed,
// explains the times clearly better and drifts from it by more than its timing noise.
Mapping fit_mapping(const TimePairs& pairs, double voted_speed, const AlignmentParams& p) {
  const Mapping unchanged{1.0, median_offset(pairs, 1.0)};
  double first = pairs.front().first, last = first;
  for (const auto& [q, r] : pairs) first = std::min(first, q), last = std::max(last, q);
  std::vector<Mapping> others = {{voted_speed, median_offset(pairs, voted_speed)}};
  if (const auto fitted = least_squares(pairs, p)) others.push_back(*fitted);
  const double tolerance = speed_tolerance(p.speeds);
  Mapping best = unchanged;
  double best_error = total_error(pairs, unchanged);
  const double bar = p.speed_error_share * best_error;
  for (const Mapping& m : others) {
    const bool tried = std::any_of(p.speeds.begin(), p.speeds.end(), [&](double speed) {
      return std::abs(m.speed - speed) <= tolerance;
    });
    const double error = total_error(pairs, m);
    const double drift = std::abs(m.speed - 1) * (last - first);
    const double noise = error / static_cast<double>(pairs.size());
    if (tried && drift >= std::max(p.min_speed_drift, p.drift_to_noise * noise) && error <= bar &&
        error < best_error) {
      best = m;
      best_error = error;
    }
  }
  return best;
}

struct Hypothesis {
  std::int64_t reference = 0;
  bool mirrored = false;
  double speed = 1, offset = 0;
  double weight = -1;
};

// Vote weight of a match: how far its similarity clears the floor.
double weight_of(const FrameMatch& m, const AlignmentParams& p) {
  return m.similarity - p.min_similarity;
}

// Hough vote over (speed, offset bin) per (reference, orientation); within one cell a query
// sample votes once, with its best match.
Hypothesis best_hypothesis(const std::vector<const FrameMatch*>& matches,
                           const AlignmentParams& p) {
  // Every (cell, sample, weight) vote in one array, sorted by cell then sample: a linear pass
  // then sums each cell's per-sample best votes (a map of maps cost 10x more).
  struct Vote {
    std::int64_t reference;
    bool mirrored;
    int speed_index;
    long bin;
    int sample;
    double weight;
    auto cell() const { return std::tie(reference, mirrored, speed_index, bin); }
  };
  const int speeds = static_cast<int>(p.speeds.size());
  std::vector<Vote> votes;
  votes.reserve(matches.size() * static_cast<std::size_t>(speeds) * 2);
  for (const FrameMatch* m : matches) {
    const double w = weight_of(*m, p);
    for (int s = 0; s < speeds; ++s) {
      const double speed = p.speeds[static_cast<std::size_t>(s)];
      const long bin =
          static_cast<long>(std::floor((m->reference_time - speed * m->query_time) / p.offset_bin));
      // Vote into the bin and its upper neighbour so offsets near a bin edge are not split.
      for (long b : {bin, bin + 1})
        votes.push_back({m->reference, m->mirrored, s, b, m->query_sample, w});
    }
  }
  std::sort(votes.begin(), votes.end(), [](const Vote& a, const Vote& b) {
    return std::tie(a.reference, a.mirrored, a.speed_index, a.bin, a.sample) <
           std::tie(b.reference, b.mirrored, b.speed_index, b.bin, b.sample);
  });
  Hypothesis best;
  for (std::size_t i = 0; i < votes.size();) {
    double total = 0;
    std::size_t j = i;
    while (j < votes.size() && votes[j].cell() == votes[i].cell()) {
      double sample_best = votes[j].weight;  // a sample counts once per cell, with its best
      for (++j; j < votes.size() && votes[j].cell() == votes[i].cell() &&
                votes[j].sample == votes[j - 1].sample;
           ++j) {
        sample_best = std::max(sample_best, votes[j].weight);
      }
      total += sample_best;
    }
    // Prefer speed 1 on ties: most queries are not sped up.
    const double speed = p.speeds[static_cast<std::size_t>(votes[i].speed_index)];
    total -= 1e-6 * std::abs(speed - 1.0);
    if (total > best.weight)
      best = {votes[i].reference, votes[i].mirrored, speed, votes[i].bin * p.offset_bin, total};
    i = j;
  }
  return best;
}

}  // namespace

std::vector<double> default_speeds() {
  std::vector<double> speeds;
  for (int step = 90; step <= 110; ++step) speeds.push_back(step / 100.0);
  for (const double relabelled : {24.0 / 30, 25.0 / 30, 30.0 / 25, 30.0 / 24}) {
    for (int step = -2; step <= 2; ++step) speeds.push_back(relabelled + step / 100.0);
  }
  return speeds;
}

std::vector<Segment> align(const std::vector<FrameMatch>& matches,
                           const std::vector<double>& sample_times, const AlignmentParams& p) {
  std::vector<Segment> segments;
  std::set<int> used_samples;
  for (int round = 0; round < p.max_segments; ++round) {
    std::vector<const FrameMatch*> open;
    for (const FrameMatch& m : matches) {
      if (m.similarity >= p.min_similarity && !used_samples.count(m.query_sample))
        open.push_back(&m);
    }
    if (open.empty()) break;
    const Hypothesis h = best_hypothesis(open, p);
    if (h.weight <= 0) break;

    // Inliers: for each query sample, its best match close to the hypothesis (the bin is
    // [offset - bin, offset + bin) after the double vote, so predict from its centre).
    auto collect = [&](double speed, double offset, double tolerance) {
      std::map<int, const FrameMatch*> chosen;
      for (const FrameMatch* m : open) {
        if (m->reference != h.reference || m->mirrored != h.mirrored) continue;
        if (std::abs(m->reference_time - (speed * m->query_time + offset)) > tolerance) continue;
        auto& slot = chosen[m->query_sample];
        if (!slot || m->similarity > slot->similarity) slot = m;
      }
      return chosen;
    };
    auto chosen = collect(h.speed, h.offset, p.offset_bin + p.inlier_tolerance);
    if (chosen.empty()) break;
    // Refine the mapping from the inliers: speed by model selection, offset by the median.
    Mapping mapping;
    {
      TimePairs pairs;
      for (const auto& [sample, m] : chosen) pairs.push_back({m->query_time, m->reference_time});
      mapping = fit_mapping(pairs, h.speed, p);
    }
    chosen = collect(mapping.speed, mapping.offset, p.inlier_tolerance);
    if (chosen.empty()) break;
    // Sub-sample timing: references are sampled sparsely (2 fps), so a query sample between two
    // reference samples matches both; the similarity-weighted mean of the reference times near
    // the prediction places it between them. The mapping is then refitted on those times.
    {
      std::map<int, std::pair<double, double>> weighted;  // sample -> (sum w*t, sum w)
      for (const FrameMatch* m : open) {
        const auto it = chosen.find(m->query_sample);
        if (it == chosen.end() || m->reference != h.reference || m->mirrored != h.mirrored)
          continue;
        if (std::abs(m->reference_time - it->second->reference_time) > p.between_reach) continue;
        const double w = std::max(
            0.0, static_cast<double>(m->similarity - it->second->similarity + p.between_margin));
        weighted[m->query_sample].first += w * m->reference_time;
        weighted[m->query_sample].second += w;
      }
      TimePairs pairs;
      for (const auto& [sample, m] : chosen) {
        const auto& [wt, w] = weighted[sample];
        pairs.push_back({m->query_time, w > 0 ? wt / w : m->reference_time});
      }
      mapping = fit_mapping(pairs, mapping.speed, p);
    }

    Segment segment;
    segment.reference = h.reference;
    segment.mirrored = h.mirrored;
    segment.speed = mapping.speed;
    segment.offset = mapping.offset;
    segment.query_start = chosen.begin()->second->query_time;
    segment.query_end = chosen.rbegin()->second->query_time;
    double similarity_sum = 0;
    int shared = 0;
    for (const auto& [sample, m] : chosen) {
      segment.evidence.push_back(*m);
      similarity_sum += m->similarity;
      shared += m->shared;
      used_samples.insert(sample);
    }
    segment.support = static_cast<int>(chosen.size());
    // Specificity: per supporting sample, the aligned similarity minus the best similarity to the
    // same reference away from the mapping; matches not among the sample's neighbours are below
    // its weakest neighbour, which bounds them.
    {
      std::map<int, float> weakest, away;
      for (const FrameMatch& m : matches) {
        if (!chosen.count(m.query_sample)) continue;
        auto [it, inserted] = weakest.emplace(m.query_sample, m.similarity);
        if (!inserted) it->second = std::min(it->second, m.similarity);
        if (m.reference != h.reference || m.mirrored != h.mirrored) continue;
        if (std::abs(m.reference_time - (mapping.speed * m.query_time + mapping.offset)) <
            p.away_seconds)
          continue;
        float& best_away = away[m.query_sample];
        best_away = std::max(best_away, m.similarity);
      }
      double total = 0;
      for (const auto& [sample, m] : chosen) {
        const float elsewhere = away.count(sample) ? away[sample] : weakest[sample];
        total += std::max(0.f, m->similarity - elsewhere);
      }
      segment.specificity = total / static_cast<double>(chosen.size());
    }
    for (double t : sample_times)
      segment.span_samples += t >= segment.query_start - 1e-9 && t <= segment.query_end + 1e-9;
    segment.span_samples = std::max(segment.span_samples, segment.support);
    segment.score = similarity_sum / segment.span_samples;
    segment.shared_fraction = static_cast<double>(shared) / segment.support;
    segment.reference_start = mapping.speed * segment.query_start + mapping.offset;
    segment.reference_end = mapping.speed * segment.query_end + mapping.offset;
    segments.push_back(std::move(segment));
  }
  std::sort(segments.begin(), segments.end(), [](const Segment& a, const Segment& b) {
    return a.score * a.support > b.score * b.support;
  });
  return segments;
}

std::vector<Segment> still_segments(const std::vector<FrameMatch>& matches, double min_similarity,
                                    std::size_t moments, double spacing) {
  std::map<std::pair<std::int64_t, bool>, std::vector<const FrameMatch*>> by_reference;
  for (const FrameMatch& m : matches) by_reference[{m.reference, m.mirrored}].push_back(&m);
  std::vector<Segment> segments;
  for (auto& [key, found] : by_reference) {
    std::stable_sort(found.begin(), found.end(), [](const FrameMatch* a, const FrameMatch* b) {
      return a->similarity > b->similarity;
    });
    const FrameMatch& best = *found.front();
    if (best.similarity < min_similarity) continue;
    Segment s;
    s.reference = best.reference;
    s.mirrored = best.mirrored;
    s.query_start = s.query_end = best.query_time;
    s.reference_start = s.reference_end = best.reference_time;
    s.offset = best.reference_time - best.query_time;
    s.support = s.span_samples = 1;
    s.score = best.similarity;
    s.shared_fraction = best.shared ? 1 : 0;
    for (const FrameMatch* other : found) {
      if (s.evidence.size() == moments) break;
      if (std::none_of(s.evidence.begin(), s.evidence.end(), [&](const FrameMatch& e) {
            return std::abs(e.reference_time - other->reference_time) <= spacing;
          }))
        s.evidence.push_back(*other);
    }
    segments.push_back(s);
  }
  return segments;
}

std::vector<double> spread_times(std::vector<double> chosen, const std::vector<double>& candidates,
                                 double spacing, std::size_t count) {
  std::vector<double> added;
  while (chosen.size() < count) {
    double farthest = -1, widest = spacing;
    for (const double t : candidates) {
      double gap = std::numeric_limits<double>::max();
      for (const double c : chosen) gap = std::min(gap, std::abs(c - t));
      if (gap > widest || (farthest < 0 && gap >= widest)) {  // the first of equals
        widest = gap;
        farthest = t;
      }
    }
    if (farthest < 0) break;
    chosen.push_back(farthest);
    added.push_back(farthest);
  }
  return added;
}

double shared_offset(const std::vector<std::pair<double, double>>& moments, double speed) {
  std::vector<double> offsets;
  for (const auto& [q, r] : moments) offsets.push_back(r - speed * q);
  const auto middle = offsets.begin() + static_cast<std::ptrdiff_t>(offsets.size() / 2);
  std::nth_element(offsets.begin(), middle, offsets.end());
  return *middle;
}

std::vector<std::pair<std::size_t, double>> off_shared_timing(
    const std::vector<std::pair<double, double>>& moments, double speed, double slack) {
  if (moments.empty()) return {};
  const double offset = shared_offset(moments, speed);
  std::vector<std::pair<std::size_t, double>> off;
  for (std::size_t i = 0; i < moments.size(); ++i) {
    const double expected = speed * moments[i].first + offset;
    if (std::abs(moments[i].second - expected) > slack) off.push_back({i, expected});
  }
  return off;
}

}  // namespace celtrace::index
