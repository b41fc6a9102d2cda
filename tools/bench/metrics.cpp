#include "tools/bench/metrics.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

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
      m.confirmed_wrong += std::any_of(
          outcome->predictions.begin(), outcome->predictions.end(),
          [&](const Prediction& p) { return p.confirmed && !truth_for(query, p.reference); });
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

std::vector<PrecisionRecall> precision_recall(const std::vector<const QueryOutcome*>& outcomes) {
  struct Scored {
    double score;
    bool correct;
  };
  std::vector<Scored> pooled;
  int truth_pairs = 0;
  for (const QueryOutcome* outcome : outcomes) {
    truth_pairs += static_cast<int>(outcome->query->truth.size());
    std::set<std::string> seen;
    for (const Prediction& p : outcome->predictions) {
      if (seen.insert(p.reference).second)
        pooled.push_back({p.score, truth_for(*outcome->query, p.reference) != nullptr});
    }
  }
  std::stable_sort(pooled.begin(), pooled.end(),
                   [](const Scored& a, const Scored& b) { return a.score > b.score; });
  std::vector<PrecisionRecall> curve;
  int correct = 0;
  for (std::size_t k = 0; k < pooled.size(); ++k) {
    if (!pooled[k].correct) continue;
    ++correct;
    curve.push_back({static_cast<double>(correct) / truth_pairs,
                     static_cast<double>(correct) / static_cast<double>(k + 1)});
  }
  return curve;
}

std::string precision_recall_svg(
    const std::vector<std::pair<std::string, std::vector<std::vector<PrecisionRecall>>>>& panels,
    const std::vector<std::string>& systems) {
  constexpr int kColumns = 5, kPanel = 170, kPlot = 120, kMargin = 35;
  const int rows = (static_cast<int>(panels.size()) + kColumns - 1) / kColumns;
  const int width = kColumns * kPanel, height = rows * kPanel + 30;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"10\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (std::size_t i = 0; i < systems.size(); ++i) {
    svg << "<text x=\"" << 10 + 200 * i << "\" y=\"16\" font-size=\"12\">"
        << (i == 0 ? "solid: " : "dashed: ") << systems[i] << "</text>\n";
  }
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const int x0 = static_cast<int>(p % kColumns) * kPanel + kMargin;
    const int y0 = static_cast<int>(p / kColumns) * kPanel + 30 + 15;
    svg << "<text x=\"" << x0 << "\" y=\"" << y0 - 4 << "\">" << panels[p].first << "</text>\n"
        << "<rect x=\"" << x0 << "\" y=\"" << y0 << "\" width=\"" << kPlot << "\" height=\""
        << kPlot << "\" fill=\"none\" stroke=\"#999\"/>\n"
        << "<text x=\"" << x0 << "\" y=\"" << y0 + kPlot + 12 << "\">recall 0..1</text>\n"
        << "<text x=\"" << x0 - 4 << "\" y=\"" << y0 + 8
        << "\" text-anchor=\"end\">1</text><text x=\"" << x0 - 4 << "\" y=\"" << y0 + kPlot
        << "\" text-anchor=\"end\">0</text>\n";
    for (std::size_t c = 0; c < panels[p].second.size(); ++c) {
      // A step curve from (0, first precision) to the last recall reached.
      std::ostringstream points;
      double last_precision = panels[p].second[c].empty() ? 0 : panels[p].second[c][0].precision;
      double last_recall = 0;
      auto point = [&](double r, double q) {
        points << x0 + r * kPlot << "," << y0 + (1 - q) * kPlot << " ";
      };
      point(0, last_precision);
      for (const PrecisionRecall& pr : panels[p].second[c]) {
        point(last_recall, pr.precision);
        point(pr.recall, pr.precision);
        last_recall = pr.recall;
        last_precision = pr.precision;
      }
      svg << "<polyline fill=\"none\" stroke=\"" << (c == 0 ? "#1f5fbf" : "#d0602a")
          << "\" stroke-width=\"1.6\"" << (c == 0 ? "" : " stroke-dasharray=\"4,3\"")
          << " points=\"" << points.str() << "\"/>\n";
    }
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace celtrace::tools
