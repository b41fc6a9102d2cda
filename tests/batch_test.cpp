// celtrace match end to end: a hostile tree, one result per file, escaped report, and a batch
// killed with SIGKILL then resumed without loss or duplicates.
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "engine/fingerprinter.h"
#include "index/library.h"
#include "tests/test_media.h"
#include "tools/match/report.h"

extern char** environ;

namespace celtrace::tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int run(const std::vector<std::string>& args) {
  int status = 0;
  waitpid(spawn(args), &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<json> read_results(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));  // every line is valid JSON
  return out;
}

class BatchMatch : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::write_cartoon_video(dir.path("Toon.S01E01.mp4"), 31, 1, 0.0, 50.0);
    index::Library library =
        index::Library::open_or_create(dir.path("lib"), engine::default_model());
    index::NewReference r;
    r.fingerprint =
        engine::Fingerprinter(engine::default_model())
            .fingerprint(dir.path("Toon.S01E01.mp4"), index::reference_fingerprint_options());
    r.name = "Toon.S01E01";
    r.title = "Toon";
    r.path = dir.path("Toon.S01E01.mp4");
    r.checksum = index::file_checksum(r.path);
    library.add({r});
  }
  testing::TempDir dir;
};

TEST_F(BatchMatch, HostileTreeGivesOneResultPerFile) {
  const fs::path tree = dir.root() / "found";
  fs::create_directories(tree / "nested" / "frames");
  engine::EncoderOptions mpeg4;
  mpeg4.codec = "mpeg4";
  mpeg4.quality = 5;
  testing::write_cartoon_video((tree / "clip.mp4").string(), 31, 1, 22.0, 3.0);
  testing::write_cartoon_video((tree / "nested" / "other container.avi").string(), 31, 1, 30.0, 3.0,
                               mpeg4);
  const std::string hostile = (tree / "nested" / "<script>alert('x') \"q\" \xff.mkv").string();
  testing::write_cartoon_video(hostile, 31, 1, 26.0, 3.0);
  testing::write_cartoon_video((tree / "unrelated.mp4").string(), 39, 1, 20.0, 3.0);
  ASSERT_TRUE(cv::imwrite((tree / "still.png").string(), testing::cartoon_frame(31, 1, 24.0)));
  for (int i = 1; i <= 24; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "sc012_%04d.png", i);
    cv::Mat frame = testing::cartoon_frame(31, 1, 34.0 + i / 24.0);
    ASSERT_TRUE(cv::imwrite((tree / "nested" / "frames" / name).string(), frame));
  }
  testing::write_bytes((tree / "notes.txt").string(),
                       "call the studio on monday about the retakes");
  testing::write_bytes((tree / "empty.mp4").string(), "");
  const std::string whole = testing::read_bytes((tree / "clip.mp4").string());
  testing::write_bytes((tree / "truncated.mp4").string(), whole.substr(0, whole.size() / 3));
  testing::write_bytes((tree / "random.mp4").string(), std::string(40000, '\x5a'));
  {
    cv::Mat small(8, 8, CV_8UC3, cv::Scalar(9, 9, 9));
    cv::imwrite((tree / "huge.png").string(), small);
    std::string png = testing::read_bytes((tree / "huge.png").string());
    for (int offset : {16, 20})
      png[offset] = 0, png[offset + 1] = 1, png[offset + 2] = '\x86', png[offset + 3] = '\xA0';
    testing::write_bytes((tree / "huge.png").string(), png);
  }

  // The batch ends with every file accounted for; some ended in error, which exit code 1 says.
  ASSERT_EQ(run({CELTRACE_CLI, "match", dir.path("lib"), tree.string(), "--out", dir.path("out"),
                 "--jobs", "2"}),
            1);
  const auto results = read_results(dir.path("out/results.jsonl"));
  std::map<std::string, json> by_name;
  std::size_t files = 0;
  for (const json& r : results) {
    by_name[fs::path(r["query"].get<std::string>()).filename().string()] = r;
    files += r.contains("files") ? r["files"].size() : 1;
  }
  EXPECT_EQ(files, 34u);  // every file of the tree exactly once
  EXPECT_EQ(results.size(), by_name.size());
  auto status = [&](const std::string& name) {
    return by_name.at(name)["status"].get<std::string>();
  };
  EXPECT_EQ(status("clip.mp4"), "matched");
  EXPECT_EQ(by_name.at("clip.mp4")["matches"][0]["reference"], "Toon.S01E01");
  EXPECT_NEAR(by_name.at("clip.mp4")["matches"][0]["segments"][0]["reference_start"].get<double>(),
              22.0, 0.5);
  EXPECT_EQ(status("other container.avi"), "matched");
  EXPECT_EQ(status("still.png"), "matched");
  EXPECT_EQ(status("sc012_%04d.png"), "matched");
  EXPECT_EQ(status("unrelated.mp4"), "no_match");
  EXPECT_EQ(status("notes.txt"), "skipped");
  EXPECT_EQ(status("empty.mp4"), "skipped");
  EXPECT_EQ(status("truncated.mp4"), "error");
  EXPECT_EQ(status("random.mp4"), "error");
  EXPECT_EQ(status("huge.png"), "error");
  bool hostile_matched = false;
  for (const auto& [name, r] : by_name)
    hostile_matched |= name.find("script") != std::string::npos && r["status"] == "matched";
  EXPECT_TRUE(hostile_matched);

  const std::string html = testing::read_bytes(dir.path("out/report.html"));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;) &quot;q&quot; \xEF\xBF\xBD.mkv"),
            std::string::npos);
  EXPECT_NE(html.find("thumbs/"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir.path("out/results.csv")));
  for (const auto& entry : fs::recursive_directory_iterator(tree)) {
    EXPECT_EQ(entry.path().string().find(".partial"),
              std::string::npos);  // nothing written into the inputs
  }
  // An existing batch is never overwritten without --resume.
  EXPECT_EQ(run({CELTRACE_CLI, "match", dir.path("lib"), tree.string(), "--out", dir.path("out")}),
            2);
}

