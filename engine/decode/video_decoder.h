// The libav seam: the only header that knows videos are decoded with FFmpeg's libraries.
#pragma once

#include <memory>
#include <string>

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

// libav prints its own warnings to stderr by default; the library keeps it quiet unless a tool
// asks for its messages (e.g. with --verbose).
void set_decoder_log_verbose(bool verbose);

}  // namespace celtrace::engine
