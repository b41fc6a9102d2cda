// Progress away from a terminal: periodic lines, none when quiet.
#include "tools/progress.h"

#include <gtest/gtest.h>

namespace celtrace::tools {
namespace {

TEST(Progress, PrintsLinesAwayFromATerminalUnlessQuiet) {
  ::testing::internal::CaptureStderr();  // stderr is then a file, not a terminal
  {
    Progress progress(100, "indexing", false, std::chrono::milliseconds(0));
    progress.advance_to(50, "file 1 of 2, a.mp4");
    progress.advance_to(100, "file 2 of 2, b.mp4");
  }
  const std::string lines = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(lines.find("celtrace: indexing 50%, ETA "), std::string::npos) << lines;
  EXPECT_NE(lines.find(", file 2 of 2, b.mp4\n"), std::string::npos) << lines;
  EXPECT_EQ(lines.find('\r'), std::string::npos);  // no redrawing outside a terminal

  ::testing::internal::CaptureStderr();
  {
    Progress quiet(100, "indexing", true, std::chrono::milliseconds(0));
    quiet.advance_to(50, "a.mp4");
  }
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace celtrace::tools
