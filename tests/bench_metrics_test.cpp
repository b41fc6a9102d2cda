// Benchmark metrics on hand-made outcomes with values worked out inline.
#include "tools/bench/metrics.h"

#include <gtest/gtest.h>

namespace celtrace::tools {
namespace {

TEST(BenchMetrics, TopOneApRecallAndLocalisation) {
  const TruthQuery a{"a.mp4", "crop", false, {{"ep1", 10.0, 15.0}}};
  const TruthQuery b{"b.mp4", "crop", false, {{"ep2", 50.0, 55.0}}};
  const TruthQuery c{"c.mp4", "crop", false, {{"ep3", 0.0, 4.0}}};
  const TruthQuery n{"n.mp4", "negative", true, {}};
  QueryOutcome oa{&a, {{"ep1", 0.9, true, 10.2, 15.2}}, 100, 10};
  // b: wrong reference first (score 0.8), right one second (0.6).
  QueryOutcome ob{&b, {{"ep9", 0.8, false, 1.0, 2.0}, {"ep2", 0.6, false, 50.0, 55.0}}, 200, 20};
  QueryOutcome oc{&c, {}, 300, 30};  // missed
  QueryOutcome on{&n, {{"ep4", 0.7, true, 3.0, 4.0}}, 400, 40};
  const Metrics m = evaluate({&oa, &ob, &oc, &on});
  EXPECT_EQ(m.queries, 4);
  EXPECT_EQ(m.positives, 3);
  EXPECT_EQ(m.negatives, 1);
  EXPECT_NEAR(m.top1, 1.0 / 3, 1e-9);
  // Pooled by score: 0.9 right, 0.8 wrong, 0.7 wrong, 0.6 right; 3 truth pairs.
  // AP = (1/1 + 2/4) / 3 = 0.5.
  EXPECT_NEAR(m.micro_ap, 0.5, 1e-9);
  // The negative's 0.7 is the bar: only a's 0.9 is above it among right top predictions.
  EXPECT_NEAR(m.recall_at_zero_fp, 1.0 / 3, 1e-9);
  EXPECT_EQ(m.confirmed_negatives, 1);
  EXPECT_EQ(m.confirmed_wrong, 0);  // b's wrong ep9 is listed, not confirmed
  ob.predictions.front().confirmed = true;
  EXPECT_EQ(evaluate({&oa, &ob, &oc, &on}).confirmed_wrong, 1);
  EXPECT_NEAR(m.median_start_error, 0.2, 1e-9);
  // Segments: predicted ep1 (IoU 4.8/5.2 >= 0.5, right), ep9 (no truth), ep2 (IoU 1), ep4 (no
  // truth).
  EXPECT_NEAR(m.segment_precision, 2.0 / 4, 1e-9);
  EXPECT_NEAR(m.segment_recall, 2.0 / 3, 1e-9);
  EXPECT_NEAR(m.lookup_p50_ms, 300, 1e-9);  // of 100, 200, 300, 400: index round(0.5 * 3) = 2
  EXPECT_NEAR(m.match_p95_ms, 40, 1e-9);
}

TEST(BenchMetrics, PrecisionRecallCurve) {
  const TruthQuery a{"a.mp4", "crop", false, {{"ep1", 10.0, 15.0}}};
  const TruthQuery b{"b.mp4", "crop", false, {{"ep2", 50.0, 55.0}}};
  const TruthQuery n{"n.mp4", "negative", true, {}};
  QueryOutcome oa{&a, {{"ep1", 0.9, true, 10, 15}}, 0, 0};
  QueryOutcome ob{&b, {{"ep2", 0.5, false, 50, 55}}, 0, 0};
  QueryOutcome on{&n, {{"ep4", 0.7, false, 3, 4}}, 0, 0};
  // Ranked: 0.9 right (1/1), 0.7 wrong, 0.5 right (2/3).
  const auto curve = precision_recall({&oa, &ob, &on});
  ASSERT_EQ(curve.size(), 2u);
  EXPECT_NEAR(curve[0].recall, 0.5, 1e-9);
  EXPECT_NEAR(curve[0].precision, 1.0, 1e-9);
  EXPECT_NEAR(curve[1].recall, 1.0, 1e-9);
  EXPECT_NEAR(curve[1].precision, 2.0 / 3, 1e-9);
  const std::string svg = precision_recall_svg({{"crop", {curve}}}, {"celtrace"});
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find(">crop<"), std::string::npos);
}

}  // namespace
}  // namespace celtrace::tools
