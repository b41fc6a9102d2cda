// Placing a plate by the camera (index/camera.h) on generated pictures, no decoding: a camera that
// pans over a painting and turns back shows each view twice, going one way then the other.
#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "engine/opencv_image.h"
#include "index/camera.h"
#include "tests/test_media.h"

namespace celtrace::index {
namespace {

using testing::cartoon_frame;
using testing::to_luma;

class CameraShift : public ::testing::Test {
 protected:
  void SetUp() override {
    cv::hconcat(cartoon_frame(5, 1, 30), cartoon_frame(5, 2, 40), painting_);
    // The reference: a figure walks across the screen while the camera pans, one frame per
    // quarter second.
    for (double t = 0; t <= 12; t += 0.25) {
      cv::Mat frame = view(t);
      const cv::Point centre(static_cast<int>(160 + 30 * t), 230);
      cv::ellipse(frame, centre, cv::Size(50, 80), 0, 0, 360, cv::Scalar(60, 40, 200), cv::FILLED,
                  cv::LINE_AA);
      cv::ellipse(frame, centre, cv::Size(50, 80), 0, 0, 360, cv::Scalar(20, 20, 20), 3,
                  cv::LINE_AA);
      frames_.push_back({t, to_luma(frame)});
    }
  }

  // The camera's view at `t` seconds: its left edge over the 1280-pixel painting turns back at
  // 3 pi / 2 s, so the view at t shows again at 3 pi - t.
  cv::Mat view(double t) const {
    const int left = static_cast<int>(std::lround(320 + 280 * std::sin(t / 3)));
    return painting_(cv::Rect(left, 0, 640, 360)).clone();
  }

  // A plate (the pan without the figure) from `start` seconds, at query times `times`.
  std::vector<TimedPicture> plate(double start, const std::vector<double>& times) const {
    std::vector<TimedPicture> moments;
    for (const double q : times) moments.push_back({q, to_luma(view(start + q))});
    return moments;
  }

  cv::Mat painting_;
  std::vector<TimedPicture> frames_;
};

// A plate from 3 pi - 9 (0.42) s: its picture at 3 s shows again at 6 s, where the mapping put it
// and where a reference frame stands exactly (its own, 3.42 s, lies between two frames); its
// pictures at 0 and 1.5 s show the camera going the other way there.
TEST_F(CameraShift, APlateIsPlacedAtItsOwnPassOfAPanThatTurnsBack) {
  const double start = 3 * M_PI - 9;
  const std::optional<double> shift =
      camera_shift(plate(start, {3.0, 0.0, 1.5}), frames_, 6.0, 5.0, false);
  ASSERT_TRUE(shift.has_value());
  EXPECT_NEAR(*shift, start, 0.2);
  // The picture at 3 s alone is placed on the way back.
  const std::optional<double> alone = camera_shift(plate(start, {3.0}), frames_, 6.0, 5.0, false);
  ASSERT_TRUE(alone.has_value());
  EXPECT_NEAR(*alone, 3.0, 0.2);

  // Mirrored, the same.
  std::vector<TimedPicture> mirrored = plate(start, {3.0, 0.0, 1.5});
  for (TimedPicture& m : mirrored) {
    cv::Mat flipped;
    cv::flip(engine::view_of(m.picture), flipped, 1);
    m.picture = engine::image_of(flipped);
  }
  const std::optional<double> flipped = camera_shift(mirrored, frames_, 6.0, 5.0, true);
  ASSERT_TRUE(flipped.has_value());
  EXPECT_NEAR(*flipped, start, 0.2);
}

// With its own pass out of reach, nothing is placed: the first picture's view found again on the
// way back is not confirmed by the others; nor is a view the episode never shows.
TEST_F(CameraShift, NothingIsPlacedWithoutItsOwnPass) {
  EXPECT_FALSE(camera_shift(plate(0.5, {3.0, 0.0, 1.5}), frames_, 6.5, 1.5, false).has_value());
  const std::vector<TimedPicture> other{{0, to_luma(cartoon_frame(9, 1, 30))},
                                        {1.5, to_luma(cartoon_frame(9, 1, 31.5))}};
  EXPECT_FALSE(camera_shift(other, frames_, 5.92, 5.0, false).has_value());
}

}  // namespace
}  // namespace celtrace::index
