// Local features of a picture's structure, for partial pictures: a character layer, a cel or a
// background plate shares only part of the drawing with the published frame, so whole-picture
// descriptors miss it while keypoints on the shared part still match.
//
// Keypoints are ORB (FAST corners, 256-bit binary descriptors) found on the structure image (edge
// presence, not colour), so line art, flat colours, paint and pencil of one drawing compare.
// Positions are shares of the picture's width and height: a layer exported on the episode's
// canvas keeps its keypoints where the published frame has them, at any export size.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>

#include "engine/image.h"

namespace celtrace::engine {

// Pictures are described at this size (pixels, longer side): characters of a sixth of the frame
// keep enough corners, and ORB's pyramid covers exports at other sizes.
inline constexpr int kLocalFeatureSide = 320;

struct LocalFeature {
  float x = 0, y = 0;                   // position, shares of width and height (0..1)
  std::array<std::uint8_t, 32> code{};  // ORB descriptor, compared by Hamming distance
};

// Edge presence of the lightly blurred picture, 0..255 (CV_8U): magnitude compressed so that lines
// and colour boundaries look alike whatever their contrast. `softness`: the gradient magnitude
// (Sobel 3x3 of the blurred luma) that counts as half presence; 0: the picture's own,
// edge_softness.
cv::Mat structure_image(const cv::Mat& luma, float softness = 0);

// Twice the picture's mean gradient magnitude, at least 4, so that a faint pencil line on clean
// paper and a strong ink line are both present.
float edge_softness(const cv::Mat& luma);

// Up to `max_features` of `found` (keypoints in a picture of `size`), spread over a 4x4 grid: the
// strongest of each cell first, up to an even share per cell, then the strongest of the rest. A
// small region (a character) keeps its share next to a busy background, and a soft background
// next to a contrasted character.
std::vector<cv::KeyPoint> spread_over_grid(std::vector<cv::KeyPoint> found, const cv::Size& size,
                                           int max_features);

// Up to `max_features` features of `luma` (fitted to kLocalFeatureSide first), spread over a 4x4
// grid so that a small region (a character) keeps its share next to a busy background. `mask`
// (same size as luma, non-zero = use) limits them to a region, the page around it blanked
// (blank_around); empty: the whole picture.
std::vector<LocalFeature> local_features(const GrayImage& luma, const GrayImage& mask,
                                         int max_features);

}  // namespace celtrace::engine
