#include "index/naming.h"

#include <gtest/gtest.h>

#include "engine/errors.h"
#include "tests/test_media.h"

namespace celtrace::index {
namespace {

void expect_name(const std::string& file, const std::string& title, std::optional<int> season,
                 std::optional<int> episode) {
  const EpisodeName name = parse_episode_name(file);
  EXPECT_EQ(name.title, title) << file;
  EXPECT_EQ(name.season, season) << file;
  EXPECT_EQ(name.episode, episode) << file;
}

TEST(ParseEpisodeName, CommonPatterns) {
  expect_name("Show.Name.S02E03.mkv", "Show Name", 2, 3);
  expect_name("Show.Name.S02E03.1080p.WEB.mkv", "Show Name", 2, 3);
  expect_name("show_name_s1e12.mp4", "show name", 1, 12);
  expect_name("Show Name - 2x03.mp4", "Show Name", 2, 3);
  expect_name("Show Name - 03.avi", "Show Name", std::nullopt, 3);
  expect_name("/media/lib/Sky Ships S01E100.mkv", "Sky Ships", 1, 100);
  expect_name("Pilot.mkv", "Pilot", std::nullopt, std::nullopt);
}

TEST(CatalogueCsv, ReadsQuotedFieldsAndKeysByBaseName) {
  testing::TempDir dir;
  testing::write_bytes(dir.path("catalogue.csv"),
                       "path,title,season,episode,name\n"
                       "/mnt/a/ep1.mkv,\"Sky Ships, the Series\",1,1,sky-101\n"
                       "ep2.mkv,\"Say \"\"Hi\"\"\",,2,\n");
  const auto rows = read_catalogue_csv(dir.path("catalogue.csv"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.at("ep1.mkv").episode.title, "Sky Ships, the Series");
  EXPECT_EQ(rows.at("ep1.mkv").episode.season, 1);
  EXPECT_EQ(rows.at("ep1.mkv").name, "sky-101");
  EXPECT_EQ(rows.at("ep2.mkv").episode.title, "Say \"Hi\"");
  EXPECT_EQ(rows.at("ep2.mkv").episode.season, std::nullopt);
  EXPECT_EQ(rows.at("ep2.mkv").episode.episode, 2);
}

TEST(CatalogueCsv, RejectsMalformedFiles) {
  testing::TempDir dir;
  testing::write_bytes(dir.path("no-path.csv"), "title,season\nA,1\n");
  EXPECT_THROW(read_catalogue_csv(dir.path("no-path.csv")), UsageError);
  testing::write_bytes(dir.path("bad-number.csv"), "path,season\na.mkv,one\n");
  EXPECT_THROW(read_catalogue_csv(dir.path("bad-number.csv")), UsageError);
  testing::write_bytes(dir.path("quote.csv"), "path,title\na.mkv,\"open\n");
  EXPECT_THROW(read_catalogue_csv(dir.path("quote.csv")), UsageError);
}

}  // namespace
}  // namespace celtrace::index
