// The variables of a distributed run, as torchrun and Azure ML set them:
// RANK (SLURM_PROCID), LOCAL_RANK (SLURM_LOCALID), WORLD_SIZE (SLURM_NTASKS),
// NODE_RANK (SLURM_NODEID), MASTER_ADDR (the first node's address as Slurm
// knows it: NodeAddr, which is the node name unless the cluster says
// otherwise) and MASTER_PORT (derived from the job id, so two runs sharing a
// first node do not collide). tensorflow also gets TF_CONFIG; mpi runs srun
// --mpi=pmi2 so an MPI library finds its peers through PMI.
#include "runtime/compute/slurm_script.h"

#include <filesystem>
#include <fstream>

#include "runtime/compute/containers.h"
#include "runtime/compute/run_folder.h"

namespace amlc::runtime::slurm {

namespace fs = std::filesystem;

namespace {

constexpr char kFindMaster[] = R"SH(first_node=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
MASTER_ADDR=$(scontrol show node "$first_node" | tr ' ' '\n' | sed -n 's/^NodeAddr=//p' | head -n 1)
export MASTER_ADDR="${MASTER_ADDR:-$first_node}"
export MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))
)SH";

// TF_CONFIG's worker list: one host:port per task, node by node as Slurm
// places ranks (block distribution), each task on a port of its own (two
// nodes may share an address), and no more entries than tasks (the last
// node may hold fewer).
constexpr char kTfConfig[] = R"SH(workers=""; index=0
for node in $(scontrol show hostnames "$SLURM_JOB_NODELIST"); do
  addr=$(scontrol show node "$node" | tr ' ' '\n' | sed -n 's/^NodeAddr=//p' | head -n 1)
  i=0
  while [ $i -lt "${SLURM_NTASKS_PER_NODE:-1}" ] && [ $index -lt "$SLURM_NTASKS" ]; do
    workers="$workers${workers:+,}\"${addr:-$node}:$((MASTER_PORT + index))\""
    i=$((i + 1)); index=$((index + 1))
  done
done
export AMLC_TF_WORKERS="[$workers]"
)SH";

// What a distributed task's container gets from srun's environment.
const std::vector<std::string> kTaskVariables = {"RANK",       "LOCAL_RANK",  "WORLD_SIZE",   "NODE_RANK",
                                                 "MASTER_ADDR", "MASTER_PORT", "TF_CONFIG",    "PMI_RANK",
                                                 "PMI_SIZE",    "SLURM_PROCID", "SLURM_NODEID", "SLURMD_NODENAME"};

std::string Exports(const std::map<std::string, std::string>& env) {
  std::string text;
  for (const auto& [name, value] : env) text += "export " + name + "=" + ShellQuote(value) + "\n";
  return text;
}

Status WriteExecutable(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status(StatusCode::kUnavailable, "cannot write " + path);
  std::error_code error;
  fs::permissions(path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec, error);
  return Status::Ok();
}

// The command in the run's image: podman in the background, so that when
// Slurm ends the job (scancel, its time limit) the signal reaches this shell
// at once and the trap removes the container, which would outlive its
// podman client; at once (--time 0), since Slurm kills what is left of the
// job KillWait seconds after its TERM. Sets `code`. `suffix` is shell text appended to the
// container's name (a task's rank).
std::string InContainer(const ScriptInput& input, const std::string& suffix, const std::vector<std::string>& passthrough) {
  std::vector<std::string> argv = ContainerRunArgv(input.run_id, input.container_image, input.command, input.work,
                                                   input.mounts, input.env, passthrough);
  std::string line;
  for (size_t i = 0; i < argv.size(); ++i) {
    line += (i ? " " : "") + ShellQuote(argv[i]);
    if (i > 0 && argv[i - 1] == "--name") line += suffix;
  }
  std::string name = ShellQuote(ContainerName(input.run_id)) + suffix;
  return line + " &\nchild=$!\nstop_container() { kill $child 2>/dev/null; " + ShellQuote(PodmanCommand()) +
         " rm --force --time 0 --ignore " + name + " >/dev/null 2>&1; }\ntrap stop_container TERM INT\n" +
         "wait $child; code=$?\n";
}

std::string TaskScript(const ScriptInput& input) {
  std::string text = "#!/bin/sh\n# One task of a distributed amlc run, started by srun on each node.\n";
  text += "export RANK=\"$SLURM_PROCID\" LOCAL_RANK=\"$SLURM_LOCALID\" WORLD_SIZE=\"$SLURM_NTASKS\" "
          "NODE_RANK=\"$SLURM_NODEID\"\n";
  if (input.placement.distribution == "tensorflow") {
    text += "export TF_CONFIG=\"{\\\"cluster\\\": {\\\"worker\\\": $AMLC_TF_WORKERS}, "
            "\\\"task\\\": {\\\"type\\\": \\\"worker\\\", \\\"index\\\": $SLURM_PROCID}}\"\n";
  }
  text += "cd " + ShellQuote(input.work) + " || exit 1\n";
  if (input.container_image.empty()) return text + "exec /bin/sh -c " + ShellQuote(input.command) + "\n";
  return text + InContainer(input, "\"-$SLURM_PROCID\"", kTaskVariables) + "exit $code\n";
}

}  // namespace

bool IsDistributed(const Placement& placement) {
  return placement.instance_count > 1 || !placement.distribution.empty();
}

StatusOr<std::string> WriteScripts(const ScriptInput& input) {
  std::string exit_file = input.run_dir + "/exit_code";
  std::string batch = input.run_dir + "/slurm-batch.sh";
  std::string text = "#!/bin/sh\n# amlc's batch script for one run; its output goes to output.log.\n";
  text += Exports(input.env);
  text += "cd " + ShellQuote(input.work) + " || exit 1\n";
  if (IsDistributed(input.placement)) {
    std::string task = input.run_dir + "/slurm-task.sh";
    if (Status written = WriteExecutable(task, TaskScript(input)); !written.ok()) return written;
    text += kFindMaster;
    if (input.placement.distribution == "tensorflow") text += kTfConfig;
    std::string mpi = input.placement.distribution == "mpi" ? " --mpi=pmi2" : "";
    text += "srun --kill-on-bad-exit=1" + mpi + " /bin/sh " + ShellQuote(task) + "; code=$?\n";
  } else if (!input.container_image.empty()) {
    text += InContainer(input, "", {});
  } else {
    text += "( " + input.command + " ); code=$?\n";
  }
  // By rename, so a reader never sees an empty exit_code.
  text += "echo $code > " + ShellQuote(exit_file + ".tmp") + " && mv " + ShellQuote(exit_file + ".tmp") + " " +
          ShellQuote(exit_file) + "\nexit $code\n";
  if (Status written = WriteExecutable(batch, text); !written.ok()) return written;
  return batch;
}

}  // namespace amlc::runtime::slurm
