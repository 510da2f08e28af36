#include "runtime/views/workspace_metrics.h"

#include <map>

namespace amlc::runtime {

namespace {

// A pass takes from well under a second (nothing changed) to hours (a long
// training run): buckets from 100 ms to 4 h.
const std::vector<double> kReconcileBounds = {0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400};

}  // namespace

Status AppendWorkspaceMetrics(StateStore& store, ServerRecords& records, PrometheusText& out) {
  auto runs = records.CountRunsByStatus();
  if (!runs.ok()) return runs.status();
  auto syncs = store.ListSyncs(0);
  if (!syncs.ok()) return syncs.status();

  out.Family("amlc_runs", "gauge", "Runs in the workspace, by status.");
  for (RunStatus status : {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kCompleted, RunStatus::kFailed,
                           RunStatus::kCanceled}) {
    auto found = runs->find(RunStatusName(status));
    out.Sample("amlc_runs", {{"status", RunStatusName(status)}},
               static_cast<double>(found == runs->end() ? 0 : found->second));
  }
  auto queued = runs->find(RunStatusName(RunStatus::kQueued));
  out.Family("amlc_run_queue_depth", "gauge", "Runs waiting for their compute target (status Queued).");
  out.Sample("amlc_run_queue_depth", {}, static_cast<double>(queued == runs->end() ? 0 : queued->second));

  std::map<std::string, int64_t> by_result;
  std::vector<double> durations;
  for (const SyncRecord& sync : *syncs) {
    if (sync.ended_at == 0) continue;  // still running: counted once it has a result
    ++by_result[sync.result];
    durations.push_back(static_cast<double>(sync.ended_at - sync.started_at) / 1000.0);
  }
  out.Family("amlc_syncs_total", "counter", "Reconciler passes that ended, by result.");
  for (const char* result : {"Synced", "OutOfSync", "Failed", "InvalidSpec", "GitError"}) {
    by_result.emplace(result, 0);  // every result present, so rate() sees it start at 0
  }
  for (const auto& [result, count] : by_result) {
    out.Sample("amlc_syncs_total", {{"result", result}}, static_cast<double>(count));
  }
  out.Histogram("amlc_reconcile_duration_seconds", "How long reconciler passes took, from start to result.",
                kReconcileBounds, durations);
  return Status::Ok();
}

}  // namespace amlc::runtime
