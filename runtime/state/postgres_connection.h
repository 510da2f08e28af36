#ifndef AMLC_RUNTIME_STATE_POSTGRES_CONNECTION_H_
#define AMLC_RUNTIME_STATE_POSTGRES_CONNECTION_H_

// The one place that speaks libpq: a connection, its results and its
// transactions, with every failure turned into a Status. The rest of the
// PostgreSQL store sees text SQL with $N parameters and rows of text.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

struct pg_conn;
struct pg_result;

namespace amlc::runtime {

/// Whether `location` names a PostgreSQL database (postgresql:// or postgres://).
bool IsPostgresUrl(std::string_view location);

/// `url` with its password (if any) left out, for messages and logs.
std::string RedactPostgresUrl(const std::string& url);

/// Maps a PostgreSQL SQLSTATE to a Status: a serialization failure or
/// deadlock (40001, 40P01), a lock not granted (55P03) and a lost connection
/// (08xxx) are kUnavailable, so the caller retries; a duplicate key (23505) is
/// kAlreadyExists; a reference to a row that does not exist (23503) is
/// kFailedPrecondition; everything else is kInternal. The message names the
/// store, what was being done and PostgreSQL's own explanation.
Status PostgresStatus(std::string_view sqlstate, std::string_view message, const std::string& where,
                      std::string_view doing);

/// Parameters of one statement, sent as text ($1, $2, ... in order of Add).
class PgParams {
 public:
  PgParams& Add(std::string_view text) {
    values_.emplace_back(text);
    return *this;
  }
  PgParams& Add(int64_t number) {
    values_.emplace_back(std::to_string(number));
    return *this;
  }
  /// A NaN is sent as NULL, as the SQLite store stores it; infinities as PostgreSQL spells them.
  PgParams& Add(double number);
  PgParams& AddNull() {
    values_.emplace_back(std::nullopt);
    return *this;
  }
  /// "$N" for the parameter Add would add next, then adds it: for SQL built
  /// piece by piece (`"x = " + params.Next(value)`).
  template <typename T>
  std::string Next(const T& value) {
    Add(value);
    return "$" + std::to_string(values_.size());
  }
  size_t size() const { return values_.size(); }
  const std::vector<std::optional<std::string>>& values() const { return values_; }

 private:
  std::vector<std::optional<std::string>> values_;
};

/// The rows of one statement. Columns are read as text and converted here.
class PgResult {
 public:
  explicit PgResult(pg_result* result);
  PgResult(PgResult&&) noexcept;
  PgResult& operator=(PgResult&&) = delete;
  PgResult(const PgResult&) = delete;
  ~PgResult();

  int rows() const;
  /// Rows changed by an INSERT, UPDATE or DELETE.
  int64_t affected() const;
  bool IsNull(int row, int column) const;
  std::string Text(int row, int column) const;
  int64_t Int(int row, int column) const;
  /// NULL reads as NaN (see PgParams::Add(double)).
  double Double(int row, int column) const;

 private:
  pg_result* result_;
};

/// One row of a PgResult, read column by column as SQLite's Statement is, so
/// both stores share their row readers (record_rows.h).
class PgRow {
 public:
  PgRow(const PgResult& result, int row) : result_(result), row_(row) {}
  std::string Text(int column) const { return result_.Text(row_, column); }
  int64_t Int(int column) const { return result_.Int(row_, column); }
  double Double(int column) const { return result_.Double(row_, column); }
  bool IsNull(int column) const { return result_.IsNull(row_, column); }

 private:
  const PgResult& result_;
  int row_;
};

/// One libpq connection. Not thread-safe: the owner serializes calls
/// (PostgresStore holds a mutex around every use).
class PgConnection {
 public:
  /// Connects to `url`; kUnavailable when the server cannot be reached.
  static StatusOr<std::unique_ptr<PgConnection>> Open(const std::string& url);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  /// Runs one statement with parameters. Statements are prepared on first
  /// use and kept for the session, so a hot statement is planned once.
  StatusOr<PgResult> Exec(const std::string& sql, const PgParams& params, std::string_view doing);
  /// Runs one statement without parameters or preparing it.
  StatusOr<PgResult> Exec(const std::string& sql, std::string_view doing) {
    return Exec(sql, PgParams(), doing);
  }
  /// Runs a script of several statements (schema steps), unprepared.
  Status ExecScript(const char* sql, std::string_view doing);

  /// The URL without its password: how messages name the store.
  const std::string& where() const { return where_; }
  /// Never opens a dropped connection again: for a session whose state
  /// matters (an advisory lock), where a new session would hold nothing
  /// while its owner believed it held the lock.
  void KeepSession() { reconnect_ = false; }
  /// The SQLSTATE of the last failed statement ("" after a success).
  const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  PgConnection(pg_conn* conn, std::string where) : conn_(conn), where_(std::move(where)) {}
  // A connection the server dropped is opened again once before a statement
  // (outside a transaction only: inside one, the transaction is lost anyway).
  Status Reconnect(std::string_view doing);
  StatusOr<PgResult> Check(pg_result* result, std::string_view doing);

  pg_conn* conn_;
  std::string where_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
  std::string last_sqlstate_;
  bool in_transaction_ = false;
  bool reconnect_ = true;
  friend class PgTransaction;
};

/// A READ COMMITTED transaction, rolled back when it goes uncommitted (an
/// early error return). Writers that must not interleave take row locks
/// (INSERT ... ON CONFLICT DO UPDATE, SELECT ... FOR UPDATE) inside it.
class PgTransaction {
 public:
  explicit PgTransaction(PgConnection* connection) : connection_(connection) {}
  ~PgTransaction();
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;

  Status Begin(std::string_view doing);
  Status Commit(std::string_view doing);

 private:
  PgConnection* connection_;
  bool open_ = false;
};

/// Runs `body` inside a transaction, and again (up to 10 times in all) when
/// PostgreSQL aborts it for a deadlock or serialization failure, the errors
/// it asks clients to retry. Any other failure, or a kUnavailable after the
/// last attempt, is returned. `body` must be safe to run again from the start.
Status InTransaction(PgConnection& connection, std::string_view doing,
                     const std::function<Status()>& body);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_STATE_POSTGRES_CONNECTION_H_
