// Training data for descriptor models: frames of any media, each paired with a randomly
// transformed copy. The transforms are generic image operations that imitate what separates a
// leaked work-in-progress file from the published frame; none knows how the frames were made.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "engine/image.h"
#include "engine/model.h"

namespace celtrace::engine {

enum class Transform {
  kCrop,          // 5-20% off each dimension, random placement
  kLineArt,       // dark contour lines on white, as uncoloured line art
  kFlatRecolour,  // shading removed, tones remapped to a random palette
  kTone,          // gamma, contrast, brightness
  kText,          // burned-in text and a timecode box
  kDegrade,       // downscale, blur, noise, heavy JPEG
};
inline constexpr Transform kAllTransforms[] = {Transform::kCrop,         Transform::kLineArt,
                                               Transform::kFlatRecolour, Transform::kTone,
                                               Transform::kText,         Transform::kDegrade};
const char* to_string(Transform transform);

GrayImage apply_transform(const GrayImage& image, Transform transform, std::mt19937& random);

struct TrainingOptions {
  double frames_per_second = 1.0;  // sampling of each training video
  int pairs_per_frame = 2;         // transformed copies per frame, 1-3 transforms each
  std::uint32_t seed = 1;
};

// Decodes the media, removes bars, and collects raw descriptors and pair differences.
TrainingSet collect_training_set(const std::vector<std::string>& paths,
                                 const TrainingOptions& options,
                                 const std::function<void(const std::string&)>& on_file = nullptr);

}  // namespace celtrace::engine
