// Still images and numbered image sequences as frame sources.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/decode/still_decoder.h"
#include "engine/media.h"

namespace celtrace::engine {

struct ImageSize {
  int width = 0;
  int height = 0;
};

// Reads width and height from the header of a PNG, JPEG, BMP, GIF, WebP, TIFF or TGA file without
// decoding pixels, so absurd declared sizes are refused before any allocation. nullopt when the
// format is not recognised.
std::optional<ImageSize> read_image_size(const std::string& path);

// Decodes a still image to full-resolution luma (transparent pixels composited over white, as
// line art is drawn) and its alpha channel, if any. Throws MediaError / LimitError.
StillPicture read_picture(const std::string& path, const Limits& limits, bool colour = false);

std::unique_ptr<FrameSource> open_image(const std::string& path, const DecodeOptions& options);

// A directory of numbered frames, or a printf-style pattern such as "dir/shot_%04d.png".
std::unique_ptr<FrameSource> open_sequence(const std::string& path, const DecodeOptions& options);

}  // namespace celtrace::engine
