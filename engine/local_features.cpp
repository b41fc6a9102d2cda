#include "engine/local_features.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/media.h"
#include "engine/opencv_image.h"

namespace celtrace::engine {
namespace {

constexpr int kGrid = 4;  // cells per side for spreading keypoints
// ORB detection: corners are found on 4 pyramid levels 1.3 apart (exports at 0.45x to 1x of the
// canvas size register), with a patch of 21 pixels at each level.
constexpr float kPyramidScale = 1.3f;
constexpr int kPyramidLevels = 4;
constexpr int kPatchSize = 21;
constexpr int kFastThreshold = 12;  // structure levels (0..255); structure images are high contrast
constexpr int kMaskReach = 3;       // pixels around a mask's content kept as they are

// The median level of `picture`'s pixels where `where` is non-zero (255 when there are none).
int median(const cv::Mat& picture, const cv::Mat& where) {
  std::array<int, 256> histogram{};
  int count = 0;
  for (int y = 0; y < picture.rows; ++y) {
    const std::uint8_t* p = picture.ptr<std::uint8_t>(y);
    const std::uint8_t* w = where.ptr<std::uint8_t>(y);
    for (int x = 0; x < picture.cols; ++x) {
      if (w[x]) {
        ++histogram[p[x]];
        ++count;
      }
    }
  }
  for (int level = 0, seen = 0; level < 256; ++level) {
    seen += histogram[static_cast<std::size_t>(level)];
    if (2 * seen > count) return level;
  }
  return 255;
}

// `luma` with the page a few pixels away from `region` (the same size, non-zero = content) set to
// the page's median level: its grain, hatching or other sketches would otherwise scale the
// structure image (a faint drawing fades) and reach into the descriptors of corners near the
// drawing's outline.
cv::Mat blank_around(const cv::Mat& luma, const cv::Mat& region) {
  cv::Mat around, out = luma.clone();
  cv::dilate(region, around, cv::Mat(), cv::Point(-1, -1), kMaskReach);
  out.setTo(median(luma, ~around), ~around);
  return out;
}

}  // namespace

std::vector<cv::KeyPoint> spread_over_grid(std::vector<cv::KeyPoint> found, const cv::Size& size,
                                           int max_features) {
  std::stable_sort(found.begin(), found.end(), [](const cv::KeyPoint& a, const cv::KeyPoint& b) {
    return a.response > b.response;
  });
  // The strongest of each grid cell first, up to an even share per cell; then the strongest of
  // the rest until max_features.
  const int share = (max_features + kGrid * kGrid - 1) / (kGrid * kGrid);
  std::vector<int> per_cell(kGrid * kGrid, 0);
  std::vector<cv::KeyPoint> kept, rest;
  for (const cv::KeyPoint& k : found) {
    const int cx = std::clamp(static_cast<int>(k.pt.x * kGrid / size.width), 0, kGrid - 1);
    const int cy = std::clamp(static_cast<int>(k.pt.y * kGrid / size.height), 0, kGrid - 1);
    int& count = per_cell[static_cast<std::size_t>(cy * kGrid + cx)];
    if (count < share) {
      ++count;
      kept.push_back(k);
    } else {
      rest.push_back(k);
    }
  }
  for (const cv::KeyPoint& k : rest) {
    if (static_cast<int>(kept.size()) >= max_features) break;
    kept.push_back(k);
  }
  if (static_cast<int>(kept.size()) > max_features)
    kept.resize(static_cast<std::size_t>(max_features));
  return kept;
}

namespace {

cv::Mat gradient_magnitude(const cv::Mat& luma) {
  cv::Mat blurred, gx, gy, magnitude;
  cv::GaussianBlur(luma, blurred, cv::Size(0, 0), 1.0);
  cv::Sobel(blurred, gx, CV_32F, 1, 0);
  cv::Sobel(blurred, gy, CV_32F, 0, 1);
  cv::magnitude(gx, gy, magnitude);
  return magnitude;
}

float softness_of(const cv::Mat& magnitude) {
  return std::max(2.0f * static_cast<float>(cv::mean(magnitude)[0]), 4.0f);
}

}  // namespace

float edge_softness(const cv::Mat& luma) {
  return softness_of(gradient_magnitude(luma));
}

cv::Mat structure_image(const cv::Mat& luma, float softness) {
  const cv::Mat magnitude = gradient_magnitude(luma);
  if (softness <= 0) softness = softness_of(magnitude);
  cv::Mat squared = magnitude.mul(magnitude);
  cv::Mat presence = squared / (squared + softness * softness);
  cv::Mat out;
  presence.convertTo(out, CV_8U, 255.0);
  return out;
}

std::vector<LocalFeature> local_features(const GrayImage& luma, const GrayImage& mask,
                                         int max_features) {
  std::vector<LocalFeature> out;
  if (luma.empty() || max_features <= 0) return out;
  const GrayImage picture = fit_within(luma, kLocalFeatureSide);
  cv::Mat page = view_of(picture), region;
  if (!mask.empty()) {
    cv::resize(view_of(mask), region, page.size(), 0, 0, cv::INTER_AREA);
    cv::threshold(region, region, 127, 255, cv::THRESH_BINARY);
    page = blank_around(page, region);
  }
  const cv::Mat structure = structure_image(page);
  auto orb = cv::ORB::create(4 * max_features, kPyramidScale, kPyramidLevels, kPatchSize, 0, 2,
                             cv::ORB::HARRIS_SCORE, kPatchSize, kFastThreshold);
  std::vector<cv::KeyPoint> found;
  orb->detect(structure, found, region);
  std::vector<cv::KeyPoint> kept =
      spread_over_grid(std::move(found), structure.size(), max_features);
  cv::Mat descriptors;
  orb->compute(structure, kept, descriptors);
  out.resize(kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    out[i].x = kept[i].pt.x / static_cast<float>(structure.cols);
    out[i].y = kept[i].pt.y / static_cast<float>(structure.rows);
    std::memcpy(out[i].code.data(), descriptors.ptr(static_cast<int>(i)), 32);
  }
  return out;
}

}  // namespace celtrace::engine
