#include "benchmarks/generator/cartoon.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <opencv2/imgproc.hpp>

#include "engine/errors.h"

namespace celtrace::bench {
namespace {

using Random = std::mt19937;

double uniform(Random& random, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(random);
}
int integer(Random& random, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(random);
}

cv::Scalar hsv_colour(double hue, double saturation, double value) {
  cv::Mat pixel(1, 1, CV_8UC3, cv::Scalar(hue / 2.0, saturation * 255, value * 255));
  cv::cvtColor(pixel, pixel, cv::COLOR_HSV2BGR);
  const auto p = pixel.at<cv::Vec3b>(0, 0);
  return cv::Scalar(p[0], p[1], p[2]);
}

cv::Scalar darker(const cv::Scalar& colour, double amount) {
  return colour * (1.0 - amount);
}

// How a render draws: fill or not, shading, line colour, jitter.
struct Style {
  bool fill = true;
  bool shade = true;
  bool background = true;
  bool texture = true;
  bool rough = false;
  bool changed_head = false;
  cv::Scalar ink{20, 20, 25};
  double line_width = 2.0;
  double shading = 0.3;
  int pose_step = 2;  // animation drawn "on twos"
};

Style style_for(const Series& series, Render render) {
  Style style;
  style.line_width = series.line_width;
  style.shading = series.shading;
  switch (render) {
    case Render::kLineArt:
      style.fill = style.shade = style.texture = false;
      break;
    case Render::kFlat:
      style.shade = style.texture = false;
      break;
    case Render::kNoBackground:
      style.background = false;
      break;
    case Render::kRough:
      style.fill = style.shade = style.texture = false;
      style.rough = true;
      style.ink = cv::Scalar(70, 70, 80);
      break;
    case Render::kChangedShape:
      style.changed_head = true;
      break;
    case Render::kAnimatic:
      style.fill = style.shade = style.texture = false;
      style.rough = true;
      style.ink = cv::Scalar(90, 90, 90);
      style.pose_step = 12;
      break;
    default:
      break;
  }
  return style;
}

// Draws on a canvas through the camera: canvas coordinates (pixels of a canvas 1.5 frames wide)
// map to frame pixels by offset and zoom.
struct Painter {
  cv::Mat& frame;
  const Style& style;
  double offset_x, offset_y, zoom;
  Random jitter;

  cv::Point map(double x, double y) const {
    return cv::Point(static_cast<int>(std::lround((x - offset_x) * zoom)),
                     static_cast<int>(std::lround((y - offset_y) * zoom)));
  }
  int thickness(double width) const {
    return std::max(1, static_cast<int>(std::lround(width * zoom)));
  }

  void ellipse(double cx, double cy, double rx, double ry, const cv::Scalar& fill_colour,
               double angle = 0) {
    const cv::Size axes(std::max(1, static_cast<int>(rx * zoom)),
                        std::max(1, static_cast<int>(ry * zoom)));
    if (style.fill) {
      if (style.shade) {
        cv::ellipse(frame, map(cx, cy), axes, angle, 0, 360, darker(fill_colour, style.shading),
                    cv::FILLED, cv::LINE_AA);
        const cv::Size lit(std::max(1, static_cast<int>(axes.width * 0.8)),
                           std::max(1, static_cast<int>(axes.height * 0.85)));
        cv::ellipse(frame, map(cx - rx * 0.18, cy - ry * 0.1), lit, angle, 0, 360, fill_colour,
                    cv::FILLED, cv::LINE_AA);
      } else {
        cv::ellipse(frame, map(cx, cy), axes, angle, 0, 360, fill_colour, cv::FILLED, cv::LINE_AA);
      }
    }
    outline_ellipse(cx, cy, rx, ry, angle);
  }

  void outline_ellipse(double cx, double cy, double rx, double ry, double angle) {
    const cv::Size axes(std::max(1, static_cast<int>(rx * zoom)),
                        std::max(1, static_cast<int>(ry * zoom)));
    if (!style.rough) {
      cv::ellipse(frame, map(cx, cy), axes, angle, 0, 360, style.ink, thickness(style.line_width),
                  cv::LINE_AA);
      return;
    }
    for (int stroke = 0; stroke < 2; ++stroke) {
      const double j = 0.06;
      cv::ellipse(
          frame, map(cx + uniform(jitter, -j, j) * rx, cy + uniform(jitter, -j, j) * ry),
          cv::Size(std::max(1, static_cast<int>(axes.width * uniform(jitter, 0.94, 1.06))),
                   std::max(1, static_cast<int>(axes.height * uniform(jitter, 0.94, 1.06)))),
          angle + uniform(jitter, -4, 4), 0, 360, style.ink, 1, cv::LINE_AA);
    }
  }

