// GrayImage and OpenCV matrices, for the stages that use OpenCV (training transforms, local
// features, foreground, verification): one place for the conversion.
#pragma once

#include <algorithm>

#include <opencv2/core.hpp>

#include "engine/image.h"

namespace celtrace::engine {

// A CV_8UC1 header over the image's pixels, no copy; to be read, not written.
inline cv::Mat view_of(const GrayImage& image) {
  return cv::Mat(image.height, image.width, CV_8UC1,
                 const_cast<std::uint8_t*>(image.pixels.data()));
}

// A copy of a CV_8UC1 matrix (continuous or not).
inline GrayImage image_of(const cv::Mat& mat) {
  GrayImage out(mat.cols, mat.rows);
  for (int y = 0; y < mat.rows; ++y)
    std::copy_n(mat.ptr<std::uint8_t>(y), mat.cols, out.pixels.data() + std::size_t(y) * mat.cols);
  return out;
}

}  // namespace celtrace::engine
