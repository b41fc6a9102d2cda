// Batch matching across machines, coordinated by a PostgreSQL database (`celtrace queue`):
// submit scans paths once and enqueues one job per item, keyed by content so a file seen on two
// mounts is traced once; workers on any machine claim jobs (FOR UPDATE SKIP LOCKED) under a
// lease they renew while the item runs in the same isolated worker process as `celtrace match`,
// and commit each result with its thumbnails in one transaction; a report can be written from the
// queue by any machine at any time.
//
// One batch per database. Tables: celtrace_queue_meta (format, library signature, attempt
// limit), celtrace_queue_jobs (one row per item: content key, path, kind, files, status, attempts,
// worker and lease, last worker failure, result JSON), celtrace_queue_thumbnails (PNG bytes per
// job). Statuses: pending, running, then matched, no_match, skipped or error.
//
// Failures: a job whose worker process crashed, ran past its time limit or gave nothing goes back
// to pending; one whose worker (machine) was lost goes back when its lease lapses; after the
// queue's attempt limit either ends as error (a poison file). A lookup's own error (an
// undecodable file) is a result, not retried.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tools/match/batch.h"

namespace celtrace::tools {

struct QueueSubmitOptions {
  std::string queue;  // libpq connection string or postgresql:// URI
  std::string library;
  std::vector<std::string> inputs;
  int max_attempts = 3;  // kept from the queue's first submit
};

struct SubmitCounts {
  int scanned = 0, added = 0, already_queued = 0;
};

SubmitCounts submit_to_queue(const QueueSubmitOptions& options);

struct QueueWorkOptions {
  std::string queue;
  // library, jobs, limits and lookup options; `out` is not used (thumbnails travel in the queue).
  BatchOptions batch;
  // Unique among the queue's live workers; a worker restarted under its name takes its
  // unfinished jobs back at once. Empty: HOST-PID.
  std::string name;
  // Prefix replacements from submitted paths to this machine's (first match wins).
  std::vector<std::pair<std::string, std::string>> path_map;
  double lease_seconds = 60;
};

struct WorkCounts {
  int traced = 0, matched = 0, errors = 0, retried = 0, taken_over = 0;
  int queue_done = 0, queue_total = 0;  // the whole queue's progress, as last read
  double queue_seconds = 0;             // wall time spent in the queue's statements
};

// Works until no job is pending or running anywhere (waiting while other workers hold jobs, in
// case their leases lapse). `progress` is called after each item and now and then while waiting.
WorkCounts work_queue(const QueueWorkOptions& options,
                      const std::function<void(const WorkCounts&)>& progress = nullptr);

struct QueueJobState {
  std::int64_t id = 0;
  std::string path, worker;
  int attempts = 0;
  double lease_left_seconds = 0;
};

struct QueueStatus {
  std::string library;  // what the first submit recorded, for people
  int max_attempts = 0;
  std::map<std::string, int> by_status;
  std::vector<QueueJobState> running;
  std::vector<QueueJobState> retrying;  // pending again after a worker failure
};

QueueStatus queue_status(const std::string& queue);

// results.jsonl, results.csv, report.html and thumbs/ in `out` from what the queue holds now
// (jobs not yet finished are listed as pending). Returns the counts the report shows.
BatchCounts write_queue_report(const std::string& queue, const std::string& out);

// `path` with the first matching prefix of `map` replaced (a prefix matches whole components).
std::string map_path(const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& map);

}  // namespace celtrace::tools
