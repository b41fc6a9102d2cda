#include "index/sqlite.h"

#include <sqlite3.h>

#include "engine/errors.h"

namespace celtrace::index::sql {

Database::Database(const std::string& path) : path_(path) {
  // No mutex per connection: a Database is used by one thread at a time (threads that fingerprint
  // for `index add` do not touch it; `match` workers are processes), and SQLite's serialized mode
  // locked one for every column read, 15% of opening a 1,000-hour library.
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw Error(path + ": cannot open database (" + why + ")");
  }
  // A library's writer waits at commit for readers still loading the previous state (seconds at
  // hundreds of reference hours), and readers wait for a commit in progress.
  sqlite3_busy_timeout(db_, 120'000);
}

Database::~Database() {
  sqlite3_close(db_);
}

bool Database::read_only() const {
  return sqlite3_db_readonly(db_, "main") == 1;
}

void Database::execute(const std::string& sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string why = message ? message : "unknown error";
    sqlite3_free(message);
    throw Error(path_ + ": " + why);
  }
}

std::int64_t Database::last_insert_id() const {
  return sqlite3_last_insert_rowid(db_);
}

Statement::Statement(const Database& db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &statement_, nullptr) != SQLITE_OK) {
    throw Error(db.path() + ": " + sqlite3_errmsg(db.handle()) + " in: " + sql);
  }
}

Statement::~Statement() {
  sqlite3_finalize(statement_);
}

Statement& Statement::bind(int position, std::int64_t value) {
  sqlite3_bind_int64(statement_, position, value);
  return *this;
}
Statement& Statement::bind(int position, double value) {
  sqlite3_bind_double(statement_, position, value);
  return *this;
}
Statement& Statement::bind(int position, const std::string& value) {
  sqlite3_bind_text(statement_, position, value.c_str(), static_cast<int>(value.size()),
                    SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind(int position, const std::optional<int>& value) {
  if (value) {
    sqlite3_bind_int(statement_, position, *value);
  } else {
    sqlite3_bind_null(statement_, position);
  }
  return *this;
}
Statement& Statement::bind_null(int position) {
  sqlite3_bind_null(statement_, position);
  return *this;
}
Statement& Statement::bind_blob(int position, const void* data, std::size_t size) {
  sqlite3_bind_blob(statement_, position, data, static_cast<int>(size), SQLITE_TRANSIENT);
  return *this;
}

bool Statement::step() {
  const int status = sqlite3_step(statement_);
  if (status == SQLITE_ROW) return true;
  if (status == SQLITE_DONE) return false;
  throw Error(db_.path() + ": " + sqlite3_errmsg(db_.handle()));
}

void Statement::reset() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

std::int64_t Statement::integer(int column) const {
  return sqlite3_column_int64(statement_, column);
}
double Statement::real(int column) const {
  return sqlite3_column_double(statement_, column);
}
bool Statement::is_null(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}
std::string Statement::text(int column) const {
  const auto* value = sqlite3_column_text(statement_, column);
  return value ? std::string(reinterpret_cast<const char*>(value),
                             static_cast<std::size_t>(sqlite3_column_bytes(statement_, column)))
               : std::string();
}
const void* Statement::blob(int column, int& size) const {
  size = sqlite3_column_bytes(statement_, column);
  return sqlite3_column_blob(statement_, column);
}

}  // namespace celtrace::index::sql
