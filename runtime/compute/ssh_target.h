#ifndef AMLC_RUNTIME_COMPUTE_SSH_TARGET_H_
#define AMLC_RUNTIME_COMPUTE_SSH_TARGET_H_

// Compute type `ssh` (Azure ML's `virtualmachine`): a Linux host reached
// with the OpenSSH client (ssh_client.h says why). On the host, under the
// target's work_dir (default ~/.amlc-remote):
//   blobs/<sha256>           file contents, sent once: a run sends only those the host lacks
//   runs/<run>/work/         the snapshot, ./outputs, ./logs; the command runs here
//   runs/<run>/inputs/<name> the run's path inputs, the command given these paths
//   envs/<digest>/           the venv of a pip_requirements environment, made once
//   runs/<run>/run.sh        the command with its environment
//   runs/<run>/pid           the run's process group (started detached with setsid)
//   runs/<run>/output.log, tracking.jsonl, exit_code
// amlc follows a run through one long ssh session that streams the log and
// the tracking file from the offsets it holds (so a broken connection, an
// sshd restart or an amlc restart resume where they stopped), collects
// ./outputs and ./logs when it ends, and removes the run's folder there.
// Which host a run is on is kept beside it (runs/<run>/ssh-target.json in
// the workspace), so a later amlc can observe and cancel it.

#include <string>

#include "runtime/compute/compute_target.h"
#include "runtime/compute/ssh_client.h"
#include "runtime/compute/ssh_staging.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

class SshTarget : public ComputeTarget {
 public:
  explicit SshTarget(Workspace& workspace) : workspace_(workspace) {}

  void Run(RunRecord& run, const RunRequest& request, const RunProgress& progress) override;
  void Adopt(RunRecord& run, const RunRequest& request, const RunProgress& progress) override;
  /// Finished once the host has the exit code; Alive while its process group
  /// runs, and also while the host cannot be reached (amlc cannot tell, and
  /// a run is never failed for a network it does not see); Lost otherwise.
  RunLiveness Observe(const RunRecord& run) override;
  Status Cancel(const std::string& run_id, const std::string& reason) override;
  std::string LogPath(const std::string& run_id) const override { return workspace_.run_dir(run_id) + "/output.log"; }

 private:
  /// Sends the snapshot's missing blobs, lays out the run folder and starts
  /// the command; returns the remote pid. `upload_bytes` hears the staging
  /// tar (missing blobs and scripts) as ssh sends it.
  StatusOr<int64_t> Start(SshClient& ssh, const RunRecord& run, const RunRequest& request,
                          const std::string& remote_run, const ByteSink& upload_bytes);
  /// Streams the run's log and metrics until it ends, reconnecting as needed,
  /// then collects and finishes the record.
  void Follow(SshClient& ssh, RunRecord& run, const RunRequest& request, const RunProgress& progress);
  void Finish(SshClient& ssh, RunRecord& run, const RunRequest& request, const std::string& remote_run);
  void Fail(RunRecord& run, const std::string& error);
  StatusOr<std::vector<StagedFile>> CodeFiles(const RunRecord& run);
  /// The interpreter of `venv` on the host, made there once; an error saying
  /// which requirements the host lacks.
  StatusOr<std::string> RemoteVenv(SshClient& ssh, const std::string& remote_root, const RunVenv& venv);
  /// The host a run was started on, from the file beside it.
  StatusOr<SshClient> ClientOfRun(const std::string& run_id, std::string& remote_run);

  Workspace& workspace_;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_SSH_TARGET_H_
