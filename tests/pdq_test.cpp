#include "engine/pdq.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/errors.h"
#include "engine/fingerprinter.h"
#include "engine/vpdq.h"
#include "tests/test_media.h"

namespace celtrace::engine {
namespace {

const std::string kVectors = CELTRACE_PDQ_VECTORS_DIR;
const std::string kVideoVectors = CELTRACE_VPDQ_VECTORS_DIR;

struct Expected {
  std::string file;
  std::string hex;
  int quality;
};

std::vector<Expected> expected_vectors() {
  std::ifstream in(kVectors + "/expected.csv");
  std::vector<Expected> rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    Expected row;
    std::string quality;
    std::getline(fields, row.file, ',');
    std::getline(fields, row.hex, ',');
    std::getline(fields, quality, ',');
    row.quality = std::stoi(quality);
    rows.push_back(row);
  }
  return rows;
}

PdqHash hash_of_file(const std::string& path, int* quality = nullptr) {
  const Fingerprinter fingerprinter(default_model());
  const Fingerprint fingerprint = fingerprinter.fingerprint(path, FingerprintOptions{});
  EXPECT_EQ(fingerprint.samples.size(), 1u);
  if (quality) *quality = fingerprint.samples.at(0).quality;
  return fingerprint.samples.at(0).pdq;
}

TEST(PdqHash, HexRoundTripAndBitOrder) {
  const std::string hex = "e4cc89d91c623842f8d1f1d9a398e78c9f199a3bf87925f2b7e11e0bf061b064";
  EXPECT_EQ(PdqHash::from_hex(hex).hex(), hex);
  // Bit 0 is the lowest bit of the last hex digit (word 0 is printed last).
  PdqHash one;
  one.bytes[0] = 1;
  EXPECT_EQ(one.hex(), std::string(63, '0') + "1");
  EXPECT_EQ(one.distance(PdqHash{}), 1);
  EXPECT_EQ(PdqHash::from_hex(hex).distance(PdqHash::from_hex(hex)), 0);
  EXPECT_THROW(PdqHash::from_hex("xyz"), UsageError);
}

TEST(Pdq, FlatImageHasZeroQuality) {
  const GrayImage gray(64, 64, 128);
  EXPECT_EQ(pdq_from_image(gray).quality, 0);
}

TEST(Pdq, StripesHaveFullQualityAndOrientationMatters) {
  GrayImage vertical(128, 128), horizontal(128, 128);
  for (int y = 0; y < 128; ++y) {
    for (int x = 0; x < 128; ++x) {
      vertical.at(x, y) = ((x / 8) % 2) ? 230 : 20;
      horizontal.at(x, y) = ((y / 8) % 2) ? 230 : 20;
    }
  }
  const PdqResult a = pdq_from_image(vertical), b = pdq_from_image(horizontal);
  EXPECT_EQ(a.quality, 100);
  EXPECT_EQ(b.quality, 100);
  EXPECT_GT(a.hash.distance(b.hash), 32);
}

// Conformance with the industry's PDQ: every reference image of quality >= 80 hashes within
// 10 bits of its published hash (the accepted tolerance between implementations, whose image
// decoders and resamplers differ), and low-detail images report low quality.
TEST(PdqConformance, MatchesReferenceVectors) {
  ASSERT_TRUE(std::filesystem::exists(kVectors + "/expected.csv")) << "missing " << kVectors;
  int checked = 0, worst = 0, exact = 0;
  for (const Expected& row : expected_vectors()) {
    int quality = 0;
    const PdqHash hash = hash_of_file(kVectors + "/images/" + row.file, &quality);
    if (row.quality >= 80) {
      const int distance = hash.distance(PdqHash::from_hex(row.hex));
      EXPECT_LE(distance, 10) << row.file;
      EXPECT_GE(quality, 80) << row.file;
      worst = std::max(worst, distance);
      exact += distance == 0;
      ++checked;
    } else {
      EXPECT_LT(quality, 50) << row.file << " is low-detail and must report low quality";
    }
  }
  EXPECT_GE(checked, 20);
  std::printf("PDQ conformance: %d images of quality >= 80, %d exact, worst %d bits\n", checked,
              exact, worst);
}

// The mirrored hash derived from the DCT agrees with hashing the mirrored image, and with the
// reference tool's hash of the mirrored photo (its "flipy"), to within PDQ's usual match radius:
// the tent filter's even-width windows and the decimation grid are not mirror-symmetric, which
// moves the sampled picture by about one pixel and flips the bits nearest the median.
TEST(PdqConformance, MirroredHashFromDct) {
  const cv::Mat photo = cv::imread(kVectors + "/images/bridge-1-original.jpg");
  ASSERT_FALSE(photo.empty());
  cv::Mat small;
  cv::resize(photo, small, cv::Size(512, 321), 0, 0, cv::INTER_AREA);
  cv::Mat mirrored;
  cv::flip(small, mirrored, 1);
  const PdqResult original = pdq_from_image(testing::to_luma(small));
  const PdqResult flipped = pdq_from_image(testing::to_luma(mirrored));
  EXPECT_LE(pdq_mirrored(original.dct).distance(flipped.hash), 24);
  EXPECT_GT(original.hash.distance(flipped.hash), 64);
  const PdqHash reference_flip =
      PdqHash::from_hex("2da9259bb1a1bd1a5362576552da32a5e63b7380c2774b4866b346c91b89ce77");
  EXPECT_LE(pdq_mirrored(original.dct).distance(reference_flip), 24);
}

std::vector<VpdqFeature> read_vpdq_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<VpdqFeature> features;
  std::string line;
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string number, quality, hex, seconds;
    std::getline(fields, number, ',');
    std::getline(fields, quality, ',');
    std::getline(fields, hex, ',');
    std::getline(fields, seconds, ',');
    features.push_back(
        {std::stoll(number), std::stoi(quality), PdqHash::from_hex(hex), std::stod(seconds)});
  }
  return features;
}

