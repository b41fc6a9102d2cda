#include "engine/media.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <regex>

#include <opencv2/imgproc.hpp>

#include "engine/decode/image_reader.h"
#include "engine/decode/video_decoder.h"
#include "engine/errors.h"

namespace celtrace::engine {

const char* to_string(MediaKind kind) {
  switch (kind) {
    case MediaKind::kVideo:
      return "video";
    case MediaKind::kImage:
      return "image";
    case MediaKind::kSequence:
      return "sequence";
  }
  return "unknown";
}

namespace {

template <std::size_t N>
bool has_extension_of(const std::string& path, const char* const (&extensions)[N]) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return std::any_of(std::begin(extensions), std::end(extensions),
                     [&](const char* known) { return ext == known; });
}

}  // namespace

bool has_image_extension(const std::string& path) {
  static const char* const kExtensions[] = {".png",  ".jpg", ".jpeg", ".jpe",  ".tif",
                                            ".tiff", ".bmp", ".dib",  ".webp", ".tga",
                                            ".pgm",  ".ppm", ".pbm",  ".pnm"};
  return has_extension_of(path, kExtensions);
}

bool has_video_extension(const std::string& path) {
  static const char* const kExtensions[] = {".mp4", ".m4v",  ".mkv", ".webm", ".avi", ".mov",
                                            ".mpg", ".mpeg", ".ts",  ".m2ts", ".mts", ".wmv",
                                            ".flv", ".ogv",  ".3gp", ".vob"};
  return has_extension_of(path, kExtensions);
}

std::optional<NumberedName> split_frame_number(const std::string& name) {
  static const std::regex pattern(R"(^(.*?)(\d{1,12})(\.[A-Za-z0-9]+)$)");
  std::smatch match;
  if (!std::regex_match(name, match, pattern)) return std::nullopt;
  return NumberedName{match[1].str(), match[2].str(), match[3].str()};
}

MediaKind media_kind(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (fs::is_directory(path, error)) return MediaKind::kSequence;
  if (path.find('%') != std::string::npos && !fs::exists(path, error)) return MediaKind::kSequence;
  if (!fs::exists(path, error)) throw MediaError(path + ": no such file or directory");
  if (!fs::is_regular_file(path, error)) throw MediaError(path + ": not a regular file");
  if (fs::file_size(path, error) == 0) throw MediaError(path + ": empty file");
  return has_image_extension(path) ? MediaKind::kImage : MediaKind::kVideo;
}

std::unique_ptr<FrameSource> open_media(const std::string& path, const DecodeOptions& options) {
  if (options.analysis_size < 64) throw UsageError("analysis size must be at least 64 pixels");
  if (options.sequence_fps <= 0) throw UsageError("sequence frame rate must be positive");
  switch (media_kind(path)) {
    case MediaKind::kSequence:
      return open_sequence(path, options);
    case MediaKind::kImage:
      return open_image(path, options);
    case MediaKind::kVideo:
      break;
  }
  return open_video(path, options);
}

std::vector<Frame> frames_between(const std::string& path, double from, double to,
                                  const DecodeOptions& options, double spacing_seconds) {
  DecodeOptions spaced = options;
  spaced.sample_fps = spacing_seconds > 0 ? 1.0 / spacing_seconds : 0;
  from = std::max(0.0, from);
  std::unique_ptr<FrameSource> source;
  if (media_kind(path) == MediaKind::kVideo) {
    source = open_video_at(path, from, spaced);
  } else {
    source = open_media(path, spaced);
  }
  std::vector<Frame> frames;
  Frame frame, previous;
  bool any = false;
  while (source->next(frame)) {
    if (frame.pts_seconds + 1e-3 < from) {
      previous = std::move(frame);
      any = true;
      continue;
    }
    // The first frame at or after `from` counts even when it is past `to`.
    if (!frames.empty() && frame.pts_seconds > to + 1e-3) break;
    frame.luma = fit_within(frame.luma, options.analysis_size);
    frame.alpha = fit_within(frame.alpha, options.analysis_size);
    frame.colour = fit_within(frame.colour, options.analysis_size);
    frames.push_back(std::move(frame));
    if (frames.back().pts_seconds > to + 1e-3) break;
  }
  if (frames.empty()) {
    if (!any) throw MediaError(path + ": no picture at " + std::to_string(from) + " s");
    previous.luma = fit_within(previous.luma, options.analysis_size);  // past the end
    previous.alpha = fit_within(previous.alpha, options.analysis_size);
    previous.colour = fit_within(previous.colour, options.analysis_size);
    frames.push_back(std::move(previous));
  }
  return frames;
}

ColourImage colour_frame_at(const std::string& path, double seconds, const DecodeOptions& options) {
  DecodeOptions in_colour = options;
  in_colour.colour = true;
  return frames_between(path, seconds, seconds, in_colour).front().colour;
}

namespace {

// The size fit_within gives: longer side max_side, aspect kept, at least 1 pixel.
std::pair<int, int> fitted_size(int width, int height, int max_side) {
  const double scale = static_cast<double>(max_side) / std::max(width, height);
  return {std::max(1, static_cast<int>(std::lround(width * scale))),
          std::max(1, static_cast<int>(std::lround(height * scale)))};
}

}  // namespace

ColourImage fit_within(const ColourImage& image, int max_side) {
  if (std::max(image.width, image.height) <= max_side) return image;
  const auto [width, height] = fitted_size(image.width, image.height, max_side);
  ColourImage out{width, height,
                  std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * 3)};
  const cv::Mat source(image.height, image.width, CV_8UC3,
                       const_cast<std::uint8_t*>(image.rgb.data()));
  cv::Mat target(height, width, CV_8UC3, out.rgb.data());
  cv::resize(source, target, target.size(), 0, 0, cv::INTER_AREA);
  return out;
}

GrayImage fit_within(const GrayImage& image, int max_side) {
  if (std::max(image.width, image.height) <= max_side) return image;
  const auto [width, height] = fitted_size(image.width, image.height, max_side);
  GrayImage out(width, height);
  const cv::Mat source(image.height, image.width, CV_8UC1,
                       const_cast<std::uint8_t*>(image.pixels.data()));
  cv::Mat target(height, width, CV_8UC1, out.pixels.data());
  cv::resize(source, target, target.size(), 0, 0, cv::INTER_AREA);
  return out;
}

}  // namespace celtrace::engine
