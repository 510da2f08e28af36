// Implementation notes: the copy is generic over the tables (the column
// names are the SQLite table's, which the PostgreSQL schema shares), reading
// each value with its SQLite storage class so that a REAL keeps every bit
// (sqlite3_column_text would round it to 15 digits). Rows go in as
// multi-row INSERTs of up to kRowsPerInsert rows. Runs are copied top-level
// first, each group in rowid order, so a child's parent is always there and
// runs.seq (the PostgreSQL stand-in for rowid) keeps their order.

#include "runtime/state/state_copy.h"

#include <sqlite3.h>

#include "runtime/state/postgres_connection.h"
#include "runtime/state/postgres_schema.h"
#include "runtime/state/sqlite_connection.h"
#include "runtime/state/sqlite_schema.h"

namespace amlc::runtime {
namespace {

constexpr int kRowsPerInsert = 500;

// Identity columns, and whether SQLite numbers them with AUTOINCREMENT (then
// sqlite_sequence may hold a number past the largest left, never to be reused).
struct Sequence {
  const char* table;
  const char* column;
  bool autoincrement;
};
constexpr Sequence kSequences[] = {
    {"metric_series", "id", false}, {"activities", "id", false}, {"journal", "seq", true},
    {"syncs", "id", true},          {"api_tokens", "id", true},  {"audit_log", "id", true},
};

std::string SourceOrder(const std::string& table) {
  return table == "runs" ? " ORDER BY parent_run_id IS NOT NULL, rowid" : "";
}

// One SQLite query, finalized when it goes.
class SqliteRows {
 public:
  SqliteRows(sqlite3* db, const std::string& sql) { rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr); }
  ~SqliteRows() { sqlite3_finalize(stmt_); }
  SqliteRows(const SqliteRows&) = delete;
  SqliteRows& operator=(const SqliteRows&) = delete;
  int rc() const { return rc_; }
  sqlite3_stmt* stmt() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

// Appends column `i` of the current row, by its storage class.
void AddValue(PgParams& params, sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_NULL: params.AddNull(); break;
    case SQLITE_INTEGER: params.Add(static_cast<int64_t>(sqlite3_column_int64(stmt, i))); break;
    case SQLITE_FLOAT: params.Add(sqlite3_column_double(stmt, i)); break;
    default:
      params.Add(std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
                                  static_cast<size_t>(sqlite3_column_bytes(stmt, i))));
  }
}

std::string InsertSql(const std::string& table, const std::vector<std::string>& columns, int rows) {
  std::string sql = "INSERT INTO " + table + " (";
  for (size_t c = 0; c < columns.size(); ++c) sql += (c ? ", \"" : "\"") + columns[c] + "\"";
  sql += ") VALUES ";
  int parameter = 1;
  for (int row = 0; row < rows; ++row) {
    sql += row ? ", (" : "(";
    for (size_t c = 0; c < columns.size(); ++c) sql += (c ? ", $" : "$") + std::to_string(parameter++);
    sql += ")";
  }
  return sql;
}

StatusOr<int64_t> CopyTable(SqliteConnection& source, PgConnection& target, const std::string& table) {
  std::string doing = "copying table " + table;
  SqliteRows rows(source.db(), "SELECT * FROM " + table + SourceOrder(table));
  if (rows.rc() != SQLITE_OK) return source.Error(rows.rc(), doing);
  std::vector<std::string> columns;
  for (int c = 0; c < sqlite3_column_count(rows.stmt()); ++c) columns.emplace_back(sqlite3_column_name(rows.stmt(), c));
  PgParams batch;
  int in_batch = 0;
  int64_t copied = 0;
  auto flush = [&]() -> Status {
    if (in_batch == 0) return Status::Ok();
    StatusOr<PgResult> inserted = target.Exec(InsertSql(table, columns, in_batch), batch, doing);
    if (!inserted.ok()) return inserted.status();
    copied += in_batch;
    batch = PgParams();
    in_batch = 0;
    return Status::Ok();
  };
  for (;;) {
    int rc = sqlite3_step(rows.stmt());
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return source.Error(rc, doing);
    for (int c = 0; c < static_cast<int>(columns.size()); ++c) AddValue(batch, rows.stmt(), c);
    if (++in_batch == kRowsPerInsert) {
      if (Status status = flush(); !status.ok()) return status;
    }
  }
  if (Status status = flush(); !status.ok()) return status;
  return copied;
}

