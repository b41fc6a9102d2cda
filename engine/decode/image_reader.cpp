#include "engine/decode/image_reader.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <vector>

#include "engine/decode/still_decoder.h"
#include "engine/errors.h"
#include "engine/sampler.h"

namespace celtrace::engine {
namespace {

namespace fs = std::filesystem;

std::uint32_t be16(const std::uint8_t* p) {
  return (p[0] << 8) | p[1];
}
std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}
std::uint32_t le16(const std::uint8_t* p) {
  return p[0] | (p[1] << 8);
}
std::uint32_t le32(const std::uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t{p[3]} << 24);
}

std::optional<ImageSize> jpeg_size(std::ifstream& in) {
  in.seekg(2);
  std::uint8_t marker[4];
  while (in.read(reinterpret_cast<char*>(marker), 4)) {
    if (marker[0] != 0xFF) return std::nullopt;
    const std::uint8_t type = marker[1];
    const std::uint32_t length = be16(marker + 2);
    const bool start_of_frame =
        type >= 0xC0 && type <= 0xCF && type != 0xC4 && type != 0xC8 && type != 0xCC;
    if (start_of_frame) {
      std::uint8_t sof[5];
      if (!in.read(reinterpret_cast<char*>(sof), 5)) return std::nullopt;
      return ImageSize{static_cast<int>(be16(sof + 3)), static_cast<int>(be16(sof + 1))};
    }
    if (length < 2) return std::nullopt;
    in.seekg(length - 2, std::ios::cur);
  }
  return std::nullopt;
}

std::optional<ImageSize> tiff_size(std::ifstream& in, bool little_endian) {
  auto u16 = [&](const std::uint8_t* p) { return little_endian ? le16(p) : be16(p); };
  auto u32 = [&](const std::uint8_t* p) { return little_endian ? le32(p) : be32(p); };
  std::uint8_t header[8];
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(header), 8)) return std::nullopt;
  in.seekg(u32(header + 4));
  std::uint8_t count_bytes[2];
  if (!in.read(reinterpret_cast<char*>(count_bytes), 2)) return std::nullopt;
  const std::uint32_t count = std::min<std::uint32_t>(u16(count_bytes), 4096);
  ImageSize size;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint8_t entry[12];
    if (!in.read(reinterpret_cast<char*>(entry), 12)) break;
    const std::uint32_t tag = u16(entry), type = u16(entry + 2);
    const std::uint32_t value = type == 3 ? u16(entry + 8) : u32(entry + 8);
    if (tag == 256) size.width = static_cast<int>(std::min<std::uint32_t>(value, INT32_MAX));
    if (tag == 257) size.height = static_cast<int>(std::min<std::uint32_t>(value, INT32_MAX));
  }
  if (size.width > 0 && size.height > 0) return size;
  return std::nullopt;
}

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext;
}

void check_size(const std::string& path, const ImageSize& size, const Limits& limits) {
  if (size.width <= 0 || size.height <= 0) {
    throw MediaError(path + ": image header declares an empty size");
  }
  if (static_cast<std::int64_t>(size.width) * size.height > limits.max_pixels) {
    throw LimitError(path + ": image size " + std::to_string(size.width) + "x" +
                     std::to_string(size.height) + " exceeds the limit of " +
                     std::to_string(limits.max_pixels) + " pixels");
  }
}

class StillSource final : public FrameSource {
 public:
  StillSource(const std::string& path, const DecodeOptions& options) {
    info_.path = path;
    info_.kind = MediaKind::kImage;
    info_.format =
        lower_extension(path).substr(std::min<std::size_t>(1, lower_extension(path).size()));
    StillPicture picture = read_picture(path, options.limits, options.colour);
    info_.width = picture.luma.width;
    info_.height = picture.luma.height;
    frame_.luma = fit_within(picture.luma, options.still_analysis_size);
    frame_.alpha = fit_within(picture.alpha, options.still_analysis_size);
    frame_.colour = fit_within(picture.colour, options.still_analysis_size);
  }
  const MediaInfo& info() const override { return info_; }
  bool next(Frame& frame) override {
    if (done_) return false;
    done_ = true;
    frame = std::move(frame_);
    return true;
  }

 private:
  MediaInfo info_;
  Frame frame_;
  bool done_ = false;
};

