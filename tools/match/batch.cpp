#include "tools/match/batch.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "engine/binary_io.h"
#include "engine/decode/video_encoder.h"
#include "engine/errors.h"
#include "engine/preprocess.h"
#include "index/sqlite.h"
#include "index/vector_index.h"
#include "tools/evidence.h"
#include "tools/lookup_json.h"
#include "tools/match/report.h"
#include "tools/match/scan.h"

namespace celtrace::tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kFormatVersion = 1;
constexpr int kThumbnailSize = 240;  // pixels, longer side

std::string dump(const json& value) {
  return json_line(value);
}

class JobDatabase {
 public:
  explicit JobDatabase(const std::string& path) : db_(path) {
    db_.execute(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, path TEXT NOT NULL, kind TEXT "
        "NOT NULL,"
        " files TEXT NOT NULL, status TEXT NOT NULL, result TEXT);");
  }
  std::string meta(const std::string& key) {
    index::sql::Statement query(db_, "SELECT value FROM meta WHERE key = ?");
    query.bind(1, key);
    return query.step() ? query.text(0) : "";
  }
  void create(const BatchOptions& options, const std::vector<ScanItem>& items) {
    index::sql::Transaction transaction(db_);
    index::sql::Statement meta(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
    meta.bind(1, std::string("format_version")).bind(2, std::to_string(kFormatVersion)).step();
    meta.reset();
    meta.bind(1, std::string("library")).bind(2, fs::absolute(options.library).string()).step();
    index::sql::Statement insert(
        db_, "INSERT INTO items(path, kind, files, status, result) VALUES(?, ?, ?, ?, ?)");
    for (const ScanItem& item : items) {
      const bool skipped = item.kind == ItemKind::kSkipped;
      json result;
      if (skipped) result = {{"query", item.path}, {"status", "skipped"}, {"reason", item.reason}};
      insert.bind(1, item.path)
          .bind(2, std::string(to_string(item.kind)))
          .bind(3, dump(item.files));
      insert.bind(4, std::string(skipped ? "skipped" : "pending"));
      if (skipped) insert.bind(5, dump(result));
      insert.step();
      insert.reset();
    }
    transaction.commit();
  }
  using Row = BatchItem;
  std::vector<Row> rows() {
    index::sql::Statement query(
        db_, "SELECT id, path, kind, files, status, result FROM items ORDER BY id");
    std::vector<Row> out;
    while (query.step()) {
      out.push_back({query.integer(0), query.text(1), query.text(2),
                     json::parse(query.text(3)).get<std::vector<std::string>>(), query.text(4),
                     query.text(5)});
    }
    return out;
  }
  void record(std::int64_t id, const std::string& status, const std::string& result) {
    index::sql::Statement update(db_, "UPDATE items SET status = ?, result = ? WHERE id = ?");
    update.bind(1, status).bind(2, result).bind(3, id).step();
  }

 private:
  index::sql::Database db_;
};

// Writes everything to a file descriptor, retrying on interruption.
void write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  BatchItem item;
  std::string output;
  std::chrono::steady_clock::time_point started;
};

// The limit counts from what the worker starts with (the library its parent loaded, the
// libraries' code), so that a large library does not leave a worker nothing to decode with. A
// search takes about 130 MB of it (OpenBLAS's buffer), hence --memory-per-file's minimum of 256.
// AddressSanitizer reserves terabytes of address space for its shadow: no limit there.
void limit_address_space(std::int64_t megabytes) {
#ifndef __SANITIZE_ADDRESS__
  std::int64_t pages = 0;
  std::ifstream("/proc/self/statm") >> pages;
  const auto bytes = static_cast<rlim_t>(pages * ::sysconf(_SC_PAGESIZE) + (megabytes << 20));
  const rlimit memory{bytes, bytes};
  ::setrlimit(RLIMIT_AS, &memory);
#else
  (void)megabytes;
#endif
}

