// End to end on generated media: a library of generated episodes, transformed queries made
// with libav and OpenCV, checked for reference, offset (within 0.5 s) and verdict; an unrelated
// clip must give no match. Then the CLI's JSON contract on the same library.
#include <cstdio>
#include <filesystem>

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine/decode/video_encoder.h"
#include "engine/fingerprinter.h"
#include "engine/vpdq.h"
#include "index/lookup.h"
#include "tests/test_media.h"

namespace celtrace::index {
namespace {

namespace fs = std::filesystem;

constexpr int kWidth = 480, kHeight = 270;

// Library: series 21 episodes 1-2 and series 22 episode 1, 45 s of story each.
class LookupEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    for (auto [series, episode] : {std::pair{21, 1}, {21, 2}, {22, 1}}) {
      series_.push_back(std::make_unique<bench::Series>(
          bench::make_series(series, "Show " + std::to_string(series))));
      episodes_[{series, episode}] =
          std::make_unique<bench::Episode>(bench::make_episode(*series_.back(), episode, 45));
      const std::string path =
          dir_->path("Show" + std::to_string(series) + ".S01E0" + std::to_string(episode) + ".mp4");
      write(path, *episodes_[{series, episode}], 0, 1e9, [](const cv::Mat& f) { return f; });
    }
    Library library = Library::open_or_create(dir_->path("lib"), engine::default_model());
    const engine::Fingerprinter fingerprinter(engine::default_model());
    std::vector<NewReference> references;
    for (const auto& entry : fs::directory_iterator(dir_->root())) {
      if (entry.path().extension() != ".mp4") continue;
      NewReference r;
      r.fingerprint =
          fingerprinter.fingerprint(entry.path().string(), reference_fingerprint_options());
      r.name = entry.path().stem().string();
      r.title = r.name.substr(0, 6);
      r.path = entry.path().string();
      r.checksum = file_checksum(r.path);
      references.push_back(r);
    }
    library.add(references);
  }
  static void TearDownTestSuite() {
    delete dir_;
    episodes_.clear();
    series_.clear();
  }

  template <typename Transform>
  static void write(const std::string& path, const bench::Episode& episode, double start,
                    double seconds, Transform transform,
                    bench::Render render = bench::Render::kFinal) {
    const int first = static_cast<int>(start * bench::kFps);
    const int last =
        static_cast<int>(std::min<double>(episode.total_frames(), first + seconds * bench::kFps));
    cv::Mat sample = transform(bench::render_frame(episode, first, render, kWidth, kHeight));
    engine::VideoEncoder encoder(path, sample.cols / 2 * 2, sample.rows / 2 * 2, bench::kFps);
    for (int f = first; f < last; ++f) {
      cv::Mat frame = transform(bench::render_frame(episode, f, render, kWidth, kHeight));
      frame = frame(cv::Rect(0, 0, frame.cols / 2 * 2, frame.rows / 2 * 2)).clone();
      encoder.write_bgr(frame.data, static_cast<int>(frame.step), (f - first) / bench::kFps);
    }
    encoder.finish();
  }

  static LookupResult query(const std::string& path) {
    return lookup(Library::open(dir_->path("lib")), path, LookupOptions{});
  }

  static void expect_found(const LookupResult& result, const std::string& reference,
                           double reference_start, bool confirmed, const std::string& what) {
    ASSERT_FALSE(result.matches.empty()) << what << ": no match";
    const Match& best = result.matches.front();
    EXPECT_EQ(best.reference.name, reference) << what;
    ASSERT_FALSE(best.segments.empty()) << what;
    EXPECT_NEAR(best.segments.front().reference_start, reference_start, 0.5) << what;
    if (confirmed) {
      EXPECT_EQ(best.verdict, Verdict::kConfirmed) << what;
    }
    std::printf("  %-28s -> %s at %.2f s, score %.2f, %s\n", what.c_str(),
                best.reference.name.c_str(), best.segments.front().reference_start, best.score,
                to_string(best.verdict));
  }

