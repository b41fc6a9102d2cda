#include "engine/sampler.h"

#include <vector>

#include <gtest/gtest.h>

namespace celtrace::engine {
namespace {

// Indices of the frames kept.
std::vector<int> kept(FrameSampler sampler, const std::vector<double>& times) {
  std::vector<int> out;
  for (std::size_t i = 0; i < times.size(); ++i) {
    if (sampler.take(times[i])) out.push_back(static_cast<int>(i));
  }
  return out;
}

TEST(FrameSampler, KeepsFirstFrameAtOrAfterEachGridPoint) {
  // 10 fps stream sampled at 4 fps: grid 0, 0.25, 0.5, 0.75, 1.0.
  std::vector<double> times;
  for (int i = 0; i <= 10; ++i) times.push_back(i * 0.1);
  EXPECT_EQ(kept(FrameSampler(4.0), times), (std::vector<int>{0, 3, 5, 8, 10}));
}

TEST(FrameSampler, VariableFrameRateUsesTimestampsNotCounts) {
  // A burst of frames, then a gap of one second, then frames again.
  const std::vector<double> times = {0.0, 0.04, 0.08, 0.12, 1.12, 1.16, 1.6};
  EXPECT_EQ(kept(FrameSampler(2.0), times), (std::vector<int>{0, 4, 6}));
}

TEST(FrameSampler, ZeroRateKeepsEveryFrame) {
  const std::vector<double> times = {0.0, 0.01, 0.02};
  EXPECT_EQ(kept(FrameSampler(0.0), times), (std::vector<int>{0, 1, 2}));
}

TEST(FrameSampler, RatesFarAboveTheFrameRateKeepEveryFrame) {
  // 1e20 fps: a period too small to move the next grid point by addition (this once looped).
  std::vector<double> times;
  for (int i = 0; i < 50; ++i) times.push_back(100.0 + i / 24.0);
  std::vector<int> all(times.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  EXPECT_EQ(kept(FrameSampler(1e20), times), all);
  EXPECT_EQ(kept(FrameSampler(1e11), times), all);
  EXPECT_EQ(kept(FrameSampler(1000.0), times), all);
}

TEST(FrameSampler, WantsDoesNotChangeState) {
  FrameSampler sampler(1.0);
  EXPECT_TRUE(sampler.take(0.0));
  EXPECT_FALSE(sampler.wants(0.5));
  EXPECT_TRUE(sampler.wants(1.0));
  EXPECT_TRUE(sampler.wants(1.0));
}

}  // namespace
}  // namespace celtrace::engine
