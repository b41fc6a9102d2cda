// Plain pixel types that cross the decode seam: no libav or OpenCV types leave engine/decode.
#pragma once

#include <cstdint>
#include <vector>

namespace celtrace::engine {

// 8-bit luma image, row-major, width * height bytes, no padding (stride == width).
struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> pixels;

  GrayImage() = default;
  GrayImage(int w, int h, std::uint8_t fill = 0)
      : width(w), height(h), pixels(static_cast<std::size_t>(w) * h, fill) {}
  bool empty() const { return pixels.empty(); }
  std::uint8_t at(int x, int y) const { return pixels[static_cast<std::size_t>(y) * width + x]; }
  std::uint8_t& at(int x, int y) { return pixels[static_cast<std::size_t>(y) * width + x]; }
};

// 8-bit RGB picture, row-major, packed rows of width * 3 bytes (R, G, B): what people are shown
// as evidence (report thumbnails, lookup --evidence), and the whole frames Meta's vPDQ hashes.
struct ColourImage {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;

  bool empty() const { return rgb.empty(); }
};

// One sampled frame: its presentation time in seconds from the start of the media, and its luma
// at analysis resolution (see DecodeOptions::analysis_size). Pictures with an alpha channel (cels,
// layers exported with transparency) carry it in `alpha` (same size, 0 transparent .. 255
// opaque), and their luma is composited over white; `alpha` is empty for opaque sources.
//
// `detail` is the same picture larger (DecodeOptions::detail_size), when asked for and the source
// is larger than `luma`; empty otherwise.
struct Frame {
  double pts_seconds = 0.0;
  GrayImage luma;
  GrayImage alpha;
  GrayImage detail;
  ColourImage colour;  // the picture in colour, fitted like luma; when DecodeOptions::colour
  // Videos, see DecodeOptions::whole_frame_rgb_interval: the whole decoded picture (bars included,
  // not rescaled) in RGB, as Meta's vPDQ hashes it (engine/vpdq.h).
  ColourImage whole_rgb;
};

}  // namespace celtrace::engine
