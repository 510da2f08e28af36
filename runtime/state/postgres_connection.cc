#include "runtime/state/postgres_connection.h"

#include <libpq-fe.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <thread>

namespace amlc::runtime {
namespace {

// A statement the server cancels after this long surfaces as an error
// rather than a hang; a lock wait gives up sooner, as SQLite's busy timeout
// does, so a wedged holder is reported (kUnavailable) instead of waited for.
constexpr const char* kSessionSettings =
    "SET statement_timeout = '60s'; SET lock_timeout = '5s'; "
    "SET client_min_messages = warning; SET default_transaction_isolation = 'read committed'";

constexpr int kAttempts = 10;

bool Retryable(std::string_view sqlstate) { return sqlstate == "40001" || sqlstate == "40P01"; }

StatusCode CodeFor(std::string_view sqlstate) {
  if (Retryable(sqlstate) || sqlstate == "55P03" || sqlstate.substr(0, 2) == "08" ||
      sqlstate == "57P01" || sqlstate == "57014") {
    return StatusCode::kUnavailable;
  }
  if (sqlstate == "23505") return StatusCode::kAlreadyExists;
  if (sqlstate == "23503") return StatusCode::kFailedPrecondition;
  return StatusCode::kInternal;
}

std::string Trimmed(const char* text) {
  std::string out = text == nullptr ? "" : text;
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

bool IsPostgresUrl(std::string_view location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::string RedactPostgresUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t at = url.find('@', scheme + 3);
  size_t slash = url.find('/', scheme + 3);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

Status PostgresStatus(std::string_view sqlstate, std::string_view message, const std::string& where,
                      std::string_view doing) {
  std::string text = "state store " + where + ": " + std::string(doing) + ": " + std::string(message);
  if (Retryable(sqlstate)) text += " (a concurrent writer conflicted; try again)";
  if (sqlstate == "55P03") text += " (another connection held the lock for over 5 s; try again)";
  return Status(CodeFor(sqlstate), std::move(text));
}

// --- PgParams ----------------------------------------------------------------

PgParams& PgParams::Add(double number) {
  if (std::isnan(number)) return AddNull();
  if (std::isinf(number)) {
    values_.emplace_back(number > 0 ? "Infinity" : "-Infinity");
    return *this;
  }
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, number);  // shortest exact form
  values_.emplace_back(std::string(buffer, error == std::errc() ? end : buffer));
  return *this;
}

// --- PgResult ----------------------------------------------------------------

PgResult::PgResult(pg_result* result) : result_(result) {}
PgResult::PgResult(PgResult&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
PgResult::~PgResult() {
  if (result_ != nullptr) PQclear(result_);
}

int PgResult::rows() const { return PQntuples(result_); }

int64_t PgResult::affected() const {
  const char* text = PQcmdTuples(result_);
  return text == nullptr || *text == '\0' ? 0 : std::strtoll(text, nullptr, 10);
}

bool PgResult::IsNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }

std::string PgResult::Text(int row, int column) const {
  return std::string(PQgetvalue(result_, row, column), PQgetlength(result_, row, column));
}

int64_t PgResult::Int(int row, int column) const {
  const char* text = PQgetvalue(result_, row, column);
  if (*text == 't') return 1;  // a boolean column
  return std::strtoll(text, nullptr, 10);
}

double PgResult::Double(int row, int column) const {
  if (IsNull(row, column)) return std::numeric_limits<double>::quiet_NaN();
  // strtod reads "Infinity" and "-Infinity" as PostgreSQL writes them.
  return std::strtod(PQgetvalue(result_, row, column), nullptr);
}

// --- PgConnection ------------------------------------------------------------

StatusOr<std::unique_ptr<PgConnection>> PgConnection::Open(const std::string& url) {
  std::string where = RedactPostgresUrl(url);
  pg_conn* conn = PQconnectdb(url.c_str());
  if (conn == nullptr) {
    return Status(StatusCode::kInternal, "state store " + where + ": libpq could not allocate a connection");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return Status(StatusCode::kUnavailable,
                  "state store " + where + ": cannot connect: " + why +
                      " (is the server running and the URL right? see the README's PostgreSQL section)");
  }
  auto connection = std::unique_ptr<PgConnection>(new PgConnection(conn, where));
  if (Status status = connection->ExecScript(kSessionSettings, "configuring the session"); !status.ok()) {
    return status;
  }
  return connection;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

Status PgConnection::Reconnect(std::string_view doing) {
  if (PQstatus(conn_) == CONNECTION_OK || in_transaction_ || !reconnect_) return Status::Ok();
  PQreset(conn_);
  prepared_.clear();  // the new session has none of them
  if (PQstatus(conn_) != CONNECTION_OK) {
    return Status(StatusCode::kUnavailable, "state store " + where_ + ": " + std::string(doing) +
                                                ": the connection was lost and cannot be opened again: " +
                                                Trimmed(PQerrorMessage(conn_)));
  }
  return ExecScript(kSessionSettings, "configuring the session again");
}

StatusOr<PgResult> PgConnection::Check(pg_result* raw, std::string_view doing) {
  PgResult result(raw);
  ExecStatusType status = raw == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    last_sqlstate_.clear();
    return result;
  }
  const char* sqlstate = raw == nullptr ? nullptr : PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  last_sqlstate_ = sqlstate == nullptr ? "08000" : sqlstate;  // no result: the connection failed
  std::string message = Trimmed(raw == nullptr ? PQerrorMessage(conn_) : PQresultErrorMessage(raw));
  return PostgresStatus(last_sqlstate_, message, where_, doing);
}

StatusOr<PgResult> PgConnection::Exec(const std::string& sql, const PgParams& params, std::string_view doing) {
  if (Status status = Reconnect(doing); !status.ok()) return status;
  auto found = prepared_.find(sql);
  if (found == prepared_.end()) {
    std::string name = "amlc_" + std::to_string(prepared_.size() + 1);
    StatusOr<PgResult> prepared =
        Check(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), doing);
    if (!prepared.ok()) return prepared.status();
    found = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& value : params.values()) values.push_back(value ? value->c_str() : nullptr);
  return Check(PQexecPrepared(conn_, found->second.c_str(), static_cast<int>(values.size()),
                              values.data(), nullptr, nullptr, 0),
               doing);
}

Status PgConnection::ExecScript(const char* sql, std::string_view doing) {
  if (Status status = Reconnect(doing); !status.ok()) return status;
  StatusOr<PgResult> result = Check(PQexec(conn_, sql), doing);
  return result.ok() ? Status::Ok() : result.status();
}

// --- Transactions ------------------------------------------------------------

PgTransaction::~PgTransaction() {
  if (!open_) return;
  // A failed rollback leaves nothing to do: the server ends the transaction
  // with the session, and the next statement reconnects.
  (void)connection_->ExecScript("ROLLBACK", "rolling back");
  connection_->in_transaction_ = false;
}

Status PgTransaction::Begin(std::string_view doing) {
  if (Status status = connection_->ExecScript("BEGIN", doing); !status.ok()) return status;
  open_ = true;
  connection_->in_transaction_ = true;
  return Status::Ok();
}

Status PgTransaction::Commit(std::string_view doing) {
  Status status = connection_->ExecScript("COMMIT", doing);
  open_ = false;
  connection_->in_transaction_ = false;
  return status;
}

Status InTransaction(PgConnection& connection, std::string_view doing, const std::function<Status()>& body) {
  Status status;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    bool retry = false;
    {
      PgTransaction transaction(&connection);
      status = transaction.Begin(doing);
      if (status.ok()) status = body();
      if (status.ok()) status = transaction.Commit(doing);
      // Read before the rollback, whose success clears it.
      retry = !status.ok() && Retryable(connection.last_sqlstate());
    }
    if (!retry) return status;
    // Back off a little, more each time, so the writers that collided spread out.
    std::this_thread::sleep_for(std::chrono::milliseconds(attempt * (1 + std::rand() % 5)));
  }
  return status;
}

}  // namespace amlc::runtime
