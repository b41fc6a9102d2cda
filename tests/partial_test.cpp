// Partial pictures without a decoder: the foreground of layers, local features, and the partial
// search's canvas-bound votes on synthetic key frames.
#include <random>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/fingerprinter.h"
#include "engine/foreground.h"
#include "engine/local_features.h"
#include "engine/media.h"
#include "engine/model.h"
#include "engine/opencv_image.h"
#include "index/library.h"
#include "index/partial_search.h"
#include "tests/test_media.h"

namespace celtrace {
namespace {

using engine::image_of;

// A character: an outlined body and head with some inner lines, drawn at (x, y).
void draw_character(cv::Mat& canvas, int x, int y, int ink = 30) {
  cv::ellipse(canvas, {x, y}, {22, 40}, 0, 0, 360, cv::Scalar(150), cv::FILLED);
  cv::ellipse(canvas, {x, y}, {22, 40}, 0, 0, 360, cv::Scalar(ink), 3);
  cv::circle(canvas, {x, y - 58}, 18, cv::Scalar(200), cv::FILLED);
  cv::circle(canvas, {x, y - 58}, 18, cv::Scalar(ink), 3);
  cv::line(canvas, {x - 8, y - 62}, {x - 3, y - 62}, cv::Scalar(ink), 2);
  cv::line(canvas, {x + 3, y - 62}, {x + 8, y - 62}, cv::Scalar(ink), 2);
  cv::line(canvas, {x - 20, y - 10}, {x - 45, y + 15}, cv::Scalar(ink), 3);
  cv::line(canvas, {x + 20, y - 10}, {x + 40, y - 30}, cv::Scalar(ink), 3);
}

TEST(Foreground, ACharacterOnWhiteIsALayer) {
  cv::Mat canvas(360, 640, CV_8UC1, cv::Scalar(250));
  draw_character(canvas, 420, 220);
  const engine::Foreground f = engine::find_foreground(image_of(canvas), {});
  ASSERT_FALSE(f.mask.empty());
  EXPECT_FALSE(f.from_alpha);
  // Body, head and arms: about 2-3% of the canvas.
  EXPECT_GT(f.share, 0.01);
  EXPECT_LT(f.share, 0.06);
  // The mask covers the character, not the paper (mask at 320 px: half the canvas size).
  EXPECT_EQ(f.mask.at(210, 110), 255);
  EXPECT_EQ(f.mask.at(40, 40), 0);
}

TEST(Foreground, DarkPartsTouchingTheBorderAreContent) {
  // A dark, flat shape reaching the border is drawing, not paper (8-bit subtraction once clipped
  // darker-than-paper differences to zero and took it for background).
  cv::Mat canvas(360, 640, CV_8UC1, cv::Scalar(250));
  cv::rectangle(canvas, cv::Rect(0, 0, 120, 90), cv::Scalar(40), cv::FILLED);
  draw_character(canvas, 420, 220);
  const engine::Foreground f = engine::find_foreground(image_of(canvas), {});
  ASSERT_FALSE(f.mask.empty());
  EXPECT_EQ(f.mask.at(20, 20), 255);
}

TEST(Foreground, PaperGrainStaysBackground) {
  cv::Mat canvas(360, 640, CV_8UC1, cv::Scalar(236));
  cv::Mat grain(canvas.size(), CV_8UC1);
  cv::randn(grain, 0, 24);
  canvas += grain;
  draw_character(canvas, 200, 220, 90);  // a pencil-grey drawing
  const engine::Foreground f = engine::find_foreground(image_of(canvas), {});
  ASSERT_FALSE(f.mask.empty());
  EXPECT_LT(f.share, 0.06);
}

TEST(Foreground, TransparencyDecidesWhenThereIsAnAlphaChannel) {
  cv::Mat canvas(360, 640, CV_8UC1, cv::Scalar(255));
  draw_character(canvas, 320, 220);
  cv::Mat alpha(360, 640, CV_8UC1, cv::Scalar(0));
  cv::ellipse(alpha, {320, 220}, {25, 43}, 0, 0, 360, cv::Scalar(255), cv::FILLED);
  const engine::Foreground f = engine::find_foreground(image_of(canvas), image_of(alpha));
  ASSERT_FALSE(f.mask.empty());
  EXPECT_TRUE(f.from_alpha);
  EXPECT_EQ(f.mask.at(160, 110), 255);
  EXPECT_EQ(f.mask.at(160, 81), 0);  // the head is drawn but transparent
}

TEST(Foreground, TinyPicturesHaveNone) {
  const engine::GrayImage icon(6, 4, 255), transparent(6, 4, 0);
  EXPECT_TRUE(engine::find_foreground(icon, transparent).mask.empty());
  EXPECT_TRUE(engine::local_features(icon, {}, 50).empty());
}

TEST(Foreground, WholePicturesHaveNone) {
  // A finished frame: textured everywhere.
  cv::Mat painted(360, 640, CV_8UC1);
  cv::randu(painted, 0, 255);
  cv::GaussianBlur(painted, painted, cv::Size(0, 0), 3);
  EXPECT_TRUE(engine::find_foreground(image_of(painted), {}).mask.empty());
  // Line art of a whole frame on white: a horizon from border to border.
  cv::Mat line_art(360, 640, CV_8UC1, cv::Scalar(255));
  cv::line(line_art, {0, 240}, {639, 200}, cv::Scalar(0), 3);
  draw_character(line_art, 300, 200);
  EXPECT_TRUE(engine::find_foreground(image_of(line_art), {}).mask.empty());
  // A dark frame (a night sky, a fade) is not a backdrop.
  cv::Mat night(360, 640, CV_8UC1, cv::Scalar(45));
  draw_character(night, 300, 200, 200);
  EXPECT_TRUE(engine::find_foreground(image_of(night), {}).mask.empty());
}

// `rgb` in OpenCV's channel order reversed: (R, G, B).
engine::ColourImage flat_colour(int width, int height, cv::Vec3b rgb) {
  engine::ColourImage colour;
  colour.width = width;
  colour.height = height;
  for (int i = 0; i < width * height; ++i)
    colour.rgb.insert(colour.rgb.end(), {rgb[0], rgb[1], rgb[2]});
  return colour;
}

TEST(Foreground, ALayerFlattenedOnBlackOrAKeyingGreenIsALayer) {
  // Black: what a converter that drops the alpha leaves of a premultiplied export.
  cv::Mat on_black(360, 640, CV_8UC1, cv::Scalar(0));
  draw_character(on_black, 420, 220);
  const engine::Foreground black = engine::find_foreground(image_of(on_black), {});
  ASSERT_FALSE(black.mask.empty());
  EXPECT_FALSE(black.pale_page);
  EXPECT_EQ(black.mask.at(210, 110), 255);
  EXPECT_EQ(black.mask.at(40, 40), 0);

  // A keying green (0x00b140, luma 111) is told by its colour, the picture at another size.
  cv::Mat on_green(360, 640, CV_8UC1, cv::Scalar(111));
  draw_character(on_green, 420, 220);
  const engine::ColourImage green = flat_colour(64, 36, {0, 177, 64});
  EXPECT_FALSE(engine::find_foreground(image_of(on_green), {}, green).mask.empty());
  // The same luma without colour, in grey, or in a saturated night blue is not a backdrop.
  EXPECT_TRUE(engine::find_foreground(image_of(on_green), {}).mask.empty());
  EXPECT_TRUE(engine::find_foreground(image_of(on_green), {}, flat_colour(64, 36, {111, 111, 111}))
                  .mask.empty());
  EXPECT_TRUE(engine::find_foreground(image_of(on_green), {}, flat_colour(64, 36, {30, 90, 230}))
                  .mask.empty());
}

TEST(Foreground, ADrawingOnDimPaperIsALayerASkyOfThatBrightnessIsNot) {
  // A dim scan or photograph of a drawing: the page at 185, near-neutral (cream).
  cv::Mat page(360, 640, CV_8UC1, cv::Scalar(185));
  draw_character(page, 420, 220);
  const engine::Foreground dim =
      engine::find_foreground(image_of(page), {}, flat_colour(64, 36, {195, 186, 160}));
  ASSERT_FALSE(dim.mask.empty());
  EXPECT_TRUE(dim.pale_page);
  // A sky of that brightness is bluer; without colour, only white and paper from 200 count.
  EXPECT_TRUE(engine::find_foreground(image_of(page), {}, flat_colour(64, 36, {120, 195, 240}))
                  .mask.empty());
  EXPECT_TRUE(engine::find_foreground(image_of(page), {}).mask.empty());
}

// The decoder hands the fingerprinter the colour that tells a keying green from a grey page.
TEST(Foreground, ALayerOnAKeyingGreenIsSearchedByItsDrawing) {
  testing::TempDir dir;
  const auto layer_features = [&](const cv::Scalar& page_bgr) {
    cv::Mat canvas(360, 640, CV_8UC3, page_bgr);
    draw_character(canvas, 420, 220);
    EXPECT_TRUE(cv::imwrite(dir.path("layer.png"), canvas));
    engine::FingerprintOptions options;
    options.local_features = engine::LocalFeatureUse::kLayers;
    const engine::Fingerprint f =
        engine::Fingerprinter(engine::default_model()).fingerprint(dir.path("layer.png"), options);
    EXPECT_EQ(f.samples.size(), 1u);
    return f.samples.empty() ? 0 : f.samples.front().local_features.size();
  };
  EXPECT_GE(layer_features(cv::Scalar(64, 177, 0)), 30u);  // 0x00b140, luma 111
  EXPECT_EQ(layer_features(cv::Scalar(111, 111, 111)), 0u);
}

TEST(Foreground, ACelKeepsItsAlphaThroughDecoding) {
  testing::TempDir dir;
  cv::Mat cel(360, 640, CV_8UC4, cv::Scalar(0, 0, 0, 0));  // transparent black
  cv::ellipse(cel, {320, 220}, {25, 43}, 0, 0, 360, cv::Scalar(40, 90, 200, 255), cv::FILLED);
  ASSERT_TRUE(cv::imwrite(dir.path("cel.png"), cel));
  engine::Frame frame;
  ASSERT_TRUE(engine::open_media(dir.path("cel.png"), {})->next(frame));
  ASSERT_FALSE(frame.alpha.empty());
  EXPECT_EQ(frame.alpha.at(0, 0), 0);
  EXPECT_EQ(frame.luma.at(0, 0), 255);  // transparent pixels composited over white, not black
  const engine::Foreground f = engine::find_foreground(frame.luma, frame.alpha);
  EXPECT_TRUE(f.from_alpha);
  EXPECT_NEAR(f.share, 3.14159 * 25 * 43 / (640.0 * 360), 0.01);
}

// Thin grey lines of a whole frame (an animatic, a pencil test): a horizon, two characters and a
// house. On paper, it is below the flat bar yet searched by its whole picture; the same lines
// light on a dark page (a title card, credits) are not, nor is a black frame; a reference's
// samples keep the flat bar, so what a library indexes does not change.
engine::Sample sample_of_lines(int page, int ink, engine::LocalFeatureUse use) {
  cv::Mat canvas(360, 640, CV_8UC1, cv::Scalar(page));
  cv::line(canvas, {0, 250}, {639, 230}, cv::Scalar(ink), 1);
  for (const int x : {180, 430}) {
    cv::ellipse(canvas, {x, 200}, {22, 40}, 0, 0, 360, cv::Scalar(ink), 1);
    cv::circle(canvas, {x, 142}, 18, cv::Scalar(ink), 1);
  }
  cv::rectangle(canvas, cv::Rect(520, 150, 70, 80), cv::Scalar(ink), 1);
  cv::line(canvas, {520, 150}, {555, 110}, cv::Scalar(ink), 1);
  cv::line(canvas, {555, 110}, {590, 150}, cv::Scalar(ink), 1);
  engine::Frame frame;
  frame.luma = image_of(canvas);
  engine::FingerprintOptions options;
  options.local_features = use;
  return engine::Fingerprinter(engine::default_model())
      .sample_of(frame, options, options.hash_size);
}

TEST(SparseDrawings, LinesOnPaperAreSearchedTitleCardsAndBlackFramesAreNot) {
  const engine::Sample on_paper = sample_of_lines(245, 110, engine::LocalFeatureUse::kLayers);
  ASSERT_LT(on_paper.detail, engine::kFlatDetail);  // the case at hand: below the flat bar
  EXPECT_GE(on_paper.local_features.size(), 30u);
  EXPECT_TRUE(index::is_informative(on_paper));

  const engine::Sample title_card = sample_of_lines(40, 175, engine::LocalFeatureUse::kLayers);
  ASSERT_LT(title_card.detail, engine::kFlatDetail);
  EXPECT_FALSE(index::is_informative(title_card));

  cv::Mat black(360, 640, CV_8UC1, cv::Scalar(0));
  engine::Frame frame;
  frame.luma = image_of(black);
  engine::FingerprintOptions options;
  options.local_features = engine::LocalFeatureUse::kLayers;
  EXPECT_FALSE(index::is_informative(
      engine::Fingerprinter(engine::default_model()).sample_of(frame, options, options.hash_size)));

  EXPECT_FALSE(
      index::is_informative(sample_of_lines(245, 110, engine::LocalFeatureUse::kKeyFrames)));
}

// A faint pencil drawing whose page is busy elsewhere (hatching, a second sketch, heavy grain):
// what lies outside the drawing's mask must not decide which of its corners are strong (the
// structure image scales by the picture's mean edge strength).
TEST(LocalFeatures, ThePageAroundTheMaskDoesNotChangeTheDrawingsFeatures) {
  cv::Mat clean(360, 640, CV_8UC1, cv::Scalar(236));
  draw_character(clean, 420, 220, 190);
  cv::Mat busy = clean.clone();
  for (int x = 4; x < 280; x += 6) cv::line(busy, {x, 0}, {x + 60, 359}, cv::Scalar(20), 2);
  cv::Mat mask(360, 640, CV_8UC1, cv::Scalar(0));
  cv::rectangle(mask, cv::Rect(360, 120, 120, 160), cv::Scalar(255), cv::FILLED);
  const auto on_clean = engine::local_features(image_of(clean), image_of(mask), 100);
  const auto on_busy = engine::local_features(image_of(busy), image_of(mask), 100);
  ASSERT_GE(on_clean.size(), 20u);
  int kept = 0;
  for (const engine::LocalFeature& b : on_busy) {
    for (const engine::LocalFeature& c : on_clean) {
      int bits = 0;
      for (std::size_t i = 0; i < b.code.size(); ++i)
        bits += __builtin_popcount(static_cast<unsigned>(b.code[i] ^ c.code[i]));
      if (bits <= 32 && std::abs(b.x - c.x) < 0.01f && std::abs(b.y - c.y) < 0.01f) {
        ++kept;
        break;
      }
    }
  }
  EXPECT_GE(kept, static_cast<int>(on_clean.size()) * 3 / 4);
}

// Reference key frames of 8 s of a held, textured background (numbered PNGs at 6 fps, sampled at
// 2 fps) with the character held, or walking 60 pixels a second: a small character moves its
// corners out of the partial search's reach long before the 3 s interval.
int key_frames(bool walking) {
  testing::TempDir dir;
  cv::Mat background(360, 640, CV_8UC1);
  cv::theRNG().state = 7;
  cv::randu(background, 60, 200);
  cv::GaussianBlur(background, background, cv::Size(), 6);
  for (int i = 0; i < 12; ++i)
    cv::rectangle(background, cv::Rect(50 * i, 30 + 20 * (i % 5), 30, 60), cv::Scalar(20), 2);
  for (int i = 0; i < 48; ++i) {
    cv::Mat frame = background.clone();
    draw_character(frame, walking ? 80 + 10 * i : 300, 220);
    char name[32];
    std::snprintf(name, sizeof name, "f_%03d.png", i);
    EXPECT_TRUE(cv::imwrite(dir.path(name), frame));
  }
  engine::FingerprintOptions options;
  options.decode.sequence_fps = 6;
  options.local_features = engine::LocalFeatureUse::kKeyFrames;
  const engine::Fingerprint f =
      engine::Fingerprinter(engine::default_model()).fingerprint(dir.path("f_%03d.png"), options);
  EXPECT_EQ(f.samples.size(), 16u);
  return static_cast<int>(
      std::count_if(f.samples.begin(), f.samples.end(),
                    [](const engine::Sample& s) { return !s.local_features.empty(); }));
}

TEST(KeyFrames, FollowACharacterMovingOverAHeldBackground) {
  EXPECT_EQ(key_frames(false), 3);  // 0, 3 and 6 s
  EXPECT_GE(key_frames(true), 6);   // at most one a second
}

TEST(LocalFeatures, FollowTheDrawingAndStayInTheMask) {
  cv::Mat canvas(360, 640, CV_8UC1, cv::Scalar(250));
  draw_character(canvas, 420, 220);
  draw_character(canvas, 150, 230);
  cv::Mat mask(360, 640, CV_8UC1, cv::Scalar(0));
  cv::rectangle(mask, cv::Rect(360, 120, 120, 160), cv::Scalar(255), cv::FILLED);
  const auto features = engine::local_features(image_of(canvas), image_of(mask), 100);
  ASSERT_GE(features.size(), 10u);
  for (const engine::LocalFeature& f : features) {
    EXPECT_GE(f.x, 360 / 640.f - 0.01f);
    EXPECT_LE(f.x, 480 / 640.f + 0.01f);
  }
  EXPECT_LE(engine::local_features(image_of(canvas), {}, 40).size(), 40u);
}

// A library of two references whose key frames hold random codes; the query is one key frame's
// codes with a few bits flipped, at the same or at shifted canvas positions.
class PartialSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    const engine::ProjectionModel& model = engine::default_model();
    std::mt19937 random(11);
    std::uniform_real_distribution<float> position(0.05f, 0.95f);
    std::vector<index::NewReference> references;
    for (int r = 0; r < 2; ++r) {
      index::NewReference ref;
      ref.name = "Show.S01E0" + std::to_string(r + 1);
      ref.title = "Show";
      ref.path = "/nonexistent/" + ref.name;
      ref.checksum = ref.name;
      ref.fingerprint.model_id = model.id;
      ref.fingerprint.descriptor_size = model.output_size;
      ref.fingerprint.sample_fps = 2;
      for (int i = 0; i < 20; ++i) {
        engine::Sample s;
        s.pts_seconds = i / 2.0;
        s.detail = 5;
        s.descriptor.assign(static_cast<std::size_t>(model.output_size), 0.f);
        s.descriptor[static_cast<std::size_t>((r * 20 + i) % model.output_size)] = 1;
        if (i % 2 == 0) {
          for (int k = 0; k < 60; ++k) {
            engine::LocalFeature f;
            f.x = position(random);
            f.y = position(random);
            for (auto& byte : f.code) byte = static_cast<std::uint8_t>(random());
            s.local_features.push_back(f);
          }
        }
        ref.fingerprint.samples.push_back(s);
      }
      references.push_back(ref);
    }
    key_frame_ = references[1].fingerprint.samples[8];  // episode 2 at 4.0 s
    index::Library library = index::Library::open_or_create(dir_.path("lib"), model);
    library.add(references);
  }

