#include "tools/match/scan.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "engine/media.h"
#include "index/catalog.h"

namespace celtrace::tools {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kMinMediaBytes = 64;

// Video containers, and animated GIFs: in a leak, a GIF is a clip (a reaction loop, a preview).
bool is_clip_name(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return engine::has_video_extension(path.string()) || ext == ".gif";
}

// Media signatures for files whose names say nothing (no or unknown extension).
ItemKind sniff(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char h[16] = {0};
  in.read(reinterpret_cast<char*>(h), sizeof h);
  if (in.gcount() < 12) return ItemKind::kSkipped;
  if (h[0] == 0x89 && h[1] == 'P' && h[2] == 'N' && h[3] == 'G') return ItemKind::kImage;
  if (h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF) return ItemKind::kImage;
  if (h[4] == 'f' && h[5] == 't' && h[6] == 'y' && h[7] == 'p')
    return ItemKind::kVideo;  // MP4, MOV
  if (h[0] == 0x1A && h[1] == 0x45 && h[2] == 0xDF && h[3] == 0xA3) return ItemKind::kVideo;  // MKV
  if (h[0] == 'R' && h[1] == 'I' && h[2] == 'F' && h[3] == 'F' && h[8] == 'A' && h[9] == 'V')
    return ItemKind::kVideo;
  if (h[0] == 'F' && h[1] == 'L' && h[2] == 'V') return ItemKind::kVideo;
  if (h[0] == 0 && h[1] == 0 && h[2] == 1 && h[3] == 0xBA) return ItemKind::kVideo;  // MPEG-PS
  return ItemKind::kSkipped;
}

struct NumberedImage {
  std::string prefix, digits, extension;
  std::string path;
};

std::string printf_pattern(const fs::path& directory, const std::vector<NumberedImage>& frames) {
  // Zero-padded numbers of one width give %0Nd; anything else %d.
  const std::size_t width = frames.front().digits.size();
  const bool padded =
      std::all_of(frames.begin(), frames.end(),
                  [&](const NumberedImage& f) { return f.digits.size() == width; }) &&
      std::any_of(frames.begin(), frames.end(),
                  [](const NumberedImage& f) { return f.digits[0] == '0'; });
  std::string field = padded ? "%0" + std::to_string(width) + "d" : "%d";
  std::string prefix = frames.front().prefix;
  // A literal '%' in a name would be read as a format: double it.
  std::string escaped;
  for (char c : prefix) escaped += c == '%' ? std::string("%%") : std::string(1, c);
  return (directory / (escaped + field + frames.front().extension)).string();
}

// Classifies the regular files of one directory.
void classify_directory(const fs::path& directory, std::vector<fs::path> files,
                        std::vector<ScanItem>& items) {
  std::map<std::pair<std::string, std::string>, std::vector<NumberedImage>> groups;
  std::vector<fs::path> rest;
  for (const fs::path& file : files) {
    const std::string name = file.filename().string();
    const auto parts =
        engine::has_image_extension(name) ? engine::split_frame_number(name) : std::nullopt;
    if (parts) {
      groups[{parts->prefix, parts->extension}].push_back(
          {parts->prefix, parts->digits, parts->extension, file.string()});
    } else {
      rest.push_back(file);
    }
  }
  for (auto& [key, frames] : groups) {
    std::sort(frames.begin(), frames.end(), [](const NumberedImage& a, const NumberedImage& b) {
      return std::stoll(a.digits) < std::stoll(b.digits);
    });
    const long long span = std::stoll(frames.back().digits) - std::stoll(frames.front().digits) + 1;
    if (static_cast<int>(frames.size()) < kMinSequenceFrames ||
        span > 2 * static_cast<long long>(frames.size())) {
      for (const auto& f : frames) rest.emplace_back(f.path);
      continue;
    }
    ScanItem item;
    item.kind = ItemKind::kSequence;
    item.path = printf_pattern(directory, frames);
    for (const auto& f : frames) {
      item.files.push_back(f.path);
      std::error_code ignored;
      item.bytes += static_cast<std::int64_t>(fs::file_size(f.path, ignored));
    }
    items.push_back(std::move(item));
  }
  for (const fs::path& file : rest) {
    ScanItem item;
    item.path = file.string();
    item.files = {item.path};
    std::error_code error;
    item.bytes = static_cast<std::int64_t>(fs::file_size(file, error));
    if (error) {
      item.reason = "cannot read size (" + error.message() + ")";
    } else if (item.bytes == 0) {
      item.reason = "empty file";
    } else if (engine::has_image_extension(item.path)) {
      item.kind = ItemKind::kImage;
    } else if (is_clip_name(file)) {
      item.kind = ItemKind::kVideo;
    } else if (item.bytes >= kMinMediaBytes && (item.kind = sniff(file)) != ItemKind::kSkipped) {
      // Media by content, whatever the name says.
    } else if (file.has_extension()) {
      item.reason = "not media (" + file.extension().string() + ")";
    } else {
      item.reason = item.bytes < kMinMediaBytes ? "too small to be media" : "not media";
    }
    items.push_back(std::move(item));
  }
}

}  // namespace

