#include "engine/fingerprint.h"

#include <cmath>

#include <gtest/gtest.h>

#include "engine/errors.h"

namespace celtrace::engine {
namespace {

Fingerprint example() {
  Fingerprint f;
  f.media.path = "clips/shot 1.mp4";
  f.media.kind = MediaKind::kVideo;
  f.media.format = "mov,mp4";
  f.media.codec = "h264";
  f.media.width = 640;
  f.media.height = 360;
  f.media.frame_rate = 23.976;
  f.media.duration_seconds = 12.5;
  f.media.warnings = {"3 undecodable packets skipped"};
  f.model_id = "ctd1-test";
  f.descriptor_size = 3;
  f.sample_fps = 2;
  for (int i = 0; i < 4; ++i) {
    Sample s;
    s.pts_seconds = i * 0.5;
    s.pdq.bytes[i] = static_cast<std::uint8_t>(0xA0 + i);
    s.quality = 90 + i;
    s.detail = 3.5f + i;
    s.descriptor = {0.6f, 0.8f * i, -0.1f};
    f.samples.push_back(s);
  }
  return f;
}

TEST(Fingerprint, RoundTripsEveryField) {
  const Fingerprint original = example();
  const Fingerprint copy = parse_fingerprint(serialise(original), "memory");
  EXPECT_EQ(copy.media.path, original.media.path);
  EXPECT_EQ(copy.media.kind, original.media.kind);
  EXPECT_EQ(copy.media.codec, "h264");
  EXPECT_EQ(copy.media.width, 640);
  EXPECT_DOUBLE_EQ(copy.media.frame_rate, 23.976);
  EXPECT_EQ(copy.media.warnings, original.media.warnings);
  EXPECT_EQ(copy.model_id, "ctd1-test");
  ASSERT_EQ(copy.samples.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(copy.samples[i].pts_seconds, original.samples[i].pts_seconds);
    EXPECT_EQ(copy.samples[i].pdq, original.samples[i].pdq);
    EXPECT_EQ(copy.samples[i].quality, original.samples[i].quality);
    EXPECT_FLOAT_EQ(copy.samples[i].detail, original.samples[i].detail);
    EXPECT_EQ(copy.samples[i].descriptor, original.samples[i].descriptor);
  }
}

TEST(Fingerprint, DetectsEveryCorruptedByte) {
  const auto bytes = serialise(example());
  for (std::size_t i = 0; i < bytes.size(); i += 7) {
    auto corrupted = bytes;
    corrupted[i] ^= 0x10;
    EXPECT_THROW(parse_fingerprint(corrupted, "corrupt"), FormatError) << "byte " << i;
  }
}

TEST(Fingerprint, RejectsTruncationAndForeignFiles) {
  const auto bytes = serialise(example());
  for (std::size_t size : {std::size_t{0}, std::size_t{3}, bytes.size() / 2, bytes.size() - 1}) {
    EXPECT_THROW(
        parse_fingerprint(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + size), "cut"),
        FormatError);
  }
  const std::vector<std::uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ',
                                          'w', 'o', 'r', 'l', 'd', '!'};
  EXPECT_THROW(parse_fingerprint(text, "text"), FormatError);
}

// Found by fuzzing: a descriptor size of 0 was accepted (and its empty descriptors copied from a
// null pointer, which UBSan reports); sizes read as negative ints relied on a later check.
TEST(Fingerprint, RejectsImplausibleDescriptorSizes) {
  Fingerprint empty = example();
  empty.descriptor_size = 0;
  for (Sample& s : empty.samples) s.descriptor.clear();
  EXPECT_THROW(parse_fingerprint(serialise(empty), "zero"), FormatError);
}

TEST(Fingerprint, RejectsTimesNoMediaHas) {
  for (double seconds : {-1e25, 1e300, std::nan(""), -0.5}) {
    Fingerprint damaged = example();
    damaged.samples.back().pts_seconds = seconds;
    EXPECT_THROW(parse_fingerprint(serialise(damaged), "time"), FormatError) << seconds;
    damaged = example();
    damaged.media.duration_seconds = seconds;
    EXPECT_THROW(parse_fingerprint(serialise(damaged), "duration"), FormatError) << seconds;
  }
}

}  // namespace
}  // namespace celtrace::engine