  static testing::TempDir* dir_;
  static std::vector<std::unique_ptr<bench::Series>> series_;
  static std::map<std::pair<int, int>, std::unique_ptr<bench::Episode>> episodes_;
};

testing::TempDir* LookupEndToEnd::dir_ = nullptr;
std::vector<std::unique_ptr<bench::Series>> LookupEndToEnd::series_;
std::map<std::pair<int, int>, std::unique_ptr<bench::Episode>> LookupEndToEnd::episodes_;

cv::Mat identity(const cv::Mat& f) {
  return f;
}

TEST_F(LookupEndToEnd, TransformedClipsFindTheirEpisodeAndOffset) {
  const bench::Episode& e = *episodes_[{21, 2}];
  struct Case {
    const char* name;
    double start, seconds;
    cv::Mat (*transform)(const cv::Mat&);
    bench::Render render;
    bool confirmed;
  };
  const Case cases[] = {
      {"2 s sub-clip", 31.0, 2.0, identity, bench::Render::kFinal, true},
      {"crop 20%", 24.0, 5.0,
       [](const cv::Mat& f) {
         return cv::Mat(
             f(cv::Rect(f.cols / 10, f.rows / 10, f.cols * 8 / 10, f.rows * 8 / 10)).clone());
       },
       bench::Render::kFinal, true},
      {"letterbox", 40.0, 4.0,
       [](const cv::Mat& f) {
         cv::Mat boxed(f.cols * 3 / 4, f.cols, CV_8UC3, cv::Scalar(0, 0, 0));
         f.copyTo(boxed(cv::Rect(0, (boxed.rows - f.rows) / 2, f.cols, f.rows)));
         return boxed;
       },
       bench::Render::kFinal, true},
      {"mirrored", 28.0, 4.0,
       [](const cv::Mat& f) {
         cv::Mat m;
         cv::flip(f, m, 1);
         return m;
       },
       bench::Render::kFinal, true},
      {"grayscale, half size", 36.0, 4.0,
       [](const cv::Mat& f) {
         cv::Mat g, small;
         cv::cvtColor(f, g, cv::COLOR_BGR2GRAY);
         cv::cvtColor(g, g, cv::COLOR_GRAY2BGR);
         cv::resize(g, small, cv::Size(f.cols / 2, f.rows / 2), 0, 0, cv::INTER_AREA);
         return small;
       },
       bench::Render::kFinal, true},
      {"picture-in-picture, half size", 28.0, 4.0,
       [](const cv::Mat& f) {
         cv::Mat canvas(f.rows, f.cols, CV_8UC3,
                        cv::Scalar(225, 225, 225));  // a light review-tool page
         cv::rectangle(canvas, cv::Rect(0, 0, f.cols / 3, f.rows / 6), cv::Scalar(30, 30, 200),
                       cv::FILLED);
         cv::Mat small;
         cv::resize(f, small, cv::Size(f.cols / 2, f.rows / 2), 0, 0, cv::INTER_AREA);
         small.copyTo(canvas(cv::Rect(f.cols * 3 / 10, f.rows * 2 / 5, small.cols, small.rows)));
         return canvas;
       },
       bench::Render::kFinal, false},
      {"line art", 24.0, 5.0, identity, bench::Render::kLineArt, false},
      {"flat colours", 32.0, 4.0, identity, bench::Render::kFlat, false},
  };
  for (const Case& c : cases) {
    const std::string path = dir_->path(std::string("query-") + c.name + ".mp4");
    write(path, e, c.start, c.seconds, c.transform, c.render);
    expect_found(query(path), "Show21.S01E02", c.start, c.confirmed, c.name);
  }
}

