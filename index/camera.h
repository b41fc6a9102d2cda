// Placing a picture on the episode's canvas (a background plate, a re-render of a panning shot) by
// where the camera stands: the view a plate shows is all that times it, and a slow pan shows one
// view for seconds, a pan that turns back shows it twice, going one way then the other. Pure: the
// caller decodes the pictures.
#pragma once

#include <optional>
#include <vector>

#include "engine/image.h"

namespace celtrace::index {

// A picture at a time (seconds): a query moment or a reference frame.
struct TimedPicture {
  double time = 0;
  engine::GrayImage picture;
};

// A registered pair standing further off the canvas than this (the larger of x and y, shares of
// the picture) has its query placed by camera_shift: registration error on the right frame
// stayed within 0.006 on benchmarks/layers-real-art, a plate mapped 1.5-3.3 s late stood
// 0.017-0.08 off.
inline constexpr double kCameraTolerance = 0.01;

// The shift of reference to query times (speed 1) at which the camera stands in `moments` (the
// query's pictures, the first the one looked for, the others a second or more from it) as in
// `frames` (the reference's, ascending, evenly spaced): of the frames within `reach` seconds of
// `around`, those where the first moment stands in place (a local least canvas offset within
// kCameraTolerance) each propose a shift, which every other moment must confirm at the frames
// nearest its own time so shifted (a pan that turns back shows the first moment's view again, but
// the others' elsewhere). The proposal whose worst moment stands nearest in place; none confirmed,
// empty. `mirrored`: the query is a mirror image of the reference.
std::optional<double> camera_shift(const std::vector<TimedPicture>& moments,
                                   const std::vector<TimedPicture>& frames, double around,
                                   double reach, bool mirrored);

}  // namespace celtrace::index
