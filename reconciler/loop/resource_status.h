#ifndef AMLC_RECONCILER_LOOP_RESOURCE_STATUS_H_
#define AMLC_RECONCILER_LOOP_RESOURCE_STATUS_H_

#include <nlohmann/json.hpp>

#include "compiler/ir/graph.h"
#include "compiler/planner/plan.h"
#include "runtime/state/state_store.h"

namespace amlc::reconciler {

/// Each resource's sync status and health after a pass, in the manner of
/// Argo CD: sync is "Synced" (nothing to do), "OutOfSync" (the plan has an
/// action for it) or "Unsupported" (not carried out here); health is
/// "Healthy", "Progressing" (a run in flight), "Degraded" (its last run
/// failed, or it drifted) or "Missing" (not created, or deleted outside git),
/// each with a message. `plan` is the whole plan of the pass, made after
/// applying. Resources the state records but git no longer declares are
/// listed too (OutOfSync, "removed from git").
///
/// Returns a JSON array of {"id", "kind", "sync", "health", "message"}.
nlohmann::json ResourceStatuses(const compiler::ir::Graph& graph, const compiler::planner::Plan& plan,
                                runtime::StateStore& state);

/// The worst health of `statuses` ("Healthy" when there are none).
std::string OverallHealth(const nlohmann::json& statuses);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_LOOP_RESOURCE_STATUS_H_
