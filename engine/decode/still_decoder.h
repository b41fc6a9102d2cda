// Still-image decoding through libav's image decoders (PNG, JPEG, TIFF, BMP, WebP, TGA, PNM, GIF).
// Keeping stills on libav, rather than OpenCV's imgcodecs, keeps one decoding seam and spares
// every process the start-up cost of imgcodecs' dependencies (about 0.1 s of CPU per process).
#pragma once

#include <cstdint>
#include <string>

#include "engine/image.h"

namespace celtrace::engine {

struct StillPicture {
  GrayImage luma;
  GrayImage alpha;     // empty unless the image has an alpha channel with a transparent pixel
  ColourImage colour;  // when asked: the picture over white, as luma is
};

// Decodes the first picture of an image file to full-resolution luma with PDQ's coefficients
// (0.299 R + 0.587 G + 0.114 B); transparent pixels are composited over white, as line art is
// drawn on a transparent layer, and the alpha channel is kept beside it. Pictures over 4096 px are
// brought within 4096 px. Throws MediaError, or LimitError above max_pixels or when the decoded
// picture would take more than 4 bytes per pixel of max_pixels (16-bit RGBA counts twice).
StillPicture decode_still(const std::string& path, std::int64_t max_pixels, bool colour = false);

}  // namespace celtrace::engine
