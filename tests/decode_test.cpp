// Decoding through the libav seam on media the tests encode themselves.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/decode/video_encoder.h"
#include "engine/errors.h"
#include "engine/fingerprinter.h"
#include "engine/media.h"
#include "tests/test_media.h"

namespace celtrace::engine {
namespace {

using testing::TempDir;

std::vector<Frame> decode_all(const std::string& path, double fps) {
  DecodeOptions options;
  options.sample_fps = fps;
  auto source = open_media(path, options);
  std::vector<Frame> frames;
  Frame frame;
  while (source->next(frame)) frames.push_back(frame);
  return frames;
}

struct Container {
  const char* file;
  const char* codec;
  int quality;
};

class DecodeContainers : public ::testing::TestWithParam<Container> {};

TEST_P(DecodeContainers, DecodesWithCorrectTimesAndSampling) {
  TempDir dir;
  const Container c = GetParam();
  EncoderOptions options;
  options.codec = c.codec;
  options.quality = c.quality;
  testing::write_cartoon_video(dir.path(c.file), 1, 1, 20.0, 3.0, options);  // 72 frames, 24 fps
  auto source = open_media(dir.path(c.file), DecodeOptions{});
  EXPECT_EQ(source->info().kind, MediaKind::kVideo);
  EXPECT_EQ(source->info().width, 320);
  EXPECT_NEAR(source->info().frame_rate, 24.0, 0.01);
  const auto all = decode_all(dir.path(c.file), 0);
  ASSERT_EQ(all.size(), 72u) << c.codec;
  for (std::size_t i = 0; i < all.size(); ++i) EXPECT_NEAR(all[i].pts_seconds, i / 24.0, 0.002);
  const auto sampled = decode_all(dir.path(c.file), 4.0);
  ASSERT_EQ(sampled.size(), 12u);
  for (std::size_t i = 0; i < sampled.size(); ++i) {
    // With non-reference frames skipped, a sample may land a few frames after its grid point.
    EXPECT_GE(sampled[i].pts_seconds, i * 0.25 - 0.002);
    EXPECT_LT(sampled[i].pts_seconds, i * 0.25 + 0.2);
  }
  EXPECT_EQ(sampled[0].luma.width, 128);  // analysis size
  EXPECT_EQ(sampled[0].luma.height, 72);
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, DecodeContainers,
    ::testing::Values(Container{"h264.mp4", "libx264", 23}, Container{"mpeg4.avi", "mpeg4", 4},
                      Container{"mjpeg.mov", "mjpeg", 4}, Container{"vp9.webm", "libvpx-vp9", 35},
                      Container{"ffv1.mkv", "ffv1", 0}, Container{"h264.mkv", "libx264", 30}),
    [](const auto& test_info) {
      std::string name = test_info.param.file;
      for (char& ch : name)
        if (ch == '.') ch = '_';
      return name;
    });

TEST(Decode, VariableFrameRateTimesComeFromTimestamps) {
  TempDir dir;
  EncoderOptions options;
  options.variable_frame_rate = true;
  const std::vector<double> times = {0.0, 0.040, 0.080, 0.500, 0.540, 1.700, 1.740, 1.780, 3.000};
  {
    VideoEncoder encoder(dir.path("vfr.mkv"), 160, 90, 24.0, options);
    for (double t : times) {
      cv::Mat frame(90, 160, CV_8UC3, cv::Scalar(40, 80, 120));
      cv::circle(frame, cv::Point(static_cast<int>(20 + t * 30), 45), 10, cv::Scalar(255, 255, 255),
                 cv::FILLED);
      encoder.write_bgr(frame.data, static_cast<int>(frame.step), t);
    }
    encoder.finish();
  }
  const auto frames = decode_all(dir.path("vfr.mkv"), 0);
  ASSERT_EQ(frames.size(), times.size());
  for (std::size_t i = 0; i < times.size(); ++i)
    EXPECT_NEAR(frames[i].pts_seconds, times[i], 0.002);
  // 1 fps by PTS: the first frame at or after 0, 1, 2 and 3 s.
  const auto sampled = decode_all(dir.path("vfr.mkv"), 1.0);
  ASSERT_EQ(sampled.size(), 3u);
  EXPECT_NEAR(sampled[0].pts_seconds, 0.0, 0.002);
  EXPECT_NEAR(sampled[1].pts_seconds, 1.7, 0.002);
  EXPECT_NEAR(sampled[2].pts_seconds, 3.0, 0.002);
  // Frames of a time range: the three from 1.69 to 1.79 s; none from 0.95 to 1.05 s, so the
  // next one; past the end, the last.
  const DecodeOptions every;
  const auto near = frames_between(dir.path("vfr.mkv"), 1.69, 1.79, every);
  ASSERT_EQ(near.size(), 3u);
  EXPECT_NEAR(near[2].pts_seconds, 1.78, 0.002);
  const auto next = frames_between(dir.path("vfr.mkv"), 0.95, 1.05, every);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_NEAR(next[0].pts_seconds, 1.7, 0.002);
  const auto last = frames_between(dir.path("vfr.mkv"), 9.0, 9.1, every);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_NEAR(last[0].pts_seconds, 3.0, 0.002);
}

TEST(Decode, LetterboxedVideoFingerprintsLikeTheOriginal) {
  TempDir dir;
  EncoderOptions options;
  options.codec = "libx264";
  options.quality = 18;
  const bench::Series series = bench::make_series(2, "Letterbox");
  const bench::Episode episode = bench::make_episode(series, 1, 30);
  {
    VideoEncoder plain(dir.path("plain.mp4"), 320, 180, 24.0, options);
    VideoEncoder boxed(dir.path("boxed.mp4"), 320, 240, 24.0, options);
    for (int f = 0; f < 48; ++f) {
      const cv::Mat frame = bench::render_frame(episode, 400 + f, bench::Render::kFinal, 320, 180);
      plain.write_bgr(frame.data, static_cast<int>(frame.step), f / 24.0);
      cv::Mat padded(240, 320, CV_8UC3, cv::Scalar(0, 0, 0));
      frame.copyTo(padded(cv::Rect(0, 30, 320, 180)));
      boxed.write_bgr(padded.data, static_cast<int>(padded.step), f / 24.0);
    }
  }
  const Fingerprinter fingerprinter(default_model());
  const auto a = fingerprinter.fingerprint(dir.path("plain.mp4"), FingerprintOptions{});
  const auto b = fingerprinter.fingerprint(dir.path("boxed.mp4"), FingerprintOptions{});
  ASSERT_EQ(a.samples.size(), b.samples.size());
  for (std::size_t i = 0; i < a.samples.size(); ++i) {
    double similarity = 0;
    for (int d = 0; d < a.descriptor_size; ++d)
      similarity += a.samples[i].descriptor[d] * b.samples[i].descriptor[d];
    EXPECT_GT(similarity, 0.9) << "sample " << i;
    EXPECT_LE(a.samples[i].pdq.distance(b.samples[i].pdq), 40) << "sample " << i;
  }
}

TEST(Decode, StillImagesInEveryFormat) {
  TempDir dir;
  const cv::Mat frame = testing::cartoon_frame(1, 1, 20.0);
  for (const char* name : {"still.png", "still.jpg", "still.bmp", "still.tiff", "still.webp"}) {
    ASSERT_TRUE(cv::imwrite(dir.path(name), frame)) << name;
  }
  // TGA, which OpenCV cannot write: an uncompressed 24-bit file by hand.
  {
    std::string tga(18, '\0');
    tga[2] = 2;
    tga[12] = static_cast<char>(frame.cols & 0xFF), tga[13] = static_cast<char>(frame.cols >> 8);
    tga[14] = static_cast<char>(frame.rows & 0xFF), tga[15] = static_cast<char>(frame.rows >> 8);
    tga[16] = 24;
    tga[17] = 0x20;  // top-left origin
    tga.append(reinterpret_cast<const char*>(frame.data), frame.total() * 3);
    testing::write_bytes(dir.path("still.tga"), tga);
  }
  const Fingerprinter fingerprinter(default_model());
  const auto reference = fingerprinter.fingerprint(dir.path("still.png"), FingerprintOptions{});
  ASSERT_EQ(reference.samples.size(), 1u);
  EXPECT_EQ(reference.media.kind, MediaKind::kImage);
  for (const char* name : {"still.jpg", "still.bmp", "still.tiff", "still.webp", "still.tga"}) {
    const auto other = fingerprinter.fingerprint(dir.path(name), FingerprintOptions{});
    ASSERT_EQ(other.samples.size(), 1u) << name;
    EXPECT_EQ(other.media.width, 640) << name;
    EXPECT_LE(other.samples[0].pdq.distance(reference.samples[0].pdq), 12) << name;
  }
}

TEST(Decode, TransparentLineArtIsCompositedOverWhite) {
  TempDir dir;
  cv::Mat rgba(90, 160, CV_8UC4, cv::Scalar(0, 0, 0, 0));  // fully transparent black
  cv::line(rgba, cv::Point(10, 45), cv::Point(150, 45), cv::Scalar(0, 0, 0, 255), 3);
  ASSERT_TRUE(cv::imwrite(dir.path("ink.png"), rgba));
  auto source = open_media(dir.path("ink.png"), DecodeOptions{});
  Frame frame;
  ASSERT_TRUE(source->next(frame));
  EXPECT_EQ(frame.luma.at(5, 5), 255);  // transparent -> white
  EXPECT_EQ(frame.luma.at(80, 45), 0);  // ink stays black
}

TEST(Decode, ImageSequencesFromDirectoriesAndPatterns) {
  TempDir dir;
  std::filesystem::create_directories(dir.path("shot"));
  for (int i = 1; i <= 48; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "shot/sc012_%04d.png", i);
    cv::Mat frame = testing::cartoon_frame(1, 1, 20.0 + i / 24.0);
    cv::resize(frame, frame, cv::Size(160, 90));
    ASSERT_TRUE(cv::imwrite(dir.path(name), frame));
  }
  testing::write_bytes(dir.path("shot/notes.txt"), "not a frame");
  // A frame number too long for a counter is not a frame (it once escaped as an internal error).
  testing::write_bytes(dir.path("shot/sc012_99999999999999999999999.png"), "not a frame");
  DecodeOptions options;
  options.sample_fps = 4;
  for (const std::string& path :
       {dir.path("shot"), dir.path("shot/sc012_%04d.png"), dir.path("shot/sc012_%d.png")}) {
    auto source = open_media(path, options);
    EXPECT_EQ(source->info().kind, MediaKind::kSequence);
    EXPECT_NEAR(source->info().duration_seconds, 2.0, 1e-9);
    std::vector<double> times;
    Frame frame;
    while (source->next(frame)) times.push_back(frame.pts_seconds);
    ASSERT_EQ(times.size(), 8u) << path;
    EXPECT_NEAR(times[1], 0.25, 1e-9);
    EXPECT_NEAR(times[7], 1.75, 1e-9);
  }
  options.sequence_fps = 12;
  EXPECT_NEAR(open_media(dir.path("shot"), options)->info().duration_seconds, 4.0, 1e-9);
}

TEST(Decode, FramesAfterASeekMatchAFullDecode) {
  // Seeking skips non-reference frames more than a second before the wanted time: the frames
  // after it must be exactly those of a decode from the start.
  TempDir dir;
  testing::write_cartoon_video(dir.path("clip.mp4"), 5, 1, 20, 8.0);
  const DecodeOptions every;
  const auto all = decode_all(dir.path("clip.mp4"), 0);
  const auto near = frames_between(dir.path("clip.mp4"), 6.0, 6.2, every);
  ASSERT_GE(near.size(), 4u);
  for (const Frame& f : near) {
    const auto same = std::find_if(all.begin(), all.end(), [&](const Frame& a) {
      return std::abs(a.pts_seconds - f.pts_seconds) < 1e-6;
    });
    ASSERT_NE(same, all.end()) << f.pts_seconds;
    EXPECT_EQ(same->luma.pixels, f.luma.pixels) << f.pts_seconds;
  }
}

TEST(Decode, SpacedFramesAfterASeekAreFramesOfAFullDecode) {
  // One frame per step of the spacing (the first decoded at or after each step of a grid that
  // starts where the decoder starts emitting, before `from`): each exactly the decoded frame at
  // its time, though the frames between are skipped (undecoded where nothing refers to them, so
  // a frame may come a few frames after its step).
  TempDir dir;
  testing::write_cartoon_video(dir.path("clip.mp4"), 5, 1, 20, 8.0);
  const auto all = decode_all(dir.path("clip.mp4"), 0);
  const auto spaced = frames_between(dir.path("clip.mp4"), 5.0, 6.0, DecodeOptions{}, 0.25);
  ASSERT_GE(spaced.size(), 3u);
  ASSERT_LE(spaced.size(), 5u);  // of the 24 frames shown from 5 to 6 s
  for (std::size_t i = 0; i < spaced.size(); ++i) {
    const Frame& f = spaced[i];
    EXPECT_GE(f.pts_seconds, 5.0 - 1e-6);
    if (i > 0) {
      EXPECT_GE(f.pts_seconds - spaced[i - 1].pts_seconds, 0.25 - 0.2) << i;
      EXPECT_LE(f.pts_seconds - spaced[i - 1].pts_seconds, 0.25 + 0.2) << i;
    }
    const auto same = std::find_if(all.begin(), all.end(), [&](const Frame& a) {
      return std::abs(a.pts_seconds - f.pts_seconds) < 1e-6;
    });
    ASSERT_NE(same, all.end()) << f.pts_seconds;
    EXPECT_EQ(same->luma.pixels, f.luma.pixels) << f.pts_seconds;
  }
}

TEST(Decode, MegamindFromOpencvDocIfInstalled) {
  const std::string path = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "opencv-doc not installed";
  const auto frames = decode_all(path, 2.0);
  EXPECT_NEAR(static_cast<double>(frames.size()), 23, 1);
  const auto damaged = "/usr/share/doc/opencv-doc/examples/data/Megamind_bugy.avi";
  auto source = open_media(damaged, DecodeOptions{});
  Frame frame;
  int count = 0;
  while (source->next(frame)) ++count;
  EXPECT_GT(count, 0);  // a damaged file gives what can be decoded
}

// A layer exported as WebM with alpha: VP9 keeps the alpha beside the picture, which FFmpeg's own
// decoder drops (the transparent page would come out black); it is read, and the page is white.
// The file is made by the ffmpeg command (.ci/install-deps installs it).
TEST(Decode, WebmLayersKeepTheirAlpha) {
  if (std::system("command -v ffmpeg > /dev/null") != 0) GTEST_SKIP() << "ffmpeg not installed";
  TempDir dir;
  const std::string path = dir.path("layer.webm");
  const std::string command =
      "ffmpeg -v error -y -nostdin -f lavfi -i color=black@0.0:s=320x180:d=1,format=rgba "
      "-f lavfi -i color=red:s=80x60:d=1,format=rgba "
      "-filter_complex '[0][1]overlay=120:60:format=auto,format=yuva420p' "
      "-c:v libvpx-vp9 -b:v 500k '" +
      path + "'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const std::vector<Frame> frames = decode_all(path, 2.0);
  ASSERT_FALSE(frames.empty());
  const Frame& f = frames.front();
  ASSERT_FALSE(f.alpha.empty());
  EXPECT_LT(f.alpha.at(0, 0), 16);                                    // transparent page
  EXPECT_GT(f.alpha.at(f.alpha.width / 2, f.alpha.height / 2), 240);  // the opaque box
  EXPECT_GT(f.luma.at(0, 0), 240);  // composited over white, not black
}

}  // namespace
}  // namespace celtrace::engine
