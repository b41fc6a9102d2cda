#include "tools/match/queue.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include "engine/binary_io.h"
#include "engine/errors.h"
#include "index/catalog.h"
#include "index/library.h"
#include "tools/lookup_json.h"
#include "tools/match/postgres.h"
#include "tools/match/report.h"
#include "tools/match/scan.h"

namespace celtrace::tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kFormatVersion = 1;
// How often a worker with a free slot asks again when nothing was pending: an item given back
// or a lapsed lease waits at most this long for it.
constexpr std::chrono::milliseconds kIdlePoll{250};
// The first key of the advisory locks the queue takes (schema creation, worker names).
constexpr int kLockSpace = 0x63656c74;  // "celt"

std::uint64_t fnv1a(const std::string& text, std::uint64_t hash = 0xcbf29ce484222325ull) {
  for (const char c : text) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string hex(std::uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// Paths are stored as bytes (bytea): file names in a dump need not be UTF-8, which text columns
// of a UTF-8 database refuse. A list of files is joined with NUL, which no path holds.
std::string join_paths(const std::vector<std::string>& paths) {
  std::string joined;
  for (const std::string& path : paths)
    joined += (joined.empty() ? "" : std::string(1, '\0')) + path;
  return joined;
}

std::vector<std::string> split_paths(const std::string& joined) {
  std::vector<std::string> paths;
  if (joined.empty()) return paths;
  std::size_t start = 0;
  for (std::size_t end; (end = joined.find('\0', start)) != std::string::npos; start = end + 1)
    paths.push_back(joined.substr(start, end - start));
  paths.push_back(joined.substr(start));
  return paths;
}

// A bytea column selected as encode(column, 'hex'), back to its bytes.
std::string from_hex(const std::string& text) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    bytes += static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16));
  return bytes;
}

// Which library a queue's results come from: its model and every reference's name and content.
// Workers with another library are refused, so all results of a batch are comparable.
std::string library_signature(const index::Library& library) {
  std::vector<std::string> parts;
  for (const index::ReferenceRecord& r : library.references())
    parts.push_back(r.name + '\n' + r.checksum + '\n');
  std::sort(parts.begin(), parts.end());
  std::uint64_t hash = fnv1a(library.model().id);
  for (const std::string& part : parts) hash = fnv1a(part, hash);
  return library.model().id + "/" + std::to_string(parts.size()) + "/" + hex(hash);
}

std::string describe_signature(const std::string& signature) {
  const auto first = signature.find('/'), second = signature.rfind('/');
  if (first == std::string::npos || first == second) return signature;
  return signature.substr(first + 1, second - first - 1) + " references, model " +
         signature.substr(0, first);
}

// The job's identity in the queue: what it holds, so a file seen twice is traced once.
std::string content_key(const ScanItem& item) {
  if (!item.checksum.empty()) return "content:" + item.checksum;
  if (item.kind == ItemKind::kSequence) {
    std::uint64_t hash = fnv1a("sequence");
    try {
      for (const std::string& file : item.files) hash = fnv1a(index::file_checksum(file), hash);
      return "sequence:" + hex(hash);
    } catch (const Error&) {
      // unreadable frames: the worker reports them; the path identifies the item
    }
  }
  return "path:" + hex(fnv1a(item.path)) + ":" + valid_utf8(item.path);
}

