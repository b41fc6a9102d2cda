#include "engine/preprocess.h"

#include <gtest/gtest.h>

namespace celtrace::engine {
namespace {

// A 100x60 picture with a checker pattern (bright and mid gray) inside dark bars.
GrayImage with_bars(int top, int bottom, int left, int right) {
  GrayImage image(100, 60, 8);
  for (int y = top; y < 60 - bottom; ++y) {
    for (int x = left; x < 100 - right; ++x) image.at(x, y) = ((x / 5 + y / 5) % 2) ? 200 : 90;
  }
  return image;
}

void expect_box(const CropBox& box, int x, int y, int width, int height) {
  EXPECT_EQ(box.x, x);
  EXPECT_EQ(box.y, y);
  EXPECT_EQ(box.width, width);
  EXPECT_EQ(box.height, height);
}

TEST(DetectBars, FindsLetterbox) {
  expect_box(detect_bars(with_bars(8, 8, 0, 0)), 0, 8, 100, 44);
}

TEST(DetectBars, FindsPillarboxAndBothAtOnce) {
  expect_box(detect_bars(with_bars(5, 3, 12, 10)), 12, 5, 78, 52);
}

TEST(DetectBars, ToleratesNoiseInBars) {
  GrayImage image = with_bars(10, 10, 0, 0);
  image.at(50, 2) = 255;  // one bright pixel (1% of the row) in the top bar
  EXPECT_EQ(detect_bars(image).y, 10);
}

TEST(DetectBars, LeavesDarkFramesWhole) {
  const GrayImage dark(100, 60, 10);
  const CropBox box = detect_bars(dark);
  EXPECT_EQ(box.width, 100);
  EXPECT_EQ(box.height, 60);
  // A picture whose content is mostly bar-dark is not cut below a third either.
  const CropBox thin = detect_bars(with_bars(25, 25, 0, 0));
  EXPECT_EQ(thin.height, 60);
}

// A dark scene is not a bar: the sky of a night shot fading to black at the top and a shaded
// wall at the left are all darker than the bar level, but spread over many levels (the old rule,
// "almost all pixels dark", cut them away; on a vignetted video it removed half the picture).
TEST(DetectBars, LeavesDarkPictureContent) {
  GrayImage night = with_bars(0, 0, 0, 0);
  for (int y = 0; y < 20; ++y) {
    for (int x = 0; x < 100; ++x) night.at(x, y) = static_cast<std::uint8_t>(2 * y + 3 * (x % 7));
  }
  for (int y = 20; y < 60; ++y) {
    for (int x = 0; x < 15; ++x) night.at(x, y) = static_cast<std::uint8_t>(y - 20);
  }
  expect_box(detect_bars(night), 0, 0, 100, 60);
}

TEST(DetectBars, BarsShareOneLevel) {
  GrayImage image = with_bars(8, 8, 0, 0);
  for (int y = 52; y < 60; ++y) {
    for (int x = 0; x < 100; ++x) image.at(x, y) = 36;  // a dark-grey band, not the bars' black
  }
  const CropBox box = detect_bars(image);
  EXPECT_EQ(box.y, 8);
  EXPECT_EQ(box.height, 52);  // the top bar only
}

TEST(DetectBars, IsIdempotent) {
  const GrayImage once = remove_bars(with_bars(8, 6, 4, 4));
  const GrayImage twice = remove_bars(once);
  EXPECT_EQ(once.width, twice.width);
  EXPECT_EQ(once.height, twice.height);
  EXPECT_EQ(once.pixels, twice.pixels);
}

TEST(DetectBars, KeepsWhiteMarginsOfLineArt) {
  GrayImage page(100, 60, 250);
  for (int x = 20; x < 80; ++x) page.at(x, 30) = 0;
  EXPECT_EQ(detect_bars(page).height, 60);
}

TEST(DetectInset, FindsPictureInPicture) {
  GrayImage frame(256, 144, 100);
  // An inset at (70, 40), 128 x 72: a vertical gradient (sky to ground) with two dark shapes.
  for (int y = 40; y < 112; ++y) {
    for (int x = 70; x < 198; ++x) {
      const bool shape =
          (x - 100) * (x - 100) + (y - 80) * (y - 80) < 150 || (x > 150 && x < 170 && y > 60);
      frame.at(x, y) = static_cast<std::uint8_t>(shape ? 15 : 20 + (y - 40) * 180 / 72);
    }
  }
  const auto inset = detect_inset(frame);
  ASSERT_TRUE(inset.has_value());
  EXPECT_NEAR(inset->x, 70, 3);
  EXPECT_NEAR(inset->y, 40, 3);
  EXPECT_NEAR(inset->width, 128, 4);
  EXPECT_NEAR(inset->height, 72, 4);
}

TEST(DetectInset, NoneInAPlainPicture) {
  GrayImage stripes(256, 144);
  for (int y = 0; y < 144; ++y) {
    for (int x = 0; x < 256; ++x)
      stripes.at(x, y) = static_cast<std::uint8_t>(((x / 16) % 2) * 120 + 60);
  }
  EXPECT_FALSE(detect_inset(stripes).has_value());  // no horizontal borders
  EXPECT_FALSE(detect_inset(GrayImage(256, 144, 30)).has_value());
}

}  // namespace
}  // namespace celtrace::engine
