// celtrace match: trace a whole tree of discovered media.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "tools/commands.h"
#include "tools/lookup_json.h"
#include "tools/match/batch.h"
#include "tools/progress.h"

namespace celtrace::tools {
namespace {

int run_match(const BatchOptions& options, bool quiet) {
  const auto start = std::chrono::steady_clock::now();
  Progress bar(1.0, "matching", quiet);
  const BatchCounts counts = run_batch(options, [&](const BatchCounts& c) {
    char detail[128];
    std::snprintf(detail, sizeof detail, "%d/%d files, %d matched, %d %s", c.done, c.total,
                  c.matched, c.errors, c.errors == 1 ? "error" : "errors");
    bar.advance_to(c.total ? static_cast<double>(c.done) / c.total : 1.0, detail);
  });
  bar.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%d items: %d matched, %d without match, %d skipped, %d %s (%.1f s)\n", counts.total,
              counts.matched, counts.no_match, counts.skipped, counts.errors,
              counts.errors == 1 ? "error" : "errors", seconds);
  std::printf("report: %s/report.html\nresults: %s/results.jsonl, %s/results.csv\n",
              options.out.c_str(), options.out.c_str(), options.out.c_str());
  if (counts.errors == 0) return 0;
  std::fprintf(stderr, "celtrace: %d %s ended in error (see %s/report.html)\n", counts.errors,
               counts.errors == 1 ? "item" : "items", printable(options.out).c_str());
  return 1;
}

}  // namespace

void add_worker_options(CLI::App& command, BatchOptions& options) {
  options.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  command.add_option("--jobs", options.jobs, "Files processed in parallel")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  command
      .add_option("--timeout-per-file", options.timeout_seconds,
                  "Seconds before a file's worker is stopped")
      ->capture_default_str()
      ->check(finite_in(0, 1e6, true));
  command
      .add_option("--memory-per-file", options.memory_limit_mb,
                  "Address space a worker may take for one file, MB, beyond the library it "
                  "starts with")
      ->capture_default_str()
      ->check(CLI::Range(256, 1 << 20));
  add_lookup_options(command, options.lookup);
}

void register_match_command(CLI::App& app, Action& action) {
  auto options = std::make_shared<BatchOptions>();
  auto quiet = std::make_shared<bool>(false);
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
  command->add_flag("--resume", options->resume, "Continue the batch in --out where it stopped");
  add_worker_options(*command, *options);
  command->add_flag("-q,--quiet", *quiet, "No progress on stderr");
  command->callback([options, quiet, &action] {
    action = [options, quiet] { return run_match(*options, *quiet); };
  });
}

}  // namespace celtrace::tools