void create_schema(pg::Connection& db) {
  pg::Transaction transaction(db);
  // CREATE ... IF NOT EXISTS races with itself; two first submits take turns.
  db.execute("SELECT pg_advisory_xact_lock($1, 0)", {kLockSpace});
  db.execute(
      "CREATE TABLE IF NOT EXISTS celtrace_queue_meta (key text PRIMARY KEY, value text NOT "
      "NULL)");
  db.execute(
      "CREATE TABLE IF NOT EXISTS celtrace_queue_jobs ("
      " id bigserial PRIMARY KEY,"
      " content_key text NOT NULL UNIQUE,"
      " path bytea NOT NULL, kind text NOT NULL, files bytea NOT NULL,"
      " status text NOT NULL CHECK (status IN"
      "  ('pending', 'running', 'matched', 'no_match', 'skipped', 'error')),"
      " attempts integer NOT NULL DEFAULT 0,"
      " worker text, lease_until timestamptz, last_failure text, result text,"
      " submitted_at timestamptz NOT NULL DEFAULT now(), finished_at timestamptz)");
  db.execute(
      "CREATE INDEX IF NOT EXISTS celtrace_queue_jobs_open ON celtrace_queue_jobs (id)"
      " WHERE status IN ('pending', 'running')");
  db.execute(
      "CREATE TABLE IF NOT EXISTS celtrace_queue_thumbnails ("
      " job_id bigint NOT NULL REFERENCES celtrace_queue_jobs (id), name text NOT NULL,"
      " png bytea NOT NULL, PRIMARY KEY (job_id, name))");
  db.execute(
      "INSERT INTO celtrace_queue_meta (key, value) VALUES ('format_version', $1)"
      " ON CONFLICT (key) DO NOTHING",
      {kFormatVersion});
  transaction.commit();
}

std::optional<std::string> meta(pg::Connection& db, const std::string& key) {
  const pg::Rows rows = db.execute("SELECT value FROM celtrace_queue_meta WHERE key = $1", {key});
  if (rows.size() == 0) return std::nullopt;
  return rows.text(0, 0);
}

// Opens a queue a submit has created; checks its format.
pg::Connection open_queue(const std::string& queue) {
  pg::Connection db(queue);
  const pg::Rows exists = db.execute("SELECT to_regclass('celtrace_queue_meta') IS NOT NULL");
  if (exists.text(0, 0) != "t")
    throw UsageError("no batch has been submitted to the queue at " + db.printable() +
                     " (celtrace queue submit)");
  const std::string version = meta(db, "format_version").value_or("");
  if (version != std::to_string(kFormatVersion))
    throw FormatError("the queue at " + db.printable() + " has format " + version + ", this is " +
                      std::to_string(kFormatVersion));
  return db;
}

int max_attempts_of(pg::Connection& db) {
  const std::string text = meta(db, "max_attempts").value_or("3");
  try {
    return std::max(1, std::stoi(text));
  } catch (const std::exception&) {
    throw FormatError("the queue at " + db.printable() + " has attempt limit '" + text + "'");
  }
}

json skipped_result(const ScanItem& item) {
  return {{"query", item.path}, {"status", "skipped"}, {"reason", item.reason}};
}

std::string default_worker_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "host");
  return std::string(host) + "-" + std::to_string(::getpid());
}

// A folder of this worker's own, removed with everything in it.
class TemporaryFolder {
 public:
  TemporaryFolder() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/celtrace-queue-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr)
      throw Error("cannot create a temporary folder in " + pattern);
    path_ = pattern;
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs `call`, adding its wall time to `seconds`.
template <typename Call>
auto timed(double& seconds, Call call) {
  const auto start = Clock::now();
  struct Add {
    double& seconds;
    Clock::time_point start;
    ~Add() { seconds += std::chrono::duration<double>(Clock::now() - start).count(); }
  } add{seconds, start};
  return call();
}

// "thumbs/ID-N-query.png" or "...-reference.png", as trace_item names them.
bool is_thumbnail_name(const std::string& name) {
  const std::string prefix = "thumbs/";
  if (name.rfind(prefix, 0) != 0) return false;
  std::size_t i = prefix.size();
  for (int number = 0; number < 2; ++number) {
    const std::size_t first = i;
    while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) ++i;
    if (i == first || i == name.size() || name[i] != '-') return false;
    ++i;
  }
  const std::string rest = name.substr(i);
  return rest == "query.png" || rest == "reference.png";
}

