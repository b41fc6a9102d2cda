// Helpers shared by the tests: temporary directories, generated frames and videos.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "benchmarks/generator/cartoon.h"
#include "engine/decode/video_encoder.h"
#include "engine/image.h"

namespace celtrace::testing {

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  std::string path(const std::string& name) const { return (root_ / name).string(); }
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

engine::GrayImage to_luma(const cv::Mat& bgr);

// Frames of a generated episode (series seed, episode number), BGR 640x360.
cv::Mat cartoon_frame(int series, int episode, double seconds,
                      bench::Render render = bench::Render::kFinal);

// Writes `seconds` of a generated episode starting at `start` as a video.
void write_cartoon_video(const std::string& path, int series, int episode, double start,
                         double seconds, const engine::EncoderOptions& options = {},
                         int width = 320, bench::Render render = bench::Render::kFinal);

void write_bytes(const std::string& path, const std::string& bytes);
std::string read_bytes(const std::string& path);

}  // namespace celtrace::testing