  void polygon(const std::vector<cv::Point2d>& points, const cv::Scalar& fill_colour,
               bool closed = true) {
    std::vector<cv::Point> mapped;
    for (const auto& p : points) mapped.push_back(map(p.x, p.y));
    if (style.fill && closed)
      cv::fillPoly(frame, std::vector<std::vector<cv::Point>>{mapped}, fill_colour, cv::LINE_AA);
    if (style.rough) {
      for (auto& p : mapped) p += cv::Point(integer(jitter, -2, 2), integer(jitter, -2, 2));
      cv::polylines(frame, mapped, closed, style.ink, 1, cv::LINE_AA);
    } else {
      cv::polylines(frame, mapped, closed, style.ink, thickness(style.line_width), cv::LINE_AA);
    }
  }

  void line(double x0, double y0, double x1, double y1, double width) {
    cv::line(frame, map(x0, y0), map(x1, y1), style.ink, thickness(style.rough ? 1 : width),
             cv::LINE_AA);
  }
};

void paint_background(Painter& painter, const Background& background, int canvas_width,
                      int height) {
  cv::Mat& frame = painter.frame;
  const Style& style = painter.style;
  Random random(background.seed);
  if (style.fill) {
    for (int y = 0; y < frame.rows; ++y) {
      const double canvas_y = painter.offset_y + y / painter.zoom;
      const double a = std::clamp(canvas_y / (height * 0.7), 0.0, 1.0);
      frame.row(y).setTo(background.sky_top * (1 - a) + background.sky_bottom * a);
    }
  }
  // Hills: a sum of sines along the canvas.
  const double base = height * uniform(random, 0.55, 0.7);
  const double a1 = uniform(random, 10, 35), f1 = uniform(random, 1, 3),
               p1 = uniform(random, 0, 6.28);
  const double a2 = uniform(random, 5, 15), f2 = uniform(random, 4, 8),
               p2 = uniform(random, 0, 6.28);
  std::vector<cv::Point2d> hill;
  for (int i = 0; i <= 48; ++i) {
    const double x = canvas_width * i / 48.0;
    const double u = x / canvas_width * 2 * M_PI;
    hill.emplace_back(x, base + a1 * std::sin(f1 * u + p1) + a2 * std::sin(f2 * u + p2));
  }
  hill.emplace_back(canvas_width, height * 1.2);
  hill.emplace_back(0, height * 1.2);
  painter.polygon(hill, background.ground);
  // Houses, trees and clouds at seeded places.
  for (int i = 0; i < background.object_count; ++i) {
    const double x = uniform(random, 0.03, 0.97) * canvas_width;
    const int kind = integer(random, 0, 2);
    const cv::Scalar colour =
        hsv_colour(uniform(random, 0, 360), uniform(random, 0.3, 0.8), uniform(random, 0.5, 0.95));
    if (kind == 0) {
      const double w = uniform(random, 40, 90), h = uniform(random, 40, 80),
                   y = base + uniform(random, -5, 15);
      painter.polygon({{x, y}, {x + w, y}, {x + w, y - h}, {x, y - h}}, colour);
      painter.polygon(
          {{x - 8, y - h}, {x + w + 8, y - h}, {x + w / 2, y - h - uniform(random, 25, 50)}},
          darker(colour, 0.4));
      const double window = w * 0.22;
      painter.polygon({{x + w * 0.2, y - h * 0.6},
                       {x + w * 0.2 + window, y - h * 0.6},
                       {x + w * 0.2 + window, y - h * 0.6 - window},
                       {x + w * 0.2, y - h * 0.6 - window}},
                      cv::Scalar(200, 230, 250));
    } else if (kind == 1) {
      const double y = base + uniform(random, 0, 20), h = uniform(random, 40, 70);
      painter.polygon({{x - 5, y}, {x + 5, y}, {x + 5, y - h}, {x - 5, y - h}},
                      cv::Scalar(40, 70, 110));
      painter.ellipse(x, y - h - 15, uniform(random, 20, 35), uniform(random, 20, 30),
                      hsv_colour(uniform(random, 90, 150), 0.6, 0.6));
    } else {
      painter.ellipse(x, uniform(random, 0.08, 0.3) * height, uniform(random, 25, 50),
                      uniform(random, 10, 18), cv::Scalar(250, 250, 250));
    }
  }
}

void paint_character(Painter& painter, const Character& c, double x, double baseline, double t,
                     double gesture_rate, int height) {
  const double body_h = c.body_height * height, body_w = c.body_width * height,
               head_r = c.head_radius * height;
  const double swing = std::sin(2 * M_PI * gesture_rate * t);
  const double step = std::sin(2 * M_PI * gesture_rate * 1.5 * t);
  const double hip_y = baseline - body_h * 0.15;
  // Legs and arms are lines; body and head are filled shapes.
  painter.line(x - body_w * 0.25, hip_y, x - body_w * 0.3 + step * 10, baseline + body_h * 0.25,
               painter.style.line_width * 2);
  painter.line(x + body_w * 0.25, hip_y, x + body_w * 0.3 - step * 10, baseline + body_h * 0.25,
               painter.style.line_width * 2);
  const double shoulder_y = baseline - body_h * 0.8;
  painter.line(x - body_w * 0.45, shoulder_y, x - body_w * 1.1, shoulder_y + body_h * 0.3 * swing,
               painter.style.line_width * 2);
  painter.line(x + body_w * 0.45, shoulder_y, x + body_w * 1.1, shoulder_y - body_h * 0.4 * swing,
               painter.style.line_width * 2);
  painter.ellipse(x, baseline - body_h * 0.5, body_w / 2, body_h / 2, c.body_colour);
  const double head_y = baseline - body_h - head_r * 0.8;
  const int shape = painter.style.changed_head ? (c.head_shape + 1) % 3 : c.head_shape;
  if (shape == 0) {
    painter.ellipse(x, head_y, head_r, head_r, c.head_colour);
  } else if (shape == 1) {
    painter.polygon({{x - head_r, head_y - head_r},
                     {x + head_r, head_y - head_r},
                     {x + head_r, head_y + head_r},
                     {x - head_r, head_y + head_r}},
                    c.head_colour);
  } else {
    painter.polygon({{x - head_r * 1.1, head_y + head_r},
                     {x + head_r * 1.1, head_y + head_r},
                     {x, head_y - head_r * 1.3}},
                    c.head_colour);
  }
  const double look = swing * head_r * 0.15;
  for (double side : {-0.4, 0.4}) {
    cv::circle(painter.frame, painter.map(x + side * head_r + look, head_y - head_r * 0.1),
               std::max(1, static_cast<int>(head_r * 0.12 * painter.zoom)), painter.style.ink,
               cv::FILLED, cv::LINE_AA);
  }
}

void add_texture(cv::Mat& frame, std::uint32_t seed) {
  Random random(seed);
  cv::Mat coarse(9, 16, CV_32FC1);
  for (int i = 0; i < coarse.rows * coarse.cols; ++i)
    coarse.at<float>(i) = static_cast<float>(uniform(random, -10, 10));
  cv::Mat noise;
  cv::resize(coarse, noise, frame.size(), 0, 0, cv::INTER_CUBIC);
  cv::Mat channels[3];
  cv::split(frame, channels);
  for (auto& channel : channels) {
    cv::Mat f;
    channel.convertTo(f, CV_32F);
    f += noise;
    f.convertTo(channel, CV_8U);
  }
  cv::merge(channels, 3, frame);
}

void paint_title(cv::Mat& frame, const std::string& title, const cv::Scalar& background,
                 const cv::Scalar& ink) {
  frame.setTo(background);
  const double scale = frame.rows / 240.0;
  int baseline = 0;
  const cv::Size size = cv::getTextSize(title, cv::FONT_HERSHEY_DUPLEX, scale, 2, &baseline);
  cv::putText(
      frame, title, cv::Point((frame.cols - size.width) / 2, (frame.rows + size.height) / 2),
      cv::FONT_HERSHEY_DUPLEX, scale, ink, std::max(1, static_cast<int>(2 * scale)), cv::LINE_AA);
}

std::string timecode(int frame) {
  char text[32];
  const int fps = static_cast<int>(kFps);
  std::snprintf(text, sizeof text, "%02d:%02d:%02d:%02d", frame / (3600 * fps),
                frame / (60 * fps) % 60, frame / fps % 60, frame % fps);
  return text;
}

// Scenes are drawn in canonical coordinates, 360 units high, so every output size shows the
// same picture; the painter's zoom maps them to pixels.
constexpr double kCanonicalHeight = 360.0;

// Where the camera looks at `progress` (0..1) through a shot, in canonical units.
struct Camera {
  int canvas_width = 0;  // the painted background, 1.5 frames wide
  double view_left = 0, view_top = 0, view_width = 0, zoom = 1;
};

Camera camera_at(const Shot& shot, double progress, double frame_width) {
  Camera c;
  c.zoom = shot.zoom_start + (shot.zoom_end - shot.zoom_start) * progress;
  c.canvas_width = static_cast<int>(frame_width * 1.5);
  c.view_width = frame_width / c.zoom;
  const double pan = shot.pan_start + (shot.pan_end - shot.pan_start) * progress;
  c.view_left = pan * (c.canvas_width - c.view_width);
  c.view_top = (kCanonicalHeight - kCanonicalHeight / c.zoom) / 2;
  return c;
}

double character_x(const CharacterPlacement& placement, double progress, const Camera& camera) {
  return (placement.x_start + (placement.x_end - placement.x_start) * progress) *
         camera.canvas_width;
}

Shot make_scene(Random& random, const Series& series, double seconds) {
  Shot shot;
  shot.frames = static_cast<int>(seconds * kFps);
  shot.background = integer(random, 0, static_cast<int>(series.backgrounds.size()) - 1);
  const int count = integer(random, 0, 3);
  for (int i = 0; i < count; ++i) {
    CharacterPlacement placement;
    placement.cast_index = integer(random, 0, static_cast<int>(series.cast.size()) - 1);
    placement.x_start = uniform(random, 0.1, 0.9);
    placement.x_end = std::clamp(placement.x_start + uniform(random, -0.3, 0.3), 0.05, 0.95);
    placement.y = uniform(random, 0.75, 0.9);
    placement.gesture_rate = uniform(random, 0.3, 1.2);
    shot.characters.push_back(placement);
  }
  shot.pan_start = uniform(random, 0, 1);
  shot.pan_end = std::clamp(shot.pan_start + uniform(random, -0.4, 0.4), 0.0, 1.0);
  if (integer(random, 0, 3) == 0) {
    shot.zoom_start = uniform(random, 1.0, 1.3);
    shot.zoom_end = uniform(random, 1.0, 1.5);
  }
  return shot;
}

}  // namespace

const char* to_string(Render render) {
  switch (render) {
    case Render::kFinal:
      return "final";
    case Render::kLineArt:
      return "line-art";
    case Render::kFlat:
      return "flat";
    case Render::kNoBackground:
      return "no-background";
    case Render::kRough:
      return "rough";
    case Render::kChangedShape:
      return "changed-shape";
    case Render::kAnimatic:
      return "animatic";
    case Render::kRecolour:
      return "recolour";
    case Render::kReviewCopy:
      return "review-copy";
  }
  return "unknown";
}

Render render_from_string(const std::string& name) {
  for (Render r :
       {Render::kFinal, Render::kLineArt, Render::kFlat, Render::kNoBackground, Render::kRough,
        Render::kChangedShape, Render::kAnimatic, Render::kRecolour, Render::kReviewCopy}) {
    if (name == to_string(r)) return r;
  }
  throw UsageError("unknown render '" + name + "'");
}

int Episode::total_frames() const {
  int total = 0;
  for (const Shot& shot : shots) total += shot.frames;
  return total;
}

std::pair<int, int> Episode::locate(int frame) const {
  for (int i = 0; i < static_cast<int>(shots.size()); ++i) {
    if (frame < shots[i].frames) return {i, frame};
    frame -= shots[i].frames;
  }
  return {static_cast<int>(shots.size()) - 1, shots.back().frames - 1};
}

Series make_series(std::uint32_t seed, const std::string& name) {
  Random random(seed * 2654435761u + 17);
  Series series;
  series.seed = seed;
  series.name = name;
  series.line_width = uniform(random, 1.5, 3.5);
  series.shading = uniform(random, 0.15, 0.45);
  const double hue = uniform(random, 0, 360);
  for (int i = 0, n = integer(random, 3, 5); i < n; ++i) {
    Character c;
    c.body_colour = hsv_colour(std::fmod(hue + uniform(random, -60, 60) + 360, 360),
                               uniform(random, 0.4, 0.9), uniform(random, 0.5, 0.95));
    c.head_colour =
        hsv_colour(uniform(random, 15, 40), uniform(random, 0.2, 0.6), uniform(random, 0.7, 1.0));
    c.body_width = uniform(random, 0.08, 0.16);
    c.body_height = uniform(random, 0.18, 0.3);
    c.head_radius = uniform(random, 0.05, 0.09);
    c.head_shape = integer(random, 0, 2);
    series.cast.push_back(c);
  }
  for (int i = 0; i < 6; ++i) {
    Background b;
    b.seed = static_cast<std::uint32_t>(random());
    b.sky_top = hsv_colour(std::fmod(hue + 180 + uniform(random, -30, 30), 360),
                           uniform(random, 0.3, 0.7), uniform(random, 0.6, 0.95));
    b.sky_bottom = hsv_colour(std::fmod(hue + 200 + uniform(random, -30, 30), 360),
                              uniform(random, 0.1, 0.4), uniform(random, 0.8, 1.0));
    b.ground = hsv_colour(std::fmod(hue + 90 + uniform(random, -40, 40), 360),
                          uniform(random, 0.3, 0.7), uniform(random, 0.35, 0.7));
    b.object_count = integer(random, 3, 9);
    series.backgrounds.push_back(b);
  }
  Shot title;
  title.kind = ShotKind::kTitleCard;
  title.frames = static_cast<int>(2.5 * kFps);
  title.title = name;
  title.fade_in = true;
  series.opening = {title, make_scene(random, series, 3.0), make_scene(random, series, 2.5)};
  Shot end_card;
  end_card.kind = ShotKind::kTitleCard;
  end_card.frames = static_cast<int>(2 * kFps);
  end_card.title = "THE END";
  end_card.fade_out = true;
  series.ending = {make_scene(random, series, 3.0), end_card};
  return series;
}

Episode make_episode(const Series& series, int number, double story_seconds) {
  Random random(series.seed * 7919u + static_cast<std::uint32_t>(number) * 104729u + 3);
  Episode episode;
  episode.series = &series;
  episode.number = number;
  episode.shots = series.opening;
  Shot title;
  title.kind = ShotKind::kTitleCard;
  title.frames = static_cast<int>(2 * kFps);
  title.title = "Episode " + std::to_string(number);
  episode.shots.push_back(title);
  double told = 0;
  while (told < story_seconds) {
    if (integer(random, 0, 12) == 0) {
      Shot black;
      black.kind = ShotKind::kBlack;
      black.frames = static_cast<int>(0.5 * kFps);
      episode.shots.push_back(black);
      told += 0.5;
      continue;
    }
    const double seconds = uniform(random, 2.0, 6.0);
    Shot scene = make_scene(random, series, seconds);
    scene.fade_in = integer(random, 0, 8) == 0;
    episode.shots.push_back(scene);
    told += seconds;
  }
  episode.shots.insert(episode.shots.end(), series.ending.begin(), series.ending.end());
  return episode;
}

cv::Mat render_frame(const Episode& episode, int frame_index, Render render, int width,
                     int height) {
  const Series& series = *episode.series;
  const auto [shot_index, local] = episode.locate(frame_index);
  const Shot& shot = episode.shots[shot_index];
  const Style style = style_for(series, render);
  const bool inked =
      render == Render::kLineArt || render == Render::kRough || render == Render::kAnimatic;
  cv::Mat frame(height, width, CV_8UC3,
                inked || !style.background ? cv::Scalar(250, 250, 250) : cv::Scalar(0, 0, 0));

  if (shot.kind == ShotKind::kBlack) {
    frame.setTo(cv::Scalar(0, 0, 0));
  } else if (shot.kind == ShotKind::kTitleCard) {
    const cv::Scalar background =
        inked ? cv::Scalar(250, 250, 250) : series.backgrounds[0].ground * 0.5;
    paint_title(frame, shot.title, background, inked ? style.ink : cv::Scalar(240, 240, 240));
  } else {
    const int pose_frame = local / style.pose_step * style.pose_step;
    const double progress =
        shot.frames > 1 ? static_cast<double>(pose_frame) / (shot.frames - 1) : 0;
    const double resolution = height / kCanonicalHeight;
    const Camera camera = camera_at(shot, progress, width / resolution);
    Painter painter{frame,
                    style,
                    camera.view_left,
                    camera.view_top,
                    camera.zoom * resolution,
                    Random(static_cast<std::uint32_t>(frame_index / style.pose_step * 31 + 7))};
    if (style.background)
      paint_background(painter, series.backgrounds[shot.background], camera.canvas_width,
                       static_cast<int>(kCanonicalHeight));
    const double t = pose_frame / kFps;
    for (const auto& placement : shot.characters) {
      const double x = character_x(placement, progress, camera);
      paint_character(painter, series.cast[placement.cast_index], x, placement.y * kCanonicalHeight,
                      t, placement.gesture_rate, static_cast<int>(kCanonicalHeight));
    }
    if (style.texture) add_texture(frame, series.backgrounds[shot.background].seed);
  }

  if (render == Render::kRecolour) {
    cv::Mat hsv;
    cv::cvtColor(frame, hsv, cv::COLOR_BGR2HSV);
    for (int y = 0; y < hsv.rows; ++y) {
      for (int x = 0; x < hsv.cols; ++x) {
        auto& p = hsv.at<cv::Vec3b>(y, x);
        p[0] = static_cast<std::uint8_t>((p[0] + 60) % 180);
        p[1] = static_cast<std::uint8_t>(std::min(255, p[1] * 5 / 4));
      }
    }
    cv::cvtColor(hsv, frame, cv::COLOR_HSV2BGR);
  }
  const int fade = static_cast<int>(kFps / 2);
  double brightness = 1.0;
  if (shot.fade_in && local < fade) brightness = static_cast<double>(local) / fade;
  if (shot.fade_out && local >= shot.frames - fade)
    brightness = static_cast<double>(shot.frames - 1 - local) / fade;
  if (brightness < 1.0 && !inked) frame *= brightness;
  if (render == Render::kReviewCopy) {
    const double s = height / 360.0;
    cv::rectangle(frame,
                  cv::Rect(0, height - static_cast<int>(30 * s), static_cast<int>(190 * s),
                           static_cast<int>(30 * s)),
                  cv::Scalar(0, 0, 0), cv::FILLED);
    cv::putText(frame, timecode(frame_index),
                cv::Point(static_cast<int>(6 * s), height - static_cast<int>(8 * s)),
                cv::FONT_HERSHEY_SIMPLEX, 0.7 * s, cv::Scalar(255, 255, 255),
                std::max(1, static_cast<int>(2 * s)), cv::LINE_AA);
    cv::Mat overlay = frame.clone();
    cv::putText(overlay, "STUDIO REVIEW - NOT FOR BROADCAST",
                cv::Point(static_cast<int>(40 * s), height / 2), cv::FONT_HERSHEY_SIMPLEX, 0.9 * s,
                cv::Scalar(255, 255, 255), std::max(1, static_cast<int>(2 * s)), cv::LINE_AA);
    cv::addWeighted(overlay, 0.5, frame, 0.5, 0, frame);
  }
  return frame;
}

bool shows_characters(const Episode& episode, int frame_index) {
  const auto [shot_index, local] = episode.locate(frame_index);
  const Shot& shot = episode.shots[shot_index];
  if (shot.kind != ShotKind::kScene) return false;
  const double progress = shot.frames > 1 ? static_cast<double>(local) / (shot.frames - 1) : 0;
  const Camera camera = camera_at(shot, progress, kCanonicalHeight * 16 / 9);
  // Wholly in view: a body is about 40 units wide.
  constexpr double kHalfWidth = 25;
  return std::any_of(shot.characters.begin(), shot.characters.end(), [&](const auto& placement) {
    const double x = character_x(placement, progress, camera);
    return x - kHalfWidth >= camera.view_left &&
           x + kHalfWidth <= camera.view_left + camera.view_width;
  });
}

}  // namespace celtrace::bench
