#include "runtime/state/sqlite_connection.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace amlc::runtime {
namespace {

// Long enough for another process's apply step or metrics batch to commit;
// short enough that a wedged holder surfaces as kUnavailable, not a hang.
constexpr int kBusyTimeoutMs = 5000;

// Page cache per connection (negative = KiB): 32 MiB. A metrics batch writes
// at the end of every series it holds, spread over the points b-tree; kept in
// the cache, those pages need not be read again for the next batch.
constexpr const char* kSettings =
    "PRAGMA synchronous = NORMAL;"
    "PRAGMA foreign_keys = ON;"
    "PRAGMA cache_size = -32768;";

StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return StatusCode::kAlreadyExists;
      }
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return StatusCode::kFailedPrecondition;
      return StatusCode::kInternal;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

Status SqliteStatus(int rc, std::string_view sqlite_message, const std::string& path,
                    std::string_view doing) {
  std::string message =
      "state store " + path + ": " + std::string(doing) + ": " + std::string(sqlite_message);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
      message += " (another connection held the lock for over " +
                 std::to_string(kBusyTimeoutMs / 1000) + " s; try again)";
      break;
    case SQLITE_LOCKED:
      message += " (a conflicting use of the database in this process; try again)";
      break;
    case SQLITE_NOTADB:
      message += " (the file is not an SQLite database, so not an amlc state store)";
      break;
    default:
      break;
  }
  return Status(CodeFor(rc), std::move(message));
}

// --- Statement ---------------------------------------------------------------

Statement::Statement(Statement&& other) noexcept
    : connection_(other.connection_), stmt_(other.stmt_), bind_rc_(other.bind_rc_) {
  other.stmt_ = nullptr;
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

void Statement::Reset() { sqlite3_reset(stmt_); }

Status Statement::Run(std::string_view doing) {
  for (;;) {
    StatusOr<bool> row = Next(doing);
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

StatusOr<bool> Statement::Next(std::string_view doing) {
  if (bind_rc_ != SQLITE_OK) return connection_->Error(bind_rc_, doing);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return connection_->Error(rc, doing);
}

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

// --- SqliteConnection --------------------------------------------------------

StatusOr<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path) {
  sqlite3* db = nullptr;
  // NOMUTEX: the owner serializes every use, so SQLite's own mutex is redundant.
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status status = SqliteStatus(rc, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), path,
                                 "opening the database file");
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<SqliteConnection> connection(new SqliteConnection(db, path));
  if (Status status = connection->Configure(); !status.ok()) return status;
  return connection;
}

Status SqliteConnection::Configure() {
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  // The first statement to read the file: a file that is not a database fails
  // here with SQLITE_NOTADB. WAL lets readers in other processes go on while
  // one process writes.
  StatusOr<std::string> mode = SwitchToWal();
  if (!mode.ok()) return mode.status();
  if (*mode != "wal" && *mode != "memory") {
    return Status(StatusCode::kInternal, "state store " + path_ +
                                             ": cannot use WAL mode (journal mode is '" + *mode +
                                             "'); put the workspace on a local file system");
  }
  return Exec(kSettings, "applying connection settings");
}

// Switching a new file to WAL needs an exclusive lock, and SQLite answers
// SQLITE_BUSY at once instead of calling the busy handler (the switching
// connection already holds a read lock, and waiting could deadlock). Several
// processes opening a new store together therefore take turns here, for as
// long as the busy timeout allows. A file already in WAL mode passes at once.
StatusOr<std::string> SqliteConnection::SwitchToWal() {
  constexpr std::string_view kDoing = "switching to WAL mode";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (int attempt = 0;; ++attempt) {
    StatusOr<Statement> wal = Prepare("PRAGMA journal_mode = WAL", kDoing);
    if (!wal.ok()) return wal.status();
    StatusOr<bool> row = wal->Next(kDoing);
    if (row.ok()) return *row ? wal->Text(0) : std::string();
    if (row.status().code() != StatusCode::kUnavailable ||
        std::chrono::steady_clock::now() >= deadline) {
      return row.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5 + 5 * attempt, 50)));
  }
}

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  // Lets SQLite refresh the statistics its planner uses, when they are stale.
  sqlite3_exec(db_, "PRAGMA optimize", nullptr, nullptr, nullptr);
  sqlite3_close(db_);
}

StatusOr<Statement> SqliteConnection::Prepare(const std::string& sql, std::string_view doing) {
  auto found = statements_.find(sql);
  if (found != statements_.end()) return Statement(this, found->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, doing);
  statements_.emplace(sql, stmt);
  return Statement(this, stmt);
}

Status SqliteConnection::Exec(const char* sql, std::string_view doing) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, doing);
  return Status::Ok();
}

Status SqliteConnection::Error(int rc, std::string_view doing) const {
  return SqliteStatus(rc, sqlite3_errmsg(db_), path_, doing);
}

int64_t SqliteConnection::Changes() const { return sqlite3_changes64(db_); }

int64_t SqliteConnection::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

// --- Transaction -------------------------------------------------------------

Status Transaction::Run(const char* sql, std::string_view doing) {
  StatusOr<Statement> statement = connection_->Prepare(sql, doing);
  if (!statement.ok()) return statement.status();
  return statement->Run(doing);
}

Status Transaction::Begin(std::string_view doing) {
  if (Status status = Run("BEGIN IMMEDIATE", doing); !status.ok()) return status;
  open_ = true;
  return Status::Ok();
}

Status Transaction::BeginRead(std::string_view doing) {
  if (Status status = Run("BEGIN DEFERRED", doing); !status.ok()) return status;
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit(std::string_view doing) {
  if (Status status = Run("COMMIT", doing); !status.ok()) return status;
  open_ = false;
  return Status::Ok();
}

Transaction::~Transaction() {
  // SQLite has already rolled back by itself after some errors (a full disk,
  // an I/O error); then there is nothing left to end.
  if (!open_ || sqlite3_get_autocommit(connection_->db())) return;
  // Best effort: if even ROLLBACK fails, SQLite rolls back when the
  // connection next begins, and the caller already has the first error.
  Run("ROLLBACK", "rolling back");
}

}  // namespace amlc::runtime
