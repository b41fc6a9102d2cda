// The libav seam: the only header that knows videos are decoded with FFmpeg's libraries.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/media.h"

namespace celtrace::engine {

// Opens a video with libav. Sampling happens here so that frames that will be dropped are skipped
// as early as the codec allows (whole packets for intra-only codecs, non-reference frames, reduced
// resolution decoding) and only kept frames are converted to luma.
std::unique_ptr<FrameSource> open_video(const std::string& path, const DecodeOptions& options);

// Like open_video, positioned (by seeking to the preceding key frame) so that the first frame
// returned is at or shortly before `seconds`.
std::unique_ptr<FrameSource> open_video_at(const std::string& path, double seconds,
                                           const DecodeOptions& options);

// One frame as Meta's vPDQ tool (ThreatExchange vpdq-hash-video) hashes it: RGB24 at the
// decoded size, converted by swscale's area filter.
struct RgbFrame {
  std::int64_t number = 0;  // in decoder output order, from 0
  double pts_seconds = 0;   // presentation time from the start of the media
  ColourImage picture;      // at the decoded size
};

// Decodes every frame of a video at full resolution (nothing skipped: frame numbers count every
// decoded frame, as Meta's tool does) and hands `consume` those whose number is a multiple of
// floor(seconds_per_frame * frame rate), at least 1 (0 s: every frame). The frame rate is the
// stream's average, or its base rate where no average is declared. Returns the media's facts,
// warnings included.
MediaInfo read_rgb_frames(const std::string& path, double seconds_per_frame, const Limits& limits,
                          const std::function<void(const RgbFrame&)>& consume);

// libav prints its own warnings to stderr by default; the library keeps it quiet unless a tool
// asks for its messages (e.g. with --verbose).
void set_decoder_log_verbose(bool verbose);

}  // namespace celtrace::engine
