#ifndef AMLC_RUNTIME_COMPUTE_LOCAL_RUNNER_H_
#define AMLC_RUNTIME_COMPUTE_LOCAL_RUNNER_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runtime/compute/compute_target.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// Runs a job's command on this machine. The command runs in a new process
/// group under a small /bin/sh wrapper that writes the exit code to the run
/// folder, so a run outlives an apply killed with -9 and the next apply can
/// attach to it instead of starting a second copy.
class LocalRunner {
 public:
  explicit LocalRunner(Workspace& workspace) : workspace_(workspace) {}

  /// Materializes the snapshot, starts the process, streams its output to the
  /// run's log, ingests logged metrics, enforces the timeout, then collects
  /// ./outputs and ./logs into the datastore and finishes `run` (Completed,
  /// Failed with the exit code and last lines of the log, or Canceled).
  void Execute(RunRecord& run, const RunRequest& request,
               const RunProgress& progress);

  /// Finishes a run a previous apply started: waits for its process, then
  /// collects as Execute does; a process that died without an exit code is
  /// marked Failed.
  void Attach(RunRecord& run, const RunRequest& request,
              const RunProgress& progress);

  /// The work folder of a run (the snapshot, ./outputs, ./logs).
  std::string work_dir(const std::string& run_id) const {
    return workspace_.run_dir(run_id) + "/work";
  }
  std::string log_path(const std::string& run_id) const {
    return workspace_.run_dir(run_id) + "/output.log";
  }

 private:
  void WaitAndFinish(RunRecord& run, const RunRequest& request,
                     const RunProgress& progress, bool own_child);
  void Collect(RunRecord& run, const RunRequest& request);
  void Fail(RunRecord& run, const std::string& error);

  Workspace& workspace_;
};

/// Ends a run's whole process group and marks it Canceled. kFailedPrecondition
/// when the run is not running.
Status CancelRun(Workspace& workspace, const std::string& run_id,
                 const std::string& reason = "canceled by amlc runs cancel");

/// Whether the process a run was started as is still running: checked by
/// the identity in its run folder, so a pid reused since is not taken for it.
bool RunProcessAlive(const Workspace& workspace, const RunRecord& run);


}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_LOCAL_RUNNER_H_
