#include "index/verify.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <opencv2/calib3d.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/descriptor.h"
#include "engine/local_features.h"
#include "engine/opencv_image.h"

namespace celtrace::index {
namespace {

constexpr int kFeatures = 700;
constexpr float kRatio = 0.85f;          // Lowe's ratio test on Hamming distances
constexpr double kReprojection = 4.0;    // pixels, at the working size
constexpr int kUnrelatedCandidates = 3;  // candidates under a third of the registration bar end it
// Structure presence (0..255) counted as a strong edge: magnitude above twice the picture's mean.
constexpr int kStrongEdge = 128;
constexpr int kWeakEdge = 64;  // explains a strong edge of the other picture (plates)
constexpr int kTolerance = 3;  // pixels at the working size: registration and line-width slack
constexpr int kBorder = 8;     // pixels trimmed off the common area (inset borders, bars)
// Most unexplained structure a confirmed pair may leave on either side. On benchmarks/run small:
// transforms and work-in-progress renders of the pictured drawing left at most 0.09 (a changed
// head), same-series clips over a library episode's background 0.11 to 0.58. (A near-duplicate
// shot of another episode, same character and place, can stay under it: README.)
constexpr double kMaxUnexplained = 0.10;
// Layers: where the registered drawing stands in the reference frame against the layer (the
// inliers' median displacement, shares of the picture). Within kMaxCanvasShift it is near: a
// frame to look closer around (a plate's check uses the same bound on its centre). Within
// kMaxExactCanvasShift it is in place, the layer's moment: registration error and a pencil
// test's paper shake (benchmarks/layers-real-art: roughs, their page cropped by up to 3 pixels of
// 640 and rescaled, stood 0.009-0.016 from their frames' drawings where looked at, layers
// 0.000-0.005). The same drawing of another episode crossing the same place stood 0.004-0.032
// away at the moments tried, in place at one or two of three, or reached in the wrong order.
constexpr double kMaxCanvasShift = 0.035;
constexpr double kMaxExactCanvasShift = 0.015;
// ... and the most its size may differ from the frame's drawing (the registration's scale, both
// pictures fitted to one size): an export keeps the canvas's scale. On both real-art sets the
// right frames registered at 0.998-1.033 (a pencil test's paper shake included), the same drawing
// at another size in another episode, crossing the same place, at 0.88-0.96 and 1.046-1.16
// (layers-real-art --series: a yeti at 220 pixels confirmed as one at 210 moving the other way).
constexpr double kMaxLayerScale = 0.04;
// A background plate: the reference shows characters the plate lacks. Their edges, unexplained in
// the reference, must lie in one box of at most this share of the picture (the 5th to 95th
// percentile of their positions), the rest of the reference's edges explained as for a whole
// picture, and the plate on the episode's canvas (the reference's centre within kMaxCanvasShift
// and its scale within kMaxPlateScale of the query's).
constexpr double kMaxPlateGap = 0.30;
constexpr double kMaxPlateScale = 0.10;
// ... and outside that region nearly every strong edge of the plate near some edge of the
// reference: the plate lacks figures, it does not bring its own. On benchmarks/layers-real-art,
// plates left 0.000, the library's background under another character standing next to where
// the episode's stands 0.052 to 0.059. A faint plate, compared at its own edge scale, leaves at
// most this share of its contrasted outlines (strong at the frame's scale) unexplained anywhere:
// the real-art sets' faint plates left 0.000, their faint backgrounds under another character
// 0.106 to 0.189 (at identity, the right frame's time).
constexpr double kMaxPlateUnexplained = 0.03;
// closest_moment: pictures compared at most kMomentSize pixels large (longer side), each frame
// registered with kMomentFeatures corners; structure blurred by kMomentBlur pixels before it is
// correlated; frames whose correlation is within kMomentTie of the best count as a tie (frames of
// a hold, re-encoded, were within 0.001 of each other, the drawing before them 0.006 above, at the
// Megamind moment examined). Every kMomentStride-th frame is compared first.
constexpr int kMomentSize = 240;
constexpr int kMomentFeatures = 300;
constexpr double kMomentBlur = 1.0;
constexpr double kMomentTie = 0.002;
constexpr int kMomentStride = 3;
// same_layout: pictures compared at this width (pixels), blurred by kLayoutBlur (pixels at that
// width), the query's centre moved by up to kLayoutShift pixels.
constexpr int kLayoutWidth = 64;
constexpr double kLayoutBlur = 1.5;
constexpr int kLayoutShift = 3;
// Blurred colour scripts of benchmarks/layers-real-art frames correlated at 0.991 to 1.000.
constexpr double kMinLayoutCorrelation = 0.97;

// `edges`' pixels with no pixel of `other` within kTolerance.
cv::Mat unexplained(const cv::Mat& edges, const cv::Mat& other) {
  cv::Mat near;
  cv::dilate(other, near,
             cv::getStructuringElement(cv::MORPH_ELLIPSE,
                                       cv::Size(2 * kTolerance + 1, 2 * kTolerance + 1)));
  return edges & ~near;
}

// Share of `edges`' pixels with no pixel of `other` within kTolerance.
double unexplained_share(const cv::Mat& edges, const cv::Mat& other) {
  const int total = cv::countNonZero(edges);
  if (total == 0) return 0;
  return static_cast<double>(cv::countNonZero(unexplained(edges, other))) / total;
}

// A background plate's check (see kMaxPlateGap): each picture's strong edges (`reference_edges`
// resampled onto the query, `query_edges`, as verify_features found them) explained by the
// other's except in one region, where the reference's characters stand, and the registration
// `affine` (reference to query pixels) near identity.
bool explained_but_one_region(const cv::Mat& reference_edges, const cv::Mat& query_edges,
                              const cv::Mat& reference_structure, const cv::Mat& query_structure,
                              const cv::Mat& common, const cv::Mat& affine) {
  const cv::Size size = query_structure.size();
  const double scale = std::sqrt(std::abs(cv::determinant(affine(cv::Rect(0, 0, 2, 2)))));
  const double cx = size.width / 2.0, cy = size.height / 2.0;
  const double mx =
      affine.at<double>(0, 0) * cx + affine.at<double>(0, 1) * cy + affine.at<double>(0, 2);
  const double my =
      affine.at<double>(1, 0) * cx + affine.at<double>(1, 1) * cy + affine.at<double>(1, 2);
  if (std::abs(scale - 1) > kMaxPlateScale || std::abs(mx - cx) > kMaxCanvasShift * size.width ||
      std::abs(my - cy) > kMaxCanvasShift * size.height)
    return false;
  // A strong edge is explained by a weak one: the plate lacks the characters' strong edges, so its
  // structure image (scaled by the picture's mean edge strength) has stronger background edges
  // than the frame's.
  cv::Mat missing = unexplained(reference_edges, (query_structure >= kWeakEdge) & common);
  cv::Mat extra = unexplained(query_edges, (reference_structure >= kWeakEdge) & common);
  std::vector<cv::Point> points;
  cv::findNonZero(missing, points);
  if (points.empty()) return false;
  std::vector<int> xs, ys;
  for (const cv::Point& p : points) {
    xs.push_back(p.x);
    ys.push_back(p.y);
  }
  const auto percentile = [](std::vector<int>& v, double share) {
    const auto at =
        v.begin() + static_cast<std::ptrdiff_t>(share * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), at, v.end());
    return *at;
  };
  const cv::Rect region(cv::Point(percentile(xs, 0.05), percentile(ys, 0.05)),
                        cv::Point(percentile(xs, 0.95) + 1, percentile(ys, 0.95) + 1));
  // Shares of each picture's edges unexplained outside that region.
  missing(region).setTo(0);
  extra(region).setTo(0);
  const auto share = [](const cv::Mat& rest, const cv::Mat& edges) {
    return static_cast<double>(cv::countNonZero(rest)) / std::max(1, cv::countNonZero(edges));
  };
  const double area = static_cast<double>(region.area()) / size.area();
  return area <= kMaxPlateGap && share(missing, reference_edges) <= kMaxUnexplained &&
         share(extra, query_edges) <= kMaxPlateUnexplained;
}

// A picture (mirrored when asked) with the ORB features of its structure image.
struct Features {
  cv::Mat luma, structure;
  // The edge strength the structure image counts as half presence, when another picture's
  // (engine::structure_image); 0: its own.
  float softness = 0;
  cv::Mat content;  // layers: 255 on the content (query only), empty for whole pictures
  std::vector<cv::KeyPoint> points;
  cv::Mat descriptors;
};

// `spread`: corners spread over a 4x4 grid; otherwise the strongest, wherever they are (a
// contrasted character takes most of them, which suits everything but a background plate, whose
// frame's character it lacks: spreading loses picture-in-picture insets instead).
Features features_of(const engine::GrayImage& luma, const engine::GrayImage& mask, bool mirrored,
                     bool spread, int count = kFeatures, float softness = 0) {
  Features f;
  if (mirrored) {
    cv::flip(engine::view_of(luma), f.luma, 1);  // a flipped copy
  } else {
    f.luma = engine::view_of(luma);  // read only
  }
  if (!mask.empty()) {
    cv::resize(engine::view_of(mask), f.content, f.luma.size(), 0, 0, cv::INTER_NEAREST);
    if (mirrored) cv::flip(f.content, f.content, 1);
    cv::threshold(f.content, f.content, 127, 255, cv::THRESH_BINARY);
  }
  f.softness = softness;
  f.structure = engine::structure_image(f.luma, softness);
  auto orb =
      cv::ORB::create(spread ? 3 * count : count, 1.2f, 6, 15, 0, 2, cv::ORB::HARRIS_SCORE, 21);
  if (!spread) {
    orb->detectAndCompute(f.structure, f.content,  // an empty mask: the whole picture
                          f.points, f.descriptors);
    return f;
  }
  orb->detect(f.structure, f.points, f.content);
  f.points = engine::spread_over_grid(std::move(f.points), f.structure.size(), count);
  orb->compute(f.structure, f.points, f.descriptors);
  return f;
}

// The bounding box of a mask's non-zero pixels as shares of its size.
Verification::Box box_of(const cv::Rect& r, const cv::Size& size) {
  return {static_cast<double>(r.x) / size.width, static_cast<double>(r.y) / size.height,
          static_cast<double>(r.width) / size.width, static_cast<double>(r.height) / size.height};
}

// Records `region` of the query (pictures of `query_size`) and where the registration `affine`
// (reference to query pixels) puts it in the reference picture.
void place_region(Verification& result, const cv::Rect& region, const cv::Size& query_size,
                  const cv::Mat& affine, const cv::Size& reference_size) {
  result.query_region = box_of(region, query_size);
  cv::Mat inverse;
  cv::invertAffineTransform(affine, inverse);
  std::vector<cv::Point2f> corners = {
      {static_cast<float>(region.x), static_cast<float>(region.y)},
      {static_cast<float>(region.br().x), static_cast<float>(region.y)},
      {static_cast<float>(region.x), static_cast<float>(region.br().y)},
      {static_cast<float>(region.br().x), static_cast<float>(region.br().y)}};
  cv::transform(corners, corners, inverse);
  const cv::Rect mapped = cv::boundingRect(corners) & cv::Rect(cv::Point(0, 0), reference_size);
  result.reference_region = box_of(mapped, reference_size);
}

// Registers `reference` onto `query`: matches, inliers, scale, `registered` and, when registered,
// `affine` (the full affine fit, see below). The pictures' agreement is not judged.
Verification register_features(const Features& query, const Features& reference) {
  Verification result;
  if (query.points.size() < 8 || reference.points.size() < 8) return result;
  cv::BFMatcher matcher(cv::NORM_HAMMING);
  std::vector<std::vector<cv::DMatch>> pairs;
  matcher.knnMatch(query.descriptors, reference.descriptors, pairs, 2);
  std::vector<cv::Point2f> from, to;
  for (const auto& pair : pairs) {
    if (pair.size() == 2 && pair[0].distance < kRatio * pair[1].distance) {
      from.push_back(reference.points[pair[0].trainIdx].pt);
      to.push_back(query.points[pair[0].queryIdx].pt);
    }
  }
  result.matches = static_cast<int>(from.size());
  if (from.size() < 6) return result;
  std::vector<std::uint8_t> inlier_mask;
  const cv::Mat transform =
      cv::estimateAffinePartial2D(from, to, inlier_mask, cv::RANSAC, kReprojection, 2000, 0.995);
  if (transform.empty()) return result;
  result.inliers = static_cast<int>(std::count(inlier_mask.begin(), inlier_mask.end(), 1));
  // Where the shared drawing stands in each picture: the median of the inliers' displacements,
  // as shares of each picture's size. Unlike the fitted transform at some point, it does not move
  // with a scale misfit (a rough's jittered lines fitted 2-4% large).
  std::vector<double> dx, dy;
  const cv::Size query_size = query.structure.size(), reference_size = reference.luma.size();
  for (std::size_t i = 0; i < from.size(); ++i) {
    if (!inlier_mask[i]) continue;
    dx.push_back(to[i].x / query_size.width - from[i].x / reference_size.width);
    dy.push_back(to[i].y / query_size.height - from[i].y / reference_size.height);
  }
  if (!dx.empty()) {
    const auto median = [](std::vector<double>& v) {
      std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
      return std::abs(v[v.size() / 2]);
    };
    result.canvas_shift = std::max(median(dx), median(dy));
  }
  result.scale = std::hypot(transform.at<double>(0, 0), transform.at<double>(1, 0));
  result.registered = result.inliers >= (query.content.empty() ? kRegistrationInliers
                                                               : kLayerRegistrationInliers) &&
                      result.scale > 0.25 && result.scale < 4.0;
  if (!result.registered) return result;
  // Registration by a full affine fit, which also follows aspect changes (anamorphic
  // letterboxing) that the similarity transform above only approximates.
  cv::Mat affine = cv::estimateAffine2D(from, to, cv::noArray(), cv::RANSAC, kReprojection);
  if (affine.empty()) affine = transform;
  std::copy(affine.begin<double>(), affine.end<double>(), result.affine.begin());
  return result;
}

// A layer's registration checked against the canvas (see kMaxCanvasShift): records where it puts
// the content and how far that lies from the content's own place; `registered` stays only when
// near it, at the canvas's scale; `canvas_shift` is 1 when it does not.
Verification register_on_canvas(const Features& query, const Features& reference) {
  Verification result = register_features(query, reference);
  if (result.registered) {
    const cv::Mat affine(2, 3, CV_64F, result.affine.data());
    place_region(result, cv::boundingRect(query.content), query.structure.size(), affine,
                 reference.luma.size());
    if (result.canvas_shift > kMaxCanvasShift || std::abs(result.scale - 1) > kMaxLayerScale)
      result.registered = false;
  }
  if (!result.registered) result.canvas_shift = 1;
  return result;
}

// Whether a layer's drawing stands in place (see kMaxExactCanvasShift): its moment.
bool in_place(const Verification& v) {
  return v.registered && v.canvas_shift <= kMaxExactCanvasShift;
}

// Whether a registered pair agrees (see Verification::unexplained_query): sets the unexplained
// shares, `plate` and `passed`.
void judge_agreement(Verification& result, const Features& query, const Features& reference) {
  const cv::Mat affine(2, 3, CV_64F, result.affine.data());
  // The reference picture is resampled onto the query before its edges are found, so both
  // structure images are made at one scale (a crop enlarges the picture, and edge strength
  // depends on scale).
  const cv::Mat& q = query.structure;
  cv::Mat warped_luma, common;
  cv::warpAffine(reference.luma, warped_luma, affine, q.size(), cv::INTER_LINEAR,
                 cv::BORDER_REPLICATE);
  const cv::Mat warped = engine::structure_image(warped_luma, reference.softness);
  cv::warpAffine(cv::Mat(reference.luma.size(), CV_8U, cv::Scalar(255)), common, affine, q.size(),
                 cv::INTER_NEAREST);
  cv::erode(common, common, cv::Mat(), cv::Point(-1, -1), kBorder);
  cv::Mat query_edges = (q >= kStrongEdge) & common;
  cv::Mat reference_edges = (warped >= kStrongEdge) & common;
  if (!query.content.empty()) {
    // One-sided: only the inside of the layer's content counts, a margin away from its outline,
    // on both pictures. Beyond it the reference shows its own background; along it the layer's
    // silhouette is an edge against white that a dark or busy background hides (the outer side
    // of an ink outline), so it is no evidence either way.
    cv::Mat inside;
    cv::erode(query.content, inside,
              cv::getStructuringElement(cv::MORPH_ELLIPSE,
                                        cv::Size(4 * kTolerance + 1, 4 * kTolerance + 1)));
    query_edges &= inside;
    reference_edges &= inside;
  }
  result.unexplained_query = unexplained_share(query_edges, reference_edges);
  result.unexplained_reference = unexplained_share(reference_edges, query_edges);
  result.passed = result.unexplained_query <= kMaxUnexplained &&
                  result.unexplained_reference <= kMaxUnexplained;
  if (!result.passed && query.content.empty()) {
    result.plate =
        explained_but_one_region(reference_edges, query_edges, warped, q, common, affine);
    if (result.plate)
      place_region(result, cv::Rect(cv::Point(0, 0), q.size()), q.size(), affine,
                   reference.luma.size());
  }
  result.passed = result.passed || result.plate;
  // Compared at a faint query's edge scale, any figure of its own would be a small share of its
  // clouds' edges: at the frame's own scale, where only contrasted outlines are strong, nearly all
  // of the query's must be near the frame's structure, picture-wide.
  if (result.passed && reference.softness > 0) {
    const cv::Mat outlines =
        (engine::structure_image(query.luma, engine::edge_softness(warped_luma)) >= kStrongEdge) &
        common;
    const cv::Mat frame_structure = engine::structure_image(warped_luma) >= kWeakEdge;
    if (unexplained_share(outlines, frame_structure) > kMaxPlateUnexplained)
      result.passed = result.plate = false;
  }
}

// A whole picture's check (layers: place_layer).
Verification verify_features(const Features& query, const Features& reference) {
  Verification result = register_features(query, reference);
  if (result.registered) judge_agreement(result, query, reference);
  return result;
}

// A reference picture's features for a whole picture's check: `spread` corners or the strongest;
// against a faint query (`query_softness` > 0, spread only) described at the lower of the two edge
// scales (see verify_pair).
Features frame_features(const engine::GrayImage& reference, bool spread, float query_softness) {
  const float softness =
      query_softness > 0
          ? std::min(query_softness, engine::edge_softness(engine::view_of(reference)))
          : 0;
  return features_of(reference, {}, false, spread, kFeatures, softness);
}

// Canvas bounds of canvas_offset: the query's width and height within this share of the frame's.
constexpr double kMaxCanvasExtent = 0.02;

// A layer's moment (see verify_pair and LayerMoment): candidates registered and placed, those in
// place judged in the order `choice` asks until one agrees.
Verification place_layer(const Features& query, const std::vector<engine::GrayImage>& references,
                         LayerMoment choice) {
  std::vector<Verification> placed(references.size());
  std::vector<Features> reference_features(references.size());
  int unrelated = 0;
  const auto judged = [&](std::size_t i) {
    Verification& v = placed[i];
    judge_agreement(v, query, reference_features[i]);
    return v.passed;
  };
  std::vector<std::size_t> standing;  // candidates whose drawing stands in place
  for (std::size_t i = 0; i < references.size() && unrelated < kUnrelatedCandidates; ++i) {
    if (references[i].empty()) continue;
    reference_features[i] = features_of(references[i], {}, false, false);
    Verification& v = placed[i];
    v = register_on_canvas(query, reference_features[i]);
    v.candidate = static_cast<int>(i);
    if (v.inliers < kRegistrationInliers / 3) ++unrelated;
    if (in_place(v)) {
      standing.push_back(i);
      if (choice == LayerMoment::kFirstInPlace && judged(i)) return v;
    }
  }
  if (choice == LayerMoment::kBestPlaced) {
    std::stable_sort(standing.begin(), standing.end(), [&](std::size_t x, std::size_t y) {
      return placed[x].canvas_shift < placed[y].canvas_shift;
    });
    for (const std::size_t i : standing) {
      if (judged(i)) return placed[i];
    }
  }
  // None agrees: the first in place, which disagrees; else the best placed, not registered; else
  // the one with most inliers.
  if (!standing.empty()) return placed[standing.front()];
  Verification best;
  for (const Verification& v : placed) {
    if (v.candidate < 0) continue;
    if (v.canvas_shift < best.canvas_shift || (best.canvas_shift >= 1 && v.canvas_shift >= 1 &&
                                               (best.candidate < 0 || v.inliers > best.inliers)))
      best = v;
  }
  best.registered = false;
  return best;
}

}  // namespace