// A partner's vPDQ file (Meta's frame choice and hashing, one hash a second) is matched through
// the library's whole-frame PDQ: the right episode and time, by timing alone.
TEST_F(LookupEndToEnd, VpdqFilesAreMatchedByTheirHashes) {
  const auto write_vpdq = [](const std::string& video, const std::string& out) {
    std::ofstream file(out);
    for (const auto& f : engine::vpdq_hash_video(video, 1.0, engine::Limits{}).features)
      file << engine::to_vpdq_line(f) << "\n";
  };
  write(dir_->path("vpdq-clip.mp4"), *episodes_[{21, 1}], 20.0, 10.0, identity);
  write_vpdq(dir_->path("vpdq-clip.mp4"), dir_->path("clip.vpdq"));
  const LookupResult found = query(dir_->path("clip.vpdq"));
  ASSERT_FALSE(found.matches.empty());
  const Match& best = found.matches.front();
  EXPECT_EQ(best.reference.name, "Show21.S01E01");
  EXPECT_EQ(best.verdict, Verdict::kPossible);
  ASSERT_FALSE(best.segments.empty());
  // The segment spans the hashes that agree; its mapping puts the clip's start at 20 s.
  const MatchSegment& segment = best.segments.front();
  EXPECT_NEAR(segment.reference_start - segment.speed * segment.query_start, 20.0, 0.5);
  EXPECT_EQ(found.informative_samples, 10);

  const bench::Series other = bench::make_series(29, "Other");
  write(dir_->path("vpdq-unrelated.mp4"), bench::make_episode(other, 1, 45), 20.0, 10.0, identity);
  write_vpdq(dir_->path("vpdq-unrelated.mp4"), dir_->path("unrelated.vpdq"));
  EXPECT_TRUE(query(dir_->path("unrelated.vpdq")).matches.empty());
}

TEST_F(LookupEndToEnd, StillsAndImageSequences) {
  const bench::Episode& e = *episodes_[{22, 1}];
  const int frame = static_cast<int>(30.0 * bench::kFps);
  ASSERT_TRUE(cv::imwrite(dir_->path("still.png"),
                          bench::render_frame(e, frame, bench::Render::kFinal, 800, 450)));
  const LookupResult still = query(dir_->path("still.png"));
  expect_found(still, "Show22.S01E01", 30.0, false, "still (PNG)");
  ASSERT_FALSE(still.matches.empty());
  EXPECT_EQ(still.matches.front().verdict, Verdict::kPossible);  // one kind of evidence at most

  fs::create_directories(dir_->path("frames"));
  for (int i = 0; i < 72; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "frames/sc012_%04d.png", i + 1);
    ASSERT_TRUE(cv::imwrite(dir_->path(name),
                            bench::render_frame(e, frame + i, bench::Render::kFinal, 320, 180)));
  }
  expect_found(query(dir_->path("frames")), "Show22.S01E01", 30.0, true, "image sequence");
}

TEST_F(LookupEndToEnd, UnrelatedClipsGiveNoMatch) {
  const bench::Series other = bench::make_series(29, "Other");
  const bench::Episode unrelated = bench::make_episode(other, 1, 45);
  write(dir_->path("unrelated.mp4"), unrelated, 20.0, 6.0, identity);
  EXPECT_TRUE(query(dir_->path("unrelated.mp4")).matches.empty());
  {
    engine::VideoEncoder black(dir_->path("black.mp4"), 320, 180, 24);
    cv::Mat frame(180, 320, CV_8UC3, cv::Scalar(0, 0, 0));
    for (int i = 0; i < 96; ++i)
      black.write_bgr(frame.data, static_cast<int>(frame.step), i / 24.0);
  }
  EXPECT_TRUE(query(dir_->path("black.mp4")).matches.empty());
}

