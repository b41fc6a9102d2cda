#include "engine/descriptor.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace celtrace::engine {
namespace {

constexpr int kSide = 96;               // working resolution, square (aspect changes are allowed)
constexpr double kBlurSigma = 1.2;      // pixels at kSide; merges a line's two flanks
constexpr float kLayoutWeight = 0.35f;  // share of the layout block in the final L2 norm

// Start of each pyramid level in cell units: level 0 is 1x1, level 1 is 2x2, level 2 is 4x4.
constexpr int kLevelGrid[3] = {1, 2, 4};
constexpr int kLevelOffset[3] = {0, 1, 5};

// Bilinear weights of one pixel coordinate between the two nearest 4x4-grid cell centres
// (clamped at the borders). Separable, so one table serves both axes.
struct CellTap {
  int cell[2];
  float weight[2];
};

const std::array<CellTap, kSide>& cell_taps() {
  static const auto taps = [] {
    std::array<CellTap, kSide> table{};
    for (int p = 0; p < kSide; ++p) {
      const float f = (p + 0.5f) / kSide * 4 - 0.5f;
      const int c0 = static_cast<int>(std::floor(f));
      const float a = f - c0;
      table[p] = {{std::clamp(c0, 0, 3), std::clamp(c0 + 1, 0, 3)}, {1 - a, a}};
    }
    return table;
  }();
  return taps;
}

void l2_normalise(float* values, int count) {
  double sum = 0;
  for (int i = 0; i < count; ++i) sum += double(values[i]) * values[i];
  const float scale = sum > 1e-12 ? static_cast<float>(1.0 / std::sqrt(sum)) : 0.f;
  for (int i = 0; i < count; ++i) values[i] *= scale;
}

}  // namespace

