#ifndef AMLC_RUNTIME_COMPUTE_SLURM_CLI_H_
#define AMLC_RUNTIME_COMPUTE_SLURM_CLI_H_

// The Slurm commands amlc drives (sbatch, scontrol, sacct, squeue, sinfo,
// scancel), run through base's process launcher and read back into values.
// Which cluster they reach is the commands' own business: SLURM_CONF, or the
// node's /etc/slurm/slurm.conf.

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace amlc::runtime::slurm {

/// What Slurm says of one job.
struct JobState {
  std::string state;   // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, PREEMPTED, OUT_OF_MEMORY, ...
  std::string reason;  // why it waits or ended ("" for None)
  int exit_code = 0;   // the batch script's exit code (ExitCode=CODE:SIGNAL)
  int signal = 0;      // the signal that ended it, 0 for none
  std::string nodes;   // NodeList, e.g. "node[1-2]" ("" before it runs)
};

/// How a query ended.
enum class Answer {
  kKnown,        // `job` holds the job's state
  kUnknownJob,   // neither slurmctld nor accounting knows the job (purged, or never submitted)
  kUnreachable,  // slurmctld did not answer (restarting, network); ask again later
};

struct Query {
  Answer answer = Answer::kUnreachable;
  JobState job;
  std::string error;  // the command's output when it did not answer
};

/// Submits `script` with `options` (sbatch's own, without --parsable);
/// returns the job id. kUnavailable with sbatch's message when it refuses.
StatusOr<std::string> Submit(const std::vector<std::string>& options, const std::string& script);

/// The job's state from `scontrol show job` (sacct once slurmctld forgot it,
/// where accounting is configured).
Query QueryJob(const std::string& job_id);

/// scancel; the job's end shows in later queries.
Status Cancel(const std::string& job_id);

/// The id of the queued or running job named `name` (squeue), if one is.
std::optional<std::string> FindJobByName(const std::string& name);

/// The partitions and the node features (sinfo); empty when sinfo fails.
std::vector<std::string> Partitions();
std::vector<std::string> NodeFeatures();

/// Whether a job in `state` will not run any more (not PENDING, RUNNING,
/// CONFIGURING, COMPLETING, SUSPENDED, REQUEUED, RESIZING, ...).
bool IsFinal(const std::string& state);

/// Reads `scontrol show job -o`'s one line (KEY=VALUE words); exposed for tests.
JobState ParseScontrolLine(const std::string& line);

}  // namespace amlc::runtime::slurm

#endif  // AMLC_RUNTIME_COMPUTE_SLURM_CLI_H_
