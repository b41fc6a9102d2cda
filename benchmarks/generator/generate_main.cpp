// celtrace-gen: writes generated cartoon episodes (or parts, or work-in-progress renders of them)
// as videos or numbered PNG frames. Exit codes: 0 ok, 1 runtime error, 2 usage error.
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <opencv2/imgcodecs.hpp>

#include "benchmarks/generator/cartoon.h"
#include "engine/decode/video_encoder.h"
#include "engine/errors.h"

int main(int argc, char** argv) {
  using namespace celtrace;
  CLI::App app{
      "celtrace-gen: render generated cartoon episodes for tests, training and benchmarks.\n"
      "  celtrace-gen --series 3 --episode 2 --seconds 60 --out s3e2.mp4\n"
      "  celtrace-gen --series 3 --episode 2 --start 30 --duration 4 --render line-art --out "
      "'wip/f_%04d.png'"};
  std::uint32_t series_seed = 1;
  std::string series_name;
  int episode_number = 1, width = 640, height = 360, quality = 23;
  double story_seconds = 60, start = 0, duration = -1, find_action = 0;
  std::string render_name = "final", output, codec = "libx264";
  app.add_option("--series", series_seed, "Series seed (style, cast, backgrounds, opening)")
      ->capture_default_str();
  app.add_option("--series-name", series_name,
                 "Title shown on the series' cards (default: Series <seed>)");
  app.add_option("--episode", episode_number, "Episode number (seeds its story)")
      ->capture_default_str();
  app.add_option("--seconds", story_seconds, "Story length between opening and ending, seconds")
      ->capture_default_str();
  app.add_option("--start", start, "Render from this time, seconds")->capture_default_str();
  app.add_option("--duration", duration, "Render this many seconds (default: to the end)");
  app.add_option("--render", render_name,
                 "final, line-art, flat, no-background, rough, changed-shape, animatic, recolour, "
                 "review-copy")
      ->capture_default_str();
  app.add_option("--size", width, "Frame width; height follows 16:9")->capture_default_str();
  app.add_option("--codec", codec, "libav encoder for video output")->capture_default_str();
  app.add_option("--quality", quality, "CRF (x264, vp9) or qscale (mpeg4, mjpeg)")
      ->capture_default_str();
  app.add_option("--out", output, "Video file (container from extension) or PNG pattern with %d");
  app.add_option("--find-action", find_action,
                 "Print the first whole second from --start from which this many seconds all show "
                 "characters, instead of rendering (exit 1 if there is none)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    height = width * 9 / 16 / 2 * 2;
    const bench::Render render = bench::render_from_string(render_name);
    const bench::Series series = bench::make_series(
        series_seed, series_name.empty() ? "Series " + std::to_string(series_seed) : series_name);
    const bench::Episode episode = bench::make_episode(series, episode_number, story_seconds);
    const int first = static_cast<int>(start * bench::kFps);
    const int total = episode.total_frames();
    if (find_action > 0) {
      // A frame without characters in view shows only a series background, which another
      // episode may show identically: clips of another episode must hold action to be true
      // negatives. Whole seconds, so that scripts can do integer arithmetic on the answer.
      const int length = static_cast<int>(find_action * bench::kFps);
      constexpr int kFrames = static_cast<int>(bench::kFps);  // per second
      // The series' ending is in every episode; the opening is skipped by --start.
      int story_end = total;
      for (const bench::Shot& shot : series.ending) story_end -= shot.frames;
      int run = 0;  // frames with characters in view, ending at f
      for (int f = 0; f < story_end; ++f) {
        run = bench::shows_characters(episode, f) ? run + 1 : 0;
        const int begin = f + 1 - length;
        if (run >= length && begin >= first && begin % kFrames == 0) {
          std::cout << begin / kFrames << "\n";
          return 0;
        }
      }
      return 1;
    }
    if (output.empty()) throw UsageError("--out is required");
    const int last =
        duration < 0 ? total : std::min(total, first + static_cast<int>(duration * bench::kFps));
    if (first >= total)
      throw UsageError("nothing to render: start is past the end (" +
                       std::to_string(total / bench::kFps) + " s)");
    if (first >= last) throw UsageError("nothing to render: --duration is under one frame");
    const bool frames = output.find('%') != std::string::npos;
    std::unique_ptr<engine::VideoEncoder> encoder;
    if (!frames) {
      engine::EncoderOptions options;
      options.codec = codec;
      options.quality = quality;
      encoder = std::make_unique<engine::VideoEncoder>(output, width, height, bench::kFps, options);
    }
    for (int f = first; f < last; ++f) {
      const cv::Mat image = bench::render_frame(episode, f, render, width, height);
      if (frames) {
        char name[4096];
        std::snprintf(name, sizeof name, output.c_str(), f - first + 1);
        if (!cv::imwrite(name, image)) throw Error(std::string(name) + ": cannot write");
      } else {
        encoder->write_bgr(image.data, static_cast<int>(image.step), (f - first) / bench::kFps);
      }
    }
    if (encoder) encoder->finish();
    return 0;
  } catch (const UsageError& e) {
    std::cerr << "celtrace-gen: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "celtrace-gen: " << e.what() << "\n";
    return 1;
  }
}
