#ifndef AMLC_RUNTIME_SERVING_SCORING_WORKER_PROCESS_H_
#define AMLC_RUNTIME_SERVING_SCORING_WORKER_PROCESS_H_

// Starting one Python scoring worker (`python3 -m amlc.scoring --worker`) in
// its own process group, with the protocol pipes on its fds 3 and 4 and its
// stdout/stderr on a log pipe, and ending it.

#include <sys/types.h>

#include <map>
#include <string>

#include "base/status.h"

namespace amlc::runtime::serving {

/// What every worker of a host runs.
struct WorkerSpec {
  std::string python = "/usr/bin/python3";
  std::string entry_script;  // absolute path
  std::string model_dir;     // absolute path, "" = leave AZUREML_MODEL_DIR as inherited
  std::map<std::string, std::string> env;  // --env pairs, applied last
};

/// A started worker: its pid (= its process group) and the host's pipe ends,
/// all close-on-exec; request_fd and response_fd are non-blocking.
struct WorkerProcess {
  pid_t pid = -1;
  int request_fd = -1;   // host writes request frames
  int response_fd = -1;  // host reads response frames
  int log_fd = -1;       // the worker's stdout and stderr
};

/// Starts a worker; `number` (1-based) is exported as AMLC_WORKER_NUMBER.
StatusOr<WorkerProcess> StartWorker(const WorkerSpec& spec, int number);

/// SIGKILLs the worker's whole process group (what the script started too).
/// Call only before the worker is reaped: a reaped pid may be reused.
void KillWorkerGroup(pid_t pid);

/// Closes the host's ends of the pipes that are still open (log_fd is left to its reader).
void CloseWorkerPipes(WorkerProcess& process);

}  // namespace amlc::runtime::serving

#endif  // AMLC_RUNTIME_SERVING_SCORING_WORKER_PROCESS_H_
