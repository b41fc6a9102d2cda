#include "engine/vpdq.h"

#include <cstdio>

#include "engine/decode/video_decoder.h"

namespace celtrace::engine {

namespace {

PdqResult pdq_from_rgb(const ColourImage& picture) {
  // PDQ's reference luma: BT.601 weights on 8-bit RGB, kept as floats. Rounding it to 8 bits
  // moves dark pictures' hashes by dozens of bits (their DCT coefficients are that small).
  std::vector<float> luma(static_cast<std::size_t>(picture.width) * picture.height);
  const std::uint8_t* rgb = picture.rgb.data();
  for (std::size_t i = 0; i < luma.size(); ++i, rgb += 3) {
    luma[i] = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
  }
  return pdq_from_luma(luma.data(), picture.width, picture.height);
}

}  // namespace

VpdqHashes vpdq_hash_video(const std::string& path, double seconds_per_hash, const Limits& limits) {
  VpdqHashes result;
  auto hash_frame = [&](const RgbFrame& frame) {
    const PdqResult pdq = pdq_from_rgb(frame.picture);
    VpdqFeature feature;
    feature.frame_number = frame.number;
    feature.quality = pdq.quality;
    feature.hash = pdq.hash;
    feature.timestamp_seconds = frame.pts_seconds;  // replaced below when a rate is declared
    result.features.push_back(feature);
  };
  result.media = read_rgb_frames(path, seconds_per_hash, limits, hash_frame);
  const double frame_rate = result.media.frame_rate;
  // Meta's tool writes frame_number / frame rate (not the presentation time) as the timestamp.
  if (frame_rate > 0) {
    for (auto& feature : result.features) {
      feature.timestamp_seconds = static_cast<double>(feature.frame_number) / frame_rate;
    }
  }
  return result;
}

std::string to_vpdq_line(const VpdqFeature& feature) {
  char line[128];
  std::snprintf(line, sizeof line, "%lld,%d,%s,%.3f", static_cast<long long>(feature.frame_number),
                feature.quality, feature.hash.hex().c_str(), feature.timestamp_seconds);
  return line;
}

}  // namespace celtrace::engine