Verification verify_pair(const engine::GrayImage& query, const engine::GrayImage& query_mask,
                         const std::vector<engine::GrayImage>& references, bool mirrored,
                         LayerMoment choice) {
  Verification best;
  if (query.empty()) return best;
  if (!query_mask.empty())
    return place_layer(features_of(query, query_mask, mirrored, false), references, choice);
  // A faint picture (soft painting with little contrast, below the flat bar: a plate of a painted
  // sky) is compared, spread, at its own edge scale: its frame's characters, whose strong outlines
  // set the frame's, leave its background too faint for corners (a soft sky: 4-25 inliers at the
  // frame's scale, 43-96 at the plate's) and for agreement.
  const bool faint = engine::raw_descriptor(query).detail < engine::kFlatDetail;
  // `spread`: corners spread over the picture (see features_of).
  const auto search = [&](bool spread) {
    const Features q = features_of(query, {}, mirrored, spread);
    const float query_softness = spread && faint ? engine::edge_softness(q.luma) : 0;
    int unrelated = 0;  // candidates far from registering: the pictures differ, not the timing
    for (std::size_t i = 0; i < references.size() && unrelated < kUnrelatedCandidates; ++i) {
      if (references[i].empty()) continue;
      const Features reference = frame_features(references[i], spread, query_softness);
      Verification v = verify_features(q, reference);
      v.candidate = static_cast<int>(i);
      if (v.passed) return v;
      if (v.inliers < kRegistrationInliers / 3) ++unrelated;
      const auto worst = [](const Verification& x) {
        return std::max(x.unexplained_query, x.unexplained_reference);
      };
      // Inliers short of registering count at the pictures' own edge scales only: those are what
      // tells a near miss from a clear failure (index/decision.h).
      if ((v.registered && (!best.registered || worst(v) < worst(best))) ||
          (!best.registered && reference.softness == 0 &&
           (best.candidate < 0 || v.inliers > best.inliers))) {
        best = v;
      }
    }
    return best;
  };
  const Verification found = search(false);
  // A whole picture that does not register may be a background plate whose frame's character
  // took most corners: tried again with corners spread over both pictures. Not only where some
  // structure is shared: a plate of a cave wall under a contrasted ladybug (layers-real-art
  // --series) registered with 5-8 inliers, and with 234-290 spread.
  if (found.passed || found.registered) return found;
  return search(true);
}

