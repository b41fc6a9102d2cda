#include "index/decision.h"

#include "index/verify.h"

namespace celtrace::index {

const char* to_string(Verdict verdict) {
  return verdict == Verdict::kConfirmed ? "confirmed" : "possible";
}

const char* to_string(Coverage coverage) {
  return coverage == Coverage::kWhole ? "whole" : "partial";
}

namespace {

bool timed(const Evidence& e) {
  return e.temporal || (e.agreed && e.moments_follow_timing);
}

}  // namespace

std::optional<Verdict> decide(const Evidence& e) {
  // A layer's registered pair already passed the canvas check (the drawing where the frame has
  // it, at its scale), evidence that a low vote score does not weaken, once it has the inliers a
  // whole picture needs: with fewer (kLayerRegistrationInliers) it counts beside timing only
  // (generated no-background layers registered so with episodes of other series).
  const bool visual_listing =
      e.registered && (e.score >= kVisualOnlyScore ||
                       (e.coverage == Coverage::kPartial && e.inliers >= kRegistrationInliers));
  if (!timed(e) && !visual_listing) return std::nullopt;
  if (e.faint && !e.registered) return std::nullopt;
  // A whole picture far from registering is not the reference. A layer's one-sided check says
  // less when it fails (its content must register alone), so layers are not held to this.
  if (e.coverage == Coverage::kWhole && e.checked && !e.registered &&
      e.inliers < kClearVisualFailureInliers)
    return std::nullopt;
  // Between rivals for one layer, the visual check chose.
  if (e.coverage == Coverage::kPartial && !e.agreed && e.other_agreed) return std::nullopt;
  if (timed(e) && e.registered && e.agreed && !e.shared) return Verdict::kConfirmed;
  return Verdict::kPossible;
}

bool listed_before(const Evidence& a, const Evidence& b) {
  const bool a_confirmed = decide(a) == Verdict::kConfirmed;
  if (a_confirmed != (decide(b) == Verdict::kConfirmed)) return a_confirmed;
  const auto strength = [](const Evidence& e) { return 2 * e.agreed + timed(e); };
  if (strength(a) != strength(b)) return strength(a) > strength(b);
  if (a.registered != b.registered) return a.registered;
  if (a.coverage != b.coverage) return a.coverage == Coverage::kWhole;
  return a.score > b.score;
}

std::string explain(const Evidence& e) {
  const std::optional<Verdict> verdict = decide(e);
  if (!verdict) return "not listed";
  if (*verdict == Verdict::kConfirmed)
    return "the timing agrees, a frame pair registers and agrees, and the content is this "
           "reference's alone";
  std::string why;
  if (e.shared) {
    why += "the content recurs in other references (series level)";
  } else if (!timed(e)) {
    why += "a registered frame pair without timing evidence (a still, or too few samples)";
  } else if (!e.checked) {
    why +=
        "timing only; no visual check ran (reference not at hand, or not among the three "
        "verified)";
  } else if (!e.registered && e.coverage == Coverage::kPartial &&
             e.inliers >= kLayerRegistrationInliers) {
    why += "timing only; the layer's drawing registers (" + std::to_string(e.inliers) +
           " inliers) but not where the frame has it on the canvas";
  } else if (!e.registered) {
    const int needed =
        e.coverage == Coverage::kPartial ? kLayerRegistrationInliers : kRegistrationInliers;
    why += "timing only; the visual check found " + std::to_string(e.inliers) +
           " inliers, short of the " + std::to_string(needed) + " that register";
  } else {
    why += e.coverage == Coverage::kPartial
               ? "the layer registers but does not agree at three moments that follow the query's "
                 "timing"
               : "a frame pair registers but shows structure the other lacks";
  }
  return why;
}

}  // namespace celtrace::index