StatusOr<int64_t> SqliteInt(SqliteConnection& source, const std::string& sql, std::string_view doing) {
  SqliteRows rows(source.db(), sql);
  if (rows.rc() != SQLITE_OK) return source.Error(rows.rc(), doing);
  int rc = sqlite3_step(rows.stmt());
  if (rc == SQLITE_DONE) return 0;
  if (rc != SQLITE_ROW) return source.Error(rc, doing);
  return static_cast<int64_t>(sqlite3_column_int64(rows.stmt(), 0));
}

Status CheckEmpty(PgConnection& target) {
  for (const std::string& table : StateStoreTables()) {
    auto rows = target.Exec("SELECT EXISTS (SELECT 1 FROM " + table + ")", "checking that the target is empty");
    if (!rows.ok()) return rows.status();
    if (rows->Int(0, 0) != 0) {
      return Status(StatusCode::kFailedPrecondition,
                    "state store " + target.where() + " already holds data (table " + table +
                        "); copy into a new, empty database");
    }
  }
  return Status::Ok();
}

// Sequences continue past the largest number the source ever gave out, and
// the state serial is the source's, so a plan saved against it still matches.
Status CarryCounters(SqliteConnection& source, PgConnection& target) {
  for (const Sequence& sequence : kSequences) {
    std::string doing = std::string("carrying over the numbering of ") + sequence.table;
    auto largest = SqliteInt(source, std::string("SELECT coalesce(max(") + sequence.column + "), 0) FROM " + sequence.table, doing);
    if (!largest.ok()) return largest.status();
    int64_t next = *largest;
    if (sequence.autoincrement) {
      auto given = SqliteInt(source, std::string("SELECT seq FROM sqlite_sequence WHERE name = '") + sequence.table + "'", doing);
      if (!given.ok()) return given.status();
      next = std::max(next, *given);
    }
    auto set = target.Exec("SELECT setval(pg_get_serial_sequence($1, $2), $3, false)",
                           PgParams().Add(std::string_view(sequence.table)).Add(std::string_view(sequence.column)).Add(next + 1),
                           doing);
    if (!set.ok()) return set.status();
  }
  auto serial = SqliteInt(source, "SELECT serial FROM state_serial WHERE id = 1", "reading the state serial");
  if (!serial.ok()) return serial.status();
  auto set = target.Exec("UPDATE state_serial SET serial = $1 WHERE id = 1", PgParams().Add(*serial),
                         "carrying over the state serial");
  return set.ok() ? Status::Ok() : set.status();
}

}  // namespace

const std::vector<std::string>& StateStoreTables() {
  static const std::vector<std::string> kTables = {
      "resources",    "experiments",       "runs",       "run_tags",      "run_params",    "metric_series",
      "metric_points", "metric_batches",   "activities", "journal",       "model_names",   "model_versions",
      "model_tags",   "image_names",       "images",     "image_tags",    "image_models",  "syncs",
      "reconciler_values", "users",        "api_tokens", "audit_log"};
  return kTables;
}

StatusOr<std::vector<std::pair<std::string, int64_t>>> CopySqliteStoreToPostgres(const std::string& sqlite_path,
                                                                                  const std::string& postgres_url) {
  auto source = SqliteConnection::Open(sqlite_path);
  if (!source.ok()) return source.status();
  if (Status status = MigrateSqliteSchema(**source); !status.ok()) return status;
  auto target = PgConnection::Open(postgres_url);
  if (!target.ok()) return target.status();
  if (Status status = MigratePostgresSchema(**target); !status.ok()) return status;

  Transaction snapshot(source->get());  // one snapshot of the source: a copy of one moment
  if (Status status = snapshot.BeginRead("reading the source store"); !status.ok()) return status;
  std::vector<std::pair<std::string, int64_t>> copied;
  Status status = InTransaction(**target, "copying the state store", [&]() -> Status {
    copied.clear();
    if (Status empty = CheckEmpty(**target); !empty.ok()) return empty;
    for (const std::string& table : StateStoreTables()) {
      auto rows = CopyTable(**source, **target, table);
      if (!rows.ok()) return rows.status();
      copied.emplace_back(table, *rows);
    }
    return CarryCounters(**source, **target);
  });
  if (!status.ok()) return status;
  return copied;
}

}  // namespace amlc::runtime