TEST_F(BatchMatch, WorkersPastTheirLimitsAreErrorsNotTheEndOfTheBatch) {
  const fs::path tree = dir.root() / "found";
  fs::create_directories(tree);
  testing::write_cartoon_video((tree / "a.mp4").string(), 31, 1, 20.0, 3.0);
  testing::write_cartoon_video((tree / "b.mp4").string(), 31, 1, 30.0, 3.0);
  // A limit no lookup can meet: every worker is stopped, each file gets its error, the batch ends.
  ASSERT_EQ(run({CELTRACE_CLI, "match", dir.path("lib"), tree.string(), "--out", dir.path("out"),
                 "--timeout-per-file", "0.001"}),
            1);
  const auto results = read_results(dir.path("out/results.jsonl"));
  ASSERT_EQ(results.size(), 2u);
  for (const json& r : results) {
    EXPECT_EQ(r["status"], "error");
    EXPECT_NE(r["error"].get<std::string>().find("timed out"), std::string::npos) << r.dump();
  }
}

// A worker's memory limit counts from what it starts with: a clip is traced under the smallest
// limit, a picture that needs more than it ends as an error that names the limit (it once said
// "End of file", and a search under a limit once waited forever for a BLAS thread).
TEST_F(BatchMatch, AWorkerPastItsMemoryLimitSaysSo) {
#ifdef __SANITIZE_ADDRESS__
  GTEST_SKIP() << "AddressSanitizer's shadow memory rules out address-space limits";
#endif
  const fs::path tree = dir.root() / "found";
  fs::create_directories(tree);
  testing::write_cartoon_video((tree / "clip.mp4").string(), 31, 1, 20.0, 3.0);
  // 244 MB decoded (inside the pixel and byte limits), 64 MB more converted: past 256 MB.
  ASSERT_TRUE(cv::imwrite((tree / "page.png").string(),
                          cv::Mat(8000, 8000, CV_8UC4, cv::Scalar(250, 250, 250, 255))));
  ASSERT_EQ(run({CELTRACE_CLI, "match", dir.path("lib"), tree.string(), "--out", dir.path("out"),
                 "--memory-per-file", "256", "--timeout-per-file", "120"}),
            1);
  std::map<std::string, json> by_name;
  for (const json& r : read_results(dir.path("out/results.jsonl")))
    by_name[fs::path(r["query"].get<std::string>()).filename().string()] = r;
  EXPECT_EQ(by_name["clip.mp4"]["status"], "matched") << by_name["clip.mp4"].dump();
  EXPECT_EQ(by_name["page.png"]["status"], "error");
  EXPECT_NE(by_name["page.png"]["error"].get<std::string>().find("worker's limit is 256 MB"),
            std::string::npos)
      << by_name["page.png"].dump();
}

