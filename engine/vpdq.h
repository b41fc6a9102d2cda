// vPDQ as Meta's ThreatExchange tools write it: one PDQ hash per chosen frame of a video, in lines
// of frame_number,quality,pdq_hex,timestamp_seconds. Partners in an investigation share these
// files instead of media; celtrace writes hashes their tools agree with and reads theirs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/media.h"
#include "engine/pdq.h"

namespace celtrace::engine {

struct VpdqFeature {
  std::int64_t frame_number = 0;
  int quality = 0;  // PDQ quality, 0..100
  PdqHash hash;
  double timestamp_seconds = 0;
};

struct VpdqHashes {
  MediaInfo media;
  std::vector<VpdqFeature> features;
};

// PDQ of a whole RGB picture as Meta's tools compute it: luma as floats (rounding it to 8 bits, or
// hashing the codec's luma plane, which skips RGB's clipping, moves dark colourful pictures by
// dozens of bits), the tent filter over the picture's full size.
PdqResult pdq_from_rgb(const ColourImage& picture);

// Hashes a video as Meta's vpdq-hash-video does with `-r seconds_per_hash`: every
// floor(seconds_per_hash * frame rate)-th frame in decode order (0: every frame), the whole frame
// at full size (bars included), luma from RGB24 as PDQ's reference computes it, timestamps as
// frame_number / frame rate. On the shared reference vectors every frame agrees bit for bit.
VpdqHashes vpdq_hash_video(const std::string& path, double seconds_per_hash, const Limits& limits);

// "frame_number,quality,pdq_hex,timestamp" with three decimals, as Meta's tool prints it.
std::string to_vpdq_line(const VpdqFeature& feature);

// Reads a vPDQ file (Meta's vpdq-hash-video, celtrace hash): one feature per line, blank lines
// skipped. Throws FormatError naming the line for anything else, including times no media has.
std::vector<VpdqFeature> load_vpdq(const std::string& path);

}  // namespace celtrace::engine