class QueueWorker {
 public:
  QueueWorker(const QueueWorkOptions& options,
              const std::function<void(const WorkCounts&)>& progress)
      : options_(options),
        progress_(progress),
        db_(open_queue(options.queue)),
        name_(options.name.empty() ? default_worker_name() : options.name),
        library_(index::Library::open(options.batch.library)) {
    const std::string wanted = meta(db_, "library").value_or("");
    const std::string have = library_signature(library_);
    if (wanted != have)
      throw UsageError("the queue's batch is for another library (" + describe_signature(wanted) +
                       "); " + options.batch.library + " has " + describe_signature(have));
    max_attempts_ = max_attempts_of(db_);
    // The lock is the name's while this connection lives: two live workers never share a name.
    // A killed worker's connection ends when the server notices: at once on one machine, within
    // about a minute across a network with the keepalives below (the server's default is two
    // hours); a restart right after a kill gets a few seconds for it.
    db_.execute(
        "SELECT set_config('tcp_keepalives_idle', '30', false),"
        " set_config('tcp_keepalives_interval', '10', false),"
        " set_config('tcp_keepalives_count', '3', false)");
    bool locked = false;
    for (int attempt = 0; attempt < 30 && !locked; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      locked = db_.execute("SELECT pg_try_advisory_lock($1, hashtext($2))", {kLockSpace, name_})
                   .text(0, 0) == "t";
    }
    if (!locked) {
      throw UsageError("a worker named '" + name_ +
                       "' is already working on this queue (one that was killed keeps its name "
                       "until the server notices, about a minute across a network)");
    }
    // This name's jobs left running belong to a worker that is gone: take them back now.
    db_.execute(
        "UPDATE celtrace_queue_jobs SET status = 'pending', worker = NULL, lease_until = NULL,"
        " last_failure = 'worker restarted' WHERE status = 'running' AND worker = $1",
        {name_});
    // A claim, a lease renewal or an item given back that a server crash loses only leaves a
    // lease to lapse, so they need not wait for the disk; results and errors do (below).
    db_.execute("SET synchronous_commit = off");
    batch_ = options.batch;
    batch_.out = thumbnails_.path();
    fs::create_directories(fs::path(batch_.out) / "thumbs");
  }

  WorkCounts run() {
    WorkerPool pool;
    pool.next = [this](BatchItem& item) { return next(item); };
    pool.finished = [this](const BatchItem& item, const WorkerOutcome& outcome) {
      finished(item, outcome);
    };
    pool.tick = [this] { tick(); };
    read_progress();
    run_workers(library_, batch_, pool);
    read_progress();
    return counts_;
  }

 private:
  struct Claimed {
    BatchItem submitted;  // as the queue has it; the worker gets the mapped paths
    int attempts = 0;
  };

  Supply next(BatchItem& item) {
    const auto now = Clock::now();
    if (now < next_claim_) return Supply::kNoneNow;
    return timed(counts_.queue_seconds, [&] {
      const pg::Rows rows = db_.execute(
          "UPDATE celtrace_queue_jobs j SET status = 'running', attempts = j.attempts + 1,"
          " worker = $1, lease_until = now() + make_interval(secs => $2)"
          " FROM (SELECT id FROM celtrace_queue_jobs"
          "  WHERE (status = 'pending' OR (status = 'running' AND lease_until < now()))"
          "   AND attempts < $3 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) next"
          " WHERE j.id = next.id RETURNING j.id, encode(j.path, 'hex'), j.kind,"
          " encode(j.files, 'hex'), j.attempts",
          {name_, options_.lease_seconds, max_attempts_});
      if (rows.size() == 0) {
        // Nothing to claim: end the jobs that ran out of attempts, then wait or stop.
        end_poison_jobs();
        next_claim_ = now + kIdlePoll;
        const pg::Rows open = db_.execute(
            "SELECT count(*) FROM celtrace_queue_jobs WHERE status IN ('pending', 'running')");
        return open.integer(0, 0) == 0 ? Supply::kDone : Supply::kNoneNow;
      }
      Claimed claimed;
      claimed.submitted.id = rows.integer(0, 0);
      claimed.submitted.path = from_hex(rows.text(0, 1));
      claimed.submitted.kind = rows.text(0, 2);
      claimed.submitted.files = split_paths(from_hex(rows.text(0, 3)));
      claimed.attempts = static_cast<int>(rows.integer(0, 4));
      item = claimed.submitted;
      item.path = map_path(item.path, options_.path_map);
      for (std::string& file : item.files) file = map_path(file, options_.path_map);
      claimed_[item.id] = std::move(claimed);
      return Supply::kItem;
    });
  }

