#include "index/lookup.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "engine/errors.h"
#include "engine/fingerprinter.h"
#include "engine/foreground.h"
#include "engine/preprocess.h"
#include "engine/vpdq.h"
#include "index/camera.h"
#include "index/partial_search.h"

namespace celtrace::index {
namespace {

constexpr int kNeighbours = 24;
// Decision thresholds, chosen on the benchmark so that no negative reaches `confirmed`
// (benchmarks/run; README "How a lookup decides").
constexpr int kMinSupport = 6;             // samples agreeing on one mapping (temporal evidence)
constexpr double kMinSupportShare = 0.3;   // ... and at least this share of the informative samples
constexpr double kMinSpan = 1.0;           // ... spread over at least this many query seconds
constexpr double kTemporalScore = 0.45;    // segment score for temporal evidence
constexpr double kListScore = 0.30;        // below this a segment is not listed at all
constexpr int kMinSegmentSupport = 3;      // nor with fewer agreeing samples (video queries)
constexpr double kStillSimilarity = 0.80;  // a still's best similarity to be listed
// Partial evidence (index/partial_search.h): segment score for temporal evidence; 0.40 is a mean
// of about 8 consistent features per sample.
constexpr double kPartialTemporalScore = 0.40;
// A partial segment is listed (then verified) at a lower score than a whole one: key frames are
// sparse, so a moving character's pictures meet one at its place and pose in a few samples only
// (4-5 of 12 on the generated no-background class), each with few votes.
constexpr double kPartialListScore = 0.15;
constexpr int kVerifiedPairs = 5;               // frame pairs tried for visual verification
constexpr int kAgreeingPairs = 2;               // ... stopping after this many agree
constexpr int kUnregisteredPairs = 2;           // ... or this many do not even register
constexpr std::size_t kVerifiedReferences = 3;  // best-scoring candidates verified per query
// ... and of partial ones, this many more when none of those registers: a small character over a
// busy background leaves its key frames few corners on it, and key frames whose plain background
// leaves all theirs on another character at its place outvote them (a series pencil test of the
// ladybug over a cave wall: its episode 4th, after three episodes of other characters).
constexpr std::size_t kReserveLayerReferences = 2;
constexpr std::size_t kCandidateFrames = 10;  // reference frames tried per pair
constexpr double kPairSpacing = 0.5;          // seconds between the query times of tried pairs
// A passing pair's moment is looked for this far around the frame that passed (seconds): one
// reference sampling period, the steps in which the mapping's reference times climb.
constexpr double kTimingReach = 0.5;
// Layers: a drawing that slides across the screen can sit where the frame has it at one moment
// of another shot (same character, other motion); agreement is asked at three moments at least
// a second apart, over which the paths part.
constexpr int kAgreeingLayerPairs = 3;
constexpr double kLayerPairSpacing = 1.0;
// ... within 0.2 s plus 40% of their spacing: a drawing that slides slowly is placed only to a few
// tenths of a second by its position, while one reference moment for moments 1 s apart (a hold,
// the same drawing of another episode passing by) is off by the whole spacing.
constexpr double kLayerTimingSlack = 0.2;  // seconds
constexpr double kLayerTimingShare = 0.4;
// Such moments are timing evidence of their own (index/decision.h, moments_follow_timing) when
// each registered with this many inliers, twice a whole picture's bar: a layer's sparse key frames
// give few votes per sample, while a drawing that only shares a body with the query's (another
// character's head on it, the same walk at the same place) registers with fewer (34 on the
// generated no-background set, the right frames 100-235).
constexpr int kTimingMomentInliers = 2 * kRegistrationInliers;
// A layer's moments are found where its drawing stands on the canvas (index/verify.h, verify_pair
// with a mask), not where the mapping puts them: a layer's mapping is only as precise as the
// canvas places its key frames (within 0.06 of the picture, index/partial_search.h), and a slowly
// walking character's repeated poses put it further off (1.2-1.7 s for a walk cycle on
// benchmarks/layers-real-art). Frames this far around the mapped time, one per kLayerSpacing
// (every 4th at 24 fps), then every frame around the one found, are tried (see layer_moment).
constexpr double kLayerReach = 2.0;          // seconds
constexpr double kLayerSpacing = 1.0 / 6.0;  // seconds
constexpr int kLayerReachSteps = 2;
// A layer still (a cel) has no mapping to pin its time, only the key frame it matched, which may
// be a hold away: likewise, one frame per kLayerStillSpacing first.
constexpr double kLayerStillSpacing = 1.0 / 3.0;  // seconds
// ... and a character that stands at one place for several moments of an episode (talking,
// gesturing) meets the key frames of each: the key frames of its best reference that voted most,
// this many moments more than a reach apart, are tried in turn until one registers.
constexpr std::size_t kStillLayerMoments = 3;
// A whole picture on the episode's canvas (a background plate, a re-render) with a registered pair
// off it (index/camera.h) is placed where the camera stands as it does in the query: the
// mapping of a plate has only the view to go by, which a slow pan shows for seconds
// (benchmarks/layers-real-art --series: plates placed 1.5-3.3 s late, their pairs registered
// 0.017-0.08 of the picture off). Its pictures at kCameraMoments query times are looked for in
// reference frames one per kCameraSpacing within kCameraReach of the pair's time.
constexpr double kCameraReach = 5.0;     // seconds
constexpr double kCameraSpacing = 0.25;  // seconds
constexpr std::size_t kCameraMoments = 3;
constexpr int kVerifySize = 480;        // pixels, longer side, for verification
constexpr double kMappingSlack = 0.15;  // seconds: reference frames tried around a mapped time
constexpr double kMatchedReach = 0.6;   // ... and up to the sample's own best match this near

// The frames from `from` to `to` seconds at the verification size, bars removed: at most
// kCandidateFrames, those nearest to one of `centres` first (verification stops at the first
// that agrees).
std::vector<engine::Frame> frames_for_verification(const std::string& path, double from, double to,
                                                   const std::vector<double>& centres,
                                                   const engine::DecodeOptions& base,
                                                   bool keep_bars = false, double spacing = 0,
                                                   std::size_t max_frames = kCandidateFrames) {
  engine::DecodeOptions options = base;
  options.analysis_size = kVerifySize;
  std::vector<engine::Frame> frames = engine::frames_between(path, from, to, options, spacing);
  const auto distance = [&centres](const engine::Frame& f) {
    double nearest = 1e9;
    for (double c : centres) nearest = std::min(nearest, std::abs(f.pts_seconds - c));
    return nearest;
  };
  std::stable_sort(
      frames.begin(), frames.end(),
      [&](const engine::Frame& a, const engine::Frame& b) { return distance(a) < distance(b); });
  if (frames.size() > max_frames) frames.resize(max_frames);
  if (!keep_bars) {
    for (engine::Frame& frame : frames) frame.luma = engine::remove_bars(frame.luma);
  }
  return frames;
}

// Where in the reference a whole picture's passing pair is, to a frame: of the reference frames
// within kTimingReach of the one that passed, the one most like the query once registered onto it
// (index/verify.h, closest_moment); of a hold, the frame nearest `mapped_time`. The mapping alone
// is a few tenths of a second off where the reference's 2 fps samples and holds step its times,
// or where a crop looks like a camera move.
double moment_of(const Verification& v, const engine::Frame& query_frame,
                 const std::string& reference_path, double passed_time, double mapped_time,
                 double reach, bool mirrored, const engine::DecodeOptions& decode) {
  std::vector<engine::Frame> frames = frames_for_verification(
      reference_path, passed_time - reach, passed_time + reach, {passed_time}, decode, false, 0,
      std::numeric_limits<std::size_t>::max());
  if (frames.empty()) return passed_time;
  std::sort(frames.begin(), frames.end(), [](const engine::Frame& a, const engine::Frame& b) {
    return a.pts_seconds < b.pts_seconds;
  });
  std::vector<engine::GrayImage> pictures;
  int nearest = 0;
  for (const engine::Frame& f : frames) {
    if (std::abs(f.pts_seconds - mapped_time) <
        std::abs(frames[static_cast<std::size_t>(nearest)].pts_seconds - mapped_time))
      nearest = static_cast<int>(pictures.size());
    pictures.push_back(f.luma);
  }
  const int chosen = closest_moment(query_frame.luma, pictures, v, mirrored, nearest);
  return frames[static_cast<std::size_t>(chosen)].pts_seconds;
}

std::vector<engine::GrayImage> pictures_of(const std::vector<engine::Frame>& frames) {
  std::vector<engine::GrayImage> pictures;
  for (const engine::Frame& f : frames) pictures.push_back(f.luma);
  return pictures;
}

// A layer's moment near `mapped_time`: a reference frame where its drawing stands where the layer
// has it on the canvas and agrees (index/verify.h, verify_pair with a mask), and that frame's
// time. Frames one per `spacing` within `reach` first, the first that agrees nearest the mapped
// time; none in place, the span moves on by `reach` while the best placed drawing is at one of
// its ends (at most kLayerReachSteps times). Then every frame around the one found: the best
// placed that agrees (a moving drawing's frame), or, none having agreed, the first in place that
// agrees nearest the best placed.
std::pair<Verification, double> layer_moment(const engine::GrayImage& query,
                                             const engine::GrayImage& mask,
                                             const std::string& reference_path, double mapped_time,
                                             double reach, double spacing, bool mirrored,
                                             const engine::DecodeOptions& decode) {
  constexpr auto kAll = std::numeric_limits<std::size_t>::max();
  double from = mapped_time - reach, to = mapped_time + reach;
  std::vector<engine::Frame> frames = frames_for_verification(
      reference_path, from, to, {mapped_time}, decode, false, spacing, kAll);
  Verification v = verify_pair(query, mask, pictures_of(frames), mirrored);
  const auto time_of = [](const std::vector<engine::Frame>& f, const Verification& w) {
    return f[static_cast<std::size_t>(w.candidate)].pts_seconds;
  };
  for (int step = 0; step < kLayerReachSteps && !v.registered && v.canvas_shift < 1; ++step) {
    const double nearest = time_of(frames, v);
    if (nearest - from < spacing && from > 0) {
      to = from;
      from -= reach;
    } else if (to - nearest < spacing) {
      from = to;
      to += reach;
    } else {
      break;
    }
    std::vector<engine::Frame> further =
        frames_for_verification(reference_path, from, to, {nearest}, decode, false, spacing, kAll);
    const Verification w = verify_pair(query, mask, pictures_of(further), mirrored);
    if (w.candidate < 0 || (!w.registered && w.canvas_shift >= v.canvas_shift)) break;
    v = w;
    frames = std::move(further);
  }
  if (v.candidate < 0) return {v, mapped_time};
  const double found = time_of(frames, v);
  if (v.canvas_shift >= 1) return {v, found};
  std::vector<engine::Frame> around = frames_for_verification(
      reference_path, found - spacing, found + spacing, {found}, decode, false, 0, kAll);
  const Verification closer =
      verify_pair(query, mask, pictures_of(around), mirrored,
                  v.passed ? LayerMoment::kBestPlaced : LayerMoment::kFirstInPlace);
  if (closer.candidate < 0 || (v.passed && !closer.passed)) return {v, found};
  return {closer, time_of(around, closer)};
}

// The reference times around `found` (a layer's moment, in place) over which its drawing stands
// in place without a break, sampled one per `spacing` up to `reach` away: a hold or a slowly
// moving drawing, where the moment found is one of many.
std::pair<double, double> in_place_span(const engine::GrayImage& query,
                                        const engine::GrayImage& mask,
                                        const std::string& reference_path, double found,
                                        double reach, double spacing, bool mirrored,
                                        const engine::DecodeOptions& decode) {
  std::vector<engine::Frame> frames =
      frames_for_verification(reference_path, found - reach, found + reach, {found}, decode, false,
                              spacing, std::numeric_limits<std::size_t>::max());
  std::sort(frames.begin(), frames.end(), [](const engine::Frame& a, const engine::Frame& b) {
    return a.pts_seconds < b.pts_seconds;
  });
  const auto after = std::partition_point(
      frames.begin(), frames.end(), [&](const engine::Frame& f) { return f.pts_seconds <= found; });
  std::vector<engine::GrayImage> later, earlier;  // from `found` outwards
  for (auto f = after; f != frames.end(); ++f) later.push_back(f->luma);
  for (auto f = std::make_reverse_iterator(after); f != frames.rend(); ++f)
    earlier.push_back(f->luma);
  const std::size_t ahead = count_in_place(query, mask, later, mirrored);
  const std::size_t behind = count_in_place(query, mask, earlier, mirrored);
  const double from = behind ? (after - static_cast<std::ptrdiff_t>(behind))->pts_seconds : found;
  const double to = ahead ? (after + static_cast<std::ptrdiff_t>(ahead) - 1)->pts_seconds : found;
  return {from, to};
}

// The agreeing pairs of a candidate, (query, reference) times, place its segments to a frame. A
// segment whose pairs (two or more) follow speed 1 more closely than the segment's own speed
// (fitted to 2 fps reference samples) takes speed 1; then its reference times move by the median
// of its pairs' offsets from it.
void place_by_pairs(MatchSegment& s, const std::vector<std::pair<double, double>>& agreed) {
  std::vector<std::pair<double, double>> pairs;
  for (const auto& [q, r] : agreed) {
    if (q >= s.query_start - 1e-6 && q <= s.query_end + 1e-6) pairs.push_back({q, r});
  }
  if (pairs.empty()) return;
  const auto shifts_at = [&](double speed) {
    std::vector<double> shifts;
    for (const auto& [q, r] : pairs)
      shifts.push_back(r - (s.reference_start + speed * (q - s.query_start)));
    std::sort(shifts.begin(), shifts.end());
    return shifts;
  };
  if (s.speed != 1 && pairs.size() >= 2) {
    const std::vector<double> own = shifts_at(s.speed), unchanged = shifts_at(1);
    if (unchanged.back() - unchanged.front() < own.back() - own.front()) {
      s.speed = 1;
      s.reference_end = s.reference_start + (s.query_end - s.query_start);
    }
  }
  const std::vector<double> shifts = shifts_at(s.speed);
  const double shift = shifts[shifts.size() / 2];
  s.reference_start = std::max(0.0, s.reference_start + shift);
  s.reference_end = std::max(s.reference_start, s.reference_end + shift);
}

// A whole picture's pair that registered off the episode's canvas (its canvas_offset,
// index/verify.h, above kCameraTolerance), for place_by_camera.
struct OffCanvasPair {
  double query_time, reference_time;
  engine::GrayImage query;
  bool mirrored;
};

// Places `m` (a whole picture) where the camera stands as in the query (index/camera.h): the
// picture of its pair `off` off the canvas is looked for within kCameraReach of the pair's
// reference time, and the query's pictures farthest from it (a second or more) confirm.
void place_by_camera(Match& m, const OffCanvasPair& off, const std::string& query_path,
                     double query_duration, const engine::DecodeOptions& decode) {
  std::vector<TimedPicture> moments{{off.query_time, off.query}};
  std::vector<double> times;
  for (double t = kCameraSpacing; t < query_duration; t += kCameraSpacing) times.push_back(t);
  for (const double t : spread_times({off.query_time}, times, kLayerPairSpacing, kCameraMoments)) {
    moments.push_back(
        {t, frames_for_verification(query_path, t, t, {t}, decode, false, 0, 1).front().luma});
  }
  double earliest = off.query_time, latest = off.query_time;
  for (const TimedPicture& p : moments) {
    earliest = std::min(earliest, p.time);
    latest = std::max(latest, p.time);
  }
  std::vector<TimedPicture> frames;
  for (engine::Frame& f : frames_for_verification(
           m.reference.path,
           std::max(0.0, off.reference_time - kCameraReach - (off.query_time - earliest)),
           off.reference_time + kCameraReach + (latest - off.query_time), {}, decode, false,
           kCameraSpacing, std::numeric_limits<std::size_t>::max()))
    frames.push_back({f.pts_seconds, std::move(f.luma)});
  std::sort(frames.begin(), frames.end(),
            [](const TimedPicture& a, const TimedPicture& b) { return a.time < b.time; });
  const std::optional<double> shift =
      camera_shift(moments, frames, off.reference_time, kCameraReach, off.mirrored);
  if (!shift) return;
  for (MatchSegment& s : m.segments) {
    s.speed = 1;
    s.reference_start = std::max(0.0, s.query_start + *shift);
    s.reference_end = std::max(s.reference_start, s.query_end + *shift);
  }
  m.evidence_reference_time = m.evidence_query_time + *shift;
}

// Visual evidence for one candidate: the most similar pairs of its segments, spread over the
// query; every registered pair must agree picture-wide, two agreeing pairs end it.
// `moments`: agreement is asked at several moments a second apart, as for a layer, whatever the
// coverage (a background plate). `layer_times`: the query's samples that are layer pictures.
void verify_candidate(Match& m, const std::vector<const Segment*>& evidence,
                      const std::string& query_path, bool still,
                      const std::vector<double>& layer_times, const engine::DecodeOptions& decode,
                      std::optional<OffCanvasPair>& off_canvas, bool moments = false) {
  const bool partial = m.coverage == Coverage::kPartial;
  const bool still_layer = partial && still;  // a cel: no mapping, only the key frame it matched
  moments = moments || partial;
  const double spacing = moments ? kLayerPairSpacing : kPairSpacing;
  const int needed = moments ? kAgreeingLayerPairs : kAgreeingPairs;
  // A pair: a query sample, where the segment's mapping puts it in the reference, and where
  // its own best match is (they differ when the copy is damaged or the mapping is a few frames
  // off while characters move; frames from both neighbourhoods are tried).
  struct Pair {
    double query_time, mapped_time, matched_time, similarity;
    bool mirrored;
    double speed;  // the segment's
  };
  std::vector<Pair> pairs;
  for (const Segment* s : evidence) {
    // A still's matches are its moments, each where it matched.
    for (const FrameMatch& e : s->evidence)
      pairs.push_back({e.query_time, still ? e.reference_time : s->speed * e.query_time + s->offset,
                       e.reference_time, e.similarity, e.mirrored, s->speed});
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const Pair& a, const Pair& b) { return a.similarity > b.similarity; });
  // The most similar pairs, spread over the query: neighbouring frames fail alike.
  std::vector<const Pair*> tried;
  for (const Pair& pair : pairs) {
    if (static_cast<int>(tried.size()) == kVerifiedPairs) break;
    if (still_layer || std::none_of(tried.begin(), tried.end(), [&](const Pair* t) {
          return std::abs(t->query_time - pair.query_time) < spacing;
        })) {
      tried.push_back(&pair);
    }
  }
  // A moving layer's temporal evidence is the few samples that met a key frame at their place and
  // pose; its other pictures are moments as good, placed by the mapping. They fill the pairs up
  // (a 4 s layer whose two matched samples lay 1.7 s apart in its first 3 s had no third moment).
  std::vector<Pair> mapped_only;
  if (partial && !still) {
    std::vector<double> chosen;
    for (const Pair* p : tried) chosen.push_back(p->query_time);
    const Segment& s = *evidence.front();
    for (const double t : spread_times(chosen, layer_times, spacing, kVerifiedPairs)) {
      const double mapped = s.speed * t + s.offset;
      mapped_only.push_back({t, mapped, mapped, 0, s.mirrored, s.speed});
    }
    for (const Pair& p : mapped_only) tried.push_back(&p);
  }
  int agreeing = 0, unregistered = 0;
  int fewest_agreeing_inliers = std::numeric_limits<int>::max();
  bool disagreeing = false;
  // Agreeing pairs: query time, reference time, and for a layer's moment what the span of its
  // reference times in place needs (in_place_span).
  struct Agreed {
    double query_time, reference_time;
    engine::GrayImage query, mask;
    bool mirrored;
  };
  std::vector<Agreed> agreed;
  const auto agreed_times = [&agreed] {
    std::vector<std::pair<double, double>> times;
    for (const Agreed& a : agreed) times.push_back({a.query_time, a.reference_time});
    return times;
  };
  // (query, reference) of a whole picture's pairs placed to a frame; a layer's are its agreeing
  // moments.
  std::vector<std::pair<double, double>> placed;
  off_canvas.reset();
  // A still layer's moments are tried until one registers (it is then the one shown).
  for (std::size_t i = 0; i < tried.size() && !disagreeing && agreeing < needed &&
                          (still_layer ? !m.visual.registered : unregistered < kUnregisteredPairs);
       ++i) {
    const Pair& pair = *tried[i];
    double from = pair.mapped_time - kMappingSlack, to = pair.mapped_time + kMappingSlack;
    // A layer's own best match is a key frame, which stands for a whole hold: only the mapping
    // places it.
    if (!partial && std::abs(pair.matched_time - pair.mapped_time) <= kMatchedReach) {
      from = std::min(from, pair.matched_time - kMappingSlack);
      to = std::max(to, pair.matched_time + kMappingSlack);
    }
    Verification v;
    double passed_time = pair.mapped_time;  // the reference time of the picture `v` is about
    std::vector<engine::Frame> candidates;  // a whole picture's
    engine::Frame query_frame;
    engine::GrayImage mask;
    try {
      // A layer keeps its whole canvas (no bar removal) and is checked on its foreground.
      engine::DecodeOptions query_decode = decode;
      query_decode.colour = partial;  // the foreground finder tells a keying green by its colour
      query_frame = frames_for_verification(query_path, pair.query_time, pair.query_time,
                                            {pair.query_time}, query_decode, partial)
                        .front();
      if (partial) {
        mask =
            engine::find_foreground(query_frame.luma, query_frame.alpha, query_frame.colour).mask;
      }
      if (partial) {
        const double layer_spacing = still_layer ? kLayerStillSpacing : kLayerSpacing;
        std::tie(v, passed_time) =
            layer_moment(query_frame.luma, mask, m.reference.path, pair.mapped_time, kLayerReach,
                         layer_spacing, pair.mirrored, decode);
        // The mapping can be seconds off (sparse key frames: a pencil test's was 3.4 s late, its
        // first moment found in place all the same): a moment not in place near it is looked
        // for again where the moments found put it.
        if (!v.registered && !still && !agreed.empty()) {
          const double shared =
              pair.speed * pair.query_time + shared_offset(agreed_times(), pair.speed);
          if (std::abs(shared - pair.mapped_time) > kLayerReach / 2) {
            const auto [w, found] = layer_moment(query_frame.luma, mask, m.reference.path, shared,
                                                 kLayerReach, layer_spacing, pair.mirrored, decode);
            if (w.passed) std::tie(v, passed_time) = std::tie(w, found);
          }
        }
      } else {
        candidates = frames_for_verification(m.reference.path, from, to,
                                             {pair.mapped_time, pair.matched_time}, decode);
        v = verify_pair(query_frame.luma, mask, pictures_of(candidates), pair.mirrored);
        if (v.candidate >= 0)
          passed_time = candidates[static_cast<std::size_t>(v.candidate)].pts_seconds;
      }
      if (still && !partial && !v.registered) {
        v.candidate = same_layout(query_frame.luma, pictures_of(candidates), pair.mirrored);
        v.registered = v.by_layout = v.candidate >= 0;
        if (v.by_layout)
          passed_time = candidates[static_cast<std::size_t>(v.candidate)].pts_seconds;
      }
    } catch (const Error&) {
      break;  // the reference cannot be decoded any more: no visual evidence
    }
    if (!off_canvas && !partial && !still && !v.by_layout && v.candidate >= 0 &&
        canvas_offset(v, query_frame.luma, candidates[static_cast<std::size_t>(v.candidate)].luma)
                .value_or(0) > kCameraTolerance)
      off_canvas = OffCanvasPair{pair.query_time, passed_time, query_frame.luma, pair.mirrored};
    disagreeing = v.registered && !v.passed;
    agreeing += v.passed ? 1 : 0;
    if (v.passed) fewest_agreeing_inliers = std::min(fewest_agreeing_inliers, v.inliers);
    double reference_time = passed_time;
    // A layer's agreeing moment is placed to a frame already: where its drawing stands on the
    // canvas. Of other pictures, the first agreeing pair places the query; later ones check a
    // speed other than 1 (see place_by_pairs). Each costs a dozen registrations. A still's pairs
    // are all one moment of the query, each placed, since the one shown as evidence places the
    // still.
    if (v.passed && !partial && !v.by_layout && (placed.empty() || pair.speed != 1 || still)) {
      try {
        reference_time = moment_of(v, query_frame, m.reference.path, passed_time, pair.mapped_time,
                                   kTimingReach, pair.mirrored, decode);
        placed.push_back({pair.query_time, reference_time});
      } catch (const Error&) {
        // the pair stands at the frame that passed
      }
    }
    if (v.passed)
      agreed.push_back({pair.query_time, passed_time,
                        partial ? query_frame.luma : engine::GrayImage{}, mask, pair.mirrored});
    unregistered += v.registered ? 0 : 1;
    // Shown as evidence: the disagreeing pair, else the one with most inliers (a still layer's
    // registered moment).
    if (disagreeing || v.inliers > m.visual.inliers || !i || (still_layer && v.registered)) {
      m.visual = v;
      m.evidence_query_time = pair.query_time;
      m.evidence_reference_time = reference_time;
    }
  }
  m.visual.passed = (moments ? agreeing >= needed : agreeing > 0) && !disagreeing;
  if (moments && m.visual.passed) {
    // The agreeing moments must sit in the reference as they sit in the query: the same drawing
    // matching one reference moment throughout is a hold or a reused drawing, which pins neither
    // the time nor the episode. Each moment is its reference time, or, when the times found do
    // not follow, a layer's span of reference times in place: of a slow or held drawing, the
    // first in place nearest each mapped time can land anywhere in it.
    const double speed = evidence.front()->speed;
    std::vector<std::pair<double, double>> spans;
    for (const Agreed& a : agreed) spans.push_back({a.reference_time, a.reference_time});
    const auto follow = [&] {
      for (std::size_t i = 0; i < agreed.size(); ++i) {
        for (std::size_t j = 0; j < agreed.size(); ++j) {
          const double expected = speed * (agreed[j].query_time - agreed[i].query_time);
          const double lowest = spans[j].first - spans[i].second;
          const double highest = spans[j].second - spans[i].first;
          const double off = std::max({0.0, lowest - expected, expected - highest});
          if (off > kLayerTimingSlack +
                        kLayerTimingShare * std::abs(agreed[j].query_time - agreed[i].query_time))
            return false;
        }
      }
      return true;
    };
    if (!follow() && partial && !still) {
      try {
        for (std::size_t i = 0; i < agreed.size(); ++i) {
          spans[i] = in_place_span(agreed[i].query, agreed[i].mask, m.reference.path,
                                   agreed[i].reference_time, kLayerReach, kLayerSpacing,
                                   agreed[i].mirrored, decode);
        }
      } catch (const Error&) {
        // the reference cannot be decoded any more: the times found stand
      }
    }
    m.visual.passed = follow();
    if (!m.visual.passed && partial && !still && agreed.size() >= 3) {
      // A layer's mapping is only as good as its sparse key frames: a drawing that comes back to
      // its place (a cycle) can stand there at a time the mapping put a couple of seconds off,
      // and that moment is found instead. Moments off the timing the others share (their median
      // offset) are looked for again where the others put them.
      try {
        for (const auto& [i, expected] :
             off_shared_timing(agreed_times(), speed, kLayerTimingSlack)) {
          Agreed& a = agreed[i];
          const auto [v, found] = layer_moment(a.query, a.mask, m.reference.path, expected,
                                               kLayerReach, kLayerSpacing, a.mirrored, decode);
          if (!v.passed) continue;
          a.reference_time = found;
          spans[i] = in_place_span(a.query, a.mask, m.reference.path, found, kLayerReach,
                                   kLayerSpacing, a.mirrored, decode);
        }
      } catch (const Error&) {
        // the reference cannot be decoded any more: the times found stand
      }
      m.visual.passed = follow();
    }
  }
  for (MatchSegment& s : m.segments) place_by_pairs(s, partial ? agreed_times() : placed);
  m.moments_follow_timing =
      moments && m.visual.passed && !still && fewest_agreeing_inliers >= kTimingMomentInliers;
}

}  // namespace

