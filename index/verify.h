// Visual verification of a matched frame pair: local features with geometric verification on
// structure images (edge presence, not colour), so line art, flat colours and final renders of
// one drawing can be compared, and crops, rescaling, letterboxing and picture-in-picture only
// change the fitted transform.
#pragma once

#include "engine/image.h"

namespace celtrace::index {

struct Verification {
  int matches = 0;   // feature matches passing the ratio test
  int inliers = 0;   // matches consistent with one similarity transform
  double scale = 0;  // reference-to-query scale of that transform
  bool passed = false;
};

// `mirrored`: the query is a mirror image of the reference.
Verification verify_pair(const engine::GrayImage& query, const engine::GrayImage& reference,
                         bool mirrored);

}  // namespace celtrace::index
