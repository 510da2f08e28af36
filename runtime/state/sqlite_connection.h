#ifndef AMLC_RUNTIME_STATE_SQLITE_CONNECTION_H_
#define AMLC_RUNTIME_STATE_SQLITE_CONNECTION_H_

#include <sqlite3.h>

#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

namespace amlc::runtime {

class SqliteConnection;

/// Maps an SQLite result code to a Status: SQLITE_BUSY and SQLITE_LOCKED (another
/// connection holds the lock beyond the busy timeout) are kUnavailable, so the
/// caller retries; a duplicate key is kAlreadyExists; a reference to a row that
/// does not exist is kFailedPrecondition; everything else is kInternal. The
/// message names the store, what was being done and SQLite's own explanation.
Status SqliteStatus(int rc, std::string_view sqlite_message, const std::string& path,
                    std::string_view doing);

/// A cached prepared statement lent out for one use. Text is bound without a
/// copy, so it must outlive the last Run() or Next(). The statement is reset (and its
/// bindings cleared) when this object goes, ready for the next borrower.
class Statement {
 public:
  Statement(SqliteConnection* connection, sqlite3_stmt* stmt)
      : connection_(connection), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  // Binding is inline: AppendMetrics binds six values per point, and a call
  // per bind into another file is a measurable part of its time.

  /// Binds parameter `index` (1-based).
  Statement& Bind(int index, std::string_view text) {
    // Text longer than an int can say is refused, as SQLite itself would.
    return Check(text.size() > static_cast<size_t>(INT_MAX)
                     ? SQLITE_TOOBIG
                     : sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                                         SQLITE_STATIC));
  }
  Statement& Bind(int index, int64_t number) {
    return Check(sqlite3_bind_int64(stmt_, index, number));
  }
  /// A NaN binds as NULL: SQLite has no NaN.
  Statement& Bind(int index, double number) {
    return Check(sqlite3_bind_double(stmt_, index, number));
  }
  /// Binds SQL NULL to parameter `index`.
  Statement& BindNull(int index) { return Check(sqlite3_bind_null(stmt_, index)); }
  /// Readies the statement to run again with new bindings (the old ones stay
  /// until rebound), for a loop that reuses one statement for many rows.
  void Reset();

  /// Runs a statement that returns no rows to completion.
  Status Run(std::string_view doing);
  /// Steps once: true with a row to read, false when done.
  StatusOr<bool> Next(std::string_view doing);

  std::string Text(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  bool IsNull(int column) const;

 private:
  Statement& Check(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
    return *this;
  }

  SqliteConnection* connection_;
  sqlite3_stmt* stmt_;
  int bind_rc_ = SQLITE_OK;  // the first failed bind, reported by the next step
};

/// One SQLite connection with its prepared statements. Not thread-safe: the
/// owner serializes calls (SqliteStore holds a mutex around every use).
class SqliteConnection {
 public:
  /// Opens (creating if missing) the database file at `path` with the
  /// settings two processes need to share it: WAL, busy timeout, foreign keys.
  static StatusOr<std::unique_ptr<SqliteConnection>> Open(const std::string& path);
  ~SqliteConnection();
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  /// The cached statement for `sql`, prepared on first use.
  StatusOr<Statement> Prepare(const std::string& sql, std::string_view doing);
  /// Runs one or more statements without caching them (schema scripts, pragmas).
  Status Exec(const char* sql, std::string_view doing);
  /// The Status for result code `rc` of the last call on this connection.
  Status Error(int rc, std::string_view doing) const;
  /// Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;
  int64_t LastInsertRowid() const;

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  SqliteConnection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Configure();
  StatusOr<std::string> SwitchToWal();

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

/// A transaction, rolled back when it goes uncommitted (an early error return).
class Transaction {
 public:
  explicit Transaction(SqliteConnection* connection) : connection_(connection) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  /// Begins a write transaction. BEGIN IMMEDIATE takes the write lock up
  /// front, so a second writer waits in the busy handler instead of failing
  /// when its read lock cannot be upgraded.
  Status Begin(std::string_view doing);
  /// Begins a read transaction: its statements all see one snapshot.
  Status BeginRead(std::string_view doing);
  Status Commit(std::string_view doing);

 private:
  Status Run(const char* sql, std::string_view doing);

  SqliteConnection* connection_;
  bool open_ = false;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_STATE_SQLITE_CONNECTION_H_
