#ifndef AMLC_RECONCILER_LOOP_SYNC_POLICY_H_
#define AMLC_RECONCILER_LOOP_SYNC_POLICY_H_

#include <set>
#include <string>
#include <vector>

#include "compiler/planner/plan.h"

namespace amlc::reconciler {

/// What the reconciler may do on its own (Argo CD's sync policy).
struct SyncPolicy {
  bool auto_sync = true;   // apply new commits; off: plan and report only
  bool self_heal = true;   // also correct drift while the commit stays the same
  bool prune = false;      // destroy what was removed from git
  std::set<std::string> protected_resources;  // "endpoint/iris": never destroyed
};

/// The part of a plan the policy lets a pass apply, and what it holds back.
struct PolicyDecision {
  compiler::planner::Plan to_apply;
  std::vector<compiler::planner::Deferred> withheld;  // resource id and why
};

/// Splits `plan` by `policy`. `commit_changed` is whether the pass is the
/// first for its commit: without self-heal only such a pass applies anything,
/// so later drift is reported, not corrected. The `after` links of the
/// actions kept are renumbered; links to withheld actions are dropped (a
/// withheld delete is not something a kept action must wait for).
PolicyDecision ApplyPolicy(const compiler::planner::Plan& plan, const SyncPolicy& policy, bool commit_changed);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_LOOP_SYNC_POLICY_H_
