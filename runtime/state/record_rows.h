#ifndef AMLC_RUNTIME_STATE_RECORD_ROWS_H_
#define AMLC_RUNTIME_STATE_RECORD_ROWS_H_

// The records' columns and how a row of them is read, the same for both
// state stores: a Row is SQLite's Statement or PostgreSQL's PgRow, each with
// Text, Int, Double and IsNull by column. Not for other users.

#include <cstdint>
#include <limits>
#include <string>

#include "runtime/state/registry_rows.h"
#include "runtime/state/state_store.h"

namespace amlc::runtime::internal {

constexpr const char* kResourceColumns = "id, kind, name, version, digest, spec_json, outputs_json, updated_at";

// parent_run_id is NULL for a top-level run (so the foreign key holds) and
// "" in a RunRecord.
constexpr const char* kRunColumns =
    "id, experiment, job_id, run_key, coalesce(parent_run_id, ''), status, compute, command, "
    "snapshot_digest, params_json, outputs_json, spec_commit, work_dir, pid, exit_code, error, "
    "created_at, started_at, ended_at";

constexpr const char* kActivityColumns = "id, kind, resource_id, run_id, status, progress, message, started_at, ended_at";

#define AMLC_SYNC_FIELDS                                                                   \
  "trigger, commit_id, author, message, result, summary, diagnostics, plan_json, apply_log, " \
  "resources_json, started_at, ended_at"
constexpr const char* kSyncFields = AMLC_SYNC_FIELDS;  // all but the id
constexpr const char* kSyncColumns = "id, " AMLC_SYNC_FIELDS;
#undef AMLC_SYNC_FIELDS

// A metric point: the series (s) joined with its points (p).
constexpr const char* kPointColumns = "s.run_id, s.name, p.step, p.value, p.text, p.ts";

using registry::ParseModels;
using registry::ParseStringMap;

template <typename Row>
ResourceRecord ReadResource(const Row& row) {
  ResourceRecord record;
  record.id = row.Text(0);
  record.kind = row.Text(1);
  record.name = row.Text(2);
  record.version = row.Text(3);
  record.digest = row.Text(4);
  record.spec_json = row.Text(5);
  record.outputs_json = row.Text(6);
  record.updated_at = row.Int(7);
  return record;
}

template <typename Row>
RunRecord ReadRun(const Row& row) {
  RunRecord run;
  run.id = row.Text(0);
  run.experiment = row.Text(1);
  run.job_id = row.Text(2);
  run.run_key = row.Text(3);
  run.parent_run_id = row.Text(4);
  // The table's CHECK constraint admits only names ParseRunStatus knows.
  run.status = ParseRunStatus(row.Text(5)).value_or(RunStatus::kQueued);
  run.compute = row.Text(6);
  run.command = row.Text(7);
  run.snapshot_digest = row.Text(8);
  run.params_json = row.Text(9);
  run.outputs_json = row.Text(10);
  run.spec_commit = row.Text(11);
  run.work_dir = row.Text(12);
  run.pid = row.Int(13);
  run.exit_code = static_cast<int>(row.Int(14));
  run.error = row.Text(15);
  run.created_at = row.Int(16);
  run.started_at = row.Int(17);
  run.ended_at = row.Int(18);
  return run;
}

template <typename Row>
ActivityRecord ReadActivity(const Row& row) {
  ActivityRecord activity;
  activity.id = row.Int(0);
  activity.kind = row.Text(1);
  activity.resource_id = row.Text(2);
  activity.run_id = row.Text(3);
  activity.status = row.Text(4);
  activity.progress = row.Double(5);
  activity.message = row.Text(6);
  activity.started_at = row.Int(7);
  activity.ended_at = row.Int(8);
  return activity;
}

// NULL (how both stores keep NaN) reads as NaN.

template <typename Row>
MetricPoint ReadPoint(const Row& row) {
  MetricPoint point;
  point.run_id = row.Text(0);
  point.name = row.Text(1);
  point.step = row.Int(2);
  point.value = row.IsNull(3) ? std::numeric_limits<double>::quiet_NaN() : row.Double(3);
  point.text = row.Text(4);
  point.timestamp = row.Int(5);
  return point;
}

template <typename Row>
ModelVersionRecord ReadModel(const Row& row) {
  ModelVersionRecord model;
  model.name = row.Text(0);
  model.version = row.Int(1);
  model.type = row.Text(2);
  model.framework = row.Text(3);
  model.description = row.Text(4);
  model.stage = row.Text(5);
  model.properties = ParseStringMap(row.Text(6));
  model.content_digest = row.Text(7);
  model.path_name = row.Text(8);
  model.single_file = row.Int(9) != 0;
  model.size_bytes = static_cast<uint64_t>(row.Int(10));
  model.source_key = row.Text(11);
  model.resource_id = row.Text(12);
  model.run_id = row.Text(13);
  model.job_id = row.Text(14);
  model.experiment = row.Text(15);
  model.spec_commit = row.Text(16);
  model.created_at = row.Int(17);
  model.tags = ParseStringMap(row.Text(18));
  return model;
}

template <typename Row>
ImageRecord ReadImage(const Row& row) {
  ImageRecord image;
  image.name = row.Text(0);
  image.version = row.Int(1);
  image.kind = row.Text(2);
  image.digest = row.Text(3);
  image.build_key = row.Text(4);
  image.layout = row.Text(5);
  image.ref_name = row.Text(6);
  image.base_image = row.Text(7);
  image.environment = row.Text(8);
  image.size_bytes = static_cast<uint64_t>(row.Int(9));
  image.resource_id = row.Text(10);
  image.pushed_json = row.Text(11);
  image.created_at = row.Int(12);
  image.tags = ParseStringMap(row.Text(13));
  image.models = ParseModels(row.Text(14));
  return image;
}

template <typename Row>
SyncRecord ReadSync(const Row& row) {
  SyncRecord sync;
  sync.id = row.Int(0);
  sync.trigger = row.Text(1);
  sync.commit = row.Text(2);
  sync.author = row.Text(3);
  sync.message = row.Text(4);
  sync.result = row.Text(5);
  sync.summary = row.Text(6);
  sync.diagnostics = row.Text(7);
  sync.plan_json = row.Text(8);
  sync.apply_log = row.Text(9);
  sync.resources_json = row.Text(10);
  sync.started_at = row.Int(11);
  sync.ended_at = row.Int(12);
  return sync;
}

}  // namespace amlc::runtime::internal

#endif  // AMLC_RUNTIME_STATE_RECORD_ROWS_H_
