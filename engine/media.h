// What a media input is and how to read it: the options every frame source takes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/image.h"

namespace celtrace::engine {

enum class MediaKind { kVideo, kImage, kSequence };

const char* to_string(MediaKind kind);

// Safety limits for untrusted inputs. Exceeding one raises LimitError before memory is spent.
struct Limits {
  std::int64_t max_pixels = 8192LL * 8192;   // per frame, width * height
  double max_duration_seconds = 8 * 3600.0;  // declared or decoded media time
  std::int64_t max_frames = 2'000'000;       // frames decoded (or sequence files listed)
  std::int64_t max_bad_packets = 5000;       // consecutive undecodable packets before giving up
};

struct DecodeOptions {
  // Sampling rate in frames per second of presentation time; <= 0 keeps every frame.
  double sample_fps = 2.0;
  // Frame rate given to image sequences, which carry no timestamps.
  double sequence_fps = 24.0;
  // Video and sequence frames are handed out as luma whose longer side is at most this many
  // pixels (never upscaled): enough for 64x64 PDQ and the 96x96 descriptor.
  int analysis_size = 128;
  // Stills get more, as PDQ's reference hashes images shrunk to at most 512 pixels: hashes of
  // stills then agree with other PDQ tools to a few bits.
  int still_analysis_size = 512;
  // > analysis_size: video and sequence frames also come as Frame::detail, fitted within this
  // many pixels, for local features; the analysis picture stays as it is, so whole-picture
  // fingerprints do not depend on it.
  int detail_size = 0;
  // Also hand out Frame::colour (evidence pictures; a second conversion per kept frame).
  bool colour = false;
  // > 0: videos also hand out Frame::whole_rgb (the decoded picture in RGB, full size) for kept
  // frames at least this many seconds apart.
  double whole_frame_rgb_interval = 0;
  // Decoder threads per file; 1 keeps CPU accounting and memory predictable.
  int decode_threads = 1;
  Limits limits;
};

// Default sampling rates: references are long, queries short and may be sub-clips of 2 s.
inline constexpr double kReferenceSampleFps = 2.0;
inline constexpr double kQuerySampleFps = 6.0;

struct MediaInfo {
  std::string path;
  MediaKind kind = MediaKind::kVideo;
  std::string format;  // container or image format, e.g. "avi", "png", "png sequence"
  std::string codec;
  int width = 0;  // coded size of the source, pixels
  int height = 0;
  double frame_rate = 0.0;            // nominal frames per second, 0 for stills
  double duration_seconds = 0.0;      // declared duration, or measured when none is declared
  std::vector<std::string> warnings;  // e.g. corrupt packets skipped
};

// A stream of sampled frames in presentation order. next() returns false at the end and throws
// MediaError / LimitError when the input turns out to be unreadable or too large.
class FrameSource {
 public:
  virtual ~FrameSource() = default;
  virtual const MediaInfo& info() const = 0;
  virtual bool next(Frame& frame) = 0;
};

// What open_media opens `path` as: a directory or a printf pattern that names no file is a
// sequence, a file with an image extension a still, any other file a video. Throws MediaError
// for a missing, empty or non-regular file.
MediaKind media_kind(const std::string& path);

// Opens a video file, a still image, a directory of numbered frames, or a printf pattern such as
// "shot_%04d.png", deciding by what the path is (media_kind).
std::unique_ptr<FrameSource> open_media(const std::string& path, const DecodeOptions& options);

// The picture shown at `seconds` (the first frame at or after it; a still's only picture) in
// colour, fitted within options.analysis_size, transparent pixels over white: the pictures people
// are shown as evidence.
ColourImage colour_frame_at(const std::string& path, double seconds, const DecodeOptions& options);

// The frames shown from `from` to `to` seconds (at least the one shown at `from`), in time
// order, luma fitted within options.analysis_size: the neighbourhood of a mapped time.
// `spacing_seconds` > 0: one frame per step of that many seconds (the first decoded at or after
// each step, steps counted from where decoding starts); the others are not converted, nor
// decoded where no other frame needs them (options.sample_fps is not used).
std::vector<Frame> frames_between(const std::string& path, double from, double to,
                                  const DecodeOptions& options, double spacing_seconds = 0);

// Whether a file name has an extension of a still-image format celtrace reads.
bool has_image_extension(const std::string& path);

// Whether a file name has a video container's extension (case-insensitive). Animated GIFs are not
// counted: `match` reads them as clips, `index add` does not take them for episodes.
bool has_video_extension(const std::string& path);

// "shot_0012.png" -> {"shot_", "0012", ".png"}: the last run of 1 to 12 digits before the
// extension is a frame number (longer runs are not, and would not fit a counter).
struct NumberedName {
  std::string prefix, digits, extension;
};
std::optional<NumberedName> split_frame_number(const std::string& name);

// Scales luma so that its longer side is at most max_side (area averaging), never upscaling.
GrayImage fit_within(const GrayImage& image, int max_side);
ColourImage fit_within(const ColourImage& image, int max_side);

}  // namespace celtrace::engine