Worker start_worker(const index::Library& library, const BatchItem& row,
                    const BatchOptions& options) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0)
    throw Error(std::string("cannot create a pipe: ") + std::strerror(errno));
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(std::string("cannot start a worker: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);     // a killed batch leaves no worker behind
    if (::getppid() != parent) ::_exit(1);  // it was killed before that took effect
    index::search_on_one_thread();
    limit_address_space(options.memory_limit_mb);
    std::string text;
    try {
      text = dump(trace_item(library, row, options));
    } catch (...) {
      text = dump(json{{"query", row.path}, {"status", "error"}, {"error", "worker failed"}});
    }
    write_all(pipe_fds[1], text);
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  return {pid, pipe_fds[0], row, "", std::chrono::steady_clock::now()};
}

// The worker's verdict on an item, or an error saying how the worker ended.
WorkerOutcome finish_worker(Worker& worker, bool timed_out, const BatchOptions& options) {
  const BatchItem& row = worker.item;
  if (timed_out) ::kill(worker.pid, SIGKILL);
  int status = 0;
  ::waitpid(worker.pid, &status, 0);
  ::close(worker.fd);
  json error = {{"query", row.path}, {"status", "error"}};
  if (timed_out) {
    char text[64];
    std::snprintf(text, sizeof text, "timed out after %g s", options.timeout_seconds);
    error["error"] = text;
  } else if (WIFSIGNALED(status)) {
    error["error"] = std::string("worker crashed (") + strsignal(WTERMSIG(status)) + ")";
  } else {
    try {
      return {json::parse(worker.output), false};
    } catch (const json::exception&) {
      error["error"] = "worker gave no result";
    }
  }
  if (row.kind == "sequence") error["files"] = row.files;
  return {error, true};
}

void rewrite_results(const std::string& path, const std::vector<JobDatabase::Row>& rows) {
  std::string text;
  for (const auto& row : rows) {
    if (row.status != "pending") text += row.result + "\n";
  }
  engine::write_file_atomically(path, text);
}

}  // namespace

void run_workers(const index::Library& library, const BatchOptions& options,
                 const WorkerPool& pool) {
  std::vector<Worker> running;
  const int slots = std::max(1, options.jobs);
  bool done = false;
  while (true) {
    Supply supply = Supply::kNoneNow;
    while (!done && static_cast<int>(running.size()) < slots) {
      BatchItem item;
      supply = pool.next(item);
      if (supply != Supply::kItem) break;
      running.push_back(start_worker(library, item, options));
    }
    done = done || supply == Supply::kDone;
    if (done && running.empty()) break;
    std::vector<pollfd> fds;
    for (const Worker& w : running) fds.push_back({w.fd, POLLIN, 0});
    ::poll(fds.data(), fds.size(), 200);
    if (pool.tick) pool.tick();
    const auto now = std::chrono::steady_clock::now();
    for (std::size_t k = 0; k < running.size();) {
      Worker& w = running[k];
      bool ended = false;
      if (fds[k].revents & (POLLIN | POLLHUP | POLLERR)) {
        char buffer[65536];
        const ssize_t n = ::read(w.fd, buffer, sizeof buffer);
        if (n > 0) {
          w.output.append(buffer, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
          ended = true;
        }
      }
      const bool timed_out = !ended && std::chrono::duration<double>(now - w.started).count() >
                                           options.timeout_seconds;
      if (!ended && !timed_out) {
        ++k;
        continue;
      }
      pool.finished(w.item, finish_worker(w, timed_out, options));
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(k));
      fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(k));
    }
  }
}

std::string memory_limit_note(const BatchOptions& options) {
  return "the worker's limit is " + std::to_string(options.memory_limit_mb) +
         " MB for one file (--memory-per-file)";
}

