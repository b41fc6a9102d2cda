#include "engine/vpdq.h"

#include <cstdio>
#include <sstream>

#include "engine/binary_io.h"
#include "engine/errors.h"
#include "engine/fingerprint.h"

#include "engine/decode/video_decoder.h"

namespace celtrace::engine {

PdqResult pdq_from_rgb(const ColourImage& picture) {
  // PDQ's reference luma: BT.601 weights on 8-bit RGB, kept as floats. Rounding it to 8 bits
  // moves dark pictures' hashes by dozens of bits (their DCT coefficients are that small).
  thread_local std::vector<float> luma;  // kept: a full-size picture per video frame
  luma.resize(static_cast<std::size_t>(picture.width) * picture.height);
  const std::uint8_t* rgb = picture.rgb.data();
  for (std::size_t i = 0; i < luma.size(); ++i, rgb += 3) {
    luma[i] = 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
  }
  return pdq_from_luma(luma.data(), picture.width, picture.height);
}

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

std::vector<VpdqFeature> load_vpdq(const std::string& path) {
  constexpr std::size_t kMaxBytes = std::size_t{1} << 30;  // 10 million lines of 100 bytes
  const std::vector<std::uint8_t> bytes = read_file_bytes(path, kMaxBytes);
  std::istringstream text(std::string(bytes.begin(), bytes.end()));
  std::vector<VpdqFeature> features;
  std::string line;
  for (int number = 1; std::getline(text, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const auto fail = [&](const std::string& why) {
      return FormatError(path + ": line " + std::to_string(number) + ": " + why +
                         " (a vPDQ line is frame_number,quality,pdq_hex,timestamp_seconds)");
    };
    std::istringstream fields(line);
    std::string frame, quality, hex, seconds, extra;
    if (!std::getline(fields, frame, ',') || !std::getline(fields, quality, ',') ||
        !std::getline(fields, hex, ',') || !std::getline(fields, seconds, ',') ||
        std::getline(fields, extra, ','))
      throw fail("not 4 fields");
    VpdqFeature feature;
    try {
      std::size_t used = 0;
      feature.frame_number = std::stoll(frame, &used);
      if (used != frame.size() || feature.frame_number < 0) throw fail("bad frame number");
      feature.quality = std::stoi(quality, &used);
      if (used != quality.size() || feature.quality < 0 || feature.quality > 100)
        throw fail("quality is not 0-100");
      feature.timestamp_seconds = std::stod(seconds, &used);
      if (used != seconds.size() || !plausible_seconds(feature.timestamp_seconds))
        throw fail("bad timestamp");
      feature.hash = PdqHash::from_hex(hex);
    } catch (const FormatError&) {
      throw;
    } catch (const std::exception& e) {  // std::stoll's and PdqHash::from_hex's errors
      throw fail(e.what());
    }
    features.push_back(feature);
  }
  if (features.empty()) throw FormatError(path + ": no vPDQ lines");
  return features;
}

}  // namespace celtrace::engine