// A reference changed or gone since it was indexed: no visual check against it, and the result
// says why (it once dropped to `possible` silently).
TEST_F(LookupEndToEnd, AMovedOrChangedReferenceIsSaid) {
  const bench::Episode& e = *episodes_[{22, 1}];
  const std::string reference = dir_->path("kept/Kept.S01E01.mp4");
  fs::create_directories(dir_->path("kept"));
  write(reference, e, 20.0, 12.0, identity);
  write(dir_->path("kept-clip.mp4"), e, 24.0, 4.0, identity);
  {
    Library library = Library::open_or_create(dir_->path("kept-lib"), engine::default_model());
    NewReference r;
    r.fingerprint = engine::Fingerprinter(engine::default_model())
                        .fingerprint(reference, reference_fingerprint_options());
    r.name = "Kept.S01E01";
    r.path = reference;
    r.size_bytes = static_cast<std::int64_t>(fs::file_size(reference));
    r.checksum = file_checksum(reference);
    library.add({r});
  }
  const auto look = [&] {
    return lookup(Library::open(dir_->path("kept-lib")), dir_->path("kept-clip.mp4"), {});
  };
  const LookupResult intact = look();
  expect_found(intact, "Kept.S01E01", 4.0, true, "reference intact");
  EXPECT_TRUE(intact.warnings.empty());

  testing::write_bytes(reference, testing::read_bytes(reference) + "appended");
  const LookupResult changed = look();
  ASSERT_FALSE(changed.matches.empty());
  EXPECT_EQ(changed.matches.front().verdict, Verdict::kPossible);
  ASSERT_EQ(changed.warnings.size(), 1u);
  EXPECT_NE(changed.warnings.front().find("changed since it was indexed"), std::string::npos);

  fs::remove(reference);
  const LookupResult missing = look();
  ASSERT_EQ(missing.warnings.size(), 1u);
  EXPECT_NE(missing.warnings.front().find("missing"), std::string::npos);
}

#ifdef CELTRACE_CLI
std::string run(const std::string& command, int& exit_code) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
  exit_code = WEXITSTATUS(pclose(pipe));
  return output;
}

TEST_F(LookupEndToEnd, CliJsonContract) {
  write(dir_->path("cli-query.mp4"), *episodes_[{21, 1}], 33.0, 3.0, identity);
  int code = 0;
  const std::string cli = CELTRACE_CLI;
  const auto out = nlohmann::json::parse(run(
      cli + " lookup " + dir_->path("lib") + " " + dir_->path("cli-query.mp4") + " --json", code));
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out["kind"], "video");
  EXPECT_NEAR(out["duration"].get<double>(), 3.0, 0.1);
  ASSERT_GE(out["matches"].size(), 1u);
  const auto& m = out["matches"][0];
  EXPECT_EQ(m["reference"], "Show21.S01E01");
  EXPECT_TRUE(m["season"].is_null());
  EXPECT_EQ(m["verdict"], "confirmed");
  EXPECT_NEAR(m["segments"][0]["reference_start"].get<double>(), 33.0, 0.5);
  for (const char* key : {"query_start", "query_end", "reference_end", "score"})
    EXPECT_TRUE(m["segments"][0].contains(key)) << key;

  const auto error =
      nlohmann::json::parse(run(cli + " lookup " + dir_->path("lib") + " " +
                                    dir_->path("missing.mp4") + " --json 2>/dev/null",
                                code));
  EXPECT_EQ(code, 1);
  EXPECT_TRUE(error.contains("error"));
  run(cli + " lookup " + dir_->path("lib") + " 2>/dev/null", code);
  EXPECT_EQ(code, 2);
  run(cli + " index add " + dir_->path("lib") + " " + dir_->path("Show21.S01E01.mp4") + " 2>&1",
      code);
  EXPECT_EQ(code, 0);  // already there: a no-op
  EXPECT_EQ(Library::open(dir_->path("lib")).references().size(), 3u);
}
#endif

