// Temporal alignment on synthetic match lists: known offsets, rate and speed changes, held
// frames, two sources in one query, and distractors.
#include "index/alignment.h"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

namespace celtrace::index {
namespace {

// Query samples at `fps` over `seconds`; each matches reference `reference` at
// speed * t + offset with similarity 0.9, plus `noise` random distractor matches per sample.
struct Synthetic {
  std::vector<FrameMatch> matches;
  std::vector<double> times;
};

Synthetic clip(double seconds, double fps, std::int64_t reference, double speed, double offset,
               int noise, unsigned seed = 1, double start = 0) {
  Synthetic s;
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> anywhere(0, 1200);
  std::uniform_int_distribution<int> any_reference(1, 9);
  for (int i = 0; start + i / fps < start + seconds; ++i) {
    const double t = start + i / fps;
    const int sample = static_cast<int>(std::lround(t * fps));
    s.times.push_back(t);
    s.matches.push_back({sample, t, reference, speed * t + offset, 0.9f, false, false});
    for (int n = 0; n < noise; ++n) {
      s.matches.push_back(
          {sample, t, any_reference(random), anywhere(random), 0.85f, false, false});
    }
  }
  return s;
}

TEST(Align, FindsOffsetAmongDistractors) {
  const Synthetic s = clip(2.0, 6, 3, 1.0, 121.6, 20);
  const auto segments = align(s.matches, s.times);
  ASSERT_FALSE(segments.empty());
  const Segment& best = segments.front();
  EXPECT_EQ(best.reference, 3);
  EXPECT_NEAR(best.offset, 121.6, 0.05);
  EXPECT_NEAR(best.speed, 1.0, 0.01);
  EXPECT_EQ(best.support, 12);
  EXPECT_NEAR(best.score, 0.9, 1e-6);
  EXPECT_NEAR(best.reference_start, 121.6, 0.05);
}

TEST(Align, RecoversSpeedChangesOfTenPercent) {
  for (double speed : {0.9, 0.95, 1.08, 1.1}) {
    const Synthetic s = clip(10.0, 6, 2, speed, 300.0, 5);
    const auto segments = align(s.matches, s.times);
    ASSERT_FALSE(segments.empty());
    EXPECT_NEAR(segments.front().speed, speed, 0.005) << speed;
    EXPECT_NEAR(segments.front().reference_start, 300.0, 0.1) << speed;
    EXPECT_NEAR(segments.front().reference_end, 300.0 + speed * segments.front().query_end, 0.1)
        << speed;
    EXPECT_GE(segments.front().support, 55) << speed;
  }
}

TEST(Align, RelabelledFrameRatesButNotArbitrarySpeeds) {
  // 24 fps frames played at 30 fps (and the reverse, and 25 <-> 30) are found...
  for (double speed : {1.25, 0.8, 1.2, 25.0 / 30}) {
    const Synthetic s = clip(8.0, 6, 2, speed, 100.0, 5);
    const auto segments = align(s.matches, s.times);
    ASSERT_FALSE(segments.empty());
    EXPECT_NEAR(segments.front().speed, speed, 0.005) << speed;
    EXPECT_GE(segments.front().support, 45) << speed;
  }
  // ... a 50% speed-up is not a mapping the vote tries: nothing, or pieces of the 48 samples at a
  // speed it does try. With the same clip at 1.25, one segment holds 45 or more (above).
  const Synthetic s = clip(8.0, 6, 2, 1.5, 100.0, 5);
  int most_support = 0;
  double fastest = 0;
  for (const Segment& segment : align(s.matches, s.times)) {
    most_support = std::max(most_support, segment.support);
    fastest = std::max(fastest, segment.speed);
  }
  EXPECT_LT(most_support, 36);
  EXPECT_LT(fastest, 1.3);
}

TEST(Align, FrameRateChangeIsInvisibleToTimestamps) {
  // A 25 fps copy of a 24 fps episode: query samples fall between reference samples (2 fps),
  // so each matches the nearest reference sample, up to 0.25 s away.
  Synthetic s;
  for (int i = 0; i < 30; ++i) {
    const double t = i / 6.0;
    const double reference_time = std::round((t + 50.0) * 2) / 2;
    s.times.push_back(t);
    s.matches.push_back({i, t, 1, reference_time, 0.9f, false, false});
  }
  const auto segments = align(s.matches, s.times);
  ASSERT_FALSE(segments.empty());
  EXPECT_NEAR(segments.front().offset, 50.0, 0.3);
  EXPECT_EQ(segments.front().support, 30);
}

TEST(Align, StepsOfSparseReferenceSamplesAreNoSpeedChange) {
  // Measured: the best match of each sample of a 5 s copy of Megamind.avi cut at 3.045 s
  // (mirrored, cropped to 85%, re-encoded), whose 2 fps reference samples each stand for a
  // stretch of the film; (query time, reference time, similarity). A line through them has speed
  // 0.94 (3.32 s at 0); the copy is not retimed.
  const double measured[][3] = {
      {0.000, 3.086, 0.897}, {0.167, 3.587, 0.883}, {0.334, 3.587, 0.880}, {0.501, 3.587, 0.918},
      {0.667, 3.587, 0.939}, {0.834, 4.087, 0.865}, {1.001, 4.087, 0.885}, {1.168, 4.630, 0.814},
      {1.335, 4.630, 0.810}, {1.502, 5.130, 0.784}, {1.668, 5.130, 0.765}, {1.835, 5.130, 0.738},
      {2.002, 5.130, 0.742}, {2.169, 5.130, 0.773}, {2.336, 6.131, 0.801}, {2.503, 6.131, 0.828},
      {2.669, 6.131, 0.843}, {2.836, 6.131, 0.853}, {3.003, 6.131, 0.863}, {3.170, 6.131, 0.844},
      {3.337, 6.131, 0.840}, {3.504, 7.090, 0.940}, {3.670, 7.090, 0.938}, {3.837, 7.090, 0.945},
      {4.004, 7.090, 0.940}, {4.171, 7.090, 0.933}, {4.338, 7.090, 0.924}, {4.505, 7.090, 0.922},
      {4.671, 7.591, 0.938}, {4.838, 8.091, 0.925}};
  Synthetic s;
  int sample = 0;
  for (const auto& [q, r, similarity] : measured) {
    s.times.push_back(q);
    s.matches.push_back({sample++, q, 1, r, static_cast<float>(similarity), true, false});
  }
  const auto segments = align(s.matches, s.times);
  ASSERT_FALSE(segments.empty());
  EXPECT_EQ(segments.front().speed, 1.0);
  // Within half a reference sampling period (lookup then places it to a frame by the pictures).
  EXPECT_NEAR(segments.front().reference_start, 3.045, 0.25);
  EXPECT_GE(segments.front().support, 29);
}

TEST(Align, HeldFramesAndMissingSamples) {
  Synthetic s = clip(6.0, 6, 4, 1.0, 40.0, 3);
  // The middle second is held: all its samples match the same reference frame.
  for (auto& m : s.matches) {
    if (m.reference == 4 && m.query_time >= 2.0 && m.query_time < 3.0) m.reference_time = 42.0;
  }
  const auto segments = align(s.matches, s.times);
  ASSERT_FALSE(segments.empty());
  EXPECT_EQ(segments.front().reference, 4);
  EXPECT_NEAR(segments.front().offset, 40.0, 0.1);
  EXPECT_GE(segments.front().support, 30);
}

TEST(Align, TwoSourcesInOneQuery) {
  Synthetic a = clip(4.0, 6, 1, 1.0, 100.0, 2, 1, 0.0);
  const Synthetic b =
      clip(4.0, 6, 2, 1.0, 500.0 - 4.0, 2, 2, 4.0);  // query 4..8 s -> reference 500..504 s
  a.matches.insert(a.matches.end(), b.matches.begin(), b.matches.end());
  a.times.insert(a.times.end(), b.times.begin(), b.times.end());
  const auto segments = align(a.matches, a.times);
  ASSERT_GE(segments.size(), 2u);
  bool first = false, second = false;
  for (const Segment& s : segments) {
    if (s.reference == 1)
      first = std::abs(s.query_start - 0.0) < 0.01 && std::abs(s.query_end - 3.833) < 0.01;
    if (s.reference == 2)
      second = std::abs(s.reference_start - 500.0) < 0.1 && std::abs(s.query_start - 4.0) < 0.01;
  }
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
}

TEST(Align, StaticContentHasNoSpecificity) {
  // Every query sample matches every reference frame of a 6 s held shot equally well.
  Synthetic s;
  for (int i = 0; i < 12; ++i) {
    s.times.push_back(i / 6.0);
    for (int r = 0; r < 12; ++r)
      s.matches.push_back({i, i / 6.0, 1, 200.0 + r * 0.5, 0.9f, false, false});
  }
  const auto held = align(s.matches, s.times);
  ASSERT_FALSE(held.empty());
  EXPECT_LT(held.front().specificity, 0.05);
  // Moving content: each sample's other neighbours (other references) are clearly weaker.
  Synthetic moving = clip(2.0, 6, 1, 1.0, 200.0, 3);
  for (auto& m : moving.matches) {
    if (m.reference != 1) m.similarity = 0.6f;
  }
  EXPECT_GT(align(moving.matches, moving.times).front().specificity, 0.2);
}

TEST(Align, WeakMatchesDoNotVote) {
  Synthetic s = clip(2.0, 6, 1, 1.0, 10.0, 0);
  for (auto& m : s.matches) m.similarity = 0.3f;
  EXPECT_TRUE(align(s.matches, s.times).empty());
}

// A cel's partial matches (one picture, key frames by votes): the character stands at its place
// at 3.5 s and at 6.5 s, and its best key frame is the wrong moment.
TEST(StillSegments, OneSegmentPerReferenceWithItsMomentsASpacingApart) {
  const std::vector<FrameMatch> matches = {
      {0, 0, 7, 3.54, 0.76f, false, false}, {0, 0, 7, 2.54, 0.74f, false, false},
      {0, 0, 7, 6.50, 0.70f, false, false}, {0, 0, 7, 9.50, 0.61f, false, false},
      {0, 0, 7, 5.04, 0.54f, false, false}, {0, 0, 8, 13.0, 0.50f, false, false},
      {0, 0, 9, 1.00, 0.20f, false, false},  // below the bar: no segment
  };
  const std::vector<Segment> segments = still_segments(matches, 0.3, 3, 2.0);
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0].reference, 7);
  EXPECT_DOUBLE_EQ(segments[0].reference_start, 3.54);
  EXPECT_FLOAT_EQ(static_cast<float>(segments[0].score), 0.76f);
  ASSERT_EQ(segments[0].evidence.size(), 3u);  // 2.54 and 5.04 are within 2 s of one kept
  EXPECT_DOUBLE_EQ(segments[0].evidence[0].reference_time, 3.54);
  EXPECT_DOUBLE_EQ(segments[0].evidence[1].reference_time, 6.50);
  EXPECT_DOUBLE_EQ(segments[0].evidence[2].reference_time, 9.50);
  EXPECT_EQ(segments[1].reference, 8);
  ASSERT_EQ(segments[1].evidence.size(), 1u);
  // A whole picture's still keeps its best match only.
  const std::vector<Segment> whole = still_segments(matches, 0.3, 1, 0);
  ASSERT_EQ(whole.size(), 2u);
  ASSERT_EQ(whole[0].evidence.size(), 1u);
  EXPECT_DOUBLE_EQ(whole[0].evidence[0].reference_time, 3.54);
}

