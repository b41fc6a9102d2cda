#include "engine/preprocess.h"

#include <algorithm>

namespace celtrace::engine {
namespace {

// A bar pixel is at most this bright (0..255); encoders and analog captures leave bars at 0..35.
constexpr int kDarkLevel = 40;
// A border line is a bar when at most this fraction of its pixels is not near the line's median
// (tolerates noise and compression ringing)...
constexpr double kOffFractionAllowed = 0.02;
// ... "near" meaning within this many levels: a bar is one flat level, while dark picture content
// (a night scene, a vignette, a fade's gradient) spreads over many, and must not be cut away.
constexpr int kBarSpread = 6;
// Every line of the bars around one picture has nearly the same level.
constexpr int kBarLevelDrift = 8;

// The line's level when the `count` pixels from `first`, `stride` apart, are a bar; -1 otherwise.
int bar_level(const GrayImage& image, int first, int stride, int count) {
  if (count <= 0) return -1;  // every row was a bar: a dark frame, left whole by the caller
  int histogram[256] = {};
  for (int i = 0; i < count; ++i)
    ++histogram[image.pixels[first + static_cast<std::size_t>(i) * stride]];
  int median = 0;
  for (int seen = 0; seen + histogram[median] <= count / 2; seen += histogram[median++]) {
  }
  if (median > kDarkLevel) return -1;
  int near = 0;
  for (int v = std::max(0, median - kBarSpread); v <= std::min(255, median + kBarSpread); ++v)
    near += histogram[v];
  return count - near <= static_cast<int>(kOffFractionAllowed * count) ? median : -1;
}

// Whether a line is a bar whose level agrees with the bars found so far (level: -1 = none yet).
bool extends_bars(int line_level, int& level) {
  if (line_level < 0) return false;
  if (level >= 0 && std::abs(line_level - level) > kBarLevelDrift) return false;
  if (level < 0) level = line_level;
  return true;
}

}  // namespace

CropBox detect_bars(const GrayImage& image) {
  CropBox whole{0, 0, image.width, image.height};
  if (image.width < 8 || image.height < 8) return whole;
  const int w = image.width;
  int top = 0, bottom = image.height, left = 0, right = image.width;
  int level = -1;
  const auto row = [&](int y) { return bar_level(image, y * w, 1, w); };
  while (top < bottom && extends_bars(row(top), level)) ++top;
  while (bottom > top && extends_bars(row(bottom - 1), level)) --bottom;
  const auto column = [&](int x) { return bar_level(image, top * w + x, w, bottom - top); };
  while (left < right && extends_bars(column(left), level)) ++left;
  while (right > left && extends_bars(column(right - 1), level)) --right;
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

namespace celtrace::engine {
namespace {

// Edge strength across a border line between two pixel rows (or columns), luma levels.
constexpr int kBorderContrast = 12;
// A border must be an edge along at least this share of the inset's side.
constexpr double kBorderCoverage = 0.7;

// Share of positions in [from, to) along a horizontal line between rows y-1 and y+1 where the
// luma steps by at least kBorderContrast.
double horizontal_edge(const GrayImage& image, int y, int from, int to) {
  if (y < 1 || y + 1 >= image.height || to <= from) return 0;
  int strong = 0;
  for (int x = from; x < to; ++x)
    strong += std::abs(image.at(x, y - 1) - image.at(x, y + 1)) >= kBorderContrast;
  return static_cast<double>(strong) / (to - from);
}

double vertical_edge(const GrayImage& image, int x, int from, int to) {
  if (x < 1 || x + 1 >= image.width || to <= from) return 0;
  int strong = 0;
  for (int y = from; y < to; ++y)
    strong += std::abs(image.at(x - 1, y) - image.at(x + 1, y)) >= kBorderContrast;
  return static_cast<double>(strong) / (to - from);
}

}  // namespace

std::optional<CropBox> detect_inset(const GrayImage& image) {
  const int w = image.width, h = image.height;
  if (w < 32 || h < 32) return std::nullopt;
  // Candidate borders: columns (rows) where many pixels step strongly across them, kept when
  // they are local maxima of that count.
  auto candidates = [](const std::vector<int>& counts, int minimum) {
    std::vector<int> out;
    for (int i = 2; i + 2 < static_cast<int>(counts.size()); ++i) {
      if (counts[i] >= minimum && counts[i] >= counts[i - 1] && counts[i] >= counts[i + 1])
        out.push_back(i);
    }
    // The strongest 16 are enough: an inset's borders are among the strongest lines.
    constexpr std::size_t kKept = 16;
    if (out.size() > kKept) {
      std::partial_sort(out.begin(), out.begin() + kKept, out.end(),
                        [&](int a, int b) { return counts[a] > counts[b]; });
      out.resize(kKept);
      std::sort(out.begin(), out.end());
    }
    return out;
  };
  std::vector<int> column_counts(w, 0), row_counts(h, 0);
  for (int y = 1; y + 1 < h; ++y) {
    for (int x = 1; x + 1 < w; ++x) {
      column_counts[x] += std::abs(image.at(x - 1, y) - image.at(x + 1, y)) >= kBorderContrast;
      row_counts[y] += std::abs(image.at(x, y - 1) - image.at(x, y + 1)) >= kBorderContrast;
    }
  }
  const auto columns = candidates(column_counts, h / 5);
  const auto rows = candidates(row_counts, w / 5);
  std::optional<CropBox> best;
  double best_score = 0;
  for (std::size_t a = 0; a < columns.size(); ++a) {
    for (std::size_t b = a + 1; b < columns.size(); ++b) {
      const int left = columns[a], right = columns[b];
      if (right - left < w / 4 || right - left > w * 9 / 10) continue;
      for (std::size_t c = 0; c < rows.size(); ++c) {
        for (std::size_t d = c + 1; d < rows.size(); ++d) {
          const int top = rows[c], bottom = rows[d];
          if (bottom - top < h / 4) continue;
          const double area =
              static_cast<double>(right - left) * (bottom - top) / (static_cast<double>(w) * h);
          if (area < 0.1 || area > 0.8) continue;
          const double sides[4] = {
              horizontal_edge(image, top, left, right), horizontal_edge(image, bottom, left, right),
              vertical_edge(image, left, top, bottom), vertical_edge(image, right, top, bottom)};
          if (*std::min_element(sides, sides + 4) < kBorderCoverage) continue;
          const double score = sides[0] + sides[1] + sides[2] + sides[3];
          if (score > best_score) {
            best_score = score;
            best = CropBox{left + 2, top + 2, right - left - 3, bottom - top - 3};
          }
        }
      }
    }
  }
  return best;
}

}  // namespace celtrace::engine
