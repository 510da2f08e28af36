// PostgresStore's activities, apply journal and reconciler records (syncs
// and values). The implementation notes at the top of postgres_store.cc hold here.

#include "runtime/state/postgres_connection.h"
#include "runtime/state/postgres_store.h"
#include "runtime/state/postgres_store_internal.h"
#include "runtime/state/record_rows.h"

namespace amlc::runtime {

using internal::PgExecute;
using internal::PgQuery;
using internal::PgQueryFirst;

using namespace internal;  // NOLINT: the columns and readers both stores share (record_rows.h)

namespace {

// $1..$8 of an activity, then its id ($9) when `id` is set.
PgParams ActivityParams(const ActivityRecord& activity, bool id) {
  PgParams params;
  params.Add(activity.kind).Add(activity.resource_id).Add(activity.run_id).Add(activity.status);
  params.Add(activity.progress).Add(activity.message).Add(activity.started_at).Add(activity.ended_at);
  if (id) params.Add(activity.id);
  return params;
}

// $1..$12 of a sync, then its id ($13) when `id` is set.
PgParams SyncParams(const SyncRecord& sync, bool id) {
  PgParams params;
  params.Add(sync.trigger).Add(sync.commit).Add(sync.author).Add(sync.message).Add(sync.result);
  params.Add(sync.summary).Add(sync.diagnostics).Add(sync.plan_json).Add(sync.apply_log);
  params.Add(sync.resources_json).Add(sync.started_at).Add(sync.ended_at);
  if (id) params.Add(sync.id);
  return params;
}

// "LIMIT n", or nothing for 0 (all).
std::string Limit(int limit) { return limit > 0 ? " LIMIT " + std::to_string(limit) : ""; }

}  // namespace

// --- Activities --------------------------------------------------------------

StatusOr<int64_t> PostgresStore::StartActivity(const ActivityRecord& activity) {
  std::lock_guard lock(mutex_);
  StatusOr<PgResult> inserted = connection_->Exec(
      "INSERT INTO activities (kind, resource_id, run_id, status, progress, message, started_at, ended_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
      ActivityParams(activity, false), "recording a " + activity.kind + " activity of " + activity.resource_id);
  if (!inserted.ok()) return inserted.status();
  return inserted->Int(0, 0);
}

Status PostgresStore::UpdateActivity(const ActivityRecord& activity) {
  std::string doing = "updating activity " + std::to_string(activity.id);
  std::lock_guard lock(mutex_);
  StatusOr<PgResult> updated = connection_->Exec(
      "UPDATE activities SET kind = $1, resource_id = $2, run_id = $3, status = $4, progress = $5, "
      "message = $6, started_at = $7, ended_at = $8 WHERE id = $9",
      ActivityParams(activity, true), doing);
  if (!updated.ok()) return updated.status();
  if (updated->affected() == 0) return internal::PgNoSuch(*connection_, doing, "activity");
  return Status::Ok();
}

StatusOr<std::vector<ActivityRecord>> PostgresStore::ListActivities(int limit) {
  std::lock_guard lock(mutex_);
  return PgQuery<ActivityRecord>(
      *connection_, std::string("SELECT ") + kActivityColumns + " FROM activities ORDER BY id DESC" + Limit(limit),
      PgParams(), "listing activities", ReadActivity<PgRow>);
}

StatusOr<int> PostgresStore::EndInterruptedActivities(int64_t ended_at, const std::string& message) {
  std::lock_guard lock(mutex_);
  StatusOr<PgResult> ended = connection_->Exec(
      "UPDATE activities SET status = 'Interrupted', message = $1, ended_at = $2 WHERE status = 'Running'",
      PgParams().Add(message).Add(ended_at), "ending the activities a dead apply left Running");
  if (!ended.ok()) return ended.status();
  return static_cast<int>(ended->affected());
}

// --- Journal -----------------------------------------------------------------

Status PostgresStore::AppendJournal(const JournalEntry& entry) {
  std::string doing = "journaling " + entry.phase + " of " + entry.action + " " + entry.resource_id + " (apply " +
                      entry.apply_id + ")";
  if (entry.phase != "begin" && entry.phase != "end") {
    return Status(StatusCode::kInvalidArgument,
                  "state store " + connection_->where() + ": " + doing + ": the phase must be 'begin' or 'end'");
  }
  std::lock_guard lock(mutex_);
  return PgExecute(*connection_,
                   "INSERT INTO journal (apply_id, action, resource_id, phase, status, detail, ts) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                   PgParams()
                       .Add(entry.apply_id).Add(entry.action).Add(entry.resource_id).Add(entry.phase)
                       .Add(entry.status).Add(entry.detail).Add(entry.timestamp),
                   doing);
}

// --- Reconciler --------------------------------------------------------------

StatusOr<int64_t> PostgresStore::StartSync(const SyncRecord& sync) {
  std::lock_guard lock(mutex_);
  StatusOr<PgResult> inserted = connection_->Exec(
      std::string("INSERT INTO syncs (") + kSyncFields +
          ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
      SyncParams(sync, false), "recording a sync of commit " + sync.commit);
  if (!inserted.ok()) return inserted.status();
  return inserted->Int(0, 0);
}

Status PostgresStore::FinishSync(const SyncRecord& sync) {
  std::string doing = "updating sync " + std::to_string(sync.id);
  std::lock_guard lock(mutex_);
  StatusOr<PgResult> updated = connection_->Exec(
      "UPDATE syncs SET trigger = $1, commit_id = $2, author = $3, message = $4, result = $5, summary = $6, "
      "diagnostics = $7, plan_json = $8, apply_log = $9, resources_json = $10, started_at = $11, "
      "ended_at = $12 WHERE id = $13",
      SyncParams(sync, true), doing);
  if (!updated.ok()) return updated.status();
  if (updated->affected() == 0) return internal::PgNoSuch(*connection_, doing, "sync");
  return Status::Ok();
}

StatusOr<std::vector<SyncRecord>> PostgresStore::ListSyncs(int limit) {
  std::lock_guard lock(mutex_);
  return PgQuery<SyncRecord>(*connection_,
                             std::string("SELECT ") + kSyncColumns + " FROM syncs ORDER BY id DESC" + Limit(limit),
                             PgParams(), "listing syncs", ReadSync<PgRow>);
}

StatusOr<std::optional<SyncRecord>> PostgresStore::GetSync(int64_t id) {
  std::lock_guard lock(mutex_);
  return PgQueryFirst<SyncRecord>(*connection_, std::string("SELECT ") + kSyncColumns + " FROM syncs WHERE id = $1",
                                  PgParams().Add(id), "reading sync " + std::to_string(id), ReadSync<PgRow>);
}

StatusOr<std::string> PostgresStore::GetReconcilerValue(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto value = PgQueryFirst<std::string>(*connection_, "SELECT value FROM reconciler_values WHERE key = $1",
                                         PgParams().Add(key), "reading reconciler value " + key,
                                         [](const PgRow& r) { return r.Text(0); });
  if (!value.ok()) return value.status();
  return value->value_or("");
}

Status PostgresStore::SetReconcilerValue(const std::string& key, const std::string& value) {
  std::lock_guard lock(mutex_);
  return PgExecute(*connection_,
                   "INSERT INTO reconciler_values (key, value) VALUES ($1, $2) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   PgParams().Add(key).Add(value), "writing reconciler value " + key);
}

}  // namespace amlc::runtime
