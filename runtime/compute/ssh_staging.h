#ifndef AMLC_RUNTIME_COMPUTE_SSH_STAGING_H_
#define AMLC_RUNTIME_COMPUTE_SSH_STAGING_H_

// What the ssh target sends to its host and the shell it runs there: only
// POSIX sh and coreutils (stat, tail, head, setsid, tar) are needed on the
// host, besides the run's own interpreter.

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/artifacts/snapshot/snapshot_store.h"
#include "runtime/compute/compute_target.h"
#include "runtime/compute/ssh_client.h"

namespace amlc::runtime {

/// A file to lay out in the run's folder on the host.
struct StagedFile {
  std::string digest;
  bool executable = false;
  std::string dest;    // relative to the run's folder ("work/train.py", "python/amlc/run.py")
  std::string source;  // the local file with these contents ("" = the snapshot store's blob)
};

/// What a run's inputs add to its folder on the host: their files, the
/// folders to make (an input folder may be empty), and each input's local
/// path with the path the command gets there.
struct StagedInputs {
  std::vector<StagedFile> files;
  std::vector<std::string> folders;  // relative to the run's folder
  std::vector<std::pair<std::string, std::string>> paths;  // local path -> path on the host
};

/// Lays `inputs` out under the run's folder `remote_run` on the host:
/// inputs/NAME/ holds a folder input's files, inputs/NAME/BASENAME a file
/// input. kNotFound naming the input whose path is gone.
StatusOr<StagedInputs> StageInputs(SnapshotStore& store, const std::vector<RunInput>& inputs,
                                   const std::string& remote_run);

/// `command` with every whole occurrence of a local path in `paths` (not
/// one that is only the start of a longer name) replaced by its path there.
std::string RewritePaths(std::string command, const std::vector<std::pair<std::string, std::string>>& paths);

/// The host's absolute root folder (made if missing) and which of `digests`
/// its blob store lacks.
StatusOr<std::string> MissingBlobs(SshClient& ssh, const std::vector<std::string>& digests,
                                   std::vector<std::string>& missing, const std::string& scratch_dir);

/// Writes the tar `tar_path` the host unpacks into its run folder: the
/// missing blobs, the manifest of `files`, run.sh (the command with its
/// environment, in `remote_run`/work) and start.sh (lays the files out,
/// makes `folders` and starts run.sh detached in its own process group,
/// printing its pid).
Status WriteStagingTar(const SnapshotStore& store, const std::vector<std::string>& missing,
                       const std::vector<StagedFile>& files, const std::vector<std::string>& folders,
                       const RunRequest& request, const std::string& run_script, const std::string& scratch_dir,
                       const std::string& tar_path);

/// The body of run.sh: exports, `cd work`, the command, its exit code to exit_code.
std::string RunScript(const RunRequest& request, const std::string& remote_run, const std::string& run_id,
                      const std::string& experiment);

/// The script the host runs (stdin: the staging tar) to unpack and start a run.
std::string UnpackAndStartScript(const std::string& remote_root, const std::string& remote_run);

/// The script that streams a run's progress from the given offsets as frames:
/// "L n\n" + n bytes of log, "T n\n" + n bytes of tracking records, "H\n"
/// (heartbeat), then "X code\n" (ended) or "D\n" (its process died without
/// an exit code) or "E message\n".
std::string StreamScript(const std::string& remote_run, uint64_t log_offset, uint64_t tracking_offset);

/// Prints "finished", "alive" or "lost" for a run.
std::string ObserveScript(const std::string& remote_run);

/// Signals a run's process group (TERM, or KILL).
std::string SignalScript(const std::string& remote_run, const std::string& signal);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_SSH_STAGING_H_