RawDescriptor raw_descriptor(const GrayImage& luma) {
  const cv::Mat source(luma.height, luma.width, CV_8UC1,
                       const_cast<std::uint8_t*>(luma.pixels.data()));
  cv::Mat small, blurred;
  cv::resize(source, small, cv::Size(kSide, kSide), 0, 0,
             luma.width >= kSide && luma.height >= kSide ? cv::INTER_AREA : cv::INTER_LINEAR);
  small.convertTo(small, CV_32F);
  cv::GaussianBlur(small, blurred, cv::Size(0, 0), kBlurSigma);
  cv::Mat gx, gy;
  cv::Sobel(blurred, gx, CV_32F, 1, 0, 3, 0.125);  // scaled to luma levels per pixel
  cv::Sobel(blurred, gy, CV_32F, 0, 1, 3, 0.125);

  cv::Mat magnitude, angle;
  cv::cartToPolar(gx, gy, magnitude, angle);  // angle in [0, 2 pi) radians
  RawDescriptor out;
  out.values.assign(kRawDescriptorSize, 0.f);
  const float mean_magnitude = static_cast<float>(cv::mean(magnitude)[0]);
  out.detail = mean_magnitude;

  // Edge presence m^2 / (m^2 + c^2) with c twice the frame's mean magnitude: contours (ink lines,
  // colour boundaries, faint or bold) count nearly alike, while the weak gradients of painted
  // textures, soft shading and noise, which work-in-progress renders lack, count for little.
  const float softness = std::max(2.0f * mean_magnitude, 0.5f);
  // Soft-binned 4x4 grid first; the 2x2 and 1x1 levels are sums of its cells.
  const auto& taps = cell_taps();
  float* fine = out.values.data() + kLevelOffset[2] * kOrientationBins;
  const float bins_per_radian = kOrientationBins / static_cast<float>(M_PI);
  for (int y = 0; y < kSide; ++y) {
    const float* magnitude_row = magnitude.ptr<float>(y);
    const float* angle_row = angle.ptr<float>(y);
    const CellTap& ty = taps[y];
    for (int x = 0; x < kSide; ++x) {
      const float m = magnitude_row[x];
      const float presence = m * m / (m * m + softness * softness);
      float position = angle_row[x] * bins_per_radian;  // 0..16: unsigned orientation wraps at 8
      if (position >= kOrientationBins) position -= kOrientationBins;
      const int bin0 = static_cast<int>(position) % kOrientationBins;
      const int bin1 = (bin0 + 1) % kOrientationBins;
      const float w1 = position - static_cast<float>(static_cast<int>(position));
      const float w0 = 1.f - w1;
      const CellTap& tx = taps[x];
      for (int dy = 0; dy < 2; ++dy) {
        for (int dx = 0; dx < 2; ++dx) {
          const float weight = presence * ty.weight[dy] * tx.weight[dx];
          float* histogram = fine + (ty.cell[dy] * 4 + tx.cell[dx]) * kOrientationBins;
          histogram[bin0] += weight * w0;
          histogram[bin1] += weight * w1;
        }
      }
    }
  }
  for (int cell = 0; cell < 16; ++cell) {
    const int row = cell / 4, column = cell % 4;
    float* coarse =
        out.values.data() + (kLevelOffset[1] + (row / 2) * 2 + column / 2) * kOrientationBins;
    float* whole = out.values.data() + kLevelOffset[0] * kOrientationBins;
    for (int b = 0; b < kOrientationBins; ++b) {
      coarse[b] += fine[cell * kOrientationBins + b];
      whole[b] += fine[cell * kOrientationBins + b];
    }
  }
  // Hellinger mapping per level: each level's histogram mass sums to one, then square roots.
  for (int level = 0; level < 3; ++level) {
    float* begin = out.values.data() + kLevelOffset[level] * kOrientationBins;
    const int count = kLevelGrid[level] * kLevelGrid[level] * kOrientationBins;
    double total = 0;
    for (int i = 0; i < count; ++i) total += begin[i];
    for (int i = 0; i < count; ++i)
      begin[i] = total > 0 ? std::sqrt(static_cast<float>(begin[i] / total)) : 0.f;
  }
  const int structure_size = kPyramidCells * kOrientationBins;
  l2_normalise(out.values.data(), structure_size);

  // Luma layout: 4x4 cell means, zero-mean and unit-norm, so brightness and contrast drop out.
  float* layout = out.values.data() + structure_size;
  cv::Mat cells;
  cv::resize(blurred, cells, cv::Size(4, 4), 0, 0, cv::INTER_AREA);
  float mean = 0;
  for (int i = 0; i < kLayoutCells; ++i) mean += cells.at<float>(i / 4, i % 4) / kLayoutCells;
  for (int i = 0; i < kLayoutCells; ++i) layout[i] = cells.at<float>(i / 4, i % 4) - mean;
  l2_normalise(layout, kLayoutCells);
  for (int i = 0; i < kLayoutCells; ++i) layout[i] *= kLayoutWeight;
  l2_normalise(out.values.data(), kRawDescriptorSize);
  return out;
}

std::vector<float> mirror_raw_descriptor(const std::vector<float>& raw) {
  std::vector<float> mirrored(raw.size());
  for (int level = 0; level < 3; ++level) {
    const int grid = kLevelGrid[level];
    for (int row = 0; row < grid; ++row) {
      for (int column = 0; column < grid; ++column) {
        const int from = (kLevelOffset[level] + row * grid + column) * kOrientationBins;
        const int to = (kLevelOffset[level] + row * grid + (grid - 1 - column)) * kOrientationBins;
        // Mirroring maps gradient angle a to pi - a: bin b goes to (8 - b) mod 8.
        for (int b = 0; b < kOrientationBins; ++b) {
          mirrored[to + (kOrientationBins - b) % kOrientationBins] = raw[from + b];
        }
      }
    }
  }
  const int layout = kPyramidCells * kOrientationBins;
  for (int row = 0; row < 4; ++row) {
    for (int column = 0; column < 4; ++column) {
      mirrored[layout + row * 4 + (3 - column)] = raw[layout + row * 4 + column];
    }
  }
  return mirrored;
}

}  // namespace celtrace::engine
