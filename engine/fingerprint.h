// A media file's fingerprint and its versioned, checksummed binary form.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/local_features.h"
#include "engine/media.h"
#include "engine/pdq.h"

namespace celtrace::engine {

struct Sample {
  double pts_seconds = 0.0;  // presentation time from the start of the media
  PdqHash pdq;
  int quality = 0;                // PDQ quality 0..100
  float detail = 0.0f;            // RawDescriptor::detail; flat frames are below about 1.5
  std::vector<float> descriptor;  // model.output_size floats, L2-normalised
  // Filled only when asked for (queries); never serialised.
  PdqHash mirrored_pdq;
  std::vector<float> mirrored_descriptor;
  // The descriptor of a picture-in-picture inset (engine/preprocess.h), empty when none.
  std::vector<float> inset_descriptor;
  // Local features (engine/local_features.h), filled when asked for and never serialised: a
  // reference's key frames describe the whole picture, a query layer its foreground only.
  std::vector<LocalFeature> local_features;
  // Share of the picture that is content (engine/foreground.h); below 1 the picture is a layer
  // (alpha or blank background) and its local features cover the content only.
  double foreground_share = 1;
};

struct Fingerprint {
  MediaInfo media;
  std::string model_id;
  int descriptor_size = 0;
  double sample_fps = 0.0;
  std::vector<Sample> samples;
};

// Media times read from files (fingerprints, library catalogs) are checked against this: beyond it
// (about 116 days), or negative or not finite, a time is damage, and would overflow the integer
// offset bins of temporal alignment.
inline constexpr double kMaxStoredSeconds = 1e7;
inline bool plausible_seconds(double seconds) {
  return seconds >= 0 && seconds <= kMaxStoredSeconds;  // false for NaN too
}

// Format: "CTFPRNT1", u32 version, media info, model ID, samples, CRC-32 trailer; little-endian.
std::vector<std::uint8_t> serialise(const Fingerprint& fingerprint);
Fingerprint parse_fingerprint(const std::vector<std::uint8_t>& bytes, const std::string& what);
void save_fingerprint(const Fingerprint& fingerprint, const std::string& path);
Fingerprint load_fingerprint(const std::string& path);

}  // namespace celtrace::engine
