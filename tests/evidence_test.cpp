#include "tools/evidence.h"

#include <gtest/gtest.h>

namespace celtrace::tools {
namespace {

engine::ColourImage filled(int width, int height, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  engine::ColourImage image{width, height, {}};
  for (int i = 0; i < width * height; ++i) image.rgb.insert(image.rgb.end(), {r, g, b});
  return image;
}

std::array<int, 3> pixel(const engine::ColourImage& image, int x, int y) {
  const std::uint8_t* p = image.rgb.data() + (static_cast<std::size_t>(y) * image.width + x) * 3;
  return {p[0], p[1], p[2]};
}

TEST(Evidence, PairSideBySideWithTheLayersBoxOnTheReference) {
  const EvidencePictures pictures{filled(20, 10, 255, 255, 255), filled(30, 16, 0, 0, 200)};
  index::Match match;
  match.coverage = index::Coverage::kPartial;
  match.visual.registered = true;
  match.visual.reference_region = {0.5, 0.25, 0.4, 0.5};
  const engine::ColourImage page = side_by_side(pictures, match);
  // 8 px around and between: 8 + 20 + 8 + 30 + 8 wide, 8 + 16 + 8 high.
  ASSERT_EQ(page.width, 74);
  ASSERT_EQ(page.height, 32);
  EXPECT_EQ(pixel(page, 0, 0), (std::array<int, 3>{40, 40, 40}));
  EXPECT_EQ(pixel(page, 8, 8), (std::array<int, 3>{255, 255, 255}));  // query, top left
  EXPECT_EQ(pixel(page, 36, 8), (std::array<int, 3>{0, 0, 200}));     // reference, top left
  // The box's corner: x = 36 + round(0.5 * 29) = 51 (14.5 rounds away from zero: 15), y = 8 +
  // round(0.25 * 15) = 12.
  EXPECT_EQ(pixel(page, 51, 12), (std::array<int, 3>{0xcf, 0x22, 0x2e}));
  EXPECT_EQ(pixel(page, 49, 12), (std::array<int, 3>{0, 0, 200}));  // outside the box
  EXPECT_EQ(pixel(page, 60, 16), (std::array<int, 3>{0, 0, 200}));  // inside, off its outline

  match.coverage = index::Coverage::kWhole;  // a whole picture gets no box
  EXPECT_EQ(pixel(side_by_side(pictures, match), 51, 12), (std::array<int, 3>{0, 0, 200}));
}

TEST(Evidence, FileNamesKeepOnlySafeCharacters) {
  EXPECT_EQ(evidence_file_name("/leak/sc 012/clip.mp4", 2, "Sky.Ships.S01E02"),
            "clip-2-Sky.Ships.S01E02.png");
  EXPECT_EQ(evidence_file_name("wip/f_%04d.png", 1, "A/B: \x1b[2J"), "f__04d-1-A_B____2J.png");
}

}  // namespace
}  // namespace celtrace::tools
