#ifndef AMLC_RUNTIME_VIEWS_WORKSPACE_METRICS_H_
#define AMLC_RUNTIME_VIEWS_WORKSPACE_METRICS_H_

// What a workspace's /metrics reports about its records, for the workspace
// server and the reconciler alike: runs by status, the run queue's depth,
// syncs by result and the reconcile (sync) duration histogram.

#include "base/prometheus_text.h"
#include "base/status.h"
#include "runtime/state/server_records.h"
#include "runtime/state/state_store.h"

namespace amlc::runtime {

/// Adds amlc_runs{status}, amlc_run_queue_depth (counted by `records`),
/// amlc_syncs_total{result} and amlc_reconcile_duration_seconds (from
/// `store`'s syncs) to `out`; a store that cannot be read is the Status (the
/// caller answers 503).
Status AppendWorkspaceMetrics(StateStore& store, ServerRecords& records, PrometheusText& out);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_VIEWS_WORKSPACE_METRICS_H_
