// Lookup cost as the library grows: search plus temporal alignment for a 10 s query (decode and
// visual verification excluded) against libraries of 1, 10 and 100 reference hours, with their
// size on disk and in memory; then the wall time of adding one 22-minute episode's frames to each
// (the index change; the episode's fingerprint is not timed) and of removing it again.
//
// Each library holds one real generated episode (the query's source) and synthetic filler
// frames: real descriptors of other generated episodes, perturbed, so the filler clusters like
// real data. The query path is the real one: index::match on a real query fingerprint.
//   lookup_scaling WORK_DIR [HOURS...]     (run with OMP_NUM_THREADS=1 for one core)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "benchmarks/generator/cartoon.h"
#include "engine/decode/video_encoder.h"
#include "engine/fingerprinter.h"
#include "index/lookup.h"

namespace {

using namespace celtrace;
namespace fs = std::filesystem;

// What a loaded library keeps in memory: its FAISS indexes (their files are their memory image)
// and the frame map.
double loaded_megabytes(const index::Library& library) {
  double bytes = static_cast<double>(library.frames().size() * sizeof(index::IndexedFrame));
  for (const auto& entry : fs::directory_iterator(library.directory())) {
    if (entry.path().extension() == ".faiss") bytes += static_cast<double>(entry.file_size());
  }
  return bytes / 1e6;
}

void write_episode(const std::string& path, int series, int episode, double story_seconds) {
  const bench::Series s = bench::make_series(series, "Scaling " + std::to_string(series));
  const bench::Episode e = bench::make_episode(s, episode, story_seconds);
  engine::VideoEncoder encoder(path, 320, 180, bench::kFps);
  for (int f = 0; f < e.total_frames(); ++f) {
    const cv::Mat frame = bench::render_frame(e, f, bench::Render::kFinal, 320, 180);
    encoder.write_bgr(frame.data, static_cast<int>(frame.step), f / bench::kFps);
  }
  encoder.finish();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: lookup_scaling WORK_DIR [HOURS...]\n");
    return 2;
  }
  const fs::path work = argv[1];
  std::vector<double> hours;
  for (int i = 2; i < argc; ++i) hours.push_back(std::stod(argv[i]));
  if (hours.empty()) hours = {1, 10, 100};
  fs::create_directories(work);
  try {
    const engine::ProjectionModel& model = engine::default_model();
    const engine::Fingerprinter fingerprinter(model);
    // The query's source episode and a pool of real descriptors for the filler.
    const std::string source = (work / "source.mp4").string();
    if (!fs::exists(source)) write_episode(source, 61, 1, 120);
    engine::FingerprintOptions reference_options;
    const engine::Fingerprint source_print = fingerprinter.fingerprint(source, reference_options);
    std::vector<std::vector<float>> pool;
    for (int series : {62, 63, 64}) {
      const std::string path = (work / ("pool" + std::to_string(series) + ".mp4")).string();
      if (!fs::exists(path)) write_episode(path, series, 1, 120);
      for (const auto& s : fingerprinter.fingerprint(path, reference_options).samples) {
        if (index::is_informative(s)) pool.push_back(s.descriptor);
      }
    }
    // The query: 10 s of the source, re-encoded, fingerprinted once (decode is not timed).
    const std::string query_path = (work / "query.mp4").string();
    {
      const bench::Series s = bench::make_series(61, "Scaling 61");
      const bench::Episode e = bench::make_episode(s, 1, 120);
      engine::VideoEncoder encoder(query_path, 320, 180, bench::kFps, {"libx264", 30});
      for (int f = 0; f < 240; ++f) {
        const cv::Mat frame = bench::render_frame(e, static_cast<int>(60 * bench::kFps) + f,
                                                  bench::Render::kFinal, 320, 180);
        encoder.write_bgr(frame.data, static_cast<int>(frame.step), f / bench::kFps);
      }
    }
    engine::FingerprintOptions query_options;
    query_options.decode.sample_fps = index::query_sample_fps(10.0);
    query_options.mirrored = true;
    const engine::Fingerprint query = fingerprinter.fingerprint(query_path, query_options);

    std::printf(
        "| reference hours | frames | index | build s | disk MB | MB/hour on disk | in memory MB "
        "| MB/hour in memory | lookup p50 ms | p95 ms | found | add 22 min s | remove it s |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    std::mt19937 random(7);
    std::normal_distribution<float> noise(0.f, 0.35f);
    // A reference of `frames` filler frames: real descriptors with noise.
    const auto filler = [&](const std::string& name, std::int64_t frames) {
      index::NewReference r;
      r.name = name;
      r.title = "Filler";
      r.path = "/nonexistent";
      r.checksum = r.name;
      r.fingerprint.model_id = model.id;
      r.fingerprint.descriptor_size = model.output_size;
      r.fingerprint.sample_fps = 2;
      r.fingerprint.media.duration_seconds = static_cast<double>(frames) / 2.0;
      for (std::int64_t i = 0; i < frames; ++i) {
        engine::Sample s;
        s.pts_seconds = static_cast<double>(i) / 2.0;
        s.detail = 5;
        s.descriptor = pool[random() % pool.size()];
        float norm = 0;
        for (float& v : s.descriptor) {
          v += noise(random);
          norm += v * v;
        }
        for (float& v : s.descriptor) v /= std::sqrt(norm);
        r.fingerprint.samples.push_back(std::move(s));
      }
      return r;
    };
    for (double h : hours) {
      const fs::path directory = work / ("library-" + std::to_string(static_cast<int>(h)) + "h");
      fs::remove_all(directory);
      const auto build_start = std::chrono::steady_clock::now();
      {
        index::Library library = index::Library::open_or_create(directory.string(), model);
        std::vector<index::NewReference> references;
        index::NewReference real;
        real.fingerprint = source_print;
        real.name = "source";
        real.title = "Scaling";
        real.path = source;
        real.checksum = "source";
        references.push_back(real);
        // Filler in 30-minute references at 2 samples per second.
        const auto filler_frames = static_cast<std::int64_t>(h * 3600 * 2) -
                                   static_cast<std::int64_t>(source_print.samples.size());
        for (std::int64_t done = 0, n = 0; done < filler_frames; ++n) {
          const std::int64_t frames = std::min<std::int64_t>(3600, filler_frames - done);
          references.push_back(filler("filler-" + std::to_string(n), frames));
          done += frames;
        }
        library.add(references);
      }
      const double build_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - build_start).count();
      const index::Library library = index::Library::open(directory.string());
      const double memory = loaded_megabytes(library);
      index::LookupOptions options;
      options.verify = false;
      std::vector<double> milliseconds;
      bool found = false;
      for (int run = 0; run < 21; ++run) {
        const auto start = std::chrono::steady_clock::now();
        const index::LookupResult result = index::match(library, query, "", options);
        milliseconds.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
        found = !result.matches.empty() && result.matches.front().reference.name == "source" &&
                std::abs(result.matches.front().segments.front().reference_start - 60.0) < 0.5;
      }
      std::sort(milliseconds.begin(), milliseconds.end());
      // One 22-minute episode added (its frames already fingerprinted), then removed.
      const index::NewReference episode = filler("added-episode", 22 * 60 * 2);
      const auto seconds_of = [](auto change) {
        const auto start = std::chrono::steady_clock::now();
        change();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      };
      index::Library changing = index::Library::open(directory.string());
      const double add_seconds = seconds_of([&] { changing.add({episode}); });
      const double remove_seconds = seconds_of([&] { changing.remove("added-episode"); });
      std::printf(
          "| %.0f | %zu | %s | %.1f | %.1f | %.2f | %.1f | %.2f | %.1f | %.1f | %s | %.1f | %.1f "
          "|\n",
          h, library.frames().size(), library.descriptors().factory().c_str(), build_seconds,
          library.disk_bytes() / 1e6, library.disk_bytes() / 1e6 / h, memory, memory / h,
          milliseconds[milliseconds.size() / 2], milliseconds[milliseconds.size() * 95 / 100],
          found ? "yes" : "NO", add_seconds, remove_seconds);
      std::fflush(stdout);
      fs::remove_all(directory);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lookup_scaling: %s\n", e.what());
    return 1;
  }
}