const char* to_string(ItemKind kind) {
  switch (kind) {
    case ItemKind::kVideo:
      return "video";
    case ItemKind::kImage:
      return "image";
    case ItemKind::kSequence:
      return "sequence";
    case ItemKind::kSkipped:
      return "skipped";
  }
  return "unknown";
}

std::vector<ScanItem> scan_inputs(const std::vector<std::string>& roots,
                                  const std::string& excluded) {
  std::error_code ignored;
  const fs::path skip = excluded.empty() ? fs::path() : fs::weakly_canonical(excluded, ignored);
  std::map<fs::path, std::vector<fs::path>> by_directory;
  std::vector<ScanItem> items;
  std::set<fs::path> seen;
  auto other = [&](const fs::path& path, const std::string& reason) {
    ScanItem item;
    item.path = path.string();
    item.files = {item.path};
    item.reason = reason;
    items.push_back(std::move(item));
  };
  for (const std::string& root : roots) {
    std::error_code error;
    const auto status = fs::symlink_status(root, error);
    if (error || !fs::exists(status)) {
      other(root, "no such file or directory");
      continue;
    }
    if (fs::is_regular_file(status)) {
      if (seen.insert(fs::path(root)).second)
        by_directory[fs::path(root).parent_path()].push_back(root);
      continue;
    }
    if (!fs::is_directory(status)) {
      other(root, fs::is_symlink(status) ? "symbolic link (not followed)" : "not a regular file");
      continue;
    }
    for (auto it = fs::recursive_directory_iterator(
             root, fs::directory_options::skip_permission_denied, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      const auto entry_status = it->symlink_status(error);
      if (error) break;
      const fs::path& path = it->path();
      if (fs::is_directory(entry_status)) {
        // Descended into (links to directories are not), except the batch's own output.
        if (!skip.empty() && fs::weakly_canonical(path, ignored) == skip)
          it.disable_recursion_pending();
        continue;
      }
      if (!seen.insert(path).second) continue;
      if (fs::is_symlink(entry_status)) {
        other(path, "symbolic link (not followed)");
      } else if (fs::is_regular_file(entry_status)) {
        by_directory[path.parent_path()].push_back(path);
      } else {
        other(path, "not a regular file");
      }
    }
    if (error) other(root, "listing stopped early (" + error.message() + ")");
  }
  for (auto& [directory, files] : by_directory)
    classify_directory(directory, std::move(files), items);
  std::sort(items.begin(), items.end(),
            [](const ScanItem& a, const ScanItem& b) { return a.path < b.path; });

  // Same content as an earlier video or still: nothing new to learn from it.
  std::map<std::string, std::string> first_by_checksum;
  for (ScanItem& item : items) {
    if (item.kind != ItemKind::kVideo && item.kind != ItemKind::kImage) continue;
    std::string checksum;
    try {
      checksum = index::file_checksum(item.path);
    } catch (const std::exception&) {
      continue;  // unreadable: the worker will report it
    }
    const auto [it, inserted] = first_by_checksum.emplace(checksum, item.path);
    if (inserted) {
      item.checksum = checksum;
    } else {
      item.kind = ItemKind::kSkipped;
      item.reason = "duplicate of " + it->second;
    }
  }
  return items;
}

}  // namespace celtrace::tools