double query_sample_fps(double duration_seconds) {
  constexpr double kTargetSamples = 40;
  if (duration_seconds <= 0) return engine::kQuerySampleFps;
  return std::clamp(kTargetSamples / duration_seconds, engine::kReferenceSampleFps,
                    engine::kQuerySampleFps);
}

namespace {

// Whole-picture search: the searched samples' descriptors (and mirrored ones, and insets)
// against the library's frames, aligned in time. `times`: those samples' times.
std::vector<Segment> search_whole(const Library& library,
                                  const std::vector<const engine::Sample*>& samples,
                                  const std::vector<double>& times,
                                  std::vector<FrameMatch>& matches) {
  const int dimension = library.model().output_size;
  std::vector<float> vectors, mirrored;
  for (const engine::Sample* sample : samples) {
    const engine::Sample& s = *sample;
    vectors.insert(vectors.end(), s.descriptor.begin(), s.descriptor.end());
    mirrored.insert(mirrored.end(), s.mirrored_descriptor.begin(), s.mirrored_descriptor.end());
  }
  const auto count = static_cast<std::int64_t>(times.size());
  if (count == 0 || library.frames().empty()) return {};
  // A saved fingerprint (.ctfp) has no mirrored descriptors: it is searched as it is.
  if (static_cast<int>(vectors.size()) != count * dimension ||
      (!mirrored.empty() && mirrored.size() != vectors.size())) {
    throw Error("query fingerprint does not fit the library's model " + library.model().id);
  }
  const int k =
      std::min<std::int64_t>(kNeighbours, static_cast<std::int64_t>(library.frames().size()));
  // Searches `queries` (n x dimension) of the samples numbered `which` and appends every
  // neighbour.
  auto search = [&](const std::vector<float>& queries, const std::vector<int>& which,
                    bool is_mirrored) {
    const auto n = static_cast<std::int64_t>(which.size());
    const auto hits = library.nearest_frames(queries.data(), n, k);
    for (std::int64_t i = 0; i < n; ++i) {
      const int q = which[static_cast<std::size_t>(i)];
      for (int j = 0; j < k; ++j) {
        const Neighbour& hit = hits[i * k + j];
        if (hit.id < 0) break;
        const IndexedFrame& frame = library.frames()[static_cast<std::size_t>(hit.id)];
        matches.push_back({q, times[static_cast<std::size_t>(q)], frame.reference,
                           frame.pts_seconds, hit.score, is_mirrored, frame.shared});
      }
    }
  };
  std::vector<int> all(times.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  search(vectors, all, false);
  if (!mirrored.empty()) search(mirrored, all, true);
  if (count == 1) return still_segments(matches, kStillSimilarity, 1, 0);
  // Samples whose picture holds an inset (picture-in-picture) are searched by the inset too,
  // whenever enough samples hold one: in a large library the page around an inset (plain, gray)
  // always resembles some reference frames well enough to align, so "whole frames failed" cannot
  // be the trigger.
  std::vector<float> insets;
  std::vector<int> inset_samples;
  for (std::size_t q = 0; q < samples.size(); ++q) {
    const std::vector<float>& inset = samples[q]->inset_descriptor;
    if (inset.empty()) continue;
    insets.insert(insets.end(), inset.begin(), inset.end());
    inset_samples.push_back(static_cast<int>(q));
  }
  if (inset_samples.size() >= static_cast<std::size_t>(kMinSupport))
    search(insets, inset_samples, false);
  return align(matches, times);
}

}  // namespace

namespace {

// What the searches found: segments of both kinds, whole-picture ones first.
struct Found {
  std::vector<FrameMatch> whole_matches;  // every whole-picture neighbour (shared content)
  std::vector<Segment> segments;
  std::size_t whole_segments = 0;
  std::size_t whole_samples = 0, partial_samples = 0;  // query samples each search used
  bool still = false;
  // Most of the query's pictures are layers (content on at most half of a white, paper or
  // transparent picture): every candidate is checked as a layer, whichever search found it, and
  // only the canvas-bound partial search gives temporal evidence. The whole picture of a layer,
  // mostly blank, follows the same drawing anywhere on the screen, and its blank background must
  // not count as agreement with a painted one, whose soft gradients leave few strong edges next
  // to a character's outline (measured: 0.014 unexplained).
  bool layer_query = false;
  // The query had no informative samples and was searched by its faint ones (index/library.h).
  bool faint = false;
};

// One candidate per reference: the match being built and the segments that support it.
struct Candidate {
  Match match;
  std::vector<const Segment*> evidence;
  bool canvas_bound = false;  // has segments of the partial search (index/partial_search.h)
};
using Candidates = std::map<std::int64_t, Candidate>;

// `samples`: those searched by their whole picture (index/library.h, whole_picture_samples).
Found search(const Library& library, const engine::Fingerprint& query,
             const std::vector<const engine::Sample*>& samples, bool faint) {
  std::vector<double> times;
  for (const engine::Sample* s : samples) times.push_back(s->pts_seconds);
  Found found;
  found.still = query.samples.size() == 1;
  found.faint = faint;
  found.segments = search_whole(library, samples, times, found.whole_matches);
  found.whole_segments = found.segments.size();
  found.whole_samples = times.size();
  const PartialSearch partial = search_partial(library, query);
  found.partial_samples = partial.sample_times.size();
  if (!partial.matches.empty()) {
    std::vector<Segment> segments =
        found.still ? still_segments(partial.matches, partial_alignment_params().min_similarity,
                                     kStillLayerMoments, kLayerReach)
                    : align_partial(partial);
    found.segments.insert(found.segments.end(), segments.begin(), segments.end());
  }
  const auto layers =
      std::count_if(query.samples.begin(), query.samples.end(), [](const engine::Sample& x) {
        return !x.local_features.empty() && x.foreground_share <= 0.5;
      });
  found.layer_query = 2 * static_cast<std::size_t>(layers) > query.samples.size();
  return found;
}

// The listed segments, one candidate per reference, with its temporal evidence. Whole-picture
// evidence, where a reference has it, is the candidate's evidence; partial evidence stands alone.
Candidates list_candidates(const Library& library, const engine::Fingerprint& query,
                           const Found& found) {
  const bool still = found.still;
  const double period = 1.0 / (query.sample_fps > 0 ? query.sample_fps : 1.0);
  Candidates candidates;
  for (std::size_t i = 0; i < found.segments.size(); ++i) {
    const Segment& s = found.segments[i];
    const bool from_partial_search = i >= found.whole_segments;
    const bool is_partial = from_partial_search || found.layer_query;
    // Stray one- or two-sample agreements are noise next to real segments, not evidence.
    if (s.score < (from_partial_search ? kPartialListScore : kListScore) ||
        (!still && s.support < kMinSegmentSupport))
      continue;
    Candidate& c = candidates[s.reference];
    Match& m = c.match;
    m.reference = library.reference(s.reference);
    if (is_partial && !m.segments.empty() && m.coverage == Coverage::kWhole) continue;
    if (!is_partial && m.coverage == Coverage::kPartial) {
      // A whole-picture segment found after partial ones: whole evidence replaces it.
      m = Match{};
      m.reference = library.reference(s.reference);
      c.evidence.clear();
    }
    MatchSegment out;
    out.query_start = s.query_start;
    out.query_end =
        still ? s.query_end
              : std::min(s.query_end + period, std::max(query.media.duration_seconds, s.query_end));
    out.reference_end =
        still ? s.reference_end : s.reference_start + s.speed * (out.query_end - out.query_start);
    // A mapping fitted a little before the reference's first frame still starts there.
    out.reference_start = std::max(0.0, s.reference_start);
    out.reference_end = std::max(out.reference_end, out.reference_start);
    out.score = s.score;
    out.speed = s.speed;
    out.mirrored = s.mirrored;
    out.partial = is_partial;
    out.support = s.support;
    out.specificity = s.specificity;
    m.coverage = is_partial ? Coverage::kPartial : Coverage::kWhole;
    m.segments.push_back(out);
    m.score = std::max(m.score, s.score);
    const std::size_t searched = from_partial_search ? found.partial_samples : found.whole_samples;
    const int needed = std::max(
        kMinSupport, static_cast<int>(std::ceil(kMinSupportShare * static_cast<double>(searched))));
    const double temporal_score = is_partial ? kPartialTemporalScore : kTemporalScore;
    const bool timed = !found.layer_query || from_partial_search;
    m.temporal =
        m.temporal || (timed && !still && s.support >= needed && s.score >= temporal_score &&
                       s.query_end - s.query_start >= kMinSpan);
    m.shared = m.shared || s.shared_fraction >= 0.5;
    c.evidence.push_back(&s);
    c.canvas_bound = c.canvas_bound || from_partial_search;
  }
  return candidates;
}

// Shared content found in one reference stands for every reference holding it: those are
// listed too, marked shared (series level).
void add_sharing_references(const Library& library, const Found& found, Candidates& candidates) {
  for (std::size_t i = 0; i < found.whole_segments; ++i) {
    const Segment& s = found.segments[i];
    if (s.shared_fraction < 0.5 || !candidates.count(s.reference)) continue;
    std::map<std::int64_t, std::set<int>> samples_by_reference;
    std::set<int> segment_samples;
    for (const FrameMatch& e : s.evidence) segment_samples.insert(e.query_sample);
    for (const FrameMatch& m : found.whole_matches) {
      if (m.shared && m.similarity >= kSharedSimilarity - 0.05 &&
          segment_samples.count(m.query_sample)) {
        samples_by_reference[m.reference].insert(m.query_sample);
      }
    }
    for (const auto& [reference, samples] : samples_by_reference) {
      if (candidates.count(reference) || 2 * samples.size() < segment_samples.size()) continue;
      const bool temporal = candidates[s.reference].match.temporal;
      Match& m = candidates[reference].match;
      m.reference = library.reference(reference);
      m.shared = true;
      m.temporal = temporal;
      m.score = s.score;
      MatchSegment out;
      out.query_start = s.query_start;
      out.query_end = s.query_end;
      out.score = s.score;
      out.support = static_cast<int>(samples.size());
      // Place it in this reference by the median offset of its best matches.
      std::map<int, const FrameMatch*> best;
      for (const FrameMatch& f : found.whole_matches) {
        if (f.reference != reference || !samples.count(f.query_sample)) continue;
        auto& slot = best[f.query_sample];
        if (!slot || f.similarity > slot->similarity) slot = &f;
      }
      std::vector<double> offsets;
      for (const auto& [sample, f] : best) offsets.push_back(f->reference_time - f->query_time);
      std::nth_element(offsets.begin(), offsets.begin() + offsets.size() / 2, offsets.end());
      out.reference_start = out.query_start + offsets[offsets.size() / 2];
      out.reference_end = out.query_end + offsets[offsets.size() / 2];
      m.segments.push_back(out);
    }
  }
}

// Visual verification of the best pairs of the best-scoring non-shared candidates of each kind,
// each reference frame taken where the segment's mapping puts the query time (indexed frames are
// up to half a sampling period off, key frames up to a hold). Every registered pair must also
// agree: picture-wide for whole pictures (one pair showing structure that the other picture
// lacks, a different character on a reused background, fails the candidate), on the query's
// foreground for layers. Each pair decodes from a keyframe, so the work is bounded.
void verify_candidates(Candidates& candidates, const std::string& query_path, bool still,
                       double query_duration, const std::vector<double>& layer_times,
                       const LookupOptions& options, std::vector<std::string>& warnings) {
  if (!options.verify || query_path.empty()) return;
  for (const Coverage coverage : {Coverage::kWhole, Coverage::kPartial}) {
    // Shared content is never confirmed, so a video's shared candidates, listed on their timing,
    // are not checked; a still has no timing, and its shared candidates are listed (series level)
    // only once a pair registers.
    std::vector<Candidate*> to_verify;
    for (auto& [reference, c] : candidates) {
      if ((!c.match.shared || still) && c.match.coverage == coverage && !c.evidence.empty())
        to_verify.push_back(&c);
    }
    // Partial candidates by agreeing samples times score: a moving layer meets sparse key frames
    // in a few samples, each with few votes, so its score alone ranks it below stray matches. Those
    // the canvas-bound partial search found come first: the whole picture of a layer, mostly
    // blank, resembles any mostly pale frame (generated no-background layers: 6 of 30 found
    // instead of 4, whole-picture candidates having taken the three checks).
    const auto rank = [coverage](const Candidate* c) {
      if (coverage == Coverage::kWhole) return c->match.score;
      double best = 0;
      for (const Segment* s : c->evidence) best = std::max(best, s->score * s->support);
      return best;
    };
    std::sort(to_verify.begin(), to_verify.end(), [&](const Candidate* a, const Candidate* b) {
      if (a->canvas_bound != b->canvas_bound) return a->canvas_bound;
      return rank(a) > rank(b);
    });
    // The first kVerifiedReferences, then, for partial evidence, the reserve when none of them
    // registers.
    const std::size_t first = std::min(to_verify.size(), kVerifiedReferences);
    to_verify.resize(std::min(
        to_verify.size(), first + (coverage == Coverage::kPartial ? kReserveLayerReferences : 0)));
    const auto verify = [&](Candidate* c) {
      // A reference moved or replaced since it was indexed: one kind of evidence only, said.
      const ReferenceRecord& r = c->match.reference;
      std::error_code error;
      const auto size = std::filesystem::file_size(r.path, error);
      if (error || (r.size_bytes > 0 && static_cast<std::int64_t>(size) != r.size_bytes)) {
        warnings.push_back("reference " + r.name + ": " + r.path +
                           (error ? " is missing" : " has changed since it was indexed") +
                           "; no visual check against it");
        return;
      }
      std::optional<OffCanvasPair> off_canvas;
      verify_candidate(c->match, c->evidence, query_path, still, layer_times, options.decode,
                       off_canvas);
      // A background plate is placed by the camera's position only, which a pan and its return
      // share where they cross: like a layer, it must agree at several moments a second apart.
      if (c->match.visual.passed && c->match.visual.plate && !still)
        verify_candidate(c->match, c->evidence, query_path, still, layer_times, options.decode,
                         off_canvas, true);
      if (off_canvas && c->match.visual.registered) {
        try {
          place_by_camera(c->match, *off_canvas, query_path, query_duration, options.decode);
        } catch (const Error&) {
          // the reference cannot be decoded any more: the mapping stands
        }
      }
    };
    std::for_each(to_verify.begin(), to_verify.begin() + static_cast<std::ptrdiff_t>(first),
                  verify);
    if (std::any_of(to_verify.begin(), to_verify.begin() + static_cast<std::ptrdiff_t>(first),
                    [](const Candidate* c) { return c->match.visual.registered; })) {
      to_verify.resize(first);
    } else {
      std::for_each(to_verify.begin() + static_cast<std::ptrdiff_t>(first), to_verify.end(),
                    verify);
    }
    // A layer that agrees with frames of several references (a character in the same pose in
    // several episodes) tells the series, not the episode, unless one of them alone also follows
    // the query's motion over time.
    if (coverage == Coverage::kPartial) {
      std::vector<Match*> agreeing;
      for (Candidate* c : to_verify) {
        if (c->match.visual.passed) agreeing.push_back(&c->match);
      }
      const auto moving = std::count_if(agreeing.begin(), agreeing.end(),
                                        [](const Match* m) { return m->temporal; });
      for (Match* m : agreeing) {
        if (agreeing.size() > 1 && !(moving == 1 && m->temporal)) m->shared = true;
      }
    }
  }
  // A background plate (index/verify.h) is evidence on part of the frame: the reference's
  // characters are missing from the query.
  for (auto& [reference, c] : candidates) {
    Match& m = c.match;
    if (!m.visual.passed || !m.visual.plate) continue;
    m.coverage = Coverage::kPartial;
    for (MatchSegment& s : m.segments) s.partial = true;
  }
  // A still is placed where its verified frame is: the library frame it matched is up to half a
  // sampling period away, a key frame up to a hold.
  if (still) {
    for (auto& [reference, c] : candidates) {
      Match& m = c.match;
      if (!m.visual.registered || m.segments.size() != 1) continue;
      m.segments.front().reference_start = m.segments.front().reference_end =
          m.evidence_reference_time;
    }
  }
}

// The verdicts and their listing order (index/decision.h).
std::vector<Match> decide_all(Candidates& candidates, bool faint, int top) {
  std::vector<std::pair<Evidence, Match*>> listed;
  const auto agreeing = std::count_if(candidates.begin(), candidates.end(),
                                      [](const auto& c) { return c.second.match.visual.passed; });
  for (auto& [reference, c] : candidates) {
    Match& m = c.match;
    Evidence evidence;
    evidence.coverage = m.coverage;
    evidence.score = m.score;
    evidence.temporal = m.temporal;
    evidence.moments_follow_timing = m.moments_follow_timing;
    evidence.registered = m.visual.registered;
    evidence.agreed = m.visual.passed;
    evidence.shared = m.shared;
    evidence.checked = m.visual.candidate >= 0;
    evidence.inliers = m.visual.inliers;
    evidence.other_agreed = agreeing > (m.visual.passed ? 1 : 0);
    evidence.faint = faint;
    const std::optional<Verdict> verdict = decide(evidence);
    if (!verdict) continue;
    m.verdict = *verdict;
    m.reason = explain(evidence);
    std::sort(
        m.segments.begin(), m.segments.end(),
        [](const MatchSegment& a, const MatchSegment& b) { return a.query_start < b.query_start; });
    listed.emplace_back(evidence, &m);
  }
  std::stable_sort(listed.begin(), listed.end(),
                   [](const auto& a, const auto& b) { return listed_before(a.first, b.first); });
  std::vector<Match> matches;
  for (const auto& [evidence, m] : listed) {
    if (static_cast<int>(matches.size()) == top) break;
    matches.push_back(*m);
  }
  return matches;
}

}  // namespace

// The stages: search (whole pictures, partial pictures) -> candidates with temporal evidence ->
// references sharing the content -> visual verification -> verdicts.
LookupResult match(const Library& library, const engine::Fingerprint& query,
                   const std::string& query_path, const LookupOptions& options) {
  LookupResult result;
  result.media = query.media;
  bool faint = false;
  const std::vector<const engine::Sample*> searched = whole_picture_samples(query, faint);
  result.informative_samples = faint ? 0 : static_cast<int>(searched.size());
  const Found found = search(library, query, searched, faint);
  if (found.segments.empty()) return result;
  Candidates candidates = list_candidates(library, query, found);
  add_sharing_references(library, found, candidates);
  std::vector<double> layer_times;
  for (const engine::Sample& s : query.samples) {
    if (s.foreground_share < 1 && !s.local_features.empty()) layer_times.push_back(s.pts_seconds);
  }
  verify_candidates(candidates, query_path, found.still, query.media.duration_seconds, layer_times,
                    options, result.warnings);
  result.matches = decide_all(candidates, found.faint, options.top);
  return result;
}

namespace {

// Hash-only queries (vPDQ files): Meta's matching defaults. Hashes of lower quality (flat, dark or
// blurred frames) are not searched; a library frame is a match within kVpdqDistance bits, its
// similarity 1 - bits / 64 (0.52 at the bound, 1 for the same hash) so that the temporal
// alignment weighs it like a descriptor match.
constexpr int kVpdqQuality = 50;
constexpr int kVpdqDistance = 31;

LookupResult match_hashes(const Library& library, const std::vector<engine::VpdqFeature>& hashes,
                          const LookupOptions& options) {
  LookupResult result;
  result.media.kind = engine::MediaKind::kVideo;
  result.media.format = "vpdq";
  std::vector<double> times;
  std::vector<std::uint8_t> codes;
  double first = hashes.front().timestamp_seconds, last = first;
  for (const engine::VpdqFeature& h : hashes) {
    first = std::min(first, h.timestamp_seconds);
    last = std::max(last, h.timestamp_seconds);
    if (h.quality < kVpdqQuality) continue;
    times.push_back(h.timestamp_seconds);
    codes.insert(codes.end(), h.hash.bytes.begin(), h.hash.bytes.end());
  }
  // Each hash stands for the time up to the next one.
  const double spacing =
      hashes.size() > 1 ? (last - first) / static_cast<double>(hashes.size() - 1) : 1.0;
  result.media.duration_seconds = last + spacing;
  result.informative_samples = static_cast<int>(times.size());
  if (!library.has_whole_frame_pdq()) {
    result.warnings.push_back(
        "this library was built before hash-only lookups: its frames' PDQ is not Meta's vPDQ, "
        "so few hashes can match (build it again with this version)");
  }
  if (times.empty() || library.frames().empty()) return result;
  const int k =
      std::min<std::int64_t>(kNeighbours, static_cast<std::int64_t>(library.frames().size()));
  const auto count = static_cast<std::int64_t>(times.size());
  const std::vector<Neighbour> hits = library.hashes().search(codes.data(), count, k);
  Found found;
  for (std::int64_t i = 0; i < count; ++i) {
    for (int j = 0; j < k; ++j) {
      const Neighbour& hit = hits[static_cast<std::size_t>(i * k + j)];
      if (hit.id < 0 || hit.score > kVpdqDistance) continue;
      const IndexedFrame& frame = library.frames()[static_cast<std::size_t>(hit.id)];
      found.whole_matches.push_back({static_cast<int>(i), times[static_cast<std::size_t>(i)],
                                     frame.reference, frame.pts_seconds, 1.f - hit.score / 64.f,
                                     false, frame.shared});
    }
  }
  found.segments = align(found.whole_matches, times);
  found.whole_segments = found.segments.size();
  found.whole_samples = times.size();
  // What list_candidates reads of a query: its duration and sampling rate.
  engine::Fingerprint query;
  query.media = result.media;
  query.sample_fps = spacing > 0 ? 1.0 / spacing : 1.0;
  Candidates candidates = list_candidates(library, query, found);
  add_sharing_references(library, found, candidates);
  result.matches = decide_all(candidates, false, options.top);
  return result;
}

}  // namespace

engine::Fingerprint fingerprint_query(const Library& library, const std::string& path,
                                      const LookupOptions& options) {
  engine::FingerprintOptions fingerprint_options;
  fingerprint_options.decode = options.decode;
  fingerprint_options.mirrored = true;
  fingerprint_options.insets = true;
  fingerprint_options.local_features = engine::LocalFeatureUse::kLayers;
  // Insets are found and described at 256 px, where a half-size inset has the resolution that
  // whole reference frames are described at.
  fingerprint_options.decode.analysis_size =
      std::max(fingerprint_options.decode.analysis_size, 256);
  double fps = options.sample_fps;
  if (fps <= 0) {
    // The declared duration decides; a probe open is cheap next to decoding.
    fps = query_sample_fps(engine::open_media(path, options.decode)->info().duration_seconds);
  }
  fingerprint_options.decode.sample_fps = fps;
  const engine::Fingerprinter fingerprinter(library.model());
  return fingerprinter.fingerprint(path, fingerprint_options);
}

namespace {

bool is_vpdq_file(const std::string& path) {
  const std::string extension = std::filesystem::path(path).extension().string();
  return extension == ".vpdq" || extension == ".txt";
}

bool is_saved_fingerprint(const std::string& path) {
  return std::filesystem::path(path).extension() == ".ctfp";
}

}  // namespace

bool is_hash_only_query(const std::string& path) {
  return is_vpdq_file(path) || is_saved_fingerprint(path);
}

LookupResult lookup(const Library& library, const std::string& path, const LookupOptions& options) {
  if (is_vpdq_file(path)) {
    LookupResult result = match_hashes(library, engine::load_vpdq(path), options);
    result.media.path = path;
    result.warnings.push_back(
        "vPDQ hashes: matched by their timing alone (at most 'possible'), no mirrored, "
        "cropped, inset or layer search");
    return result;
  }
  if (is_saved_fingerprint(path)) {
    const engine::Fingerprint query = engine::load_fingerprint(path);
    if (query.model_id != library.model().id) {
      throw UsageError(path + ": fingerprint made with model " + query.model_id +
                       ", the library uses " + library.model().id +
                       " (hash it again with --model " + library.model().id + ")");
    }
    LookupResult result = match(library, query, "", options);
    result.warnings.push_back(
        "a saved fingerprint: no visual check (at most 'possible'), no mirrored, inset or layer "
        "search");
    return result;
  }
  return match(library, fingerprint_query(library, path, options), path, options);
}

}  // namespace celtrace::index
