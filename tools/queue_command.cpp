// celtrace queue: one batch traced by workers on several machines through PostgreSQL.
#include <chrono>
#include <cstdio>
#include <memory>

#include "tools/commands.h"
#include "tools/lookup_json.h"
#include "tools/match/postgres.h"
#include "tools/match/queue.h"
#include "tools/progress.h"

namespace celtrace::tools {
namespace {

constexpr const char* kQueueHelp =
    "PostgreSQL database of the batch: a postgresql:// URI or libpq words, e.g.\n"
    "postgresql://celtrace@db.case.lan/case17. Keep the password out of it (and out of the\n"
    "process list): libpq reads it from ~/.pgpass or PGPASSWORD.";

int run_submit(const QueueSubmitOptions& options, bool quiet) {
  if (!quiet) std::fprintf(stderr, "scanning and enqueueing...\n");
  const SubmitCounts counts = submit_to_queue(options);
  std::printf("%d items scanned: %d enqueued, %d already in the queue (%s)\n", counts.scanned,
              counts.added, counts.already_queued, pg::hide_password(options.queue).c_str());
  return 0;
}

int run_work(const QueueWorkOptions& options, bool quiet) {
  const auto start = std::chrono::steady_clock::now();
  Progress bar(1.0, "working", quiet);
  const WorkCounts counts = work_queue(options, [&](const WorkCounts& c) {
    char detail[160];
    std::snprintf(detail, sizeof detail, "queue %d/%d done; here %d traced, %d matched, %d retried",
                  c.queue_done, c.queue_total, c.traced, c.matched, c.retried);
    bar.advance_to(c.queue_total ? static_cast<double>(c.queue_done) / c.queue_total : 1.0, detail);
  });
  bar.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int handled = counts.traced + counts.retried + counts.taken_over;
  std::printf(
      "%d items traced here (%d matched, %d %s), %d given back after a worker failure, %d "
      "finished by another worker; %.1f s, queue statements %.1f ms per item\n",
      counts.traced, counts.matched, counts.errors, counts.errors == 1 ? "error" : "errors",
      counts.retried, counts.taken_over, seconds,
      handled ? 1000 * counts.queue_seconds / handled : 0.0);
  return 0;
}

int run_status(const std::string& queue) {
  const QueueStatus status = queue_status(queue);
  int total = 0;
  for (const auto& [name, count] : status.by_status) total += count;
  std::printf("queue %s: %d items, library of %s, %d attempts per item\n",
              pg::hide_password(queue).c_str(), total, status.library.c_str(), status.max_attempts);
  for (const char* name : {"pending", "running", "matched", "no_match", "skipped", "error"}) {
    const auto found = status.by_status.find(name);
    std::printf("  %-9s %d\n", name, found == status.by_status.end() ? 0 : found->second);
  }
  for (const QueueJobState& job : status.running) {
    std::printf("running  %s on %s, attempt %d, lease %s %.0f s\n", printable(job.path).c_str(),
                printable(job.worker).c_str(), job.attempts,
                job.lease_left_seconds >= 0 ? "ends in" : "lapsed",
                std::abs(job.lease_left_seconds));
  }
  for (const QueueJobState& job : status.retrying)
    std::printf("retry    %s after %d attempts\n", printable(job.path).c_str(), job.attempts);
  return 0;
}

int run_report(const std::string& queue, const std::string& out) {
  const BatchCounts c = write_queue_report(queue, out);
  std::printf("%d items: %d matched, %d without match, %d skipped, %d %s, %d not finished\n",
              c.total, c.matched, c.no_match, c.skipped, c.errors,
              c.errors == 1 ? "error" : "errors", c.total - c.done);
  std::printf("report: %s/report.html\nresults: %s/results.jsonl, %s/results.csv\n", out.c_str(),
              out.c_str(), out.c_str());
  return 0;
}

// "FROM=TO" into a pair.
CLI::Validator path_mapping() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const auto equals = text.find('=');
        if (equals == std::string::npos || equals == 0 || equals + 1 == text.size())
          return "'" + text + "' is not FROM=TO";
        return {};
      },
      "FROM=TO");
}

}  // namespace

