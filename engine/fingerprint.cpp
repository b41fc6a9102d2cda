#include "engine/fingerprint.h"

#include "engine/binary_io.h"

namespace celtrace::engine {
namespace {

constexpr char kMagic[8] = {'C', 'T', 'F', 'P', 'R', 'N', 'T', '1'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr std::uint32_t kMaxDescriptorSize = 4096;

}  // namespace

std::vector<std::uint8_t> serialise(const Fingerprint& fingerprint) {
  BinaryWriter writer;
  writer.put_raw(reinterpret_cast<const std::uint8_t*>(kMagic), sizeof kMagic);
  writer.put<std::uint32_t>(kFormatVersion);
  const MediaInfo& media = fingerprint.media;
  writer.put_string(media.path);
  writer.put<std::uint8_t>(static_cast<std::uint8_t>(media.kind));
  writer.put_string(media.format);
  writer.put_string(media.codec);
  writer.put<std::int32_t>(media.width);
  writer.put<std::int32_t>(media.height);
  writer.put<double>(media.frame_rate);
  writer.put<double>(media.duration_seconds);
  writer.put<std::uint32_t>(static_cast<std::uint32_t>(media.warnings.size()));
  for (const auto& warning : media.warnings) writer.put_string(warning);
  writer.put_string(fingerprint.model_id);
  writer.put<std::uint32_t>(static_cast<std::uint32_t>(fingerprint.descriptor_size));
  writer.put<double>(fingerprint.sample_fps);
  writer.put<std::uint64_t>(fingerprint.samples.size());
  for (const Sample& sample : fingerprint.samples) {
    writer.put<double>(sample.pts_seconds);
    writer.put_raw(sample.pdq.bytes.data(), sample.pdq.bytes.size());
    writer.put<std::uint8_t>(static_cast<std::uint8_t>(sample.quality));
    writer.put<float>(sample.detail);
    writer.put_floats(sample.descriptor);
  }
  return writer.finish();
}

Fingerprint parse_fingerprint(const std::vector<std::uint8_t>& bytes, const std::string& what) {
  BinaryReader reader(bytes, what);
  if (std::memcmp(reader.take(sizeof kMagic), kMagic, sizeof kMagic) != 0) {
    reader.fail("not a celtrace fingerprint");
  }
  if (const auto version = reader.get<std::uint32_t>(); version != kFormatVersion) {
    reader.fail("fingerprint format version " + std::to_string(version) + " is not supported");
  }
  Fingerprint fingerprint;
  MediaInfo& media = fingerprint.media;
  media.path = reader.get_string();
  const auto kind = reader.get<std::uint8_t>();
  if (kind > static_cast<std::uint8_t>(MediaKind::kSequence)) reader.fail("bad media kind");
  media.kind = static_cast<MediaKind>(kind);
  media.format = reader.get_string();
  media.codec = reader.get_string();
  media.width = reader.get<std::int32_t>();
  media.height = reader.get<std::int32_t>();
  media.frame_rate = reader.get<double>();
  media.duration_seconds = reader.get<double>();
  if (!plausible_seconds(media.frame_rate) || !plausible_seconds(media.duration_seconds))
    reader.fail("implausible frame rate or duration");
  const auto warnings = reader.get<std::uint32_t>();
  if (warnings > 1000) reader.fail("implausible warning count");
  for (std::uint32_t i = 0; i < warnings; ++i) media.warnings.push_back(reader.get_string());
  fingerprint.model_id = reader.get_string(256);
  const auto descriptor_size = reader.get<std::uint32_t>();
  if (descriptor_size == 0 || descriptor_size > kMaxDescriptorSize)
    reader.fail("implausible descriptor size");
  fingerprint.descriptor_size = static_cast<int>(descriptor_size);
  fingerprint.sample_fps = reader.get<double>();
  if (!plausible_seconds(fingerprint.sample_fps)) reader.fail("implausible sampling rate");
  const auto count = reader.get<std::uint64_t>();
  const std::size_t per_sample =
      8 + 32 + 1 + 4 + 4 * static_cast<std::size_t>(fingerprint.descriptor_size);
  if (count > bytes.size() / per_sample) reader.fail("sample count larger than the file");
  fingerprint.samples.resize(count);
  for (Sample& sample : fingerprint.samples) {
    sample.pts_seconds = reader.get<double>();
    if (!plausible_seconds(sample.pts_seconds)) reader.fail("implausible sample time");
    std::memcpy(sample.pdq.bytes.data(), reader.take(32), 32);
    sample.quality = reader.get<std::uint8_t>();
    sample.detail = reader.get<float>();
    sample.descriptor = reader.get_floats(fingerprint.descriptor_size);
  }
  if (!reader.at_end()) reader.fail("trailing data");
  return fingerprint;
}

void save_fingerprint(const Fingerprint& fingerprint, const std::string& path) {
  write_file_atomically(path, serialise(fingerprint));
}

Fingerprint load_fingerprint(const std::string& path) {
  return parse_fingerprint(read_file_bytes(path, std::size_t{4} << 30), path);
}

}  // namespace celtrace::engine
