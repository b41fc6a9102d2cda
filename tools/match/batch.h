// Batch matching of discovered media (`celtrace match`): scan -> job database -> isolated
// worker processes (one fork per file, sharing the already loaded library copy-on-write, with
// a time and memory limit) -> results.jsonl as results arrive -> results.csv and report.html.
//
// Output directory:
//   jobs.sqlite     every item, its status and result; the source of truth
//   results.jsonl   one JSON object per item: the lookup object plus status and reason/error
//   results.csv     one row per matched segment
//   report.html     the page for people; thumbnails under thumbs/
// A result is committed to jobs.sqlite before its line is appended; on --resume results.jsonl
// is rewritten from the database, so a kill at any moment loses and duplicates nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "index/lookup.h"

namespace celtrace::tools {

struct BatchOptions {
  std::string library;
  std::vector<std::string> inputs;
  std::string out;
  int jobs = 1;
  bool resume = false;
  double timeout_seconds = 600;         // per file, wall clock
  std::int64_t memory_limit_mb = 4096;  // address space a worker may add to what it starts with
  index::LookupOptions lookup;
};

struct BatchCounts {
  int total = 0, done = 0, matched = 0, no_match = 0, skipped = 0, errors = 0;
};

// One scanned item as the job database keeps it.
struct BatchItem {
  std::int64_t id = 0;
  std::string path, kind;  // kind: video, image, sequence, skipped
  std::vector<std::string> files;
  std::string status, result;  // status: pending, matched, no_match, skipped, error
};

// Traces one item in this process: the lookup object plus "status", thumbnails of each match's
// evidence pair under options.out/thumbs/, or {"status": "error", "error": ...}. Workers run it.
nlohmann::json trace_item(const index::Library& library, const BatchItem& item,
                          const BatchOptions& options);

// How a worker process ended: its result, or an error with `worker_failed` when the worker
// crashed, ran past its time limit or gave nothing (the item itself may be fine; a queue tries
// it again).
struct WorkerOutcome {
  nlohmann::json result;
  bool worker_failed = false;
};

enum class Supply { kItem, kNoneNow, kDone };

// What feeds a pool of worker processes and takes their results. next() fills in an item and
// says kItem, or kNoneNow (asked again about every 200 ms), or kDone (no more items ever);
// finished() takes each result; tick(), when set, runs about every 200 ms while the pool runs.
struct WorkerPool {
  std::function<Supply(BatchItem&)> next;
  std::function<void(const BatchItem&, const WorkerOutcome&)> finished;
  std::function<void()> tick;
};

// Traces items in forked worker processes, at most options.jobs at a time, each under
// options' time and memory limits; returns when next() said kDone and every worker ended.
void run_workers(const index::Library& library, const BatchOptions& options,
                 const WorkerPool& pool);

// Called after each finished item.
using BatchProgress = std::function<void(const BatchCounts&)>;

BatchCounts run_batch(const BatchOptions& options, const BatchProgress& progress = nullptr);

}  // namespace celtrace::tools
