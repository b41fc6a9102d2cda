// The PostgreSQL seam (libpq): a connection and the rows a statement returns. Only
// postgres.cpp includes libpq-fe.h; the batch queue is built on this. Every value reaches SQL as
// a bound parameter; the connection string's password never appears in an error.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct pg_conn;
struct pg_result;

namespace celtrace::tools::pg {

// A bound parameter: text (PostgreSQL converts it to the column's type), SQL NULL, or raw bytes
// (for bytea).
struct Value {
  Value(std::string value) : text(std::move(value)) {}
  Value(const char* value) : text(value) {}
  Value(std::int64_t number) : text(std::to_string(number)) {}
  Value(int number) : text(std::to_string(number)) {}
  Value(double number);
  static Value null();
  static Value bytes(std::string data);

  std::string text;
  bool is_null = false, binary = false;
};

// The rows of one statement. Text columns are as PostgreSQL prints them; a bytea column asked
// for with `binary_results` holds the raw bytes.
class Rows {
 public:
  explicit Rows(pg_result* result);
  int size() const;
  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;
  std::int64_t integer(int row, int column) const;
  int affected() const;  // rows an UPDATE, INSERT or DELETE changed

 private:
  std::shared_ptr<pg_result> result_;
};

class Connection {
 public:
  // `conninfo`: a postgresql:// URI or "key=value" words, as libpq reads them. Throws Error,
  // naming the server with the password hidden, when the server cannot be reached.
  explicit Connection(const std::string& conninfo);
  ~Connection();
  Connection(Connection&& other) noexcept
      : connection_(std::exchange(other.connection_, nullptr)),
        printable_(std::move(other.printable_)) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Rows execute(const std::string& sql, const std::vector<Value>& parameters = {},
               bool binary_results = false);
  // The connection string as it may be shown: any password replaced by "***".
  const std::string& printable() const { return printable_; }

 private:
  pg_conn* connection_ = nullptr;
  std::string printable_;
};

// A transaction that rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(Connection& connection);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& connection_;
  bool open_ = true;
};

// `conninfo` with the password of a URI ("user:PASSWORD@") or of a "password=" word hidden.
std::string hide_password(const std::string& conninfo);

}  // namespace celtrace::tools::pg
