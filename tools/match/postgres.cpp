#include "tools/match/postgres.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>

#include <libpq-fe.h>

#include "engine/errors.h"

namespace celtrace::tools::pg {
namespace {

// The passwords `conninfo` holds, as written and percent-decoded: libpq's messages can quote
// parts of the string, so they are removed from every message too. A URI's "user:PASSWORD@" and
// any "password=VALUE" word or query parameter ('quoted' values may hold spaces).
std::vector<std::string> passwords_in(const std::string& conninfo) {
  std::vector<std::string> found;
  for (const char* scheme : {"postgresql://", "postgres://"}) {
    if (conninfo.rfind(scheme, 0) != 0) continue;
    const std::size_t start = std::char_traits<char>::length(scheme);
    const std::string authority =
        conninfo.substr(start, conninfo.find_first_of("/?#", start) - start);
    const std::size_t at = authority.rfind('@');
    const std::size_t colon = authority.find(':');
    if (at != std::string::npos && colon < at)
      found.push_back(authority.substr(colon + 1, at - colon - 1));
  }
  const std::string key = "password";
  for (std::size_t at = conninfo.find(key); at != std::string::npos;
       at = conninfo.find(key, at + 1)) {
    if (at > 0 &&
        (std::isalnum(static_cast<unsigned char>(conninfo[at - 1])) || conninfo[at - 1] == '_'))
      continue;
    std::size_t i = at + key.size();
    while (i < conninfo.size() && conninfo[i] == ' ') ++i;
    if (i == conninfo.size() || conninfo[i] != '=') continue;
    ++i;
    while (i < conninfo.size() && conninfo[i] == ' ') ++i;
    std::size_t end = i;
    if (end < conninfo.size() && conninfo[end] == '\'') {
      for (++end; end < conninfo.size() && conninfo[end] != '\''; ++end)
        if (conninfo[end] == '\\') ++end;
      end = std::min(end + 1, conninfo.size());
    } else {
      while (end < conninfo.size() && conninfo[end] != '&' &&
             !std::isspace(static_cast<unsigned char>(conninfo[end])))
        ++end;
    }
    found.push_back(conninfo.substr(i, end - i));
  }
  std::vector<std::string> decoded;
  for (const std::string& p : found) {
    std::string text;
    for (std::size_t i = 0; i < p.size(); ++i) {
      unsigned value = 0;
      if (p[i] == '%' && i + 2 < p.size() && std::sscanf(p.c_str() + i + 1, "%2x", &value) == 1) {
        text += static_cast<char>(value);
        i += 2;
      } else if (p[i] != '\'') {
        text += p[i];
      }
    }
    decoded.push_back(text);
  }
  found.insert(found.end(), decoded.begin(), decoded.end());
  std::erase_if(found, [](const std::string& p) { return p.empty(); });
  return found;
}

std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + 3))
      text.replace(at, secret.size(), "***");
  }
  // libpq's messages run over lines ("...failed: ...\n\tIs the server running..."): one line.
  std::string line;
  for (const char c : text) {
    const bool space = c == '\n' || c == '\t' || c == ' ';
    if (space && (line.empty() || line.back() == ' ')) continue;
    line += space ? ' ' : c;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

}  // namespace

Value::Value(double number) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", number);
  text = buffer;
}

Value Value::null() {
  Value v("");
  v.is_null = true;
  return v;
}

Value Value::bytes(std::string data) {
  Value v(std::move(data));
  v.binary = true;
  return v;
}

Rows::Rows(pg_result* result) : result_(result, PQclear) {}

int Rows::size() const {
  return PQntuples(result_.get());
}

bool Rows::is_null(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::string Rows::text(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t Rows::integer(int row, int column) const {
  return std::stoll(text(row, column));
}

int Rows::affected() const {
  const char* count = PQcmdTuples(result_.get());
  return count[0] ? std::atoi(count) : 0;
}

std::string hide_password(const std::string& conninfo) {
  return scrub(conninfo, passwords_in(conninfo));
}

Connection::Connection(const std::string& conninfo) : printable_(hide_password(conninfo)) {
  connection_ = PQconnectdb(conninfo.c_str());
  if (connection_ == nullptr) throw Error("PostgreSQL: out of memory connecting");
  if (PQstatus(connection_) != CONNECTION_OK) {
    const std::string message = scrub(PQerrorMessage(connection_), passwords_in(conninfo));
    PQfinish(connection_);
    connection_ = nullptr;
    throw Error("cannot connect to PostgreSQL at " + printable_ + ": " + message);
  }
  // The queue's notices ("relation already exists, skipping") are not for the user.
  PQsetNoticeProcessor(
      connection_, [](void*, const char*) {}, nullptr);
}

Connection::~Connection() {
  if (connection_ != nullptr) PQfinish(connection_);
}

Rows Connection::execute(const std::string& sql, const std::vector<Value>& parameters,
                         bool binary_results) {
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const Value& p : parameters) {
    values.push_back(p.is_null ? nullptr : p.text.c_str());
    lengths.push_back(static_cast<int>(p.text.size()));
    formats.push_back(p.binary ? 1 : 0);
  }
  pg_result* result =
      PQexecParams(connection_, sql.c_str(), static_cast<int>(parameters.size()), nullptr,
                   values.data(), lengths.data(), formats.data(), binary_results ? 1 : 0);
  if (result == nullptr || PQstatus(connection_) != CONNECTION_OK) {
    if (result != nullptr) PQclear(result);
    throw Error("PostgreSQL at " + printable_ + ": connection lost");
  }
  Rows rows(result);
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw Error("PostgreSQL at " + printable_ + ": " + scrub(PQresultErrorMessage(result), {}));
  }
  return rows;
}

Transaction::Transaction(Connection& connection) : connection_(connection) {
  connection_.execute("BEGIN");
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    connection_.execute("ROLLBACK");
  } catch (...) {
  }
}

void Transaction::commit() {
  connection_.execute("COMMIT");
  open_ = false;
}

}  // namespace celtrace::tools::pg
