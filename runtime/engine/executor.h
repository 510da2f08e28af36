#ifndef AMLC_RUNTIME_ENGINE_EXECUTOR_H_
#define AMLC_RUNTIME_ENGINE_EXECUTOR_H_

#include <functional>
#include <string>
#include <vector>

#include "compiler/planner/plan.h"
#include "runtime/state/state_store.h"

namespace amlc::runtime {

enum class Outcome { kSucceeded, kFailed, kSkipped };

struct ActionResult {
  Outcome outcome = Outcome::kSucceeded;
  std::string message;  // what happened: "run train-iris-... Completed", the error, why skipped
};

/// Carries out one action (the runtime's drivers behind it).
class ActionRunner {
 public:
  virtual ~ActionRunner() = default;
  /// Runs `action`; `progress` may be called with a short status ("accuracy=0.97").
  virtual ActionResult Run(const compiler::planner::Action& action,
                           const std::function<void(const std::string&)>& progress) = 0;
};

/// Hears about actions as they start, progress and finish (the terminal display).
class ProgressReporter {
 public:
  virtual ~ProgressReporter() = default;
  virtual void Started(size_t index, const compiler::planner::Action& action) = 0;
  virtual void Progress(size_t index, const std::string& status) = 0;
  virtual void Finished(size_t index, const compiler::planner::Action& action,
                        const ActionResult& result, double seconds) = 0;
};

/// Runs a plan: actions in dependency order, up to `parallelism` at once. An
/// action that fails stops only the actions that depend on it (they are
/// skipped, with the reason); independent ones go on. Every action is
/// journaled in `state` before and after it runs.
///
/// The loop (one coordinator thread; actions run on their own threads and
/// report back through a queue, so the plan's bookkeeping needs no locks):
///   1. start every ready action while fewer than `parallelism` run;
///   2. wait for one to finish, record its result;
///   3. mark what depended on a failure as skipped; repeat until all are done.
std::vector<ActionResult> ExecutePlan(const compiler::planner::Plan& plan, ActionRunner& runner,
                                      ProgressReporter& reporter, int parallelism,
                                      StateStore& state, const std::string& apply_id);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_EXECUTOR_H_