std::optional<double> canvas_offset(const Verification& v, const engine::GrayImage& query,
                                    const engine::GrayImage& reference) {
  if (!v.registered || std::abs(v.scale - 1) > kMaxPlateScale ||
      std::abs(static_cast<double>(query.width) / reference.width - 1) > kMaxCanvasExtent ||
      std::abs(static_cast<double>(query.height) / reference.height - 1) > kMaxCanvasExtent)
    return std::nullopt;
  const std::array<double, 6>& a = v.affine;
  const double cx = reference.width / 2.0, cy = reference.height / 2.0;
  const double x = a[0] * cx + a[1] * cy + a[2], y = a[3] * cx + a[4] * cy + a[5];
  return std::max(std::abs(x / query.width - 0.5), std::abs(y / query.height - 0.5));
}

std::vector<std::optional<double>> canvas_offsets(const engine::GrayImage& query,
                                                  const std::vector<engine::GrayImage>& references,
                                                  bool mirrored) {
  std::vector<std::optional<double>> offsets(references.size());
  if (query.empty()) return offsets;
  // Registered as verify_pair registers a whole picture: the strongest corners, else corners
  // spread over both pictures, a faint picture then at the lower of the two edge scales. The way
  // that registered one pair is tried first on the next.
  const Features strongest = features_of(query, {}, mirrored, false);
  const Features spread = features_of(query, {}, mirrored, true);
  const float query_softness = engine::raw_descriptor(query).detail < engine::kFlatDetail
                                   ? engine::edge_softness(spread.luma)
                                   : 0;
  bool spread_first = false;
  for (std::size_t i = 0; i < references.size(); ++i) {
    const engine::GrayImage& reference = references[i];
    if (reference.empty()) continue;
    const auto offset = [&](bool spread_corners) {
      return canvas_offset(register_features(spread_corners ? spread : strongest,
                                             frame_features(reference, spread_corners,
                                                            spread_corners ? query_softness : 0)),
                           query, reference);
    };
    offsets[i] = offset(spread_first);
    if (!offsets[i]) {
      offsets[i] = offset(!spread_first);
      if (offsets[i]) spread_first = !spread_first;
    }
  }
  return offsets;
}