TEST(LayerMoments, SpreadTimesAddTheFarthestAtLeastASpacingAway) {
  // Two moments chosen at 0.67 and 2.33 s of a 4 s layer; its layer pictures every 1/3 s.
  std::vector<double> pictures;
  for (int i = 0; i < 12; ++i) pictures.push_back(i / 3.0);
  const std::vector<double> added = spread_times({0.67, 2.33}, pictures, 1.0, 5);
  ASSERT_EQ(added.size(), 1u);  // 3.67 s; nothing else is 1 s from all three
  EXPECT_NEAR(added[0], 11 / 3.0, 1e-9);
  // None chosen yet: the first picture, then the farthest from it, then between them.
  const std::vector<double> halves = {0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4};
  EXPECT_EQ(spread_times({}, halves, 1.0, 3), (std::vector<double>{0, 4, 2}));
  EXPECT_TRUE(spread_times({0.0, 1.0, 2.0}, pictures, 1.0, 3).empty());  // enough already
  EXPECT_TRUE(spread_times({1.5}, {1.0, 2.0}, 1.0, 3).empty());          // none far enough
}

TEST(LayerMoments, TheMomentOffTheSharedTimingIsNamedWithItsTimeThere) {
  // Found at 5.00, 5.12 and 8.50 s for query times 0.67, 2.67 and 3.67: the second stood at the
  // drawing's earlier passage; the others put it at 2.67 + 4.33 s.
  const auto off = off_shared_timing({{0.67, 5.00}, {2.67, 5.12}, {3.67, 8.50}}, 1.0, 0.2);
  ASSERT_EQ(off.size(), 2u);  // 8.50 is 0.5 s beyond the median offset's 8.00 as well
  EXPECT_EQ(off[0].first, 1u);
  EXPECT_NEAR(off[0].second, 7.00, 1e-9);
  EXPECT_EQ(off[1].first, 2u);
  EXPECT_NEAR(off[1].second, 8.00, 1e-9);
  EXPECT_NEAR(shared_offset({{3.33, 22.33}}, 1.0), 19.0, 1e-9);  // one moment places the clip
  // Moments that follow the clip (speed 1.1 here) are all on it.
  EXPECT_TRUE(off_shared_timing({{0, 10.0}, {1, 11.1}, {2, 12.2}}, 1.1, 0.2).empty());
  EXPECT_TRUE(off_shared_timing({}, 1.0, 0.2).empty());
}

}  // namespace
}  // namespace celtrace::index
