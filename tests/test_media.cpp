#include "tests/test_media.h"

#include <fstream>
#include <map>
#include <memory>
#include <random>

#include <opencv2/imgproc.hpp>

namespace celtrace::testing {

TempDir::TempDir() {
  std::random_device device;
  root_ = std::filesystem::temp_directory_path() / ("celtrace-test-" + std::to_string(device()));
  std::filesystem::create_directories(root_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

engine::GrayImage to_luma(const cv::Mat& bgr) {
  cv::Mat gray;
  if (bgr.channels() == 3) {
    cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  } else {
    gray = bgr.clone();
  }
  engine::GrayImage out(gray.cols, gray.rows);
  for (int y = 0; y < gray.rows; ++y)
    std::copy_n(gray.ptr<std::uint8_t>(y), gray.cols, out.pixels.data() + y * gray.cols);
  return out;
}

namespace {
const bench::Episode& cached_episode(int series_seed, int number) {
  static std::map<int, std::unique_ptr<bench::Series>> series;
  static std::map<std::pair<int, int>, std::unique_ptr<bench::Episode>> episodes;
  auto& s = series[series_seed];
  if (!s)
    s = std::make_unique<bench::Series>(
        bench::make_series(series_seed, "Test Series " + std::to_string(series_seed)));
  auto& e = episodes[{series_seed, number}];
  if (!e) e = std::make_unique<bench::Episode>(bench::make_episode(*s, number, 60));
  return *e;
}
}  // namespace

cv::Mat cartoon_frame(int series, int episode, double seconds, bench::Render render) {
  return bench::render_frame(cached_episode(series, episode),
                             static_cast<int>(seconds * bench::kFps), render);
}

void write_cartoon_video(const std::string& path, int series, int episode, double start,
                         double seconds, const engine::EncoderOptions& options, int width,
                         bench::Render render) {
  const bench::Episode& e = cached_episode(series, episode);
  const int height = width * 9 / 16 / 2 * 2;
  engine::VideoEncoder encoder(path, width, height, bench::kFps, options);
  const int first = static_cast<int>(start * bench::kFps);
  const int count = static_cast<int>(seconds * bench::kFps);
  for (int i = 0; i < count; ++i) {
    const cv::Mat frame = bench::render_frame(e, first + i, render, width, height);
    encoder.write_bgr(frame.data, static_cast<int>(frame.step), i / bench::kFps);
  }
  encoder.finish();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace celtrace::testing
