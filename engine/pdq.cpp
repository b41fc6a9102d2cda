#include "engine/pdq.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <vector>

#include "engine/errors.h"

namespace celtrace::engine {
namespace {

constexpr int kBlock = 64;        // decimated size
constexpr int kFrequencies = 16;  // DCT frequencies kept per direction (1..16; DC dropped)

// Box filter of width `window` down each column (in -> out), centred; near the ends the mean is
// over the samples that exist, and for an even window the extra sample is below, as in the
// reference. Whole rows are accumulated so the inner loops run over contiguous memory.
void box_filter_columns(const float* in, float* out, int width, int height, int window,
                        const std::vector<float>& reciprocal_count) {
  const int before = (window - 1) / 2;
  const int after = window / 2;
  std::vector<float> sums(width, 0.f);
  int lo = 0, hi = -1;
  for (int i = 0; i < height; ++i) {
    const int want_hi = std::min(height - 1, i + after);
    const int want_lo = std::max(0, i - before);
    while (hi < want_hi) {
      const float* row = in + static_cast<std::size_t>(++hi) * width;
      for (int x = 0; x < width; ++x) sums[x] += row[x];
    }
    while (lo < want_lo) {
      const float* row = in + static_cast<std::size_t>(lo++) * width;
      for (int x = 0; x < width; ++x) sums[x] -= row[x];
    }
    float* target = out + static_cast<std::size_t>(i) * width;
    const float scale = reciprocal_count[i];
    for (int x = 0; x < width; ++x) target[x] = sums[x] * scale;
  }
}

// The same box filter along each row (in -> out), with the same order of additions and
// subtractions as box_filter_columns, so either direction gives the reference's floats. Rows go
// in strips of kStrip whose running sums advance together: one row's sum is a chain of dependent
// additions, several rows' chains overlap in the processor.
void box_filter_rows(const float* in, float* out, int width, int height, int window,
                     const std::vector<float>& reciprocal_count) {
  constexpr int kStrip = 8;
  const int before = (window - 1) / 2;
  const int after = window / 2;
  for (int y0 = 0; y0 < height; y0 += kStrip) {
    const int rows = std::min(kStrip, height - y0);
    const float* strip = in + static_cast<std::size_t>(y0) * width;
    float* target = out + static_cast<std::size_t>(y0) * width;
    float sums[kStrip] = {};
    int lo = 0, hi = -1;
    for (int i = 0; i < width; ++i) {
      const int want_hi = std::min(width - 1, i + after);
      const int want_lo = std::max(0, i - before);
      while (hi < want_hi) {
        ++hi;
        for (int r = 0; r < rows; ++r) sums[r] += strip[static_cast<std::size_t>(r) * width + hi];
      }
      while (lo < want_lo) {
        for (int r = 0; r < rows; ++r) sums[r] -= strip[static_cast<std::size_t>(r) * width + lo];
        ++lo;
      }
      for (int r = 0; r < rows; ++r)
        target[static_cast<std::size_t>(r) * width + i] = sums[r] * reciprocal_count[i];
    }
  }
}

// 1 / (number of samples in the clipped window) at each position of a line of `count`.
std::vector<float> reciprocal_counts(int count, int window) {
  std::vector<float> reciprocal(count);
  for (int i = 0; i < count; ++i) {
    const int lo = std::max(0, i - (window - 1) / 2), hi = std::min(count - 1, i + window / 2);
    reciprocal[i] = 1.f / static_cast<float>(hi - lo + 1);
  }
  return reciprocal;
}

// Two passes of X then Y box filters approximate a tent filter whose support is one 64th of the
// image per direction (Jarosz, "Fast Image Convolutions", 2001).
void jarosz_filter(std::vector<float>& image, std::vector<float>& scratch, int width, int height) {
  const int row_window = (width + 2 * kBlock - 1) / (2 * kBlock);
  const int column_window = (height + 2 * kBlock - 1) / (2 * kBlock);
  const auto row_reciprocal = reciprocal_counts(width, row_window);
  const auto column_reciprocal = reciprocal_counts(height, column_window);
  scratch.resize(image.size());
  for (int pass = 0; pass < 2; ++pass) {
    box_filter_rows(image.data(), scratch.data(), width, height, row_window, row_reciprocal);
    box_filter_columns(scratch.data(), image.data(), width, height, column_window,
                       column_reciprocal);
  }
}

// DCT-II basis for frequencies 1..16 over 64 samples: 16 x 64, row-major.
const std::array<float, kFrequencies * kBlock>& dct_basis() {
  static const auto basis = [] {
    std::array<float, kFrequencies * kBlock> m{};
    const double scale = std::sqrt(2.0 / kBlock);
    for (int k = 0; k < kFrequencies; ++k) {
      for (int n = 0; n < kBlock; ++n) {
        m[k * kBlock + n] =
            static_cast<float>(scale * std::cos(M_PI / 2 / kBlock * (k + 1) * (2 * n + 1)));
      }
    }
    return m;
  }();
  return basis;
}

// The reference's quality: the sum of quantised neighbour differences of the 64x64 block.
int quality_of(const std::array<float, kBlock * kBlock>& block) {
  int gradient_sum = 0;
  for (int i = 0; i < kBlock; ++i) {
    for (int j = 0; j < kBlock; ++j) {
      if (i + 1 < kBlock) {
        gradient_sum += std::abs(
            static_cast<int>((block[i * kBlock + j] - block[(i + 1) * kBlock + j]) * 100 / 255));
      }
      if (j + 1 < kBlock) {
        gradient_sum += std::abs(
            static_cast<int>((block[i * kBlock + j] - block[i * kBlock + j + 1]) * 100 / 255));
      }
    }
  }
  return std::min(100, gradient_sum / 90);
}

}  // namespace

std::string PdqHash::hex() const {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (int word = 15; word >= 0; --word) {
    for (int byte : {2 * word + 1, 2 * word}) {
      out.push_back(kDigits[bytes[byte] >> 4]);
      out.push_back(kDigits[bytes[byte] & 15]);
    }
  }
  return out;
}

PdqHash PdqHash::from_hex(const std::string& hex) {
  if (hex.size() != 64)
    throw UsageError("a PDQ hash has 64 hex digits, got " + std::to_string(hex.size()));
  auto nibble = [&](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw UsageError("not a hex digit in PDQ hash: '" + std::string(1, c) + "'");
  };
  PdqHash hash;
  for (int word = 15, pos = 0; word >= 0; --word) {
    for (int byte : {2 * word + 1, 2 * word}) {
      hash.bytes[byte] = static_cast<std::uint8_t>(nibble(hex[pos]) * 16 + nibble(hex[pos + 1]));
      pos += 2;
    }
  }
  return hash;
}

int PdqHash::distance(const PdqHash& other) const {
  int bits = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bits += std::popcount(static_cast<unsigned>(bytes[i] ^ other.bytes[i]));
  return bits;
}

PdqHash pdq_threshold(const PdqDct& dct) {
  PdqDct sorted = dct;
  std::nth_element(sorted.begin(), sorted.begin() + 127, sorted.end());
  // The reference takes the lower median (Torben's method on an even count).
  const float median = sorted[127];
  PdqHash hash;
  for (int k = 0; k < 256; ++k) {
    if (dct[k] > median) hash.bytes[k / 8] |= static_cast<std::uint8_t>(1u << (k % 8));
  }
  return hash;
}

PdqHash pdq_mirrored(const PdqDct& dct) {
  PdqDct mirrored = dct;
  for (int i = 0; i < kFrequencies; ++i) {
    for (int j = 0; j < kFrequencies; j += 2)
      mirrored[i * kFrequencies + j] = -dct[i * kFrequencies + j];
  }
  return pdq_threshold(mirrored);
}

PdqResult pdq_from_luma(const float* luma, int width, int height) {
  if (width <= 0 || height <= 0) throw UsageError("PDQ needs a non-empty image");
  // Kept between calls: a video frame's two full-size float pictures, allocated afresh for every
  // frame, cost more in page faults than the filter itself.
  thread_local std::vector<float> image, scratch;
  image.assign(luma, luma + static_cast<std::size_t>(width) * height);
  jarosz_filter(image, scratch, width, height);

  std::array<float, kBlock * kBlock> block{};
  for (int i = 0; i < kBlock; ++i) {
    const int y = static_cast<int>((i + 0.5) * height / kBlock);
    for (int j = 0; j < kBlock; ++j) {
      const int x = static_cast<int>((j + 0.5) * width / kBlock);
      block[i * kBlock + j] = image[static_cast<std::size_t>(y) * width + x];
    }
  }

  PdqResult result;
  result.quality = quality_of(block);
  // dct = D * block * D^T with D the 16 x 64 basis.
  const auto& basis = dct_basis();
  std::array<float, kFrequencies * kBlock> partial{};  // D * block, 16 x 64
  for (int k = 0; k < kFrequencies; ++k) {
    for (int n = 0; n < kBlock; ++n) {
      const float weight = basis[k * kBlock + n];
      for (int j = 0; j < kBlock; ++j) partial[k * kBlock + j] += weight * block[n * kBlock + j];
    }
  }
  for (int k = 0; k < kFrequencies; ++k) {
    for (int l = 0; l < kFrequencies; ++l) {
      float sum = 0.f;
      for (int j = 0; j < kBlock; ++j) sum += partial[k * kBlock + j] * basis[l * kBlock + j];
      result.dct[k * kFrequencies + l] = sum;
    }
  }
  result.hash = pdq_threshold(result.dct);
  return result;
}

PdqResult pdq_from_image(const GrayImage& image) {
  std::vector<float> luma(image.pixels.begin(), image.pixels.end());
  return pdq_from_luma(luma.data(), image.width, image.height);
}

}  // namespace celtrace::engine
