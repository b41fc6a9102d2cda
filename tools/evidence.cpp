#include "tools/evidence.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

namespace celtrace::tools {
namespace {

constexpr int kGap = 8;             // pixels between the two pictures and around them
constexpr std::uint8_t kPage = 40;  // the page's grey level
constexpr int kBoxLine = 2;         // pixels
constexpr std::uint8_t kBoxColour[3] = {0xcf, 0x22, 0x2e};  // the report's red

void paste(engine::ColourImage& page, const engine::ColourImage& picture, int left, int top) {
  for (int y = 0; y < picture.height; ++y) {
    std::copy_n(picture.rgb.data() + static_cast<std::size_t>(y) * picture.width * 3,
                picture.width * 3,
                page.rgb.data() + (static_cast<std::size_t>(top + y) * page.width + left) * 3);
  }
}

void outline(engine::ColourImage& page, int x0, int y0, int x1, int y1) {
  auto set = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= page.width || y >= page.height) return;
    std::copy_n(kBoxColour, 3,
                page.rgb.data() + (static_cast<std::size_t>(y) * page.width + x) * 3);
  };
  for (int t = 0; t < kBoxLine; ++t) {
    for (int x = x0; x <= x1; ++x) set(x, y0 + t), set(x, y1 - t);
    for (int y = y0; y <= y1; ++y) set(x0 + t, y), set(x1 - t, y);
  }
}

}  // namespace

EvidencePictures evidence_pictures(const std::string& query_path, const index::Match& match,
                                   engine::DecodeOptions decode, int size) {
  decode.analysis_size = size;
  decode.still_analysis_size = size;
  return {engine::colour_frame_at(query_path, match.evidence_query_time, decode),
          engine::colour_frame_at(match.reference.path, match.evidence_reference_time, decode)};
}

engine::ColourImage side_by_side(const EvidencePictures& pictures, const index::Match& match) {
  const engine::ColourImage& query = pictures.query;
  const engine::ColourImage& reference = pictures.reference;
  const int height = std::max(query.height, reference.height) + 2 * kGap;
  engine::ColourImage page;
  page.width = query.width + reference.width + 3 * kGap;
  page.height = height;
  page.rgb.assign(static_cast<std::size_t>(page.width) * page.height * 3, kPage);
  const int reference_left = 2 * kGap + query.width;
  paste(page, query, kGap, kGap);
  paste(page, reference, reference_left, kGap);
  if (match.coverage == index::Coverage::kPartial && match.visual.registered) {
    const index::Verification::Box& box = match.visual.reference_region;
    const auto at = [](double share, int extent) {
      return static_cast<int>(std::lround(std::clamp(share, 0.0, 1.0) * (extent - 1)));
    };
    outline(page, reference_left + at(box.x, reference.width), kGap + at(box.y, reference.height),
            reference_left + at(box.x + box.width, reference.width),
            kGap + at(box.y + box.height, reference.height));
  }
  return page;
}

std::string evidence_file_name(const std::string& query_path, int rank,
                               const std::string& reference_name) {
  std::string stem = std::filesystem::path(query_path).stem().string();
  if (stem.empty()) stem = "query";
  std::string name = stem + "-" + std::to_string(rank) + "-" + reference_name;
  for (char& c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '.' && c != '-' && c != '_') c = '_';
  }
  return name + ".png";
}

}  // namespace celtrace::tools
