// Walks the discovered material and decides what each file is: a video, a still, a frame of a
// numbered sequence (grouped into one clip), or skipped with a reason. Every regular file and
// link found appears in exactly one item.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace celtrace::tools {

enum class ItemKind { kVideo, kImage, kSequence, kSkipped };
const char* to_string(ItemKind kind);

struct ScanItem {
  ItemKind kind = ItemKind::kSkipped;
  std::string path;                // the file; for a sequence its printf pattern
  std::vector<std::string> files;  // the files this item stands for (one, or a sequence's frames)
  std::string reason;              // why it was skipped
  std::string checksum;            // a video's or still's index::file_checksum; else empty
  std::int64_t bytes = 0;
};

// Numbered images of one folder form a sequence when there are at least this many and their
// numbers run almost without gaps (span at most twice the count); otherwise they are stills
// (numbered storyboard panels, keys from different scenes).
inline constexpr int kMinSequenceFrames = 6;

// Scans files and directories (recursively, never following symbolic links). Content
// duplicates of an earlier video or still are skipped with "duplicate of PATH". Items are in
// path order. The directory `excluded` (the batch's own output, when it lies inside a scanned
// tree) is not scanned.
std::vector<ScanItem> scan_inputs(const std::vector<std::string>& roots,
                                  const std::string& excluded = {});

}  // namespace celtrace::tools