  // Jobs whose lease lapsed (or whose worker restarted) after their last allowed attempt: their
  // workers died on them.
  void end_poison_jobs() {
    pg::Transaction transaction(db_);
    db_.execute("SET LOCAL synchronous_commit = on");
    const pg::Rows rows = db_.execute(
        "SELECT id, encode(path, 'hex'), kind, encode(files, 'hex'), attempts FROM "
        "celtrace_queue_jobs WHERE attempts >= $1 AND"
        " (status = 'pending' OR (status = 'running' AND lease_until < now()))"
        " FOR UPDATE SKIP LOCKED",
        {max_attempts_});
    for (int r = 0; r < rows.size(); ++r) {
      json result = {{"query", from_hex(rows.text(r, 1))},
                     {"status", "error"},
                     {"error", "its worker was lost on each of " + rows.text(r, 4) +
                                   " attempts (the file may stop workers)"}};
      if (rows.text(r, 2) == "sequence") result["files"] = split_paths(from_hex(rows.text(r, 3)));
      db_.execute(
          "UPDATE celtrace_queue_jobs SET status = 'error', result = $2, worker = NULL,"
          " lease_until = NULL, finished_at = now() WHERE id = $1",
          {rows.integer(r, 0), json_line(result)});
    }
    transaction.commit();
  }

  void finished(const BatchItem& item, const WorkerOutcome& outcome) {
    const auto found = claimed_.find(item.id);
    const Claimed claimed = found->second;
    claimed_.erase(found);
    json result = outcome.result;
    result["query"] = claimed.submitted.path;
    if (claimed.submitted.kind == "sequence") result["files"] = claimed.submitted.files;
    const std::string error = result.value("error", "");
    if (outcome.worker_failed && claimed.attempts < max_attempts_) {
      timed(counts_.queue_seconds, [&] {
        db_.execute(
            "UPDATE celtrace_queue_jobs SET status = 'pending', worker = NULL, lease_until = NULL,"
            " last_failure = $3 WHERE id = $1 AND worker = $2 AND status = 'running'",
            {item.id, name_, error});
      });
      ++counts_.retried;
      report();
      return;
    }
    if (outcome.worker_failed)
      result["error"] = error + " (on each of " + std::to_string(claimed.attempts) + " attempts)";
    const std::string status = result.value("status", "error");
    // The thumbnails the worker wrote travel in the queue; the folder is emptied either way.
    std::vector<std::pair<std::string, std::string>> pictures;
    if (result.contains("matches")) {
      for (json& match : result["matches"]) {
        if (!match.contains("thumbnails")) continue;
        for (const auto& [side, name] : match["thumbnails"].items()) {
          const std::string file = batch_.out + "/" + name.get<std::string>();
          pictures.emplace_back(name.get<std::string>(), read_file(file));
          std::error_code ignored;
          fs::remove(file, ignored);
        }
      }
    }
    const bool committed = timed(counts_.queue_seconds, [&] {
      pg::Transaction transaction(db_);
      db_.execute("SET LOCAL synchronous_commit = on");
      const pg::Rows updated = db_.execute(
          "UPDATE celtrace_queue_jobs SET status = $3, result = $4, worker = NULL,"
          " lease_until = NULL, finished_at = now() WHERE id = $1 AND worker = $2 AND"
          " status = 'running'",
          {item.id, name_, status, json_line(result)});
      if (updated.affected() != 1) return false;  // the lease lapsed and another worker has it
      for (const auto& [name, png] : pictures) {
        db_.execute(
            "INSERT INTO celtrace_queue_thumbnails (job_id, name, png) VALUES ($1, $2, $3)"
            " ON CONFLICT (job_id, name) DO UPDATE SET png = excluded.png",
            {item.id, name, pg::Value::bytes(png)});
      }
      transaction.commit();
      return true;
    });
    if (!committed) {
      ++counts_.taken_over;
    } else {
      ++counts_.traced;
      counts_.matched += status == "matched";
      counts_.errors += status == "error";
    }
    report();
  }

