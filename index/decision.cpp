#include "index/decision.h"

namespace celtrace::index {

const char* to_string(Verdict verdict) {
  return verdict == Verdict::kConfirmed ? "confirmed" : "possible";
}

const char* to_string(Coverage coverage) {
  return coverage == Coverage::kWhole ? "whole" : "partial";
}

std::optional<Verdict> decide(const Evidence& e) {
  if (!e.temporal && !(e.registered && e.score >= kVisualOnlyScore)) return std::nullopt;
  if (e.temporal && e.registered && e.agreed && !e.shared) return Verdict::kConfirmed;
  return Verdict::kPossible;
}

}  // namespace celtrace::index
