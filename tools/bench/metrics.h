// Benchmark metrics over lookup results and ground truth (`celtrace bench`). Pure computation:
// predictions and truth in, figures out.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace celtrace::tools {

// One query of a truth file.
struct TruthQuery {
  std::string file;
  std::string transform_class;  // e.g. "crop", "line-art", "negative-unrelated"
  bool negative = false;
  // Right answers: references (by name) and where the query sits in them; empty for negatives.
  struct Segment {
    std::string reference;
    double reference_start = 0, reference_end = 0;
  };
  std::vector<Segment> truth;
};

// One listed match of one query.
struct Prediction {
  std::string reference;
  double score = 0;
  bool confirmed = false;
  double reference_start = 0, reference_end = 0;  // its first segment
};

struct QueryOutcome {
  const TruthQuery* query = nullptr;
  std::vector<Prediction> predictions;  // best first
  double lookup_ms = 0, match_ms = 0;   // decode included / excluded
};

struct Metrics {
  int queries = 0, positives = 0, negatives = 0;
  double top1 = 0;               // share of positives whose best prediction is right
  double confirmed = 0;          // ... and is `confirmed`
  double micro_ap = 0;           // micro-average precision over all (query, reference) predictions
  double recall_at_zero_fp = 0;  // positives found above every score given to a negative
  int confirmed_negatives = 0;   // negatives with any confirmed prediction
  // Positives with a confirmed prediction of a reference their truth lacks: as bad as a confirmed
  // negative (the same shot in another episode, a near-duplicate), and invisible in top-1.
  int confirmed_wrong = 0;
  double median_start_error = 0;  // seconds, right top predictions
  double p95_start_error = 0;
  double segment_precision = 0, segment_recall = 0;  // overlap (IoU >= 0.5) of reference segments
  double lookup_p50_ms = 0, lookup_p95_ms = 0, match_p50_ms = 0, match_p95_ms = 0;
};

// Metrics over the given outcomes (one class or all).
Metrics evaluate(const std::vector<const QueryOutcome*>& outcomes);

struct PrecisionRecall {
  double recall = 0, precision = 0;
};

// The precision-recall curve of all (query, reference) predictions of `outcomes`, ranked by
// score: one point per right prediction. Include the negatives' outcomes to count their
// predictions as false positives.
std::vector<PrecisionRecall> precision_recall(const std::vector<const QueryOutcome*>& outcomes);

// An SVG page of small precision-recall charts, one per named curve set; each set holds one
// curve per system (drawn in order: solid, then dashed).
std::string precision_recall_svg(
    const std::vector<std::pair<std::string, std::vector<std::vector<PrecisionRecall>>>>& panels,
    const std::vector<std::string>& systems);

}  // namespace celtrace::tools