  void tick() {
    const auto now = Clock::now();
    if (!claimed_.empty() && now >= next_renewal_) {
      timed(counts_.queue_seconds, [&] {
        db_.execute(
            "UPDATE celtrace_queue_jobs SET lease_until = now() + make_interval(secs => $2)"
            " WHERE worker = $1 AND status = 'running'",
            {name_, options_.lease_seconds});
      });
      next_renewal_ = now + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(options_.lease_seconds / 3));
    }
    if (progress_ && now >= next_progress_) {
      read_progress();
      progress_(counts_);
    }
  }

  void read_progress() {
    if (!progress_) return;
    const pg::Rows rows = timed(counts_.queue_seconds, [&] {
      return db_.execute(
          "SELECT count(*), count(*) FILTER (WHERE status NOT IN ('pending', 'running'))"
          " FROM celtrace_queue_jobs");
    });
    counts_.queue_total = static_cast<int>(rows.integer(0, 0));
    counts_.queue_done = static_cast<int>(rows.integer(0, 1));
    next_progress_ = Clock::now() + std::chrono::seconds(2);
  }

  void report() {
    if (!progress_) return;
    ++counts_.queue_done;  // until the next count
    progress_(counts_);
  }

  const QueueWorkOptions& options_;
  const std::function<void(const WorkCounts&)>& progress_;
  pg::Connection db_;
  std::string name_;
  index::Library library_;
  int max_attempts_ = 3;
  TemporaryFolder thumbnails_;
  BatchOptions batch_;
  std::map<std::int64_t, Claimed> claimed_;
  WorkCounts counts_;
  Clock::time_point next_claim_{}, next_renewal_{}, next_progress_{};
};

}  // namespace

std::string map_path(const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& map) {
  for (const auto& [from, to] : map) {
    std::string prefix = from;
    while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
    if (path.compare(0, prefix.size(), prefix) != 0) continue;
    if (path.size() > prefix.size() && path[prefix.size()] != '/' && prefix != "/") continue;
    std::string target = to;
    while (target.size() > 1 && target.back() == '/') target.pop_back();
    return target + path.substr(prefix == "/" ? 0 : prefix.size());
  }
  return path;
}

SubmitCounts submit_to_queue(const QueueSubmitOptions& options) {
  std::vector<std::string> roots;
  for (const std::string& input : options.inputs) {
    std::error_code error;
    if (!fs::exists(fs::symlink_status(input, error)))
      throw MediaError(input + ": no such file or directory");
    roots.push_back(fs::absolute(input).lexically_normal().string());
  }
  const index::Library library = index::Library::open(options.library);
  const std::string signature = library_signature(library);
  pg::Connection db(options.queue);
  create_schema(db);
  {
    pg::Transaction transaction(db);
    db.execute("SELECT pg_advisory_xact_lock($1, 0)", {kLockSpace});
    const std::optional<std::string> recorded = meta(db, "library");
    if (recorded && *recorded != signature) {
      throw UsageError("the queue at " + db.printable() + " holds a batch for another library (" +
                       describe_signature(*recorded) + "); " + options.library + " has " +
                       describe_signature(signature));
    }
    db.execute(
        "INSERT INTO celtrace_queue_meta (key, value) VALUES ('library', $1), ('max_attempts', $2)"
        " ON CONFLICT (key) DO NOTHING",
        {signature, options.max_attempts});
    transaction.commit();
  }
  const std::vector<ScanItem> items = scan_inputs(roots);
  SubmitCounts counts;
  counts.scanned = static_cast<int>(items.size());
  pg::Transaction transaction(db);
  for (const ScanItem& item : items) {
    const bool skipped = item.kind == ItemKind::kSkipped;
    const pg::Rows inserted = db.execute(
        "INSERT INTO celtrace_queue_jobs (content_key, path, kind, files, status, result)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (content_key) DO NOTHING",
        {content_key(item), pg::Value::bytes(item.path), to_string(item.kind),
         pg::Value::bytes(join_paths(item.files)), skipped ? "skipped" : "pending",
         skipped ? pg::Value(json_line(skipped_result(item))) : pg::Value::null()});
    if (inserted.affected() == 1) {
      ++counts.added;
    } else {
      ++counts.already_queued;
    }
  }
  transaction.commit();
  return counts;
}

