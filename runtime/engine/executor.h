#ifndef AMLC_RUNTIME_ENGINE_EXECUTOR_H_
#define AMLC_RUNTIME_ENGINE_EXECUTOR_H_

#include <functional>
#include <string>
#include <vector>

#include "base/byte_progress.h"
#include "base/progress_sink.h"
#include "compiler/planner/plan.h"
#include "runtime/engine/pools.h"
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
  /// Runs `action`; `progress` may be called with a short status ("accuracy=0.97"),
  /// and gets the bytes of its transfers (ProgressSink::bytes).
  virtual ActionResult Run(const compiler::planner::Action& action, const ProgressSink& progress) = 0;
};

/// Carries out nothing: every action succeeds with "dry run". As ninja's
/// DryRunCommandRunner, it shows what an apply would do, in the order and
/// with the parallelism it would do it, without touching anything.
class DryRunRunner : public ActionRunner {
 public:
  ActionResult Run(const compiler::planner::Action& action, const ProgressSink& progress) override {
    return {Outcome::kSucceeded, "dry run"};
  }
};

/// Hears about actions as they start, progress and finish (the terminal
/// display). Calls come from the executor's thread (Started, Finished) and
/// from the action's own threads (Progress, Bytes): an image's layers are
/// built on several threads at once, so Bytes must be thread-safe.
class ProgressReporter {
 public:
  virtual ~ProgressReporter() = default;
  /// Action `index` of the plan starts now.
  virtual void Started(size_t index, const compiler::planner::Action& action) = 0;
  /// A short status of a running action ("run train-1234", "accuracy=0.97").
  virtual void Progress(size_t index, const std::string& status) = 0;
  /// Bytes moving for action `index` (a blob pushed, a snapshot uploaded),
  /// already throttled by the sender's ByteMeter; a final report per transfer.
  /// Ignored unless a reporter shows bytes.
  virtual void Bytes(size_t index, const ByteProgress& progress) {}
  /// Action `index` ended (skipped ones too, with 0 seconds).
  virtual void Finished(size_t index, const compiler::planner::Action& action,
                        const ActionResult& result, double seconds) = 0;
};

struct ExecuteOptions {
  int parallelism = 1;            // actions at once (at least 1)
  Pools* pools = nullptr;         // slots of the plan's pools; nullptr: no pool limits
  StateStore* journal = nullptr;  // where every action is journaled; nullptr: nowhere (a dry run)
  std::string apply_id;           // the journal's name for this apply
};

/// Runs a plan: actions in dependency order, up to `parallelism` at once and
/// no more than its pool allows of each action that names one. An action
/// that fails stops only the actions that depend on it (they are skipped,
/// with the reason); independent ones go on. With a journal, every action is
/// journaled before and after it runs. Returns one result per action.
///
/// The loop (one coordinator thread; actions run on their own threads and
/// report back through a queue, so the plan's bookkeeping needs no locks):
///   1. start every ready action whose pool has a slot, while fewer than
///      `parallelism` run;
///   2. wait for one to finish (or a pool slot to be freed), record its result;
///   3. mark what depended on a failure as skipped; repeat until all are done.
std::vector<ActionResult> ExecutePlan(const compiler::planner::Plan& plan, ActionRunner& runner,
                                      ProgressReporter& reporter, const ExecuteOptions& options);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_EXECUTOR_H_
