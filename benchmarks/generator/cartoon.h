// A seeded generator of cartoon "episodes" for tests, training and benchmarks.
//
// A series fixes a style (palette, line weight, shading), a cast of characters, a pool of
// backgrounds, and an opening and ending sequence shared by all its episodes; an episode is a
// list of shots (painted background, characters that move and gesture on twos, camera pans and
// zooms, cuts), with title cards, black frames and fades. The same scene description renders the
// final picture or a work-in-progress version of it (see Render).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace celtrace::bench {

enum class Render {
  kFinal,
  kLineArt,       // dark lines on white
  kFlat,          // flat colours, no shading
  kNoBackground,  // characters only
  kRough,         // jittered, doubled strokes
  kChangedShape,  // characters with a different head
  kAnimatic,      // key poses held, no in-betweens, no colour
  kRecolour,      // colour-script recolouring
  kReviewCopy,    // final with burned-in timecode and watermark
};

const char* to_string(Render render);
Render render_from_string(const std::string& name);  // throws UsageError

struct Character {
  cv::Scalar body_colour, head_colour;
  double body_width, body_height, head_radius;  // fractions of frame height
  int head_shape;                               // 0 circle, 1 rounded box, 2 triangle-ish
};

struct Background {
  std::uint32_t seed;
  cv::Scalar sky_top, sky_bottom, ground;
  int object_count;
};

struct CharacterPlacement {
  int cast_index;
  double x_start, x_end;  // fraction of the canvas width
  double y;               // baseline, fraction of height
  double gesture_rate;    // arm swings per second
};

enum class ShotKind { kScene, kTitleCard, kBlack };

struct Shot {
  ShotKind kind = ShotKind::kScene;
  int frames = 48;
  int background = 0;  // index into the series' pool
  std::vector<CharacterPlacement> characters;
  double pan_start = 0, pan_end = 0;    // horizontal camera offset, fraction of the canvas
  double zoom_start = 1, zoom_end = 1;  // 1 = whole frame
  std::string title;
  bool fade_in = false, fade_out = false;
};

struct Series {
  std::uint32_t seed = 0;
  std::string name;
  double line_width = 2.0;  // pixels at 360 lines
  double shading = 0.3;     // darkening of the shaded side, 0..1
  std::vector<Character> cast;
  std::vector<Background> backgrounds;
  std::vector<Shot> opening, ending;
};

struct Episode {
  const Series* series = nullptr;
  int number = 0;
  std::vector<Shot> shots;  // opening + story + ending
  int total_frames() const;
  // Which shot and frame within it a global frame index falls in.
  std::pair<int, int> locate(int frame) const;
};

inline constexpr double kFps = 24.0;

Series make_series(std::uint32_t seed, const std::string& name);
// An episode of about `story_seconds` of story between the series' opening and ending.
Episode make_episode(const Series& series, int number, double story_seconds);
// Whether a character stands wholly in view in frame `frame` (16:9 framing).
bool shows_characters(const Episode& episode, int frame);
// Renders frame `frame` (0-based, 24 fps) of the episode as BGR, width x height.
cv::Mat render_frame(const Episode& episode, int frame, Render render, int width = 640,
                     int height = 360);

}  // namespace celtrace::bench
