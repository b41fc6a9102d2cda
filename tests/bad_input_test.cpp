// Hostile and broken inputs: each must fail with a one-line MediaError, never crash or hang.
#include <random>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "engine/decode/image_reader.h"
#include "engine/errors.h"
#include "engine/fingerprinter.h"
#include "tests/test_media.h"

namespace celtrace::engine {
namespace {

using testing::TempDir;

void expect_media_error(const std::string& path, const DecodeOptions& options = {}) {
  const Fingerprinter fingerprinter(default_model());
  try {
    fingerprinter.fingerprint(path, FingerprintOptions{options});
    ADD_FAILURE() << path << ": no error";
  } catch (const MediaError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_NE(message.find(path), std::string::npos) << message;
  }
}

TEST(BadInput, MissingAndEmptyFiles) {
  TempDir dir;
  expect_media_error(dir.path("missing.mp4"));
  testing::write_bytes(dir.path("empty.mp4"), "");
  expect_media_error(dir.path("empty.mp4"));
  testing::write_bytes(dir.path("empty.png"), "");
  expect_media_error(dir.path("empty.png"));
}

TEST(BadInput, RandomBytesWithVideoAndImageExtensions) {
  TempDir dir;
  std::mt19937 random(11);
  std::string noise(200000, '\0');
  for (char& c : noise) c = static_cast<char>(random());
  for (const char* name : {"noise.mp4", "noise.mkv", "noise.avi", "noise.png", "noise.jpg"}) {
    testing::write_bytes(dir.path(name), noise);
    expect_media_error(dir.path(name));
  }
}

TEST(BadInput, TruncatedVideo) {
  TempDir dir;
  testing::write_cartoon_video(dir.path("whole.mp4"), 1, 1, 20.0, 2.0);
  const std::string bytes = testing::read_bytes(dir.path("whole.mp4"));
  // MP4 keeps its index at the end: cut it off and nothing is decodable.
  testing::write_bytes(dir.path("cut.mp4"), bytes.substr(0, bytes.size() / 2));
  expect_media_error(dir.path("cut.mp4"));
  testing::write_bytes(dir.path("header-only.mp4"), bytes.substr(0, 64));
  expect_media_error(dir.path("header-only.mp4"));
}

TEST(BadInput, ImageClaimingHugeDimensions) {
  TempDir dir;
  cv::Mat small(16, 16, CV_8UC3, cv::Scalar(1, 2, 3));
  ASSERT_TRUE(cv::imwrite(dir.path("small.png"), small));
  std::string png = testing::read_bytes(dir.path("small.png"));
  // IHDR width and height (big-endian at bytes 16 and 20) set to 100000.
  for (int offset : {16, 20}) {
    png[offset] = 0, png[offset + 1] = 0x01, png[offset + 2] = static_cast<char>(0x86),
    png[offset + 3] = static_cast<char>(0xA0);
  }
  testing::write_bytes(dir.path("huge.png"), png);
  const Fingerprinter fingerprinter(default_model());
  EXPECT_THROW(fingerprinter.fingerprint(dir.path("huge.png"), FingerprintOptions{}), LimitError);
}

// Deep pixels cost memory the pixel count does not show: a 16-bit RGBA picture takes 8 bytes a
// pixel once decoded (a 510 KB PNG of 8192x8192 once took 898 MB and 12 s). The decoded size is
// budgeted at 4 bytes per pixel of the limit, checked before the decoder allocates the picture.
TEST(BadInput, DeepPixelsCountAgainstTheLimit) {
  TempDir dir;
  ASSERT_TRUE(cv::imwrite(dir.path("deep.png"), cv::Mat(600, 600, CV_16UC4, cv::Scalar::all(900))));
  ASSERT_TRUE(cv::imwrite(dir.path("plain.png"), cv::Mat(600, 600, CV_8UC4, cv::Scalar::all(90))));
  Limits limits;
  limits.max_pixels = 400'000;  // 360,000 pixels: inside; 1.6 MB budget: 8-bit RGBA fits
  EXPECT_EQ(read_picture(dir.path("plain.png"), limits).luma.width, 600);
  try {
    read_picture(dir.path("deep.png"), limits);
    ADD_FAILURE() << "a 16-bit picture over the byte budget was decoded";
  } catch (const LimitError& e) {
    EXPECT_NE(std::string(e.what()).find("needs 2 MB, above the 1 MB allowed"), std::string::npos)
        << e.what();
  }
  limits.max_pixels = 800'000;
  EXPECT_EQ(read_picture(dir.path("deep.png"), limits).luma.width, 600);
}

// Pictures are converted within 4096 px: a wide background plate keeps its shape.
TEST(BadInput, VeryLargePicturesAreBroughtWithin4096Pixels) {
  TempDir dir;
  ASSERT_TRUE(
      cv::imwrite(dir.path("wide.png"), cv::Mat(300, 6000, CV_8UC3, cv::Scalar(0, 0, 255))));
  const StillPicture picture = read_picture(dir.path("wide.png"), Limits{});
  EXPECT_EQ(picture.luma.width, 4096);
  EXPECT_EQ(picture.luma.height, 205);
  EXPECT_NEAR(picture.luma.pixels[100], 76, 1);  // red: 0.299 * 255
}

// Found by fuzzing: a BMP height of INT32_MIN (top-down rows) was negated in 32 bits, undefined
// behaviour that came out as a negative height. It is a huge picture, refused by the limit.
TEST(BadInput, BmpHeightOfInt32MinIsHuge) {
  TempDir dir;
  ASSERT_TRUE(cv::imwrite(dir.path("small.bmp"), cv::Mat(4, 4, CV_8UC3, cv::Scalar::all(7))));
  std::string bmp = testing::read_bytes(dir.path("small.bmp"));
  bmp[22] = bmp[23] = bmp[24] = 0, bmp[25] = static_cast<char>(0x80);
  testing::write_bytes(dir.path("tall.bmp"), bmp);
  const auto size = read_image_size(dir.path("tall.bmp"));
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(size->height, INT32_MAX);
  EXPECT_THROW(read_picture(dir.path("tall.bmp"), Limits{}), LimitError);
}

TEST(BadInput, VideoHeaderLyingAboutFrameSize) {
  TempDir dir;
  engine::EncoderOptions options;
  options.codec = "mjpeg";
  options.quality = 5;
  testing::write_cartoon_video(dir.path("clip.avi"), 1, 1, 20.0, 1.0, options, 160);
  std::string avi = testing::read_bytes(dir.path("clip.avi"));
  // Patch every little-endian 160 x 90 pair (AVI main header and BITMAPINFOHEADER) to 60000 x
  // 60000.
  int patched = 0;
  for (std::size_t i = 0; i + 8 <= avi.size() && i < 4096; ++i) {
    if (static_cast<unsigned char>(avi[i]) == 160 && avi[i + 1] == 0 && avi[i + 2] == 0 &&
        avi[i + 3] == 0 && avi[i + 4] == 90 && avi[i + 5] == 0 && avi[i + 6] == 0 &&
        avi[i + 7] == 0) {
      for (std::size_t k : {i, i + 4}) {
        avi[k] = static_cast<char>(0x60), avi[k + 1] = static_cast<char>(0xEA), avi[k + 2] = 0,
        avi[k + 3] = 0;
      }
      ++patched;
    }
  }
  ASSERT_GE(patched, 1);
  testing::write_bytes(dir.path("liar.avi"), avi);
  // Either refused, or decoded at the size the pictures really have: never 3.6 Gpixel buffers.
  const Fingerprinter fingerprinter(default_model());
  try {
    const Fingerprint result =
        fingerprinter.fingerprint(dir.path("liar.avi"), FingerprintOptions{});
    EXPECT_LE(static_cast<std::int64_t>(result.media.width) * result.media.height, 160 * 90);
    EXPECT_FALSE(result.samples.empty());
  } catch (const MediaError& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

TEST(BadInput, DirectoryWithoutFramesAndBadPatterns) {
  TempDir dir;
  std::filesystem::create_directories(dir.path("empty-dir"));
  testing::write_bytes(dir.path("empty-dir/readme.txt"), "nothing here");
  expect_media_error(dir.path("empty-dir"));
  expect_media_error(dir.path("empty-dir/frame_%04d.png"));
}

TEST(BadInput, LimitsAreConfigurable) {
  TempDir dir;
  testing::write_cartoon_video(dir.path("clip.mp4"), 1, 1, 20.0, 2.0);
  DecodeOptions tight;
  tight.limits.max_pixels = 100 * 100;
  EXPECT_THROW(
      Fingerprinter(default_model()).fingerprint(dir.path("clip.mp4"), FingerprintOptions{tight}),
      LimitError);
  tight = DecodeOptions{};
  tight.limits.max_duration_seconds = 1.0;
  EXPECT_THROW(
      Fingerprinter(default_model()).fingerprint(dir.path("clip.mp4"), FingerprintOptions{tight}),
      LimitError);
  tight = DecodeOptions{};
  tight.limits.max_frames = 10;
  EXPECT_THROW(
      Fingerprinter(default_model()).fingerprint(dir.path("clip.mp4"), FingerprintOptions{tight}),
      LimitError);
}

}  // namespace
}  // namespace celtrace::engine