WorkCounts work_queue(const QueueWorkOptions& options,
                      const std::function<void(const WorkCounts&)>& progress) {
  if (!(options.lease_seconds >= 3))
    throw UsageError("a lease shorter than 3 s cannot be renewed in time");
  QueueWorker worker(options, progress);
  return worker.run();
}

QueueStatus queue_status(const std::string& queue) {
  pg::Connection db = open_queue(queue);
  QueueStatus status;
  status.library = describe_signature(meta(db, "library").value_or(""));
  status.max_attempts = max_attempts_of(db);
  const pg::Rows counts =
      db.execute("SELECT status, count(*) FROM celtrace_queue_jobs GROUP BY status");
  for (int r = 0; r < counts.size(); ++r)
    status.by_status[counts.text(r, 0)] = static_cast<int>(counts.integer(r, 1));
  const pg::Rows rows = db.execute(
      "SELECT id, encode(path, 'hex'), coalesce(worker, ''), attempts,"
      " coalesce(extract(epoch FROM lease_until - now()), 0), status FROM celtrace_queue_jobs"
      " WHERE status = 'running' OR (status = 'pending' AND attempts > 0) ORDER BY id");
  for (int r = 0; r < rows.size(); ++r) {
    QueueJobState job{rows.integer(r, 0), from_hex(rows.text(r, 1)), rows.text(r, 2),
                      static_cast<int>(rows.integer(r, 3)), std::stod(rows.text(r, 4))};
    (rows.text(r, 5) == "running" ? status.running : status.retrying).push_back(job);
  }
  return status;
}

BatchCounts write_queue_report(const std::string& queue, const std::string& out) {
  pg::Connection db = open_queue(queue);
  fs::create_directories(fs::path(out) / "thumbs");
  const pg::Rows rows = db.execute(
      "SELECT encode(path, 'hex'), kind, status, coalesce(result, '') FROM celtrace_queue_jobs"
      " ORDER BY path, id");
  BatchCounts counts;
  std::vector<ReportItem> items;
  std::string lines;
  for (int r = 0; r < rows.size(); ++r) {
    const std::string status = rows.text(r, 2), path = from_hex(rows.text(r, 0));
    ++counts.total;
    const bool finished = status != "pending" && status != "running";
    counts.done += finished;
    counts.matched += status == "matched";
    counts.no_match += status == "no_match";
    counts.skipped += status == "skipped";
    counts.errors += status == "error";
    json result = {{"query", path}, {"status", "pending"}};
    if (finished) {
      result = json::parse(rows.text(r, 3));
      lines += rows.text(r, 3) + "\n";
    }
    items.push_back({path, rows.text(r, 1), finished ? status : "pending", result});
  }
  // Thumbnails come back to the names the results give them; a name of another shape (a damaged
  // or hostile queue) is not written.
  const pg::Rows pictures = db.execute("SELECT name, png FROM celtrace_queue_thumbnails", {}, true);
  for (int r = 0; r < pictures.size(); ++r) {
    const std::string name = pictures.text(r, 0);
    if (!is_thumbnail_name(name)) continue;
    engine::write_file_atomically(out + "/" + name, pictures.text(r, 1));
  }
  engine::write_file_atomically(out + "/results.jsonl", lines);
  write_outputs(out, items);
  return counts;
}

}  // namespace celtrace::tools
