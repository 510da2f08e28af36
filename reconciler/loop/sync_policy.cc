#include "reconciler/loop/sync_policy.h"

#include <map>

namespace amlc::reconciler {

using compiler::planner::Action;
using compiler::planner::ActionType;

namespace {

// Why the policy holds `action` back, or "" when it may be applied.
std::string WithholdReason(const Action& action, const SyncPolicy& policy, bool commit_changed) {
  if (!policy.auto_sync) return "auto-sync is off: planned, not applied";
  if (!policy.self_heal && !commit_changed) return "self-heal is off: drift is reported, not corrected";
  if (action.type == ActionType::kDelete) {
    if (policy.protected_resources.count(action.resource_id)) {
      return "removed from git, but deletion protection keeps it";
    }
    if (!policy.prune) return "removed from git; prune is off, so it is kept";
  }
  return "";
}

}  // namespace

PolicyDecision ApplyPolicy(const compiler::planner::Plan& plan, const SyncPolicy& policy, bool commit_changed) {
  PolicyDecision decision;
  decision.to_apply = plan;
  decision.to_apply.actions.clear();
  std::map<size_t, size_t> new_index;
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    const Action& action = plan.actions[i];
    if (std::string why = WithholdReason(action, policy, commit_changed); !why.empty()) {
      decision.withheld.push_back({action.resource_id, why});
      continue;
    }
    Action kept = action;
    kept.after.clear();
    for (size_t before : action.after) {
      if (auto it = new_index.find(before); it != new_index.end()) kept.after.push_back(it->second);
    }
    new_index[i] = decision.to_apply.actions.size();
    decision.to_apply.actions.push_back(std::move(kept));
  }
  return decision;
}

}  // namespace amlc::reconciler
