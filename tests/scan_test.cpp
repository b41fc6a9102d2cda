// Classification of a discovered tree, without decoding.
#include "tools/match/scan.h"

#include <filesystem>
#include <map>

#include <gtest/gtest.h>

#include "tests/test_media.h"

namespace celtrace::tools {
namespace {

namespace fs = std::filesystem;

TEST(Scan, ClassifiesEveryFileOnce) {
  testing::TempDir dir;
  const auto& root = dir.root();
  fs::create_directories(root / "nested" / "deep");
  fs::create_directories(root / "shots");
  const std::string video_bytes(1000, 'v');
  testing::write_bytes((root / "a.mp4").string(),
                       "not really a video but named like one" + video_bytes);
  testing::write_bytes((root / "nested" / "copy.mkv").string(),
                       "not really a video but named like one" + video_bytes);
  testing::write_bytes((root / "nested" / "deep" / "notes.txt").string(),
                       "some notes about the leak, long enough to be sniffed");
  testing::write_bytes((root / "empty.avi").string(), "");
  std::string mp4_header(
      "\0\0\0\x18"
      "ftypisom",
      12);
  testing::write_bytes((root / "no_extension").string(), mp4_header + std::string(100, '\0'));
  for (int i = 1; i <= 7; ++i)
    testing::write_bytes((root / "shots" / ("sc012_000" + std::to_string(i) + ".png")).string(),
                         "png" + std::to_string(i));
  testing::write_bytes((root / "shots" / "cover_01.png").string(), "a lone numbered still");
  for (int i : {1, 5, 9}) {  // numbered panels far apart: stills, not a clip
    testing::write_bytes((root / ("panel_" + std::to_string(i) + ".jpg")).string(),
                         "panel " + std::to_string(i));
  }
  fs::create_directory_symlink(root, root / "nested" / "loop");

  const auto items = scan_inputs({root.string()});
  std::map<std::string, const ScanItem*> by_name;
  std::size_t files = 0;
  for (const auto& item : items) {
    by_name[fs::path(item.path).filename().string()] = &item;
    files += item.files.size();
  }
  EXPECT_EQ(files, 17u);  // every file and link once
  EXPECT_EQ(by_name.at("a.mp4")->kind, ItemKind::kVideo);
  EXPECT_EQ(by_name.at("copy.mkv")->kind, ItemKind::kSkipped);
  EXPECT_NE(by_name.at("copy.mkv")->reason.find("duplicate of"), std::string::npos);
  EXPECT_EQ(by_name.at("notes.txt")->reason, "not media (.txt)");
  EXPECT_EQ(by_name.at("empty.avi")->reason, "empty file");
  EXPECT_EQ(by_name.at("no_extension")->kind, ItemKind::kVideo);  // sniffed
  EXPECT_EQ(by_name.at("loop")->reason, "symbolic link (not followed)");
  const ScanItem* sequence = by_name.at("sc012_%04d.png");
  EXPECT_EQ(sequence->kind, ItemKind::kSequence);
  EXPECT_EQ(sequence->files.size(), 7u);
  EXPECT_EQ(by_name.at("cover_01.png")->kind, ItemKind::kImage);
  EXPECT_EQ(by_name.at("panel_5.jpg")->kind, ItemKind::kImage);
}

}  // namespace
}  // namespace celtrace::tools
