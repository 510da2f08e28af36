#ifndef AMLC_RUNTIME_COMPUTE_RUN_FOLDER_H_
#define AMLC_RUNTIME_COMPUTE_RUN_FOLDER_H_

// The folder a run works in, the same for every compute target that reaches
// the workspace's files (local processes, and Slurm nodes sharing the
// workspace folder): the snapshot, ./outputs and ./logs, the environment's
// interpreter as `python`, amlc's Python module; and collecting what the run
// left into the datastore afterwards.

#include <map>
#include <string>

#include "base/status.h"
#include "runtime/compute/compute_target.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// `text` quoted for /bin/sh ('it'\''s').
std::string ShellQuote(const std::string& text);


/// The file a run's shell writes its command's exit code to when it ends
/// (RUN_DIR/exit_code): how every target tells a finished run from a running one.
std::string ExitCodeFile(const Workspace& workspace, const std::string& run_id);
/// The code in an exit-code file; false while it is absent or incomplete.
bool ReadExitCode(const std::string& path, int& code);

/// How a run's folder is laid out.
struct RunFolderOptions {
  /// Copy amlc's Python module into the folder instead of pointing
  /// PYTHONPATH at amlc's own copy: a cluster node may not have amlc.
  bool stage_python_module = false;
  /// Hears the snapshot's bytes as they are written into the folder.
  ByteSink snapshot_bytes;
};

/// Empties `work` and fills it: the run's snapshot, ./outputs with a folder
/// per declared output, ./logs, and `python`/`python3` wrappers for the
/// environment's interpreter. Returns the variables the command runs with:
/// request.env plus PATH, PYTHONPATH and the AMLC_* ones the Python module
/// reads.
StatusOr<std::map<std::string, std::string>> PrepareRunFolder(Workspace& workspace, const RunRecord& run,
                                                              const RunRequest& request, const std::string& work,
                                                              const RunFolderOptions& options = {});

/// The name of Azure ML's default output, the run's artifact root.
inline constexpr const char* kArtifactsOutput = "artifacts";

/// Moves the run's ./outputs and ./logs from `work` into the datastore and
/// records each declared output's path and digest in run.outputs_json (with
/// request.artifacts_output, "artifacts" as the folder holding outputs/ and logs/).
void CollectRunOutputs(Workspace& workspace, RunRecord& run, const RunRequest& request, const std::string& work);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_RUN_FOLDER_H_
