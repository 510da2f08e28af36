// SqliteStore's reconciler records: syncs and the reconciler's own values.
// The implementation notes at the top of sqlite_store.cc hold here.

#include "runtime/state/sqlite_store.h"
#include "runtime/state/record_rows.h"
#include "runtime/state/sqlite_store_internal.h"

namespace amlc::runtime {

using internal::Execute;
using internal::Query;
using internal::QueryFirst;

using namespace internal;  // NOLINT: the columns and readers both stores share (record_rows.h)

namespace {

// Parameters ?2..?13 of a sync (?1 is its id).
void BindSync(Statement& statement, const SyncRecord& sync) {
  statement.Bind(2, sync.trigger).Bind(3, sync.commit).Bind(4, sync.author).Bind(5, sync.message);
  statement.Bind(6, sync.result).Bind(7, sync.summary).Bind(8, sync.diagnostics);
  statement.Bind(9, sync.plan_json).Bind(10, sync.apply_log).Bind(11, sync.resources_json);
  statement.Bind(12, sync.started_at).Bind(13, sync.ended_at);
}

}  // namespace

StatusOr<int64_t> SqliteStore::StartSync(const SyncRecord& sync) {
  std::lock_guard lock(mutex_);
  Status status = Execute(*connection_,
                          std::string("INSERT INTO syncs (") + kSyncFields +
                              ") VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                          "recording a sync of commit " + sync.commit,
                          [&](Statement& s) { BindSync(s, sync); });
  if (!status.ok()) return status;
  return connection_->LastInsertRowid();
}

Status SqliteStore::FinishSync(const SyncRecord& sync) {
  std::string doing = "updating sync " + std::to_string(sync.id);
  std::lock_guard lock(mutex_);
  Status status = Execute(*connection_,
                          "UPDATE syncs SET trigger = ?2, commit_id = ?3, author = ?4, message = ?5, "
                          "result = ?6, summary = ?7, diagnostics = ?8, plan_json = ?9, apply_log = ?10, "
                          "resources_json = ?11, started_at = ?12, ended_at = ?13 WHERE id = ?1",
                          doing, [&](Statement& s) {
                            s.Bind(1, sync.id);
                            BindSync(s, sync);
                          });
  if (!status.ok()) return status;
  if (connection_->Changes() == 0) {
    return Status(StatusCode::kNotFound, "state store " + connection_->path() + ": " + doing + ": no such sync");
  }
  return Status::Ok();
}

StatusOr<std::vector<SyncRecord>> SqliteStore::ListSyncs(int limit) {
  std::lock_guard lock(mutex_);
  return Query<SyncRecord>(
      *connection_, std::string("SELECT ") + kSyncColumns + " FROM syncs ORDER BY id DESC LIMIT ?1",
      "listing syncs", [&](Statement& s) { s.Bind(1, static_cast<int64_t>(limit > 0 ? limit : -1)); },
      ReadSync<Statement>);
}

StatusOr<std::optional<SyncRecord>> SqliteStore::GetSync(int64_t id) {
  std::lock_guard lock(mutex_);
  return QueryFirst<SyncRecord>(*connection_,
                                std::string("SELECT ") + kSyncColumns + " FROM syncs WHERE id = ?1",
                                "reading sync " + std::to_string(id),
                                [&](Statement& s) { s.Bind(1, id); }, ReadSync<Statement>);
}

StatusOr<std::string> SqliteStore::GetReconcilerValue(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto value = QueryFirst<std::string>(
      *connection_, "SELECT value FROM reconciler_values WHERE key = ?1", "reading reconciler value " + key,
      [&](Statement& s) { s.Bind(1, key); }, [](const Statement& row) { return row.Text(0); });
  if (!value.ok()) return value.status();
  return value->value_or("");
}

Status SqliteStore::SetReconcilerValue(const std::string& key, const std::string& value) {
  std::lock_guard lock(mutex_);
  return Execute(*connection_,
                 "INSERT INTO reconciler_values (key, value) VALUES (?1, ?2) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                 "writing reconciler value " + key, [&](Statement& s) { s.Bind(1, key).Bind(2, value); });
}

}  // namespace amlc::runtime