// Real animation: Debian's Megamind.avi excerpt, and its damaged copy Megamind_bugy.avi (the same
// 270 frames relabelled 30 fps: played 1.25 times as fast).
TEST(LookupRealFootage, MegamindAndItsDamagedCopyIfInstalled) {
  const std::string data = "/usr/share/doc/opencv-doc/examples/data/";
  if (!fs::exists(data + "Megamind.avi") || !fs::exists(data + "Megamind_bugy.avi"))
    GTEST_SKIP() << "opencv-doc not installed";
  testing::TempDir dir;
  Library library = Library::open_or_create(dir.path("lib"), engine::default_model());
  NewReference r;
  r.fingerprint = engine::Fingerprinter(engine::default_model())
                      .fingerprint(data + "Megamind.avi", reference_fingerprint_options());
  r.name = r.title = "Megamind";
  r.path = data + "Megamind.avi";
  r.checksum = file_checksum(r.path);
  library.add({r});
  const LookupResult result =
      lookup(Library::open(dir.path("lib")), data + "Megamind_bugy.avi", LookupOptions{});
  ASSERT_EQ(result.matches.size(), 1u);
  const Match& m = result.matches.front();
  EXPECT_EQ(m.verdict, Verdict::kConfirmed);
  EXPECT_NEAR(m.segments.front().speed, 1.25, 0.01);
  // Query time t shows the film at 1.25 t.
  const MatchSegment& s = m.segments.front();
  EXPECT_NEAR(s.reference_start, 1.25 * s.query_start, 0.2);

  // Sub-clips, one mirrored and cropped (a crop looks like a later frame of a zoom), are placed
  // to a frame or two at speed 1 (with a line fitted to the 2 fps reference samples and no
  // placement by the pictures, they were 0.23 and 0.33 s late at speeds 0.95 and 0.87).
  for (const auto& [start, transformed] : {std::pair{3.0, false}, {4.2, true}}) {
    engine::DecodeOptions options;
    options.analysis_size = 1024;
    options.colour = true;
    const std::vector<engine::Frame> frames =
        engine::frames_between(data + "Megamind.avi", start, start + 4, options);
    ASSERT_GT(frames.size(), 90u);
    const std::string clip = dir.path("clip.mp4");
    {
      const engine::ColourImage& first = frames.front().colour;
      const cv::Rect kept = transformed ? cv::Rect(first.width / 14, first.height / 14,
                                                   first.width * 6 / 7, first.height * 6 / 7)
                                        : cv::Rect(0, 0, first.width, first.height);
      engine::VideoEncoder encoder(clip, kept.width / 2 * 2, kept.height / 2 * 2, 24000.0 / 1001);
      for (const engine::Frame& f : frames) {
        cv::Mat rgb(f.colour.height, f.colour.width, CV_8UC3,
                    const_cast<std::uint8_t*>(f.colour.rgb.data()));
        cv::Mat bgr;
        cv::cvtColor(rgb(kept), bgr, cv::COLOR_RGB2BGR);
        if (transformed) cv::flip(bgr, bgr, 1);
        bgr = bgr(cv::Rect(0, 0, bgr.cols / 2 * 2, bgr.rows / 2 * 2)).clone();
        encoder.write_bgr(bgr.data, static_cast<int>(bgr.step),
                          f.pts_seconds - frames.front().pts_seconds);
      }
      encoder.finish();
    }
    const LookupResult sub = lookup(Library::open(dir.path("lib")), clip, LookupOptions{});
    ASSERT_FALSE(sub.matches.empty()) << start;
    EXPECT_EQ(sub.matches.front().verdict, Verdict::kConfirmed) << start;
    const MatchSegment& placed = sub.matches.front().segments.front();
    EXPECT_EQ(placed.mirrored, transformed) << start;
    EXPECT_NEAR(placed.speed, 1.0, 0.005) << start;
    EXPECT_NEAR(placed.reference_start, frames.front().pts_seconds, 0.09) << start;
  }
}

}  // namespace
}  // namespace celtrace::index
