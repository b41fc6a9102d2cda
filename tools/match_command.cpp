// celtrace match: trace a whole tree of discovered media.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include <unistd.h>

#include "tools/commands.h"
#include "tools/match/batch.h"
#include "tools/progress.h"

namespace celtrace::tools {
namespace {

int run_match(BatchOptions options) {
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  auto last_line = start;
  Progress bar(1.0, "matching");
  const BatchCounts counts = run_batch(options, [&](const BatchCounts& c) {
    const auto now = std::chrono::steady_clock::now();
    char detail[128];
    std::snprintf(detail, sizeof detail, "%d/%d files, %d matched, %d errors", c.done, c.total,
                  c.matched, c.errors);
    if (terminal) {
      bar.advance_to(c.total ? static_cast<double>(c.done) / c.total : 1.0, detail);
    } else if (now - last_line > std::chrono::seconds(10) || c.done == c.total) {
      std::fprintf(stderr, "celtrace: %s\n", detail);
      last_line = now;
    }
  });
  bar.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d items: %d matched, %d without match, %d skipped, %d %s (%.1f s)\n", counts.total,
              counts.matched, counts.no_match, counts.skipped, counts.errors,
              counts.errors == 1 ? "error" : "errors", seconds);
  std::printf("report: %s/report.html\nresults: %s/results.jsonl, %s/results.csv\n",
              options.out.c_str(), options.out.c_str(), options.out.c_str());
  return counts.errors > 0 ? 1 : 0;
}

}  // namespace

void register_match_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<BatchOptions>();
  options->jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  CLI::App* command = app.add_subcommand(
      "match",
      "Trace every file under the given paths: videos, stills and numbered frame folders are\n"
      "looked up (in isolated worker processes with a time and memory limit), everything else\n"
      "is listed as skipped with a reason. Results: DIR/results.jsonl (one object per item),\n"
      "DIR/results.csv (one row per matched segment), DIR/report.html, DIR/jobs.sqlite.\n"
      "An interrupted batch continues with --resume; nothing is written outside DIR.\n"
      "Exit code 0 when every item was traced (matched or not) or skipped, 1 when some ended\n"
      "in error (see the report), 2 for usage errors.\n"
      "  celtrace match lib/ /mnt/leak --out case-17/ --jobs 2\n"
      "  celtrace match lib/ /mnt/leak --out case-17/ --resume");
  command->add_option("library", options->library, "Library directory")->required();
  command
      ->add_option("paths", options->inputs,
                   "Files and directories to trace (searched recursively)")
      ->required();
  command->add_option("--out", options->out, "Output directory")->required();
  command->add_option("--jobs", options->jobs, "Files processed in parallel")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  command->add_flag("--resume", options->resume, "Continue the batch in --out where it stopped");
  command
      ->add_option("--timeout-per-file", options->timeout_seconds,
                   "Seconds before a file's worker is stopped")
      ->capture_default_str()
      ->check(finite_in(0, 1e6, true));
  command
      ->add_option("--memory-per-file", options->memory_limit_mb,
                   "Address space limit of a worker, MB")
      ->capture_default_str()
      ->check(CLI::Range(256, 1 << 20));
  add_lookup_options(*command, options->lookup);
  command->callback([options, &action] { action = [options] { return run_match(*options); }; });
}

}  // namespace celtrace::tools
