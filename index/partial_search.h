// Partial-picture search: a query layer's local features (its foreground only) against the
// library's key frames. A key frame is a candidate for a query picture when many of the query's
// features find a near code in it at one consistent, small shift of position: a layer exported on
// the episode's canvas (at any size) has its features where the frame has them, so the same
// drawing elsewhere on the screen (another moment, another episode) does not count. Pure search:
// no decoding.
#pragma once

#include <vector>

#include "engine/fingerprint.h"
#include "index/alignment.h"
#include "index/library.h"

namespace celtrace::index {

struct PartialSearch {
  std::vector<double> sample_times;  // the query samples searched (layers), seconds
  std::vector<FrameMatch> matches;   // FrameMatch::query_sample indexes sample_times
};

// The similarity a partial match is given for `votes` consistent features: 12 votes give 0.5.
float partial_similarity(int votes);

// Searches every query sample that has local features (engine::Sample::local_features).
PartialSearch search_partial(const Library& library, const engine::Fingerprint& query);

// The alignment parameters for partial matches: key frames are sparse (held drawings are
// described once), so mapped times may be up to a hold away from the key frame's time.
AlignmentParams partial_alignment_params();

// The partial matches of a video query as segments, at most one per reference, strongest first.
// Each reference is aligned on its own: a character recurs at one place on the canvas in several
// episodes, and the one that draws most votes need not be the one whose frames register (its
// drawing over a plain sky holds more described corners than the same drawing over a busy
// background), so a query sample's votes for one must not take it from the others.
std::vector<Segment> align_partial(const PartialSearch& partial);

}  // namespace celtrace::index