std::size_t count_in_place(const engine::GrayImage& query, const engine::GrayImage& query_mask,
                           const std::vector<engine::GrayImage>& references, bool mirrored) {
  if (query.empty()) return 0;
  const Features q = features_of(query, query_mask, mirrored, false);
  std::size_t count = 0;
  for (const engine::GrayImage& reference : references) {
    if (reference.empty()) break;
    if (!in_place(register_on_canvas(q, features_of(reference, {}, false, false)))) break;
    ++count;
  }
  return count;
}

int closest_moment(const engine::GrayImage& query, const std::vector<engine::GrayImage>& references,
                   const Verification& registered, bool mirrored, int preferred) {
  if (query.empty() || !registered.registered) return preferred;
  // Compared at most kMomentSize large: a frame's moment shows at that size, at a quarter of the
  // cost. `factor` of a picture: its scale at that size.
  const auto factor = [](const engine::GrayImage& picture) {
    return std::min(1.0,
                    static_cast<double>(kMomentSize) / std::max(picture.width, picture.height));
  };
  const auto reduced = [](const cv::Mat& picture, double f, int interpolation) {
    cv::Mat out;
    cv::resize(picture, out, cv::Size(), f, f, interpolation);
    return out;
  };
  const double query_factor = factor(query);
  cv::Mat q = reduced(engine::view_of(query), query_factor, cv::INTER_AREA);
  if (mirrored) cv::flip(q, q, 1);
  // Structure slightly blurred, so that registration error and line width do not decide.
  const auto smoothed = [](const cv::Mat& luma) {
    cv::Mat out;
    engine::structure_image(luma).convertTo(out, CV_32F);
    cv::GaussianBlur(out, out, cv::Size(0, 0), kMomentBlur);
    return out;
  };
  const cv::Mat query_structure = smoothed(q);
  const Features query_features =
      features_of(engine::image_of(q), {}, false, false, kMomentFeatures);
  // kUnscored: not compared yet; kIncomparable: nothing in common to compare.
  constexpr double kUnscored = -3, kIncomparable = -2;
  std::vector<double> scores(references.size(), kUnscored);
  const auto score = [&](int index) {
    if (index < 0 || index >= static_cast<int>(references.size())) return;
    double& result = scores[static_cast<std::size_t>(index)];
    const engine::GrayImage& picture = references[static_cast<std::size_t>(index)];
    if (result != kUnscored) return;
    result = kIncomparable;
    if (picture.empty()) return;
    const double reference_factor = factor(picture);
    const cv::Mat reference = reduced(engine::view_of(picture), reference_factor, cv::INTER_AREA);
    // Each frame registered on its own, since one registration for all would favour the frame it
    // was fitted to: it absorbs the camera's motion (and a crop looks like a zoom's later frame).
    const Verification own = register_features(
        query_features,
        features_of(engine::image_of(reference), {}, false, false, kMomentFeatures));
    std::array<double, 6> coefficients = own.affine;
    if (!own.registered) {
      // The pair's registration, between the pictures at full size.
      coefficients = registered.affine;
      for (const int linear : {0, 1, 3, 4}) coefficients[linear] *= query_factor / reference_factor;
      for (const int shift : {2, 5}) coefficients[shift] *= query_factor;
    }
    const cv::Mat affine(2, 3, CV_64F, coefficients.data());
    cv::Mat warped, common;
    cv::warpAffine(reference, warped, affine, q.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    cv::warpAffine(cv::Mat(reference.size(), CV_8U, cv::Scalar(255)), common, affine, q.size(),
                   cv::INTER_NEAREST);
    cv::erode(common, common, cv::Mat(), cv::Point(-1, -1), kBorder);
    if (cv::countNonZero(common) == 0) return;
    const cv::Mat r = smoothed(warped);
    // Pearson correlation of the two structure images over the common area.
    cv::Scalar q_mean, q_deviation, r_mean, r_deviation;
    cv::meanStdDev(query_structure, q_mean, q_deviation, common);
    cv::meanStdDev(r, r_mean, r_deviation, common);
    if (q_deviation[0] <= 0 || r_deviation[0] <= 0) return;
    const cv::Mat product = (query_structure - q_mean[0]).mul(r - r_mean[0]);
    result = cv::mean(product, common)[0] / (q_deviation[0] * r_deviation[0]);
  };
  const auto best_scored = [&] {
    return static_cast<int>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  };
  // Coarse to fine: every kMomentStride-th frame, then the frames around the best of them (the
  // agreement rises and falls over several frames around the moment).
  score(preferred);
  for (int i = 0; i < static_cast<int>(references.size()); i += kMomentStride) score(i);
  const int coarse = best_scored();
  for (int i = coarse - kMomentStride + 1; i < coarse + kMomentStride; ++i) score(i);
  const double best = scores[static_cast<std::size_t>(best_scored())];
  if (best <= kIncomparable) return preferred;
  int chosen = -1;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const int index = static_cast<int>(i);
    if (scores[i] >= best - kMomentTie &&
        (chosen < 0 || std::abs(index - preferred) < std::abs(chosen - preferred)))
      chosen = index;
  }
  return chosen;
}