struct NumberedFile {
  std::int64_t number;
  std::string path;
};

class SequenceSource final : public FrameSource {
 public:
  SequenceSource(std::string display_path, std::vector<NumberedFile> files,
                 const DecodeOptions& options)
      : options_(options), files_(std::move(files)), sampler_(options.sample_fps) {
    info_.path = std::move(display_path);
    info_.kind = MediaKind::kSequence;
    info_.format = lower_extension(files_.front().path).substr(1) + " sequence";
    info_.frame_rate = options.sequence_fps;
    const std::int64_t span = files_.back().number - files_.front().number + 1;
    info_.duration_seconds = static_cast<double>(span) / options.sequence_fps;
    if (static_cast<std::int64_t>(files_.size()) > options.limits.max_frames) {
      throw LimitError(info_.path + ": " + std::to_string(files_.size()) +
                       " frames exceed the limit of " + std::to_string(options.limits.max_frames));
    }
    if (info_.duration_seconds > options.limits.max_duration_seconds) {
      throw LimitError(info_.path + ": sequence duration exceeds the limit");
    }
  }
  const MediaInfo& info() const override { return info_; }
  bool next(Frame& frame) override {
    while (position_ < files_.size()) {
      const NumberedFile& file = files_[position_++];
      const double t =
          static_cast<double>(file.number - files_.front().number) / options_.sequence_fps;
      if (!sampler_.take(t)) continue;
      frame.pts_seconds = t;
      StillPicture picture = read_picture(file.path, options_.limits, options_.colour);
      frame.luma = fit_within(picture.luma, options_.analysis_size);
      frame.alpha = fit_within(picture.alpha, options_.analysis_size);
      frame.colour = fit_within(picture.colour, options_.analysis_size);
      frame.detail = options_.detail_size > options_.analysis_size
                         ? fit_within(picture.luma, options_.detail_size)
                         : GrayImage();
      if (info_.width == 0) {
        info_.width = frame.luma.width;
        info_.height = frame.luma.height;
      }
      return true;
    }
    return false;
  }

 private:
  DecodeOptions options_;
  std::vector<NumberedFile> files_;
  FrameSampler sampler_;
  MediaInfo info_;
  std::size_t position_ = 0;
};

}  // namespace

std::optional<ImageSize> read_image_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::array<std::uint8_t, 32> head{};
  in.read(reinterpret_cast<char*>(head.data()), head.size());
  const auto got = in.gcount();
  in.clear();
  const std::uint8_t* h = head.data();
  if (got >= 24 && be32(h) == 0x89504E47 && be32(h + 12) == 0x49484452) {  // PNG, IHDR
    return ImageSize{static_cast<int>(std::min<std::uint32_t>(be32(h + 16), INT32_MAX)),
                     static_cast<int>(std::min<std::uint32_t>(be32(h + 20), INT32_MAX))};
  }
  if (got >= 4 && h[0] == 0xFF && h[1] == 0xD8) return jpeg_size(in);
  if (got >= 26 && h[0] == 'B' && h[1] == 'M') {
    // Negative height: rows stored top-down. Widened before negating, as -INT32_MIN overflows.
    const std::int64_t height = static_cast<std::int32_t>(le32(h + 22));
    return ImageSize{
        static_cast<int>(std::min<std::uint32_t>(le32(h + 18), INT32_MAX)),
        static_cast<int>(std::min<std::int64_t>(height < 0 ? -height : height, INT32_MAX))};
  }
  if (got >= 10 && std::equal(h, h + 4, "GIF8")) {
    return ImageSize{static_cast<int>(le16(h + 6)), static_cast<int>(le16(h + 8))};
  }
  if (got >= 30 && std::equal(h, h + 4, "RIFF") && std::equal(h + 8, h + 12, "WEBP")) {
    if (std::equal(h + 12, h + 16, "VP8 ")) {
      return ImageSize{static_cast<int>(le16(h + 26) & 0x3FFF),
                       static_cast<int>(le16(h + 28) & 0x3FFF)};
    }
    if (std::equal(h + 12, h + 16, "VP8L")) {
      const std::uint32_t bits = le32(h + 21);
      return ImageSize{static_cast<int>((bits & 0x3FFF) + 1),
                       static_cast<int>(((bits >> 14) & 0x3FFF) + 1)};
    }
    if (std::equal(h + 12, h + 16, "VP8X")) {
      return ImageSize{static_cast<int>((h[24] | (h[25] << 8) | (h[26] << 16)) + 1),
                       static_cast<int>((h[27] | (h[28] << 8) | (h[29] << 16)) + 1)};
    }
    return std::nullopt;
  }
  if (got >= 8 && h[0] == 'I' && h[1] == 'I' && h[2] == 42 && h[3] == 0) return tiff_size(in, true);
  if (got >= 8 && h[0] == 'M' && h[1] == 'M' && h[2] == 0 && h[3] == 42)
    return tiff_size(in, false);
  if (got >= 18 && lower_extension(path) == ".tga") {
    return ImageSize{static_cast<int>(le16(h + 12)), static_cast<int>(le16(h + 14))};
  }
  return std::nullopt;
}

