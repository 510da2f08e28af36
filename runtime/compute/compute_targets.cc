#include "runtime/compute/compute_target.h"

#include "base/clock.h"
#include "runtime/compute/local_target.h"
#include "runtime/compute/slurm_target.h"
#include "runtime/compute/ssh_target.h"

namespace amlc::runtime {

ComputeTarget* ComputeTargets::For(const std::string& type) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto made = made_.find(type); made != made_.end()) return made->second.get();
  auto factory = factories_.find(type);
  if (factory == factories_.end()) return nullptr;
  return (made_[type] = factory->second(workspace_)).get();
}

void RegisterBuiltinComputeTargets(ComputeTargets& targets) {
  targets.Register("local", [](Workspace& workspace) { return std::make_unique<LocalTarget>(workspace); });
  targets.Register("slurm", [](Workspace& workspace) { return std::make_unique<SlurmTarget>(workspace); });
  targets.Register("ssh", [](Workspace& workspace) { return std::make_unique<SshTarget>(workspace); });
}

StatusOr<RunRecord> RecordCancel(Workspace& workspace, const std::string& run_id, const std::string& reason) {
  auto found = workspace.state().GetRun(run_id);
  if (!found.ok()) return found.status();
  if (!found.value()) return Status(StatusCode::kNotFound, "no run '" + run_id + "'");
  RunRecord run = *found.value();
  if (run.status != RunStatus::kRunning && run.status != RunStatus::kQueued) {
    return Status(StatusCode::kFailedPrecondition,
                  "run '" + run_id + "' is " + RunStatusName(run.status) + ", not running");
  }
  RunRecord canceled = run;
  canceled.status = RunStatus::kCanceled;
  canceled.error = reason;
  canceled.ended_at = NowMillis();
  if (Status status = workspace.state().UpdateRun(canceled); !status.ok()) return status;
  return run;
}

Status CancelRunOnItsTarget(Workspace& workspace, const std::string& run_id, const std::string& reason) {
  auto found = workspace.state().GetRun(run_id);
  if (!found.ok()) return found.status();
  if (!found.value()) return Status(StatusCode::kNotFound, "no run '" + run_id + "'");
  ComputeTargets targets(workspace);
  RegisterBuiltinComputeTargets(targets);
  ComputeTarget* target = targets.For(found.value()->compute);
  if (!target) {
    return Status(StatusCode::kFailedPrecondition,
                  "run '" + run_id + "' is on " + found.value()->compute + " compute, which has no driver here");
  }
  return target->Cancel(run_id, reason);
}

}  // namespace amlc::runtime
