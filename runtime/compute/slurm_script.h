#ifndef AMLC_RUNTIME_COMPUTE_SLURM_SCRIPT_H_
#define AMLC_RUNTIME_COMPUTE_SLURM_SCRIPT_H_

// The files one Slurm run is submitted as: the batch script sbatch runs on
// the first node, and for distributed runs the task script srun starts on
// every node with the variables the frameworks read. Both live in the run's
// folder, which every node reaches (the workspace folder, shared by NFS on a
// real cluster).

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/compute/compute_target.h"

namespace amlc::runtime::slurm {

struct ScriptInput {
  std::string run_dir;  // the run's folder: scripts, exit_code, output.log
  std::string work;     // the folder the command runs in
  std::string command;  // for /bin/sh -c
  std::map<std::string, std::string> env;
  Placement placement;
  std::string run_id;
  std::string container_image;      // run the command in this image with podman ("" = on the node)
  std::vector<std::string> mounts;  // folders the container sees at their own paths
};

/// Whether the run is launched through srun on its nodes (more than one
/// node, or a distribution named).
bool IsDistributed(const Placement& placement);

/// Writes run_dir/slurm-batch.sh (and slurm-task.sh for distributed runs);
/// returns the batch script's path. The batch script writes the command's
/// exit code to run_dir/exit_code when it ends.
StatusOr<std::string> WriteScripts(const ScriptInput& input);

}  // namespace amlc::runtime::slurm

#endif  // AMLC_RUNTIME_COMPUTE_SLURM_SCRIPT_H_
