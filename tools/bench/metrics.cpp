#include "tools/bench/metrics.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace celtrace::tools {
namespace {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(std::lround(p * (values.size() - 1)));
  return values[index];
}

const TruthQuery::Segment* truth_for(const TruthQuery& query, const std::string& reference) {
  for (const auto& segment : query.truth) {
    if (segment.reference == reference) return &segment;
  }
  return nullptr;
}

double overlap_ratio(double a0, double a1, double b0, double b1) {
  const double intersection = std::max(0.0, std::min(a1, b1) - std::max(a0, b0));
  const double union_length = std::max(a1, b1) - std::min(a0, b0);
  return union_length > 0 ? intersection / union_length : (std::abs(a0 - b0) < 0.5 ? 1.0 : 0.0);
}

}  // namespace

Metrics evaluate(const std::vector<const QueryOutcome*>& outcomes) {
  Metrics m;
  struct Scored {
    double score;
    bool correct;
  };
  std::vector<Scored> pooled;
  std::vector<double> start_errors, lookup_ms, match_ms;
  double highest_negative = -1;
  int truth_pairs = 0, right_top = 0, right_confirmed = 0, segments_predicted = 0,
      segments_right = 0, segments_truth = 0;
  for (const QueryOutcome* outcome : outcomes) {
    const TruthQuery& query = *outcome->query;
    ++m.queries;
    lookup_ms.push_back(outcome->lookup_ms);
    match_ms.push_back(outcome->match_ms);
    truth_pairs += static_cast<int>(query.truth.size());
    segments_truth += static_cast<int>(query.truth.size());
    if (query.negative) {
      ++m.negatives;
      bool confirmed = false;
      for (const Prediction& p : outcome->predictions) {
        highest_negative = std::max(highest_negative, p.score);
        confirmed |= p.confirmed;
      }
      m.confirmed_negatives += confirmed;
    } else {
      ++m.positives;
    }
    std::set<std::string> seen;
    for (const Prediction& p : outcome->predictions) {
      if (!seen.insert(p.reference).second) continue;
      const TruthQuery::Segment* truth = truth_for(query, p.reference);
      pooled.push_back({p.score, truth != nullptr});
      ++segments_predicted;
      if (truth && overlap_ratio(p.reference_start, p.reference_end, truth->reference_start,
                                 truth->reference_end) >= 0.5) {
        ++segments_right;
      }
    }
    if (!query.negative && !outcome->predictions.empty()) {
      const Prediction& best = outcome->predictions.front();
      if (const TruthQuery::Segment* truth = truth_for(query, best.reference)) {
        ++right_top;
        right_confirmed += best.confirmed;
        start_errors.push_back(std::abs(best.reference_start - truth->reference_start));
      }
    }
  }
  // Recall at the operating point that lets no negative through: scores above every negative's.
  int found_above = 0;
  for (const QueryOutcome* outcome : outcomes) {
    if (outcome->query->negative || outcome->predictions.empty()) continue;
    const Prediction& best = outcome->predictions.front();
    found_above += truth_for(*outcome->query, best.reference) && best.score > highest_negative;
  }
  std::sort(pooled.begin(), pooled.end(),
            [](const Scored& a, const Scored& b) { return a.score > b.score; });
  int correct = 0;
  double ap = 0;
  for (std::size_t k = 0; k < pooled.size(); ++k) {
    if (!pooled[k].correct) continue;
    ++correct;
    ap += static_cast<double>(correct) / static_cast<double>(k + 1);
  }
  m.micro_ap = truth_pairs > 0 ? ap / truth_pairs : 0;
  m.top1 = m.positives > 0 ? static_cast<double>(right_top) / m.positives : 0;
  m.confirmed = m.positives > 0 ? static_cast<double>(right_confirmed) / m.positives : 0;
  m.recall_at_zero_fp = m.positives > 0 ? static_cast<double>(found_above) / m.positives : 0;
  m.median_start_error = percentile(start_errors, 0.5);
  m.p95_start_error = percentile(start_errors, 0.95);
  m.segment_precision =
      segments_predicted > 0 ? static_cast<double>(segments_right) / segments_predicted : 0;
  m.segment_recall = segments_truth > 0 ? static_cast<double>(segments_right) / segments_truth : 0;
  m.lookup_p50_ms = percentile(lookup_ms, 0.5);
  m.lookup_p95_ms = percentile(lookup_ms, 0.95);
  m.match_p50_ms = percentile(match_ms, 0.5);
  m.match_p95_ms = percentile(match_ms, 0.95);
  return m;
}

}  // namespace celtrace::tools