int same_layout(const engine::GrayImage& query, const std::vector<engine::GrayImage>& references,
                bool mirrored) {
  if (query.empty()) return -1;
  const auto small = [](const engine::GrayImage& picture, bool flip) {
    cv::Mat out;
    const int height = std::max(8, kLayoutWidth * picture.height / picture.width);
    cv::resize(engine::view_of(picture), out, cv::Size(kLayoutWidth, height), 0, 0, cv::INTER_AREA);
    cv::GaussianBlur(out, out, cv::Size(0, 0), kLayoutBlur);
    if (flip) cv::flip(out, out, 1);
    out.convertTo(out, CV_32F);
    return out;
  };
  const cv::Mat q = small(query, mirrored);
  const cv::Rect centre(kLayoutShift, kLayoutShift, q.cols - 2 * kLayoutShift,
                        q.rows - 2 * kLayoutShift);
  for (std::size_t i = 0; i < references.size(); ++i) {
    if (references[i].empty()) continue;
    const cv::Mat r = small(references[i], false);
    if (std::abs(r.rows - q.rows) > 1) continue;  // another aspect ratio
    cv::Mat scores;
    cv::matchTemplate(r(cv::Rect(0, 0, r.cols, std::min(r.rows, q.rows))), q(centre), scores,
                      cv::TM_CCOEFF_NORMED);
    double best = 0;
    cv::minMaxLoc(scores, nullptr, &best);
    if (best >= kMinLayoutCorrelation) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace celtrace::index
