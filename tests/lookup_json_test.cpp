// What lookup shows: clock times and the JSON object (no decoding).
#include "tools/lookup_json.h"

#include <gtest/gtest.h>

namespace celtrace::tools {
namespace {

TEST(ClockText, RoundsOnceThenSplits) {
  EXPECT_EQ(clock_text(0), "0:00:00.0");
  EXPECT_EQ(clock_text(59.984), "0:01:00.0");  // once shown as 0:00:60.0
  EXPECT_EQ(clock_text(-0.015), "0:00:00.0");  // once shown as 0:00:-0.0
  EXPECT_EQ(clock_text(61.25), "0:01:01.3");
  EXPECT_EQ(clock_text(3599.96), "1:00:00.0");
  EXPECT_EQ(clock_text(7322.04), "2:02:02.0");
}

TEST(Printable, EscapesControlCharactersOnly) {
  EXPECT_EQ(printable("Show.S01E02.mkv"), "Show.S01E02.mkv");
  EXPECT_EQ(printable("a\x1b[2Jb\nc\rd\x7f"), "a\\x1b[2Jb\\x0ac\\x0dd\\x7f");
  EXPECT_EQ(printable("\xc3\xa9t\xc3\xa9"), "\xc3\xa9t\xc3\xa9");  // UTF-8 stays as it is
}

TEST(LookupJson, CarriesTheDecodersWarnings) {
  index::LookupResult result;
  result.media.duration_seconds = 4;
  result.media.warnings = {"corrupt packet skipped at 1.2 s"};
  const nlohmann::json json = lookup_to_json("clip.mp4", result);
  ASSERT_TRUE(json.contains("warnings"));
  EXPECT_EQ(json["warnings"], nlohmann::json::array({"corrupt packet skipped at 1.2 s"}));
  EXPECT_TRUE(json["matches"].empty());
}

// A name that is not UTF-8 (Latin-1 from an old server) keeps an exact, reversible form.
TEST(LookupJson, NamesThatAreNotUtf8KeepTheirBytes) {
  const auto line = [](const std::string& name) {
    return nlohmann::json::parse(json_line(lookup_to_json(name, index::LookupResult{})));
  };
  const nlohmann::json latin1 = line("scene_\xe9t\xe9%1.png");
  EXPECT_EQ(latin1["query"], "scene_\xef\xbf\xbdt\xef\xbf\xbd%1.png");
  EXPECT_EQ(latin1["query_bytes"], "scene_%E9t%E9%251.png");
  EXPECT_FALSE(line("scene_\xc3\xa9t\xc3\xa9.png").contains("query_bytes"));
}

}  // namespace
}  // namespace celtrace::tools