StillPicture read_picture(const std::string& path, const Limits& limits, bool colour) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) throw MediaError(path + ": not a readable file");
  if (fs::file_size(path, error) == 0) throw MediaError(path + ": empty file");
  const auto declared = read_image_size(path);
  if (declared) check_size(path, *declared, limits);
  return decode_still(path, limits.max_pixels, colour);
}

std::unique_ptr<FrameSource> open_image(const std::string& path, const DecodeOptions& options) {
  return std::make_unique<StillSource>(path, options);
}

std::unique_ptr<FrameSource> open_sequence(const std::string& path, const DecodeOptions& options) {
  std::vector<NumberedFile> files;
  std::error_code error;
  if (fs::is_directory(path, error)) {
    // Group numbered image files by (prefix, extension); the largest group is the sequence.
    std::map<std::pair<std::string, std::string>, std::vector<NumberedFile>> groups;
    for (const auto& entry : fs::directory_iterator(path, error)) {
      if (!entry.is_regular_file(error)) continue;
      const std::string name = entry.path().filename().string();
      if (!has_image_extension(name)) continue;
      if (const auto parts = split_frame_number(name)) {
        groups[{parts->prefix, parts->extension}].push_back(
            {std::stoll(parts->digits), entry.path().string()});
      }
    }
    if (error) throw MediaError(path + ": cannot list directory (" + error.message() + ")");
    for (auto& [key, group] : groups) {
      if (group.size() > files.size()) files = std::move(group);
    }
    if (files.empty()) throw MediaError(path + ": directory holds no numbered image frames");
  } else {
    // printf pattern: the directory part is literal, the file part has one %d / %0Nd.
    const fs::path pattern_path(path);
    const std::string file_pattern = pattern_path.filename().string();
    static const std::regex printf_field(R"(%0?(\d*)d)");
    std::smatch field;
    if (!std::regex_search(file_pattern, field, printf_field)) {
      throw UsageError(path + ": not a frame pattern (expected e.g. shot_%04d.png)");
    }
    const std::string width = field[1].str();
    // At most 12 digits, as for frame folders: a longer run is not a frame number (and would not
    // fit the counter).
    if (!width.empty() && width.size() > 2) throw UsageError(path + ": frame number too wide");
    const std::string digits = width.empty() ? R"((\d{1,12}))" : "(\\d{" + width + ",12})";
    auto escape = [](const std::string& text) {
      static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
      return std::regex_replace(text, special, R"(\$&)");
    };
    const std::regex file_regex(escape(field.prefix().str()) + digits +
                                escape(field.suffix().str()));
    fs::path dir = pattern_path.parent_path();
    if (dir.empty()) dir = ".";
    for (const auto& entry : fs::directory_iterator(dir, error)) {
      std::smatch match;
      const std::string name = entry.path().filename().string();
      if (std::regex_match(name, match, file_regex) && entry.is_regular_file(error)) {
        files.push_back({std::stoll(match[1].str()), entry.path().string()});
      }
    }
    if (error) throw MediaError(dir.string() + ": cannot list directory (" + error.message() + ")");
    if (files.empty()) throw MediaError(path + ": no files match the frame pattern");
  }
  std::sort(files.begin(), files.end(),
            [](const NumberedFile& a, const NumberedFile& b) { return a.number < b.number; });
  return std::make_unique<SequenceSource>(path, std::move(files), options);
}

}  // namespace celtrace::engine