void register_queue_command(CLI::App& app, Action& action) {
  CLI::App* queue = app.add_subcommand(
      "queue",
      "One batch traced by workers on several machines, coordinated through a PostgreSQL\n"
      "database (one database per batch). Submit once, start `work` on every machine (each\n"
      "runs --jobs isolated worker processes, like `match`), write the report anywhere:\n"
      "  celtrace queue submit postgresql://db.lan/case17 lib/ /mnt/leak\n"
      "  celtrace queue work postgresql://db.lan/case17 lib/ --path-map /mnt/leak=/data/leak\n"
      "  celtrace queue status postgresql://db.lan/case17\n"
      "  celtrace queue report postgresql://db.lan/case17 --out case17/\n"
      "A worker that dies loses its lease and its item is traced elsewhere; an item whose\n"
      "workers fail --max-attempts times ends as an error. Items are keyed by content: a file\n"
      "seen twice, on two mounts or in two submits, is traced once.");
  queue->require_subcommand(1);

  auto submit = std::make_shared<QueueSubmitOptions>();
  auto quiet = std::make_shared<bool>(false);
  CLI::App* submit_command = queue->add_subcommand(
      "submit",
      "Scan files and directories (recursively, as `match` does) and enqueue one job per item.\n"
      "The first submit creates the queue's tables and records the library; later submits add\n"
      "what is new. Paths are stored absolute: workers must see them there or map them.");
  submit_command->add_option("queue", submit->queue, kQueueHelp)->required();
  submit_command->add_option("library", submit->library, "Library directory")->required();
  submit_command->add_option("paths", submit->inputs, "Files and directories to trace")->required();
  submit_command
      ->add_option("--max-attempts", submit->max_attempts,
                   "Worker failures (crash, time limit, machine lost) before an item ends as an "
                   "error; set by the queue's first submit")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  submit_command->add_flag("-q,--quiet", *quiet, "No progress on stderr");
  submit_command->callback([submit, quiet, &action] {
    action = [submit, quiet] { return run_submit(*submit, *quiet); };
  });

  auto work = std::make_shared<QueueWorkOptions>();
  auto mappings = std::make_shared<std::vector<std::string>>();
  CLI::App* work_command = queue->add_subcommand(
      "work",
      "Claim the queue's items and trace them until none is pending or running anywhere. The\n"
      "library must be the one the batch was submitted with (a copy is fine). Start one per\n"
      "machine; restart a stopped one with the same --name to take its items back at once.");
  work_command->add_option("queue", work->queue, kQueueHelp)->required();
  work_command->add_option("library", work->batch.library, "Library directory")->required();
  work_command->add_option("--name", work->name,
                           "This worker's name, unique among the live ones (default: HOST-PID)");
  work_command
      ->add_option("--path-map", *mappings,
                   "Submitted path prefix and where this machine sees it (repeatable)")
      ->check(path_mapping());
  work_command
      ->add_option("--lease", work->lease_seconds,
                   "Seconds an item stays this worker's without renewal (renewed every third of "
                   "it); after a lost worker, its items wait this long")
      ->capture_default_str()
      ->check(finite_in(3, 86400));
  add_worker_options(*work_command, work->batch);  // a time-out counts as a failed attempt
  work_command->add_flag("-q,--quiet", *quiet, "No progress on stderr");
  work_command->callback([work, mappings, quiet, &action] {
    for (const std::string& m : *mappings) {
      const auto equals = m.find('=');
      work->path_map.emplace_back(m.substr(0, equals), m.substr(equals + 1));
    }
    action = [work, quiet] { return run_work(*work, *quiet); };
  });

  auto queue_url = std::make_shared<std::string>();
  CLI::App* status_command = queue->add_subcommand(
      "status", "Items per status, the running ones with their worker and lease, the retried");
  status_command->add_option("queue", *queue_url, kQueueHelp)->required();
  status_command->callback(
      [queue_url, &action] { action = [queue_url] { return run_status(*queue_url); }; });

  auto out = std::make_shared<std::string>();
  CLI::App* report_command = queue->add_subcommand(
      "report",
      "Write results.jsonl, results.csv, report.html and thumbs/ to --out from what the queue\n"
      "holds now (any machine, any time; unfinished items are listed as pending).");
  report_command->add_option("queue", *queue_url, kQueueHelp)->required();
  report_command->add_option("--out", *out, "Output directory")->required();
  report_command->callback([queue_url, out, &action] {
    action = [queue_url, out] { return run_report(*queue_url, *out); };
  });
}

}  // namespace celtrace::tools
