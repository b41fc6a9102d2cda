// Batch matching throughput and the cost of isolating every file in a worker process:
// the same mixed folder traced in this process (trace_item, one file after another) and by
// run_batch with forked workers (--jobs 1 and 2). CPU time includes the workers (RUSAGE_CHILDREN).
// Given a PostgreSQL queue (an empty database; benchmarks/queue starts one), the same folder is
// also submitted to it and traced by 1 and by 2 queue workers (separate processes, --jobs 1 each,
// as on two machines), with the time the queue's statements take per item.
//   batch_overhead WORK_DIR [RUNS [QUEUE_URI]]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <opencv2/imgcodecs.hpp>

#include "benchmarks/generator/cartoon.h"
#include "engine/decode/video_encoder.h"
#include "engine/fingerprinter.h"
#include "index/vector_index.h"
#include "tools/match/batch.h"
#include "tools/match/postgres.h"
#include "tools/match/queue.h"
#include "tools/match/scan.h"

namespace {

using namespace celtrace;
namespace fs = std::filesystem;

double cpu_seconds(int who) {
  rusage usage{};
  getrusage(who, &usage);
  return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
         usage.ru_stime.tv_usec / 1e6;
}
double all_cpu() {
  return cpu_seconds(RUSAGE_SELF) + cpu_seconds(RUSAGE_CHILDREN);
}

void write_clip(const fs::path& path, const bench::Episode& e, double start, double seconds,
                bench::Render render, const std::string& codec) {
  engine::EncoderOptions options;
  options.codec = codec;
  options.quality = codec == "libx264" ? 26 : 6;
  engine::VideoEncoder encoder(path.string(), 480, 270, bench::kFps, options);
  for (int f = 0; f < static_cast<int>(seconds * bench::kFps); ++f) {
    const cv::Mat frame =
        bench::render_frame(e, static_cast<int>(start * bench::kFps) + f, render, 480, 270);
    encoder.write_bgr(frame.data, static_cast<int>(frame.step), f / bench::kFps);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct QueueRun {
  double submit_seconds = 0, wall_seconds = 0, queue_seconds = 0;
  int handled = 0;
};

// Submits the folder to an emptied queue and traces it with `workers` worker processes.
QueueRun run_queue(const std::string& uri, const tools::BatchOptions& batch, int workers) {
  {
    tools::pg::Connection db(uri);
    db.execute(
        "DROP TABLE IF EXISTS celtrace_queue_thumbnails, celtrace_queue_jobs, "
        "celtrace_queue_meta");
  }
  QueueRun run;
  const auto start = std::chrono::steady_clock::now();
  tools::submit_to_queue({uri, batch.library, batch.inputs, 3});
  const auto submitted = std::chrono::steady_clock::now();
  run.submit_seconds = std::chrono::duration<double>(submitted - start).count();
  std::vector<std::pair<pid_t, int>> children;
  for (int w = 0; w < workers; ++w) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      tools::QueueWorkOptions options;
      options.queue = uri;
      options.batch = batch;
      options.batch.jobs = 1;
      const tools::WorkCounts counts = tools::work_queue(options);
      const double report[2] = {counts.queue_seconds,
                                static_cast<double>(counts.traced + counts.retried)};
      if (::write(fds[1], report, sizeof report) != sizeof report) ::_exit(1);
      ::_exit(0);
    }
    ::close(fds[1]);
    children.emplace_back(pid, fds[0]);
  }
  for (const auto& [pid, fd] : children) {
    double report[2] = {0, 0};
    const bool got = ::read(fd, report, sizeof report) == sizeof report;
    ::close(fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error("a queue worker failed");
    run.queue_seconds += report[0];
    run.handled += static_cast<int>(report[1]);
  }
  run.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: batch_overhead WORK_DIR [RUNS]\n");
    return 2;
  }
  const fs::path work = argv[1];
  const int runs = argc > 2 ? std::stoi(argv[2]) : 3;
  const std::string queue = argc > 3 ? argv[3] : "";
  try {
    fs::remove_all(work);
    fs::create_directories(work / "found" / "nested" / "frames");
    const bench::Series series = bench::make_series(71, "Batch Show");
    std::vector<bench::Episode> episodes = {bench::make_episode(series, 1, 90),
                                            bench::make_episode(series, 2, 90)};
    const engine::Fingerprinter fingerprinter(engine::default_model());
    index::Library library =
        index::Library::open_or_create((work / "lib").string(), engine::default_model());
    std::vector<index::NewReference> references;
    for (int e = 0; e < 2; ++e) {
      const fs::path path = work / ("Batch.Show.S01E0" + std::to_string(e + 1) + ".mp4");
      write_clip(path, episodes[e], 0, episodes[e].total_frames() / bench::kFps,
                 bench::Render::kFinal, "libx264");
      index::NewReference r;
      r.fingerprint =
          fingerprinter.fingerprint(path.string(), index::reference_fingerprint_options());
      r.name = path.stem().string();
      r.title = "Batch Show";
      r.path = path.string();
      r.checksum = index::file_checksum(r.path);
      references.push_back(std::move(r));
    }
    library.add(references);
    // The mixed folder: clips of 2-10 s in three codecs and two renders, stills, a frame
    // sequence, and files that are skipped or fail.
    const fs::path found = work / "found";
    double media_seconds = 0;
    const char* codecs[] = {"libx264", "mpeg4", "mjpeg"};
    for (int i = 0; i < 12; ++i) {
      const double seconds = 2 + (i % 5) * 2;
      const std::string extension = i % 3 == 0 ? ".mp4" : i % 3 == 1 ? ".avi" : ".mov";
      write_clip(found / ((i % 2 ? "nested/clip" : "clip") + std::to_string(i) + extension),
                 episodes[i % 2], 12 + 5 * i, seconds,
                 i % 4 == 3 ? bench::Render::kLineArt : bench::Render::kFinal, codecs[i % 3]);
      media_seconds += seconds;
    }
    for (int i = 0; i < 4; ++i) {
      cv::imwrite((found / ("still" + std::to_string(i) + ".png")).string(),
                  bench::render_frame(episodes[0], static_cast<int>((20 + 9 * i) * bench::kFps),
                                      bench::Render::kFinal, 640, 360));
    }
    for (int i = 0; i < 48; ++i) {
      char name[64];
      std::snprintf(name, sizeof name, "nested/frames/sc012_%04d.png", i + 1);
      cv::imwrite((found / name).string(),
                  bench::render_frame(episodes[1], static_cast<int>(40 * bench::kFps) + i,
                                      bench::Render::kFlat, 320, 180));
    }
    media_seconds += 2;
    std::FILE* notes = std::fopen((found / "notes.txt").c_str(), "w");
    std::fputs("schedule\n", notes);
    std::fclose(notes);

    tools::BatchOptions options;
    options.library = (work / "lib").string();
    options.inputs = {found.string()};
    const auto items = tools::scan_inputs(options.inputs);

    std::vector<double> in_process, isolated, isolated_wall, parallel_wall;
    std::vector<QueueRun> queue_runs[2];
    for (int run = 0; run < runs; ++run) {
      options.out = (work / ("in-process-" + std::to_string(run))).string();
      fs::create_directories(fs::path(options.out) / "thumbs");
      const index::Library loaded = index::Library::open(options.library);
      index::search_on_one_thread();  // as a batch worker does: the same work on one thread
      double start = all_cpu();
      for (const auto& item : items) {
        if (item.kind == tools::ItemKind::kSkipped) continue;
        tools::trace_item(loaded,
                          {0, item.path, tools::to_string(item.kind), item.files, "pending", ""},
                          options);
      }
      in_process.push_back(all_cpu() - start);

      for (int jobs : {1, 2}) {
        options.out =
            (work / ("batch-" + std::to_string(jobs) + "-" + std::to_string(run))).string();
        options.jobs = jobs;
        start = all_cpu();
        const auto wall_start = std::chrono::steady_clock::now();
        tools::run_batch(options);
        const double wall =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
        if (jobs == 1) {
          isolated.push_back(all_cpu() - start);
          isolated_wall.push_back(wall);
        } else {
          parallel_wall.push_back(wall);
        }
        if (!queue.empty()) {
          queue_runs[jobs - 1].push_back(run_queue(queue, options, jobs));
        }
      }
    }
    const double base = median(in_process), batch = median(isolated);
    std::printf(
        "| items | media s | in-process CPU s | isolated CPU s (--jobs 1) | isolation overhead | "
        "files/min --jobs 1 | files/min --jobs 2 | media hours per CPU hour |\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    std::printf("| %zu | %.0f | %.2f | %.2f | %+.1f%% | %.0f | %.0f | %.1f |\n", items.size(),
                media_seconds, base, batch, 100 * (batch - base) / base,
                items.size() * 60 / median(isolated_wall),
                items.size() * 60 / median(parallel_wall), media_seconds / batch);
    if (queue.empty()) return 0;
    std::printf(
        "\n| coordination | workers | wall s | files/min | submit s | queue statements ms per "
        "item |\n|---|---|---|---|---|---|\n");
    std::printf("| SQLite (`match`) | --jobs 1 | %.2f | %.0f | | |\n", median(isolated_wall),
                items.size() * 60 / median(isolated_wall));
    std::printf("| SQLite (`match`) | --jobs 2 | %.2f | %.0f | | |\n", median(parallel_wall),
                items.size() * 60 / median(parallel_wall));
    for (int workers : {1, 2}) {
      std::vector<double> wall, submit, per_item;
      for (const QueueRun& r : queue_runs[workers - 1]) {
        wall.push_back(r.wall_seconds);
        submit.push_back(r.submit_seconds);
        per_item.push_back(1000 * r.queue_seconds / std::max(1, r.handled));
      }
      std::printf("| PostgreSQL queue | %d %s, --jobs 1 | %.2f | %.0f | %.2f | %.2f |\n", workers,
                  workers == 1 ? "worker" : "workers", median(wall),
                  items.size() * 60 / median(wall), median(submit), median(per_item));
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "batch_overhead: %s\n", e.what());
    return 1;
  }
}