  engine::Fingerprint query(float shift) const {
    engine::Fingerprint q;
    engine::Sample s = key_frame_;
    std::mt19937 random(5);
    for (engine::LocalFeature& f : s.local_features) {
      f.x += shift;
      f.code[random() % 32] ^= static_cast<std::uint8_t>(1u << (random() % 8));  // re-rendered
    }
    s.local_features.resize(40);  // a layer holds part of the picture
    q.samples.push_back(s);
    return q;
  }

  testing::TempDir dir_;
  engine::Sample key_frame_;
};

TEST_F(PartialSearch, FindsTheKeyFrameAtItsCanvasPlace) {
  const index::Library library = index::Library::open(dir_.path("lib"));
  EXPECT_EQ(library.local_features().size(), 2 * 10 * 60);
  const index::PartialSearch found = index::search_partial(library, query(0.02f));
  ASSERT_FALSE(found.matches.empty());
  const index::FrameMatch& best = found.matches.front();
  EXPECT_EQ(library.reference(best.reference).name, "Show.S01E02");
  EXPECT_DOUBLE_EQ(best.reference_time, 4.0);
  EXPECT_GT(best.similarity, index::partial_similarity(30));
}

TEST_F(PartialSearch, TheSameDrawingElsewhereOnTheCanvasDoesNotCount) {
  const index::Library library = index::Library::open(dir_.path("lib"));
  EXPECT_TRUE(index::search_partial(library, query(0.2f)).matches.empty());
}

// Two episodes hold the same character at the same place: each is aligned on its own, so the
// one with fewer votes keeps the samples the other also drew and gets its own segment, to be
// settled by the visual check; a reference with a small share of the best one's votes does not.
TEST(AlignPartial, RivalsKeepTheirOwnSegmentsStrayVotesDoNot) {
  index::PartialSearch found;
  for (int i = 0; i < 10; ++i) {
    const double t = 0.5 * i;
    found.sample_times.push_back(t);
    found.matches.push_back({i, t, 1, 20 + t, index::partial_similarity(20), false, false});
    found.matches.push_back({i, t, 2, 50 + t, index::partial_similarity(14), false, false});
    if (i < 3)
      found.matches.push_back({i, t, 3, 80 + t, index::partial_similarity(6), false, false});
  }
  const std::vector<index::Segment> segments = index::align_partial(found);
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0].reference, 1);
  EXPECT_EQ(segments[0].support, 10);
  EXPECT_NEAR(segments[0].reference_start, 20, 0.05);
  EXPECT_EQ(segments[1].reference, 2);
  EXPECT_EQ(segments[1].support, 10);
  EXPECT_NEAR(segments[1].reference_start, 50, 0.05);
}

}  // namespace
}  // namespace celtrace
