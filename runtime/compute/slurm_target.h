#ifndef AMLC_RUNTIME_COMPUTE_SLURM_TARGET_H_
#define AMLC_RUNTIME_COMPUTE_SLURM_TARGET_H_

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/compute/compute_target.h"
#include "runtime/compute/slurm_cli.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// Compute type `slurm` (Azure's `amlcompute`): each run is one sbatch job
/// of an existing Slurm cluster, whose nodes reach the workspace folder (the
/// same machine, or NFS on a real cluster). The run's folder holds the batch
/// script, the job's output (output.log, written by Slurm as the job runs),
/// the tracking file the Python module appends metrics to, and the exit code
/// the script writes when it ends. The job id is the run's tag
/// `slurm.job_id`, and the job is named `amlc-RUN_ID`, so a restarted amlc
/// finds it again instead of submitting a second one. See README.md
/// ("Slurm") for the mapping of compute fields and the failure policy.
class SlurmTarget : public ComputeTarget {
 public:
  explicit SlurmTarget(Workspace& workspace) : workspace_(workspace) {}

  void Run(RunRecord& run, const RunRequest& request, const RunProgress& progress) override;
  void Adopt(RunRecord& run, const RunRequest& request, const RunProgress& progress) override;
  /// Alive while Slurm has the job queued or running, or cannot be asked;
  /// Finished once it ended; Lost when Slurm no longer knows it and it left no exit code.
  RunLiveness Observe(const RunRecord& run) override;
  /// Records the cancel, then scancel.
  Status Cancel(const std::string& run_id, const std::string& reason) override;
  std::string LogPath(const std::string& run_id) const override { return workspace_.run_dir(run_id) + "/output.log"; }

 private:
  /// sbatch's options for a run: job name, folder, output, nodes, tasks,
  /// partition/constraint/account from the compute, time limit backstop.
  StatusOr<std::vector<std::string>> SbatchOptions(const RunRecord& run, const RunRequest& request);
  /// Follows job `job_id` to its end and finishes `run`.
  void Follow(RunRecord& run, const RunRequest& request, const RunProgress& progress, const std::string& job_id);
  /// The Slurm job of a run: its tag, else a queued job named after it.
  std::optional<std::string> JobIdOf(const std::string& run_id);
  void Fail(RunRecord& run, const std::string& error);
  /// Whether `size` is a partition / a node feature of the cluster (sinfo, asked once).
  bool IsPartition(const std::string& name);
  bool IsFeature(const std::string& name);

  Workspace& workspace_;
  std::mutex cluster_mutex_;
  std::optional<std::vector<std::string>> partitions_;
  std::optional<std::vector<std::string>> features_;
};

/// The message a run ends with when Slurm ended its job in `state` (TIMEOUT,
/// NODE_FAIL, PREEMPTED, OUT_OF_MEMORY, ...); exposed for tests.
std::string SlurmEndReason(const std::string& job_id, const slurm::JobState& state);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_SLURM_TARGET_H_
