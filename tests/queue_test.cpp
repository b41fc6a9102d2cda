// celtrace queue end to end against a real PostgreSQL server (tests/postgres-server starts one
// on a Unix socket; without the server binaries these tests skip): three workers with one
// killed mid-file, poison files, overlapping submits, a restarted worker, and the password kept
// out of every output. Plus the decoder-free pieces: path mapping and password hiding.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <nlohmann/json.hpp>

#include "engine/fingerprinter.h"
#include "index/library.h"
#include "tests/test_media.h"
#include "tools/match/postgres.h"
#include "tools/match/queue.h"

extern char** environ;

namespace celtrace::tools {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TEST(QueuePaths, MapReplacesWholeLeadingComponents) {
  const std::vector<std::pair<std::string, std::string>> map = {{"/mnt/leak/", "/data/leak"},
                                                                {"/mnt", "/other"}};
  EXPECT_EQ(map_path("/mnt/leak/a/b.mp4", map), "/data/leak/a/b.mp4");
  EXPECT_EQ(map_path("/mnt/leaked/b.mp4", map), "/other/leaked/b.mp4");  // not /mnt/leak
  EXPECT_EQ(map_path("/mnt2/b.mp4", map), "/mnt2/b.mp4");
  EXPECT_EQ(map_path("/srv/b.mp4", map), "/srv/b.mp4");
  EXPECT_EQ(map_path("/x/y.png", {{"/", "/root/"}}), "/root/x/y.png");
}

TEST(QueuePaths, PasswordsAreHiddenInEveryForm) {
  EXPECT_EQ(pg::hide_password("postgresql://ana:s%40cret@db.lan:5433/case17"),
            "postgresql://ana:***@db.lan:5433/case17");
  EXPECT_EQ(pg::hide_password("postgresql://ana@db.lan/case17?password=s3cret&sslmode=require"),
            "postgresql://ana@db.lan/case17?password=***&sslmode=require");
  EXPECT_EQ(pg::hide_password("host=db.lan password='a b' dbname=case17"),
            "host=db.lan password=*** dbname=case17");
  EXPECT_EQ(pg::hide_password("postgresql://ana@db.lan/case17"), "postgresql://ana@db.lan/case17");
}

// Runs the CLI with stdout and stderr into `log` (appended) and TMPDIR set to `temporary`: a
// worker the test kills leaves its temporary folder there, not in /tmp.
pid_t spawn(const std::vector<std::string>& args, const std::string& log,
            const std::string& temporary) {
  std::vector<std::string> variables = {"TMPDIR=" + temporary};
  for (char** v = environ; *v != nullptr; ++v) {
    if (std::string(*v).rfind("TMPDIR=", 0) != 0) variables.emplace_back(*v);
  }
  std::vector<char*> envp;
  for (auto& v : variables) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<json> read_results(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

class Queue : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    shared_ = new testing::TempDir;
    // Under /tmp, not the test's folder: the server's account must reach it, whatever TMPDIR is.
    char server_dir[] = "/tmp/celtrace-pg-XXXXXX";
    ASSERT_NE(::mkdtemp(server_dir), nullptr);
    server_dir_ = server_dir;
    fs::permissions(server_dir_,
                    fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    const std::string server = server_dir_ + "/pg";
    std::FILE* pipe =
        ::popen((std::string(CELTRACE_POSTGRES_SERVER) + " start " + server).c_str(), "r");
    char line[512] = {};
    const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
    const int status = ::pclose(pipe);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
      skip_reason_ = "no PostgreSQL server binaries (tests/postgres-server says why)";
      return;
    }
    ASSERT_TRUE(got && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "tests/postgres-server could not start a server";
    server_uri_ = line;
    server_uri_.pop_back();  // the newline

    testing::write_cartoon_video(shared_->path("Toon.S01E01.mp4"), 31, 1, 0.0, 50.0);
    index::Library library =
        index::Library::open_or_create(shared_->path("lib"), engine::default_model());
    index::NewReference r;
    r.fingerprint =
        engine::Fingerprinter(engine::default_model())
            .fingerprint(shared_->path("Toon.S01E01.mp4"), index::reference_fingerprint_options());
    r.name = "Toon.S01E01";
    r.title = "Toon";
    r.path = shared_->path("Toon.S01E01.mp4");
    r.checksum = index::file_checksum(r.path);
    library.add({r});
  }

  static void TearDownTestSuite() {
    if (!server_uri_.empty())
      std::system((std::string(CELTRACE_POSTGRES_SERVER) + " stop " + server_dir_ + "/pg").c_str());
    if (!server_dir_.empty()) fs::remove_all(server_dir_);
    delete shared_;
    shared_ = nullptr;
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
    ASSERT_FALSE(server_uri_.empty());
    // A database per test; the URI given to the CLI carries a password that must never show.
    static int count = 0;
    database_ = "queue_test_" + std::to_string(++count);
    pg::Connection admin(server_uri_);
    admin.execute("DROP DATABASE IF EXISTS " + database_);
    admin.execute("CREATE DATABASE " + database_);
    const std::string socket = server_uri_.substr(server_uri_.find("?host="));
    queue_ = "postgresql://postgres:" + std::string(kPassword) + "@/" + database_ + socket;
    plain_queue_ = "postgresql://postgres@/" + database_ + socket;
  }

  std::string lib() const { return shared_->path("lib"); }
  std::string log() const { return dir.path("log.txt"); }

  int cli(std::vector<std::string> args) {
    args.insert(args.begin(), CELTRACE_CLI);
    return wait_for(start(args));
  }
  pid_t start_worker(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {CELTRACE_CLI, "queue", "work",   queue_, lib(),
                                     "--name",     name,    "--jobs", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return start(args);
  }
  // The CLI with its output into log() and its temporary folders in the test's folder.
  pid_t start(const std::vector<std::string>& args) {
    return spawn(args, log(), dir.root().string());
  }
  // Rows of the jobs table: path -> (status, attempts).
  std::map<std::string, std::pair<std::string, int>> jobs() {
    pg::Connection db(plain_queue_);
    const pg::Rows rows =
        db.execute("SELECT encode(path, 'escape'), status, attempts FROM celtrace_queue_jobs");
    std::map<std::string, std::pair<std::string, int>> out;
    for (int r = 0; r < rows.size(); ++r)
      out[fs::path(rows.text(r, 0)).filename().string()] = {rows.text(r, 1),
                                                            static_cast<int>(rows.integer(r, 2))};
    return out;
  }
  // Waits until `worker` holds a running job; returns its file name.
  std::string wait_until_running(const std::string& worker) {
    for (int wait = 0; wait < 1500; ++wait) {
      pg::Connection db(plain_queue_);
      const pg::Rows rows = db.execute(
          "SELECT encode(path, 'escape') FROM celtrace_queue_jobs WHERE status = 'running' AND"
          " worker = $1",
          {worker});
      if (rows.size() > 0) return fs::path(rows.text(0, 0)).filename().string();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "";
  }
  void write_clips(const fs::path& folder, int count, double first_start) {
    fs::create_directories(folder);
    for (int i = 0; i < count; ++i) {
      testing::write_cartoon_video((folder / ("clip" + std::to_string(i) + ".mp4")).string(), 31, 1,
                                   first_start + 3 * i, 2.5);
    }
  }

  static constexpr const char* kPassword = "Pw-s3cret-7";
  static testing::TempDir* shared_;
  static std::string server_dir_, server_uri_, skip_reason_;
  testing::TempDir dir;
  std::string database_, queue_, plain_queue_;
};

testing::TempDir* Queue::shared_ = nullptr;
std::string Queue::server_dir_, Queue::server_uri_, Queue::skip_reason_;

TEST_F(Queue, ThreeWorkersOneKilledMidFileEveryItemOnce) {
  const fs::path tree = dir.root() / "found";
  write_clips(tree, 8, 6.0);
  testing::write_bytes((tree / "notes.txt").string(), "retakes for sc031");
  // A name that is not UTF-8, as dumps from other systems hold: stored and traced as bytes.
  fs::rename(tree / "clip7.mp4", tree / "clip7 \xff\xfe.mp4");
  ASSERT_EQ(cli({"queue", "submit", queue_, lib(), tree.string()}), 0);

  const std::vector<std::string> lease = {"--lease", "3"};
  const pid_t doomed = start_worker("w1", lease);
  const std::string killed_on = wait_until_running("w1");
  ASSERT_FALSE(killed_on.empty());
  const pid_t second = start_worker("w2", lease), third = start_worker("w3", lease);
  ::kill(doomed, SIGKILL);
  wait_for(doomed);
  EXPECT_EQ(wait_for(second), 0);
  EXPECT_EQ(wait_for(third), 0);

  // The killed worker's file was traced again after its lease lapsed: two attempts, one result.
  const auto rows = jobs();
  ASSERT_EQ(rows.size(), 9u);
  EXPECT_EQ(rows.at(killed_on).first, "matched");
  EXPECT_EQ(rows.at(killed_on).second, 2);
  EXPECT_EQ(rows.at("notes.txt").first, "skipped");

  ASSERT_EQ(cli({"queue", "report", queue_, "--out", dir.path("report")}), 0);
  const auto results = read_results(dir.path("report/results.jsonl"));
  std::set<std::string> queries;
  for (const json& r : results) {
    queries.insert(r["query"].get<std::string>());
    if (r["status"] == "skipped") continue;
    EXPECT_EQ(r["status"], "matched") << r.dump();
    const json& thumbnails = r["matches"][0]["thumbnails"];
    EXPECT_TRUE(fs::exists(dir.path("report/" + thumbnails["query"].get<std::string>())));
  }
  EXPECT_EQ(results.size(), 9u);
  EXPECT_EQ(queries.size(), 9u);
  const auto hostile = std::count_if(results.begin(), results.end(), [](const json& r) {
    return r.value("query_bytes", "").find("%FF%FE") != std::string::npos &&
           r["status"] == "matched";
  });
  EXPECT_EQ(hostile, 1);
  EXPECT_NE(read_text(dir.path("report/report.html")).find("thumbs/"), std::string::npos);

  ASSERT_EQ(cli({"queue", "status", queue_}), 0);
  const std::string output = read_text(log());
  EXPECT_NE(output.find("postgres:***@"), std::string::npos) << output;
  EXPECT_EQ(output.find(kPassword), std::string::npos) << output;
}

TEST_F(Queue, PoisonFilesEndAsErrorsAfterTheAttemptLimit) {
  const fs::path tree = dir.root() / "found";
  write_clips(tree, 2, 10.0);
  ASSERT_EQ(cli({"queue", "submit", queue_, lib(), tree.string(), "--max-attempts", "2"}), 0);
  // A worker that kills itself on every file: each item is given back once, then is an error.
  ASSERT_EQ(cli({"queue", "work", queue_, lib(), "--timeout-per-file", "0.001", "-q"}), 0);
  for (const auto& [name, row] : jobs()) {
    EXPECT_EQ(row.first, "error") << name;
    EXPECT_EQ(row.second, 2) << name;
  }
  ASSERT_EQ(cli({"queue", "report", queue_, "--out", dir.path("report")}), 0);
  for (const json& r : read_results(dir.path("report/results.jsonl"))) {
    const std::string error = r["error"].get<std::string>();
    EXPECT_NE(error.find("timed out"), std::string::npos) << error;
    EXPECT_NE(error.find("each of 2 attempts"), std::string::npos) << error;
  }

  // A machine lost on the last allowed attempt: the next worker ends the item as an error.
  const fs::path more = dir.root() / "more";
  write_clips(more, 1, 30.0);
  pg::Connection(plain_queue_)
      .execute("UPDATE celtrace_queue_meta SET value = '1' WHERE key = 'max_attempts'");
  ASSERT_EQ(cli({"queue", "submit", queue_, lib(), more.string()}), 0);
  const pid_t doomed = start_worker("lost", {"--lease", "3"});
  ASSERT_EQ(wait_until_running("lost"), "clip0.mp4");
  ::kill(doomed, SIGKILL);
  wait_for(doomed);
  ASSERT_EQ(cli({"queue", "work", queue_, lib(), "-q"}), 0);
  pg::Connection db(plain_queue_);
  const pg::Rows row = db.execute(
      "SELECT status, result FROM celtrace_queue_jobs"
      " WHERE encode(path, 'escape') LIKE '%/more/clip0.mp4'");
  ASSERT_EQ(row.size(), 1);
  EXPECT_EQ(row.text(0, 0), "error");
  EXPECT_NE(row.text(0, 1).find("worker was lost"), std::string::npos) << row.text(0, 1);
}

TEST_F(Queue, OverlappingConcurrentSubmitsEnqueueEachFileOnce) {
  const fs::path tree = dir.root() / "found";
  write_clips(tree / "a", 2, 6.0);
  write_clips(tree / "b", 1, 20.0);
  fs::copy_file(tree / "a" / "clip0.mp4", tree / "b" / "same-as-a0.mp4");  // another mount
  testing::write_bytes((tree / "b" / "notes.txt").string(), "retakes");
  const pid_t first = start({CELTRACE_CLI, "queue", "submit", queue_, lib(), (tree / "a").string(),
                             (tree / "b").string()});
  const pid_t second = start({CELTRACE_CLI, "queue", "submit", queue_, lib(), tree.string()});
  ASSERT_EQ(wait_for(first), 0);
  ASSERT_EQ(wait_for(second), 0);
  // a/clip0, a/clip1, b/clip0, b/notes.txt (skipped) and the copy (skipped as a duplicate).
  pg::Connection db(plain_queue_);
  const pg::Rows rows =
      db.execute("SELECT kind, count(*) FROM celtrace_queue_jobs GROUP BY kind ORDER BY kind");
  ASSERT_EQ(rows.size(), 2);
  EXPECT_EQ(rows.text(0, 0), "skipped");
  EXPECT_EQ(rows.integer(0, 1), 2);
  EXPECT_EQ(rows.text(1, 0), "video");
  EXPECT_EQ(rows.integer(1, 1), 3);
  // Both submits scanned five items; together they enqueued five.
  const std::string output = read_text(log());
  int enqueued = 0;
  for (std::size_t at = output.find("scanned: "); at != std::string::npos;
       at = output.find("scanned: ", at + 1))
    enqueued += std::stoi(output.substr(at + 9));
  EXPECT_EQ(enqueued, 5) << output;
}

TEST_F(Queue, ARestartedWorkerTakesItsItemsBackAndNamesAreUnique) {
  const fs::path tree = dir.root() / "found";
  write_clips(tree, 4, 6.0);
  ASSERT_EQ(cli({"queue", "submit", queue_, lib(), tree.string()}), 0);
  // A long lease: only the restart under the same name frees the killed worker's item early.
  const std::vector<std::string> lease = {"--lease", "600"};
  const pid_t doomed = start_worker("scanner-7", lease);
  const std::string killed_on = wait_until_running("scanner-7");
  ASSERT_FALSE(killed_on.empty());
  // While it lives (stopped here, its connection open) no other worker may take its name.
  ::kill(doomed, SIGSTOP);
  EXPECT_EQ(wait_for(start_worker("scanner-7", lease)), 2);
  ::kill(doomed, SIGKILL);
  wait_for(doomed);

  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_for(start_worker("scanner-7", lease)), 0);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 300);
  const auto rows = jobs();
  EXPECT_EQ(rows.at(killed_on).first, "matched");
  EXPECT_EQ(rows.at(killed_on).second, 2);
  for (const auto& [name, row] : rows) EXPECT_EQ(row.first, "matched") << name;

  // A worker with another library is refused: its results would not be comparable.
  index::Library::open_or_create(dir.path("other-lib"), engine::default_model());
  EXPECT_EQ(cli({"queue", "work", queue_, dir.path("other-lib")}), 2);
  EXPECT_NE(read_text(log()).find("another library"), std::string::npos);
  // No queue at all: a usage error that names the server without the password.
  EXPECT_EQ(cli({"queue", "status",
                 queue_.substr(0, queue_.find("@/") + 2) + "nowhere" +
                     queue_.substr(queue_.find("?host="))}),
            1);
  EXPECT_EQ(read_text(log()).find(kPassword), std::string::npos);
}

}  // namespace
}  // namespace celtrace::tools
