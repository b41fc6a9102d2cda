// Visual verification on generated frames: registration under transforms and work-in-progress
// renders, and the picture-wide agreement that tells a reused background from the same shot.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <utility>

#include "engine/descriptor.h"
#include "index/verify.h"
#include "tests/test_media.h"

namespace celtrace::index {
namespace {

using testing::cartoon_frame;
using testing::to_luma;

// A time in episode 1 of series 5, after the opening, with characters in view.
double action_time() {
  const bench::Series series = bench::make_series(5, "Series 5");
  const bench::Episode episode = bench::make_episode(series, 1, 60);
  for (int frame = static_cast<int>(20 * bench::kFps); frame < episode.total_frames(); ++frame) {
    if (bench::shows_characters(episode, frame)) return frame / bench::kFps;
  }
  throw std::runtime_error("no frame with characters");
}

// A figure the reference lacks: outlined body and head, as the generator draws characters; its
// body centred at (`x`, `y`), shares of the frame.
cv::Mat with_stranger(cv::Mat frame, double x = 2.0 / 3, double y = 3.0 / 5) {
  const cv::Point centre(static_cast<int>(frame.cols * x), static_cast<int>(frame.rows * y));
  const cv::Size body(frame.cols / 18, frame.rows / 7);
  cv::ellipse(frame, centre, body, 0, 0, 360, cv::Scalar(60, 40, 200), cv::FILLED, cv::LINE_AA);
  cv::ellipse(frame, centre, body, 0, 0, 360, cv::Scalar(20, 20, 20), 3, cv::LINE_AA);
  const cv::Point head(centre.x, centre.y - body.height - frame.rows / 14);
  cv::circle(frame, head, frame.rows / 14, cv::Scalar(170, 200, 230), cv::FILLED, cv::LINE_AA);
  cv::circle(frame, head, frame.rows / 14, cv::Scalar(20, 20, 20), 3, cv::LINE_AA);
  return frame;
}

TEST(Verify, SameDrawingAgreesUnderTransformsAndLineArt) {
  const double t = action_time();
  const cv::Mat reference = cartoon_frame(5, 1, t);

  cv::Mat smaller, mirrored;
  cv::resize(reference, smaller, cv::Size(), 0.75, 0.75, cv::INTER_AREA);
  cv::flip(smaller, mirrored, 1);
  const engine::GrayImage query = to_luma(mirrored);
  const Verification rescaled = verify_pair(query, {}, {to_luma(reference)}, true);
  EXPECT_EQ(query.pixels, to_luma(mirrored).pixels);  // the query is read, not flipped in place
  EXPECT_TRUE(rescaled.passed);
  EXPECT_NEAR(rescaled.scale, 0.75, 0.05);
  EXPECT_LT(rescaled.unexplained_query, 0.05);
  EXPECT_LT(rescaled.unexplained_reference, 0.05);

  const Verification line_art = verify_pair(
      to_luma(cartoon_frame(5, 1, t, bench::Render::kLineArt)), {}, {to_luma(reference)}, false);
  EXPECT_TRUE(line_art.passed) << line_art.unexplained_query << " "
                               << line_art.unexplained_reference;
}

TEST(Verify, AFigureOnTheSameBackgroundRegistersButDoesNotAgree) {
  const cv::Mat reference = cartoon_frame(5, 1, action_time());
  const Verification stranger =
      verify_pair(to_luma(with_stranger(reference.clone())), {}, {to_luma(reference)}, false);
  EXPECT_TRUE(stranger.registered);
  EXPECT_FALSE(stranger.passed);
  EXPECT_GT(stranger.unexplained_query, 0.10);
  EXPECT_FALSE(stranger.plate);
}

// The other way round the figure is the reference's structure missing from the query: a
// background plate of the frame, which agrees on the episode's canvas only, and only when what it
// lacks stands in one place.
TEST(Verify, ABackgroundPlateAgreesWhereItsFrameLacksOneFigure) {
  const cv::Mat plate = cartoon_frame(5, 1, action_time());
  const Verification v =
      verify_pair(to_luma(plate), {}, {to_luma(with_stranger(plate.clone()))}, false);
  EXPECT_TRUE(v.passed);
  EXPECT_TRUE(v.plate);
  EXPECT_GT(v.unexplained_reference, 0.10);
  EXPECT_NEAR(v.reference_region.x, 0, 0.02);
  EXPECT_NEAR(v.reference_region.width, 1, 0.02);

  // Cropped and enlarged: not on the episode's canvas.
  cv::Mat cropped;
  cv::resize(plate(cv::Rect(plate.cols / 10, 0, plate.cols * 9 / 10, plate.rows * 9 / 10)), cropped,
             plate.size(), 0, 0, cv::INTER_AREA);
  const Verification moved =
      verify_pair(to_luma(cropped), {}, {to_luma(with_stranger(plate.clone()))}, false);
  EXPECT_TRUE(moved.registered);
  EXPECT_FALSE(moved.passed);

  // Another figure beside the frame's: the library's background under another character.
  const Verification other = verify_pair(to_luma(with_stranger(plate.clone(), 0.45, 0.6)), {},
                                         {to_luma(with_stranger(plate.clone()))}, false);
  EXPECT_TRUE(other.registered);
  EXPECT_FALSE(other.passed);

  // Figures at opposite corners: the plate lacks more than one character's place.
  const cv::Mat two = with_stranger(with_stranger(plate.clone(), 0.15, 0.3), 0.85, 0.75);
  const Verification spread = verify_pair(to_luma(plate), {}, {to_luma(two)}, false);
  EXPECT_TRUE(spread.registered);
  EXPECT_FALSE(spread.passed);
}

// A soft painted sky: clouds of blurred noise a few luma levels deep over a gradient, below the
// flat bar as a whole picture (index/library.h, kFaintDetail). `seed` picks the clouds.
cv::Mat faint_sky(unsigned seed) {
  cv::RNG rng(seed);
  cv::Mat noise(360, 640, CV_32F), clouds(360, 640, CV_32F, cv::Scalar(0));
  for (const double sigma : {24.0, 8.0, 3.0}) {
    rng.fill(noise, cv::RNG::UNIFORM, -1.0, 1.0);
    cv::GaussianBlur(noise, noise, cv::Size(0, 0), sigma);
    cv::normalize(noise, noise, -1.0, 1.0, cv::NORM_MINMAX);
    clouds += noise * (sigma / 2.0);
  }
  cv::Mat sky(360, 640, CV_8UC3);
  for (int y = 0; y < sky.rows; ++y) {
    for (int x = 0; x < sky.cols; ++x) {
      const double level = 90 + 0.15 * y + clouds.at<float>(y, x);
      sky.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<std::uint8_t>(level + 80),
                                          cv::saturate_cast<std::uint8_t>(level + 20),
                                          cv::saturate_cast<std::uint8_t>(level - 40));
    }
  }
  return sky;
}

// A plate of a faint sky, whose frame has contrasted figures: their outlines set the frame's edge
// scale, at which the clouds leave few corners; at the plate's they register.
TEST(Verify, AFaintPlateRegistersWithItsFrameNotWithAnotherSky) {
  const cv::Mat plate = faint_sky(7);
  const cv::Mat frame =
      with_stranger(with_stranger(with_stranger(plate.clone(), 0.6, 0.6), 0.72, 0.55), 0.66, 0.45);
  const Verification v = verify_pair(to_luma(plate), {}, {to_luma(frame)}, false);
  ASSERT_LT(engine::raw_descriptor(to_luma(plate)).detail, engine::kFlatDetail);
  EXPECT_TRUE(v.registered) << v.inliers;
  EXPECT_TRUE(v.passed) << v.unexplained_query << " " << v.unexplained_reference;
  EXPECT_NEAR(v.scale, 1, 0.02);

  const Verification other = verify_pair(to_luma(faint_sky(8)), {}, {to_luma(frame)}, false);
  EXPECT_FALSE(other.registered) << other.inliers;
  EXPECT_FALSE(other.passed);

  // The sky under another figure, faint as a whole picture too, brings outlines of its own.
  const cv::Mat stranger = with_stranger(plate.clone(), 0.66, 0.5);
  ASSERT_LT(engine::raw_descriptor(to_luma(stranger)).detail, engine::kFlatDetail);
  const Verification under = verify_pair(to_luma(stranger), {}, {to_luma(frame)}, false);
  EXPECT_FALSE(under.passed) << under.inliers;
}

// Two views of one painting, the camera moved: the reference's centre stands where the camera's
// move puts it in the query (shares of the query's size); a crop that enlarges is not on the
// canvas, nor is another picture registered at all.
TEST(Verify, TheCanvasOffsetIsTheCamerasMove) {
  cv::Mat painting;
  cv::hconcat(cartoon_frame(5, 1, action_time()), cartoon_frame(5, 2, 40), painting);
  const auto view = [&](int left) {
    return to_luma(painting(cv::Rect(left, 0, 640, 360)).clone());
  };
  cv::Mat enlarged;
  cv::resize(painting(cv::Rect(240, 20, 512, 288)), enlarged, cv::Size(640, 360), 0, 0,
             cv::INTER_AREA);
  const auto offsets = canvas_offsets(
      view(200), {view(200), view(232), to_luma(enlarged), to_luma(cartoon_frame(9, 1, 30))},
      false);
  ASSERT_EQ(offsets.size(), 4u);
  ASSERT_TRUE(offsets[0].has_value());
  EXPECT_NEAR(*offsets[0], 0, 0.002);
  // The camera 32 pixels further right in the reference: its centre is 32 pixels off the query's.
  ASSERT_TRUE(offsets[1].has_value());
  EXPECT_NEAR(*offsets[1], 32.0 / 640, 0.003);
  EXPECT_FALSE(offsets[2].has_value());  // enlarged by 1.25: not on the canvas
  EXPECT_FALSE(offsets[3].has_value());  // another picture

  // Mirrored: the query is compared flipped back, so the move is seen as before.
  cv::Mat flipped;
  cv::flip(painting(cv::Rect(200, 0, 640, 360)), flipped, 1);
  const auto mirrored = canvas_offsets(to_luma(flipped), {view(232)}, true);
  ASSERT_TRUE(mirrored.front().has_value());
  EXPECT_NEAR(*mirrored.front(), 32.0 / 640, 0.003);
}

// A layer of `frame`: the box in its middle on white, and the box as its mask.
std::pair<cv::Mat, cv::Mat> layer_of(const cv::Mat& frame) {
  const cv::Rect box(frame.cols * 3 / 10, frame.rows / 5, frame.cols * 2 / 5, frame.rows * 3 / 5);
  cv::Mat layer(frame.size(), frame.type(), cv::Scalar::all(255));
  frame(box).copyTo(layer(box));
  cv::Mat mask(frame.size(), frame.type(), cv::Scalar::all(0));
  mask(box).setTo(cv::Scalar::all(255));
  return {layer, mask};
}

// A layer is the frame's drawing on the episode's canvas: in place and at the frame's scale.
TEST(Verify, ALayerAgreesOnItsFramesCanvasAtItsScaleOnly) {
  const cv::Mat frame = cartoon_frame(5, 1, action_time());
  const auto [layer, mask] = layer_of(frame);
  const Verification in_place = verify_pair(to_luma(layer), to_luma(mask), {to_luma(frame)}, false);
  EXPECT_TRUE(in_place.passed);
  EXPECT_NEAR(in_place.scale, 1, 0.02);

  // The same drawing 8% larger about the same centre: the drawing of another shot.
  const auto enlarged = [](const cv::Mat& picture) {
    cv::Mat larger;
    cv::resize(picture, larger, cv::Size(), 1.08, 1.08, cv::INTER_LINEAR);
    return larger(cv::Rect((larger.cols - picture.cols) / 2, (larger.rows - picture.rows) / 2,
                           picture.cols, picture.rows))
        .clone();
  };
  const Verification larger =
      verify_pair(to_luma(enlarged(layer)), to_luma(enlarged(mask)), {to_luma(frame)}, false);
  EXPECT_FALSE(larger.registered) << larger.scale;
  EXPECT_FALSE(larger.passed);
}

// Of frames around a mapped time, a layer's moment is one where its drawing stands where the layer
// has it: a frame showing it 2% of the width away (the same drawing a moment earlier, or another
// episode's passing by) is near, not there.
TEST(Verify, ALayerTakesTheFrameWhereItsDrawingStandsExactly) {
  const cv::Mat frame = cartoon_frame(5, 1, action_time());
  const auto [layer, mask] = layer_of(frame);
  const auto moved = [&frame](double share) {
    const cv::Mat shift = (cv::Mat_<double>(2, 3) << 1, 0, share * frame.cols, 0, 1, 0);
    cv::Mat out;
    cv::warpAffine(frame, out, shift, frame.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    return to_luma(out);
  };
  const Verification exact = verify_pair(to_luma(layer), to_luma(mask),
                                         {moved(0.02), to_luma(frame), moved(-0.01)}, false);
  EXPECT_TRUE(exact.passed);
  EXPECT_EQ(exact.candidate, 1);
  EXPECT_LT(exact.canvas_shift, 0.003);

  const Verification near =
      verify_pair(to_luma(layer), to_luma(mask), {moved(0.02), moved(-0.025)}, false);
  EXPECT_GT(near.inliers, kLayerRegistrationInliers);  // the drawing is there, ...
  EXPECT_NEAR(near.canvas_shift, 0.02, 0.003);         // ... the nearer, 2% away
  EXPECT_FALSE(near.registered);
  EXPECT_FALSE(near.passed);
  EXPECT_EQ(count_in_place(to_luma(layer), to_luma(mask), {to_luma(frame)}, false), 1U);
  EXPECT_EQ(count_in_place(to_luma(layer), to_luma(mask), {moved(0.02)}, false), 0U);

  // Candidates nearest the mapped time first: the first in place counts (a hold, a slow drawing,
  // where the mapping tells the moment), ...
  const std::vector<engine::GrayImage> slow = {moved(0.01), to_luma(frame), moved(0.001)};
  const Verification first = verify_pair(to_luma(layer), to_luma(mask), slow, false);
  EXPECT_TRUE(first.passed);
  EXPECT_EQ(first.candidate, 0);
  // ... while among consecutive frames around it the best placed does (a moving drawing), of
  // those alike the first.
  const Verification best =
      verify_pair(to_luma(layer), to_luma(mask), slow, false, LayerMoment::kBestPlaced);
  EXPECT_TRUE(best.passed);
  EXPECT_EQ(best.candidate, 1);
}

TEST(Verify, UnrelatedPicturesDoNotRegister) {
  const Verification v = verify_pair(to_luma(cartoon_frame(5, 1, action_time())), {},
                                     {to_luma(cartoon_frame(9, 2, 20))}, false);
  EXPECT_FALSE(v.registered);
  EXPECT_FALSE(v.passed);
}

TEST(Verify, TheFirstAgreeingCandidateCounts) {
  const double t = action_time();
  const cv::Mat reference = cartoon_frame(5, 1, t);
  const engine::GrayImage query = to_luma(with_stranger(reference.clone()));
  // Candidates around a mapped time: an unrelated picture, then the frame without the query's
  // figure, then the shot.
  const Verification v = verify_pair(query, {},
                                     {to_luma(cartoon_frame(9, 2, 20)), to_luma(reference),
                                      to_luma(with_stranger(reference.clone()))},
                                     false);
  EXPECT_TRUE(v.passed);
  EXPECT_EQ(v.candidate, 2);
  const Verification none =
      verify_pair(query, {}, {to_luma(cartoon_frame(9, 2, 20)), to_luma(reference)}, false);
  EXPECT_TRUE(none.registered);  // the closest to passing is reported: the frame without it
  EXPECT_FALSE(none.passed);
  EXPECT_EQ(none.candidate, 1);
}

// A colour script or thumbnail: the frame at 80 pixels wide, blown up and blurred, has no corners
// left to register, yet its layout is the frame's and not another moment's.
TEST(Verify, ABlurredThumbnailKeepsItsFramesLayout) {
  const double t = action_time();
  const cv::Mat frame = cartoon_frame(5, 1, t);
  cv::Mat thumbnail;
  cv::resize(frame, thumbnail, cv::Size(80, 45), 0, 0, cv::INTER_AREA);
  cv::resize(thumbnail, thumbnail, frame.size(), 0, 0, cv::INTER_NEAREST);
  cv::GaussianBlur(thumbnail, thumbnail, cv::Size(0, 0), 2);
  const engine::GrayImage query = to_luma(thumbnail);
  EXPECT_FALSE(verify_pair(query, {}, {to_luma(frame)}, false).registered);
  EXPECT_EQ(same_layout(query, {to_luma(cartoon_frame(9, 2, 20)), to_luma(frame)}, false), 1);
  cv::Mat flipped;
  cv::flip(thumbnail, flipped, 1);
  EXPECT_EQ(same_layout(to_luma(flipped), {to_luma(frame)}, true), 0);
  EXPECT_EQ(same_layout(query, {to_luma(cartoon_frame(9, 2, 20))}, false), -1);
  EXPECT_EQ(same_layout(query, {to_luma(cartoon_frame(5, 2, t))}, false), -1);
}

}  // namespace
}  // namespace celtrace::index
