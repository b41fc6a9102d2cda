#include "index/decision.h"

namespace celtrace::index {

const char* to_string(Verdict verdict) {
  return verdict == Verdict::kConfirmed ? "confirmed" : "possible";
}

const char* to_string(Coverage coverage) {
  return coverage == Coverage::kWhole ? "whole" : "partial";
}

std::optional<Verdict> decide(const Evidence& e) {
  // A layer's registered pair already passed the canvas check (the drawing where the frame has
  // it, at its scale), evidence that a low vote score does not weaken.
  const bool visual_listing =
      e.registered && (e.score >= kVisualOnlyScore || e.coverage == Coverage::kPartial);
  if (!e.temporal && !visual_listing) return std::nullopt;
  // A layer's check is one-sided and needs its content to register: few inliers there say less.
  if (e.coverage == Coverage::kWhole && e.checked && !e.registered &&
      e.inliers < kClearVisualFailureInliers)
    return std::nullopt;
  if (e.temporal && e.registered && e.agreed && !e.shared) return Verdict::kConfirmed;
  return Verdict::kPossible;
}

}  // namespace celtrace::index