// Conformance with Meta's vPDQ (vpdq-hash-video of ThreatExchange, run on the shared vectors
// with -r 0 and -r 1): the same frames chosen and numbered, the same timestamps and quality, and
// the hashes within PDQ's matching tolerance; a dark picture and letterbox bars are hashed whole.
TEST(VpdqConformance, AgreesWithMetasToolOnTheReferenceVideos) {
  const std::pair<const char*, double> rates[] = {{"every-frame", 0.0}, {"1s", 1.0}};
  int frames = 0, within_10_bits = 0;
  std::vector<int> distances;
  for (const auto& entry : std::filesystem::directory_iterator(kVideoVectors + "/videos")) {
    const std::string stem = entry.path().stem().string();
    for (const auto& [name, seconds_per_hash] : rates) {
      const auto expected =
          read_vpdq_lines(kVideoVectors + "/expected/" + stem + "." + name + ".txt");
      ASSERT_FALSE(expected.empty()) << stem << " " << name;
      const VpdqHashes ours = vpdq_hash_video(entry.path().string(), seconds_per_hash, Limits{});
      ASSERT_EQ(ours.features.size(), expected.size()) << stem << " " << name;
      for (std::size_t i = 0; i < expected.size(); ++i) {
        const VpdqFeature& mine = ours.features[i];
        EXPECT_EQ(mine.frame_number, expected[i].frame_number) << stem;
        EXPECT_NEAR(mine.timestamp_seconds, expected[i].timestamp_seconds, 0.0005) << stem;
        EXPECT_NEAR(mine.quality, expected[i].quality, 2) << stem;
        const int distance = mine.hash.distance(expected[i].hash);
        distances.push_back(distance);
        within_10_bits += distance <= 10;
        ++frames;
      }
    }
  }
  ASSERT_GE(frames, 450);
  std::sort(distances.begin(), distances.end());
  const int median = distances[distances.size() / 2];
  EXPECT_GE(within_10_bits, frames * 95 / 100);
  EXPECT_LE(median, 4);
  std::printf("vPDQ conformance: %d frames, %d within 10 bits, %d identical, median %d, worst %d\n",
              frames, within_10_bits,
              static_cast<int>(std::count(distances.begin(), distances.end(), 0)), median,
              distances.back());
}

