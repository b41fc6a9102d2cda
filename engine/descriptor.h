// The structure descriptor: what a frame's drawing looks like, independent of its colours.
//
// Animation is drawn as contours; colour, shading and line style change between a final render,
// uncoloured line art, flat colours and a recolouring, while the contours stay. So the raw
// descriptor is built from gradient *orientation* (unsigned, so a dark line on white and an edge
// between two colour regions vote alike), with magnitudes compressed so that contrast matters
// little, pooled softly over a 1x1 + 2x2 + 4x4 spatial pyramid (coarse cells tolerate crops of
// up to 20% and rescaling), plus a small contrast-normalised luma layout. A learned projection
// (engine/model.h) then whitens it and reduces its size.
#pragma once

#include <vector>

#include "engine/image.h"

namespace celtrace::engine {

inline constexpr int kOrientationBins = 8;  // over [0, pi); bin b is centred on b * pi / 8
inline constexpr int kPyramidCells = 1 + 4 + 16;
inline constexpr int kLayoutCells = 16;  // 4x4 luma layout
inline constexpr int kRawDescriptorSize = kPyramidCells * kOrientationBins + kLayoutCells;

// RawDescriptor::detail below this: a flat frame (black, gray, a fade, an empty sky), which says
// nothing about where it comes from.
inline constexpr float kFlatDetail = 1.5f;

struct RawDescriptor {
  std::vector<float> values;  // kRawDescriptorSize floats, L2-normalised
  // Mean gradient magnitude of the normalised frame, luma levels per pixel (96 px wide scale).
  // Flat frames (black, gray, fades, empty skies) score below about 1.5.
  float detail = 0.0f;
};

// Computes the raw descriptor of a luma frame of any size (bars already removed).
RawDescriptor raw_descriptor(const GrayImage& luma);

// The raw descriptor of the left-right mirrored frame, obtained by permuting cells and
// orientation bins (exact up to rounding): mirrored queries need no second pass over pixels.
std::vector<float> mirror_raw_descriptor(const std::vector<float>& raw);

}  // namespace celtrace::engine
