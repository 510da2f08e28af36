#ifndef AMLC_COMPILER_PLANNER_PLAN_H_
#define AMLC_COMPILER_PLANNER_PLAN_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace amlc::compiler::planner {

enum class ActionType { kCreate, kUpdate, kReplace, kDelete, kRun };

/// "+", "~", "-/+", "-", ">".
const char* ActionSymbol(ActionType type);
const char* ActionName(ActionType type);

struct FieldChange {
  std::string field;      // "max_concurrent", "inputs.C"
  std::string old_value;  // JSON text; "" when the field is new
  std::string new_value;  // JSON text; "" when the field is gone
};

/// One thing apply will do, and why.
struct Action {
  ActionType type = ActionType::kCreate;
  std::string resource_id;
  std::string kind;
  std::vector<std::string> reasons;   // "no completed run with this key", "code snapshot changed: 1 file"
  std::vector<FieldChange> changes;
  std::string digest;                 // desired-state digest to record
  std::string run_key;                // kRun: the key, or "" when known after apply
  bool known_after_apply = false;     // kRun whose inputs come from runs not yet finished
  std::vector<size_t> after;          // indices of actions that must finish first
  std::string pool;                   // the pool it takes a slot of while it runs ("" = none)
};

/// A resource whose kind amlc cannot carry out yet: listed, never applied.
struct Deferred {
  std::string resource_id;
  std::string reason;
};

/// The plan: actions in dependency order, plus what is already up to date.
struct Plan {
  std::vector<Action> actions;
  std::vector<Deferred> deferred;
  std::vector<Deferred> held_back;  // models whose register_when is false
  std::vector<Deferred> unkeyed;    // up-to-date jobs whose changed fields cannot change a result
  std::vector<Deferred> warnings;   // what will run otherwise than the spec says, and how
  int up_to_date = 0;
  int64_t state_serial = 0;  // the state it was made against
  std::string specs_digest;  // digest of the compiled graph it was made from
  std::string specs_dir;     // where the specs were (for `apply PLANFILE`)
  std::string workspace;     // the workspace home it was planned against
  /// Pools that bound how many actions run at once, by name, with their depth
  /// (a compute target's max_concurrent), as ninja's pools do for its edges.
  std::map<std::string, int> pools;
  /// Jobs that are up to date, and the completed run each is up to date
  /// with: what dependants read when the plan is applied.
  std::map<std::string, std::string> completed_runs;

  int Count(ActionType type) const;
  bool empty() const { return actions.empty(); }
};

/// Terraform-style text: one line per action with its symbol, changed fields
/// and reasons, then "Plan: 2 to add, 1 to change, 0 to destroy, 1 run to start."
std::string PlanToText(const Plan& plan, bool color);
/// The summary line alone.
std::string PlanSummary(const Plan& plan);
/// The same as JSON; PlanFromJson reads it back (for `plan -out` / `apply FILE`).
std::string PlanToJson(const Plan& plan);
bool PlanFromJson(const std::string& json, Plan& plan, std::string& error);

}  // namespace amlc::compiler::planner

#endif  // AMLC_COMPILER_PLANNER_PLAN_H_
