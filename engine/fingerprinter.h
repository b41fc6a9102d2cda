// The engine's pipeline, wired in one place:
//   open_media (decode + sample) -> remove_bars -> { PDQ hash, raw descriptor -> model } -> Sample
//   and, when asked: references' key frames -> local features (whole picture); query pictures
//   -> foreground (alpha or blank background) -> local features of the foreground
#pragma once

#include <functional>
#include <string>

#include "engine/fingerprint.h"
#include "engine/media.h"
#include "engine/model.h"

namespace celtrace::engine {

// Which samples get local features (engine/local_features.h).
enum class LocalFeatureUse {
  kNone,
  kKeyFrames,  // references: whole pictures, at key frames (see fingerprinter.cpp)
  kLayers,  // queries: the foreground of every picture that has a blank or transparent background
};

struct FingerprintOptions {
  DecodeOptions decode;
  bool mirrored = false;  // also compute mirrored PDQ and descriptor (for queries)
  bool insets = false;    // also describe picture-in-picture insets (for queries)
  // Video and sequence frames are hashed at most this large (longer side, pixels): the 64x64
  // PDQ block and the 96x96 descriptor need no more, and it bounds the per-frame cost. Stills
  // are hashed at DecodeOptions::still_analysis_size to agree with other PDQ tools.
  int hash_size = 128;
  LocalFeatureUse local_features = LocalFeatureUse::kNone;
  // > 0: for video samples at least this many seconds apart, Sample::pdq (and quality) is Meta's
  // vPDQ of the whole decoded frame, bars included (engine/vpdq.h: RGB, then luma), so that a
  // library matches partners' vPDQ files; the other samples keep the pipeline's PDQ. Key frames
  // are chosen with the pipeline's PDQ either way.
  double whole_frame_pdq_interval = 0;
};

// Called after each sample with the media time reached and the media's duration (seconds).
using ProgressCallback = std::function<void(double done_seconds, double total_seconds)>;

class Fingerprinter {
 public:
  explicit Fingerprinter(ProjectionModel model) : model_(std::move(model)) {}

  Fingerprint fingerprint(const std::string& path, const FingerprintOptions& options,
                          const ProgressCallback& progress = nullptr) const;

  // The per-frame stages, for one frame already decoded to luma (reference key frames get their
  // local features in fingerprint(), which sees the frames before).
  Sample sample_of(const Frame& frame, const FingerprintOptions& options, int hash_size) const;

  const ProjectionModel& model() const { return model_; }

 private:
  ProjectionModel model_;
};

}  // namespace celtrace::engine
