// Writing videos with libav: used to generate test, demo and benchmark media (and so kept in the
// libav seam beside the decoder).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/image.h"

namespace celtrace::engine {

struct EncoderOptions {
  std::string codec = "libx264";  // any libav encoder name: libx264, mpeg4, mjpeg, ffv1, libvpx-vp9
  int quality = 23;               // x264/vp9 CRF, or qscale (2..31) for mpeg4/mjpeg
  int keyframe_interval = 48;     // frames
  bool variable_frame_rate = false;  // millisecond timestamps instead of 1/fps ticks
};

// Encodes BGR frames (8 bits per channel) into a file whose container follows its extension.
class VideoEncoder {
 public:
  VideoEncoder(const std::string& path, int width, int height, double fps,
               const EncoderOptions& options = {});
  ~VideoEncoder();
  VideoEncoder(const VideoEncoder&) = delete;
  VideoEncoder& operator=(const VideoEncoder&) = delete;

  // bgr: height rows of `stride` bytes; pts_seconds must increase.
  void write_bgr(const std::uint8_t* bgr, int stride, double pts_seconds);
  // Flushes the encoder and writes the trailer; called by the destructor if not called.
  void finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Writes a picture as an 8-bit grayscale or RGB PNG (evidence pictures). Throws MediaError.
void write_png(const std::string& path, const GrayImage& image);
void write_png(const std::string& path, const ColourImage& image);

}  // namespace celtrace::engine
