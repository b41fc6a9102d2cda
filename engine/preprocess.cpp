#include "engine/preprocess.h"

#include <algorithm>

namespace celtrace::engine {
namespace {

// A bar pixel is at most this bright (0..255); encoders and analog captures leave bars at 0..35.
constexpr int kDarkLevel = 40;
// A border line is a bar when at most this fraction of its pixels is brighter than kDarkLevel
// (tolerates noise and compression ringing).
constexpr double kBrightFractionAllowed = 0.02;

bool dark_row(const GrayImage& image, int y, int x0, int x1) {
  const int allowed = static_cast<int>(kBrightFractionAllowed * (x1 - x0));
  int bright = 0;
  for (int x = x0; x < x1; ++x) bright += image.at(x, y) > kDarkLevel;
  return bright <= allowed;
}

bool dark_column(const GrayImage& image, int x, int y0, int y1) {
  const int allowed = static_cast<int>(kBrightFractionAllowed * (y1 - y0));
  int bright = 0;
  for (int y = y0; y < y1; ++y) bright += image.at(x, y) > kDarkLevel;
  return bright <= allowed;
}

}  // namespace

CropBox detect_bars(const GrayImage& image) {
  CropBox whole{0, 0, image.width, image.height};
  if (image.width < 8 || image.height < 8) return whole;
  int top = 0, bottom = image.height, left = 0, right = image.width;
  while (top < bottom && dark_row(image, top, 0, image.width)) ++top;
  while (bottom > top && dark_row(image, bottom - 1, 0, image.width)) --bottom;
  while (left < right && dark_column(image, left, top, bottom)) ++left;
  while (right > left && dark_column(image, right - 1, top, bottom)) --right;
  if (3 * (bottom - top) < image.height || 3 * (right - left) < image.width) return whole;
  return CropBox{left, top, right - left, bottom - top};
}

GrayImage crop(const GrayImage& image, const CropBox& box) {
  if (box.x == 0 && box.y == 0 && box.width == image.width && box.height == image.height) {
    return image;
  }
  GrayImage out(box.width, box.height);
  for (int y = 0; y < box.height; ++y) {
    const auto* row =
        image.pixels.data() + static_cast<std::size_t>(box.y + y) * image.width + box.x;
    std::copy_n(row, box.width, out.pixels.data() + static_cast<std::size_t>(y) * box.width);
  }
  return out;
}

GrayImage remove_bars(const GrayImage& image) {
  return crop(image, detect_bars(image));
}

}  // namespace celtrace::engine