TEST_F(BatchMatch, KilledBatchResumesWithoutLossOrDuplicates) {
  const fs::path tree = dir.root() / "found";
  fs::create_directories(tree);
  for (int i = 0; i < 10; ++i) {
    testing::write_cartoon_video((tree / ("clip" + std::to_string(i) + ".mp4")).string(), 31, 1,
                                 12.0 + 3 * i, 2.5);
  }
  const std::vector<std::string> command = {CELTRACE_CLI,  "match", dir.path("lib"),
                                            tree.string(), "--out", dir.path("out"),
                                            "--jobs",      "1"};
  const pid_t pid = spawn(command);
  // Kill once a few results are in (or when the batch would finish anyway).
  for (int wait = 0; wait < 600; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream in(dir.path("out/results.jsonl"));
    const auto lines =
        std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
    if (lines >= 3) break;
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  const auto partial = read_results(dir.path("out/results.jsonl"));
  EXPECT_LT(partial.size(), 10u);

  std::vector<std::string> resume = command;
  resume.push_back("--resume");
  ASSERT_EQ(run(resume), 0);
  const auto results = read_results(dir.path("out/results.jsonl"));
  std::set<std::string> queries;
  for (const json& r : results) {
    queries.insert(r["query"].get<std::string>());
    EXPECT_EQ(r["status"], "matched") << r.dump();
  }
  EXPECT_EQ(results.size(), 10u);
  EXPECT_EQ(queries.size(), 10u);
}

TEST(Report, PartialEvidenceDrawsItsBoxOnTheEpisodeFrame) {
  testing::TempDir dir;
  const json match = {
      {"reference", "Show.S01E02"},
      {"title", "Show"},
      {"season", 1},
      {"episode", 2},
      {"score", 0.7},
      {"verdict", "confirmed"},
      {"coverage", "partial"},
      {"reference_duration", 60.0},
      {"thumbnails",
       {{"query", "thumbs/1-0-query.png"}, {"reference", "thumbs/1-0-reference.png"}}},
      {"evidence",
       {{"query_time", 1.0},
        {"reference_time", 31.0},
        {"visual_inliers", 90},
        {"reference_box", {{"x", 0.25}, {"y", 0.5}, {"width", 0.2}, {"height", 0.3}}}}},
      {"segments", json::array()}};
  const json result = {{"query", "layer.mov"}, {"status", "matched"}, {"matches", {match}}};
  write_outputs(dir.path(""), {{"layer.mov", "video", "matched", result}});
  const std::string html = testing::read_bytes(dir.path("report.html"));
  EXPECT_NE(html.find("class=\"region\""), std::string::npos);
  EXPECT_NE(html.find("left:25.0%;top:50.0%;width:20.0%;height:30.0%"), std::string::npos);
}

// What the report and the CSV say: one error is "1 error", a film named like its title is not
// labelled twice, and every segment says whether it is mirrored and partial.
TEST(Report, CountsLabelsAndCsvColumns) {
  testing::TempDir dir;
  const json film = {{"reference", "Megamind"},
                     {"title", "Megamind"},
                     {"season", nullptr},
                     {"episode", nullptr},
                     {"score", 0.9},
                     {"verdict", "confirmed"},
                     {"segments",
                      {{{"query_start", 0.0},
                        {"query_end", 4.0},
                        {"reference_start", 3.0},
                        {"reference_end", 7.0},
                        {"score", 0.9},
                        {"mirrored", true},
                        {"coverage", "whole"}}}}};
  write_outputs(dir.path(""),
                {{"copy.mp4",
                  "video",
                  "matched",
                  {{"query", "copy.mp4"}, {"status", "matched"}, {"matches", {film}}}},
                 {"bad.mp4",
                  "video",
                  "error",
                  {{"query", "bad.mp4"}, {"status", "error"}, {"error", "damaged"}}}});
  const std::string html = testing::read_bytes(dir.path("report.html"));
  EXPECT_NE(html.find("1 error."), std::string::npos);
  EXPECT_EQ(html.find("Megamind (Megamind)"), std::string::npos);
  const std::string csv = testing::read_bytes(dir.path("results.csv"));
  EXPECT_NE(csv.find(",coverage,score,shared,mirrored,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("copy.mp4,matched,Megamind,Megamind,,,confirmed,whole,0.9"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find(",no,yes,0"), std::string::npos) << csv;  // not shared, mirrored
}

}  // namespace
}  // namespace celtrace::tools