json trace_item(const index::Library& library, const BatchItem& row, const BatchOptions& options) {
  json out;
  try {
    const index::LookupResult result = index::lookup(library, row.path, options.lookup);
    out = lookup_to_json(row.path, result);
    out["status"] = result.matches.empty() ? "no_match" : "matched";
    for (std::size_t i = 0; i < result.matches.size(); ++i) {
      const index::Match& m = result.matches[i];
      const std::string stem = "thumbs/" + std::to_string(row.id) + "-" + std::to_string(i);
      try {
        const EvidencePictures pictures =
            evidence_pictures(row.path, m, options.lookup.decode, kThumbnailSize);
        engine::write_png(options.out + "/" + stem + "-query.png", pictures.query);
        out["matches"][i]["thumbnails"]["query"] = stem + "-query.png";
        engine::write_png(options.out + "/" + stem + "-reference.png", pictures.reference);
        out["matches"][i]["thumbnails"]["reference"] = stem + "-reference.png";
      } catch (const Error&) {
        // A missing thumbnail (reference moved) does not change the result.
      }
      out["matches"][i]["reference_duration"] = m.reference.duration_seconds;
    }
  } catch (const std::bad_alloc&) {
    out = {{"query", row.path},
           {"status", "error"},
           {"error", "out of memory; " + memory_limit_note(options)}};
  } catch (const OutOfMemoryError& e) {
    out = {{"query", row.path},
           {"status", "error"},
           {"error", std::string(e.what()) + "; " + memory_limit_note(options)}};
  } catch (const std::exception& e) {
    out = {{"query", row.path}, {"status", "error"}, {"error", e.what()}};
  }
  if (row.kind == "sequence") out["files"] = row.files;
  return out;
}

BatchCounts run_batch(const BatchOptions& options, const BatchProgress& progress) {
  if (!options.resume) {
    for (const std::string& input : options.inputs) {
      std::error_code error;
      if (!fs::exists(fs::symlink_status(input, error)))
        throw MediaError(input + ": no such file or directory");
    }
  }
  const std::string database_path = options.out + "/jobs.sqlite";
  const bool exists = fs::exists(database_path);
  if (exists && !options.resume) {
    throw UsageError(options.out +
                     " already holds a batch (jobs.sqlite); pass --resume to continue it, or "
                     "choose another --out");
  }
  if (!exists && options.resume)
    throw UsageError(options.out + ": no batch to resume (no jobs.sqlite)");
  fs::create_directories(fs::path(options.out) / "thumbs");
  const index::Library library = index::Library::open(options.library);
  JobDatabase jobs(database_path);
  if (!exists) {
    jobs.create(options, scan_inputs(options.inputs, options.out));
  } else if (jobs.meta("library") != fs::absolute(options.library).string()) {
    throw UsageError(options.out + ": this batch was started with library " + jobs.meta("library"));
  }
  auto rows = jobs.rows();
  const std::string results_path = options.out + "/results.jsonl";
  rewrite_results(results_path, rows);
  std::ofstream results(results_path, std::ios::app);

  BatchCounts counts;
  counts.total = static_cast<int>(rows.size());
  auto count = [&](const std::string& status) {
    ++counts.done;
    counts.matched += status == "matched";
    counts.no_match += status == "no_match";
    counts.skipped += status == "skipped";
    counts.errors += status == "error";
  };
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].status == "pending") {
      pending.push_back(i);
    } else {
      count(rows[i].status);
    }
  }
  if (progress) progress(counts);

  std::size_t next = 0;
  std::map<std::int64_t, std::size_t> row_of_id;
  WorkerPool pool;
  pool.next = [&](BatchItem& item) {
    if (next == pending.size()) return Supply::kDone;
    row_of_id[rows[pending[next]].id] = pending[next];
    item = rows[pending[next++]];
    return Supply::kItem;
  };
  pool.finished = [&](const BatchItem& item, const WorkerOutcome& outcome) {
    const auto found = row_of_id.find(item.id);
    JobDatabase::Row& row = rows[found->second];
    row_of_id.erase(found);
    row.status = outcome.result.value("status", "error");
    row.result = dump(outcome.result);
    jobs.record(row.id, row.status, row.result);  // committed before the line is written
    results << row.result << "\n";
    results.flush();
    count(row.status);
    if (progress) progress(counts);
  };
  run_workers(library, options, pool);
  std::vector<ReportItem> items;
  for (const auto& row : rows)
    items.push_back({row.path, row.kind, row.status, json::parse(row.result)});
  write_outputs(options.out, items);
  return counts;
}

}  // namespace celtrace::tools