// What libraries store for hash-only lookups (FingerprintOptions::whole_frame_pdq: the luma plane
// as decoded, not Meta's RGB): every frame of the reference videos against Meta's hashes.
TEST(VpdqConformance, LibraryFramesCarryHashesMetasToolAgreesWith) {
  const Fingerprinter fingerprinter(default_model());
  FingerprintOptions options;
  options.decode.sample_fps = 0;
  options.whole_frame_pdq_interval = 1e-6;  // every frame
  std::vector<int> distances;
  for (const auto& entry : std::filesystem::directory_iterator(kVideoVectors + "/videos")) {
    const std::string stem = entry.path().stem().string();
    const auto expected = read_vpdq_lines(kVideoVectors + "/expected/" + stem + ".every-frame.txt");
    const Fingerprint print = fingerprinter.fingerprint(entry.path().string(), options);
    ASSERT_EQ(print.samples.size(), expected.size()) << stem;
    for (std::size_t i = 0; i < expected.size(); ++i)
      distances.push_back(print.samples[i].pdq.distance(expected[i].hash));
  }
  std::sort(distances.begin(), distances.end());
  const auto within_10 =
      std::count_if(distances.begin(), distances.end(), [](int d) { return d <= 10; });
  EXPECT_GE(within_10 * 100, static_cast<long>(distances.size()) * 95);
  EXPECT_LE(distances[distances.size() / 2], 4);
  std::printf("library PDQ against Meta's: %zu frames, %ld within 10 bits, median %d, worst %d\n",
              distances.size(), static_cast<long>(within_10), distances[distances.size() / 2],
              distances.back());
}

TEST(Vpdq, FilesAreReadAndDamageIsNamedByLine) {
  const testing::TempDir dir;
  const std::string hex = "0f7800bdbc026fb021fe4427ae0117e382f7b00bbac4df78b21ddc2eda3cbd38";
  const auto file_with = [&](const std::string& text) {
    std::ofstream(dir.path("h.vpdq")) << text;
    return dir.path("h.vpdq");
  };
  const auto read = load_vpdq(file_with("0,100," + hex + ",0.000\r\n\n25,49," + hex + ",1.000\n"));
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[1].frame_number, 25);
  EXPECT_EQ(read[1].quality, 49);
  EXPECT_DOUBLE_EQ(read[1].timestamp_seconds, 1.0);
  EXPECT_EQ(read[1].hash.hex(), hex);
  const std::pair<std::string, std::string> damaged[] = {
      {"0,100," + hex + ",0.0\n1,100,abc,0.04\n", "line 2"},
      {"0,100," + hex + "\n", "not 4 fields"},
      {"0,100," + hex + ",0.0,extra\n", "not 4 fields"},
      {"0,101," + hex + ",0.0\n", "quality"},
      {"-3,100," + hex + ",0.0\n", "frame number"},
      {"0,100," + hex + ",-1e25\n", "timestamp"},
      {"0,100," + hex + ",nan\n", "timestamp"},
      {"\n\n", "no vPDQ lines"},
  };
  for (const auto& [text, said] : damaged) {
    try {
      load_vpdq(file_with(text));
      ADD_FAILURE() << "accepted: " << text;
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(said), std::string::npos) << e.what();
    }
  }
}

TEST(VpdqConformance, LinesAreWrittenAsMetasToolWritesThem) {
  VpdqFeature feature{
      25, 100,
      PdqHash::from_hex("0f7800bdbc026fb021fe4427ae0117e382f7b00bbac4df78b21ddc2eda3cbd38"), 1.0};
  EXPECT_EQ(to_vpdq_line(feature),
            "25,100,0f7800bdbc026fb021fe4427ae0117e382f7b00bbac4df78b21ddc2eda3cbd38,1.000");
}

}  // namespace
}  // namespace celtrace::engine
