// SqliteStore's activities and apply journal. The implementation notes at
// the top of sqlite_store.cc hold here.

#include "runtime/state/sqlite_store.h"
#include "runtime/state/record_rows.h"
#include "runtime/state/sqlite_store_internal.h"

namespace amlc::runtime {

using internal::Execute;
using internal::Query;

using namespace internal;  // NOLINT: the columns and readers both stores share (record_rows.h)

namespace {

// --- Activities --------------------------------------------------------------

// Parameters ?2..?9 of an activity (?1 is its id).
void BindActivity(Statement& statement, const ActivityRecord& activity) {
  statement.Bind(2, activity.kind).Bind(3, activity.resource_id).Bind(4, activity.run_id);
  statement.Bind(5, activity.status).Bind(6, activity.progress).Bind(7, activity.message);
  statement.Bind(8, activity.started_at).Bind(9, activity.ended_at);
}

}  // namespace

// --- Activities --------------------------------------------------------------

StatusOr<int64_t> SqliteStore::StartActivity(const ActivityRecord& activity) {
  std::lock_guard lock(mutex_);
  Status status =
      Execute(*connection_,
              "INSERT INTO activities (kind, resource_id, run_id, status, progress, message, "
              "started_at, ended_at) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
              "recording a " + activity.kind + " activity of " + activity.resource_id,
              [&](Statement& s) { BindActivity(s, activity); });
  if (!status.ok()) return status;
  return connection_->LastInsertRowid();
}

Status SqliteStore::UpdateActivity(const ActivityRecord& activity) {
  std::string doing = "updating activity " + std::to_string(activity.id);
  std::lock_guard lock(mutex_);
  Status status = Execute(*connection_,
                          "UPDATE activities SET kind = ?2, resource_id = ?3, run_id = ?4, "
                          "status = ?5, progress = ?6, message = ?7, started_at = ?8, "
                          "ended_at = ?9 WHERE id = ?1",
                          doing, [&](Statement& s) {
                            s.Bind(1, activity.id);
                            BindActivity(s, activity);
                          });
  if (!status.ok()) return status;
  if (connection_->Changes() == 0) {
    return Status(StatusCode::kNotFound,
                  "state store " + connection_->path() + ": " + doing + ": no such activity");
  }
  return Status::Ok();
}

StatusOr<std::vector<ActivityRecord>> SqliteStore::ListActivities(int limit) {
  std::lock_guard lock(mutex_);
  return Query<ActivityRecord>(
      *connection_,
      std::string("SELECT ") + kActivityColumns + " FROM activities ORDER BY id DESC LIMIT ?1",
      "listing activities",
      [&](Statement& s) { s.Bind(1, static_cast<int64_t>(limit > 0 ? limit : -1)); }, ReadActivity<Statement>);
}

StatusOr<int> SqliteStore::EndInterruptedActivities(int64_t ended_at, const std::string& message) {
  std::lock_guard lock(mutex_);
  Status status = Execute(*connection_,
                          "UPDATE activities SET status = 'Interrupted', message = ?1, ended_at = ?2 "
                          "WHERE status = 'Running'",
                          "ending the activities a dead apply left Running",
                          [&](Statement& s) { s.Bind(1, message).Bind(2, ended_at); });
  if (!status.ok()) return status;
  return static_cast<int>(connection_->Changes());
}

// --- Journal -----------------------------------------------------------------

Status SqliteStore::AppendJournal(const JournalEntry& entry) {
  std::string doing = "journaling " + entry.phase + " of " + entry.action + " " +
                      entry.resource_id + " (apply " + entry.apply_id + ")";
  if (entry.phase != "begin" && entry.phase != "end") {
    return Status(StatusCode::kInvalidArgument, "state store " + connection_->path() + ": " +
                                                    doing + ": the phase must be 'begin' or 'end'");
  }
  std::lock_guard lock(mutex_);
  return Execute(*connection_,
                 "INSERT INTO journal (apply_id, action, resource_id, phase, status, detail, ts) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                 doing, [&](Statement& s) {
                   s.Bind(1, entry.apply_id).Bind(2, entry.action).Bind(3, entry.resource_id);
                   s.Bind(4, entry.phase).Bind(5, entry.status).Bind(6, entry.detail);
                   s.Bind(7, entry.timestamp);
                 });
}

}  // namespace amlc::runtime
