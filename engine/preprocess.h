// Frame preparation before hashing: letterbox / pillarbox removal.
#pragma once

#include <optional>

#include "engine/image.h"

namespace celtrace::engine {

// A rectangle in pixel coordinates of the image it was detected in.
struct CropBox {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
};

// Finds dark, uniform bars along the four borders (letterbox, pillarbox, or both). A border row
// or column counts as bar when almost all its pixels sit at one dark level, the same for every
// bar (dark picture content spreads over many levels and stays); bars are removed only while at
// least a third of the picture remains in each direction, so a dark frame is left whole (it is
// rejected later as flat). Applying it to an already cropped frame is a no-op, which keeps
// references and letterboxed queries of the same frame aligned.
CropBox detect_bars(const GrayImage& image);

GrayImage crop(const GrayImage& image, const CropBox& box);

// detect_bars followed by crop.
GrayImage remove_bars(const GrayImage& image);

}  // namespace celtrace::engine

namespace celtrace::engine {

// Finds a picture-in-picture inset: a rectangle of 10-80% of the frame's area whose four
// borders are long straight edges (each at least 70% of its side). nullopt when there is none.
std::optional<CropBox> detect_inset(const GrayImage& image);

}  // namespace celtrace::engine
