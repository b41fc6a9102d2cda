// Visual verification of a matched frame pair: local features with geometric verification on
// structure images (edge presence, not colour), so line art, flat colours and final renders of
// one drawing can be compared, and crops, rescaling, letterboxing and picture-in-picture only
// change the fitted transform.
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "engine/image.h"

namespace celtrace::index {

// Geometric inliers a registration needs (with a sane scale): unrelated frames drawn in a similar
// style reached 16 in our tests; true pairs under crops, line art and picture-in-picture gave 80 or
// more.
inline constexpr int kRegistrationInliers = 30;
// A layer (a query mask) registers with fewer: its registration must also put the drawing where
// the frame has it on the canvas, at the canvas's scale, which unrelated drawings do not do by
// chance. On benchmarks/layers-real-art unrelated layers reached 8-13 inliers, rough pencil tests
// of the right frame (broken, jittered outlines) 26-27; with 20, roughs confirmed 8 of 9 instead
// of 7 and no negative was confirmed (nor on benchmarks/run's no-background, rough, animatic and
// negative classes).
inline constexpr int kLayerRegistrationInliers = 20;

struct Verification {
  int matches = 0;          // feature matches passing the ratio test
  int inliers = 0;          // matches consistent with one similarity transform
  double scale = 0;         // reference-to-query scale of that transform
  bool registered = false;  // enough inliers at a sane scale: the pictures share a drawing
  // With the reference registered onto the query (affine fit to the inliers), the share of each
  // picture's strong structure (edge pixels, inside the common area) with nothing near it in the
  // other picture. A reused background under different characters registers well but leaves the
  // characters unexplained; a transform or a work-in-progress render of the same drawing leaves
  // little (line art lacks only shading, which is weak structure).
  double unexplained_query = 1, unexplained_reference = 1;
  bool passed = false;  // registered and both unexplained shares small, or a plate
  // A background plate: the reference's unexplained structure lies in one region (the characters
  // the plate lacks) and the plate sits on the episode's canvas.
  bool plate = false;
  // Registered by the pictures' layout alone (see same_layout), not by local features.
  bool by_layout = false;
  int candidate = -1;  // which of the reference pictures this is about (-1: none was usable)
  // A layer's check (a query mask was given): the bounding box of the query's content, and where
  // the registration puts it in the reference picture; shares of each picture's width and height.
  struct Box {
    double x = 0, y = 0, width = 0, height = 0;
  };
  Box query_region, reference_region;
  // Where the registered drawing stands in the reference against the query (median displacement
  // of the inliers, as shares of each picture's size; the larger of x and y); 1: not placed.
  double canvas_shift = 1;
  // The registration of a registered pair: reference pixels to query pixels (x' = a0 x + a1 y +
  // a2, y' = a3 x + a4 y + a5), both at the size they were given, the query mirrored first when
  // the pair is mirrored.
  std::array<double, 6> affine{};
};

// How verify_pair chooses among a layer's candidates.
enum class LayerMoment {
  // The first candidate in place that agrees: candidates nearest the mapped time first (a hold or
  // a slow drawing stands in place over many frames, of which the mapping tells).
  kFirstInPlace,
  // The best placed candidate that agrees: consecutive frames around a moment found (a moving
  // drawing's frame).
  kBestPlaced,
};

// `mirrored`: the query is a mirror image of the reference. `references` are candidate
// reference pictures (the mapped time's neighbours: the mapping can be a frame off while the
// characters move), best first; the first that passes is the result, else the closest to
// passing. Three candidates far from registering end the search.
//
// `query_mask` (the query's size, non-zero on content; empty: the whole picture is content) makes
// the check one-sided, for a layer: features come from the content only, the query's edges in it
// must be explained by the reference, and the reference's edges count only inside the content,
// away from its outline (the reference's background and other characters are expected there).
// A layer's candidates are moments around its mapped time: each is registered and placed
// (`canvas_shift`: how far its drawing stands from the layer's place on the canvas); those whose
// drawing stands in place (up to registration error and a pencil test's shake) are judged in the
// order `choice` says, and the first that agrees is the result. None agreeing: the first in
// place (registered, not passed), else the best placed (not registered: where to look closer).
// A background plate is a whole picture whose missing characters the reference shows: it passes
// when everything but one region of the reference is explained and the geometry is near identity.
// A faint query picture (below engine::kFlatDetail: a soft painted sky) that does not agree is
// compared again with the reference described at the query's edge scale, and then must bring no
// contrasted outline of its own.
Verification verify_pair(const engine::GrayImage& query, const engine::GrayImage& query_mask,
                         const std::vector<engine::GrayImage>& references, bool mirrored,
                         LayerMoment choice = LayerMoment::kFirstInPlace);

// How far a registered pair's registration (Verification::affine) puts the reference's centre from
// the query's: the larger of x and y, in shares of the query's width and height; on the episode's
// canvas, the camera's move between the two pictures. Empty unless the query can be a picture of
// that canvas: registered at the frame's scale (within 10%) and of its size (within 2%; a crop
// that keeps its pixels' scale, a centred 6/7 of a Megamind copy, stood 0.006-0.011 off).
std::optional<double> canvas_offset(const Verification& v, const engine::GrayImage& query,
                                    const engine::GrayImage& reference);

// The canvas_offset of `query` against each of `references`, registered as verify_pair registers
// a whole picture (the strongest corners, else corners spread, a faint picture at the lower of the
// two edge scales); empty where the pair is not on the canvas.
std::vector<std::optional<double>> canvas_offsets(const engine::GrayImage& query,
                                                  const std::vector<engine::GrayImage>& references,
                                                  bool mirrored);

// How many of `references`, from the first on, show a layer's drawing (`query` with its
// `query_mask`) in place without a break, as verify_pair asks of a layer's moment; agreement is
// not judged.
std::size_t count_in_place(const engine::GrayImage& query, const engine::GrayImage& query_mask,
                           const std::vector<engine::GrayImage>& references, bool mirrored);

// Which of `references` shows the query's moment, for a whole picture: consecutive frames around
// a pair that `registered` (it passed verify_pair; the frames are of one size with the picture it
// registered) are each registered onto the query (that pair's registration where one does not
// register) and compared with it on structure. The index of the most alike; of frames within a
// tie of it (a hold looks alike throughout), the one nearest `preferred`.
int closest_moment(const engine::GrayImage& query, const std::vector<engine::GrayImage>& references,
                   const Verification& registered, bool mirrored, int preferred);

// A still too blurred or too small for local features (a colour script, a thumbnail) can still
// show a frame's layout: both pictures at 64 pixels wide, equally blurred, correlate at 0.97 or
// more at a shift of at most 3 pixels (and of one aspect ratio). Returns the first of
// `references` that does, or -1. Evidence enough to list a still, never to confirm anything.
int same_layout(const engine::GrayImage& query, const std::vector<engine::GrayImage>& references,
                bool mirrored);

}  // namespace celtrace::index
