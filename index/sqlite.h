// The SQLite seam: a database handle and prepared statements. Only sqlite.cpp includes
// sqlite3.h; the library catalog and the batch job database are built on these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace celtrace::index::sql {

class Database {
 public:
  // Opens or creates; throws Error naming `path` when it cannot.
  explicit Database(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void execute(const std::string& sql);
  // True when SQLite opened the file for reading only (a write-protected file or file system).
  bool read_only() const;
  std::int64_t last_insert_id() const;
  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// A prepared statement that finalises itself; bind() takes 1-based positions.
class Statement {
 public:
  Statement(const Database& db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int position, std::int64_t value);
  Statement& bind(int position, double value);
  Statement& bind(int position, const std::string& value);
  Statement& bind(int position, const std::optional<int>& value);
  Statement& bind_blob(int position, const void* data, std::size_t size);
  Statement& bind_null(int position);
  bool step();  // true while there is a row
  void reset();
  std::int64_t integer(int column) const;
  double real(int column) const;
  bool is_null(int column) const;
  std::string text(int column) const;
  const void* blob(int column, int& size) const;

 private:
  const Database& db_;
  sqlite3_stmt* statement_ = nullptr;
};

// All changes between construction and commit() land together or not at all.
// A reader's consistent view: every query until it ends sees one committed state, and no writer
// can commit meanwhile (SQLite's rollback journal: a writer waits for readers before it commits),
// so files that state names are not deleted under the reader. Ends with its scope.
class ReadTransaction {
 public:
  explicit ReadTransaction(Database& db) : db_(db) { db_.execute("BEGIN DEFERRED"); }
  ~ReadTransaction() {
    try {
      db_.execute("COMMIT");
    } catch (...) {
      // Only reads were made; closing the connection ends the transaction anyway.
    }
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

 private:
  Database& db_;
};

class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) { db_.execute("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!done_) {
      try {
        db_.execute("ROLLBACK");
      } catch (...) {
        // Nothing more can be done while unwinding; SQLite rolls back on close anyway.
      }
    }
  }
  void commit() {
    db_.execute("COMMIT");
    done_ = true;
  }

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace celtrace::index::sql
