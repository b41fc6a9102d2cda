// PDQ perceptual hash (Meta's ThreatExchange algorithm), interoperable with its 256-bit hex
// hashes: luma -> two-pass Jarosz tent filter -> 64x64 decimation -> DCT frequencies 1..16 in both
// directions -> one bit per coefficient, set when it exceeds the median of the 256.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "engine/image.h"

namespace celtrace::engine {

// Bit k (k = 16 * vertical_frequency + horizontal_frequency, both 0-based) lives in
// bytes[k / 8], bit k % 8. The hex form prints 16-bit words 15..0 as in the reference tools.
struct PdqHash {
  std::array<std::uint8_t, 32> bytes{};

  std::string hex() const;
  static PdqHash from_hex(const std::string& hex);  // throws UsageError on malformed input
  int distance(const PdqHash& other) const;         // Hamming distance, 0..256
  bool operator==(const PdqHash& other) const { return bytes == other.bytes; }
};

// The 16x16 DCT block a hash is thresholded from, row = vertical frequency.
using PdqDct = std::array<float, 256>;

struct PdqResult {
  PdqHash hash;
  int quality = 0;  // 0..100; below about 50 the hash of that image is not trustworthy
  PdqDct dct{};
};

// Hashes luma values (any scale of 0..255, width * height floats, row-major).
PdqResult pdq_from_luma(const float* luma, int width, int height);
PdqResult pdq_from_image(const GrayImage& image);

// The hash of the left-right mirrored image, derived exactly from the DCT: mirroring negates the
// odd horizontal frequencies (PDQ's reference tools call this orientation "flipy").
PdqHash pdq_mirrored(const PdqDct& dct);

// Thresholds a DCT block at its median.
PdqHash pdq_threshold(const PdqDct& dct);

}  // namespace celtrace::engine
