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

#include "runtime/compute/run_folder.h"

namespace amlc::runtime::slurm {

namespace fs = std::filesystem;

namespace {

constexpr char kFindMaster[] = R"SH(first_node=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
MASTER_ADDR=$(scontrol show node "$first_node" | tr ' ' '\n' | sed -n 's/^NodeAddr=//p' | head -n 1)
export MASTER_ADDR="${MASTER_ADDR:-$first_node}"
export MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))
)SH";

// TF_CONFIG's worker list: one host:port per task, node by node.
constexpr char kTfConfig[] = R"SH(workers=""
for node in $(scontrol show hostnames "$SLURM_JOB_NODELIST"); do
  addr=$(scontrol show node "$node" | tr ' ' '\n' | sed -n 's/^NodeAddr=//p' | head -n 1)
  i=0
  while [ $i -lt "${SLURM_NTASKS_PER_NODE:-1}" ]; do
    workers="$workers${workers:+,}\"${addr:-$node}:$((MASTER_PORT + i))\""
    i=$((i + 1))
  done
done
export AMLC_TF_WORKERS="[$workers]"
)SH";

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

std::string TaskScript(const ScriptInput& input) {
  std::string text = "#!/bin/sh\n# One task of a distributed amlc run, started by srun on each node.\n";
  text += "export RANK=\"$SLURM_PROCID\" LOCAL_RANK=\"$SLURM_LOCALID\" WORLD_SIZE=\"$SLURM_NTASKS\" "
          "NODE_RANK=\"$SLURM_NODEID\"\n";
  if (input.placement.distribution == "tensorflow") {
    text += "export TF_CONFIG=\"{\\\"cluster\\\": {\\\"worker\\\": $AMLC_TF_WORKERS}, "
            "\\\"task\\\": {\\\"type\\\": \\\"worker\\\", \\\"index\\\": $SLURM_PROCID}}\"\n";
  }
  text += "cd " + ShellQuote(input.work) + " || exit 1\n";
  text += "exec /bin/sh -c " + ShellQuote(input.command) + "\n";
  return text;
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
