// Notes: every host pipe is opened close-on-exec and the worker is given
// only fds 0..4 (base's Spawn closes the rest), so a worker never holds
// another worker's pipes or the listening socket (which would hide EOF from
// the host when a worker dies). Spawn also resets the signal mask the host
// blocks for its signal thread, and arms PR_SET_PDEATHSIG so a worker does
// not outlive a host killed with -9.
#include "runtime/serving/scoring/worker_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <vector>

#include "base/process.h"
#include "runtime/workspace/python_module.h"

namespace amlc::runtime::serving {

namespace {

void CloseIfOpen(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// The worker's environment: the host's, then what the scoring contract sets,
// then --env pairs (a PYTHONPATH among them is appended, so amlc.scoring stays importable).
std::vector<std::string> WorkerEnvironment(const WorkerSpec& spec, int number) {
  std::map<std::string, std::string> env;
  const char* inherited = std::getenv("PYTHONPATH");
  std::string script_dir = std::filesystem::path(spec.entry_script).parent_path().string();
  std::string python_path = PythonModuleDir() + ":" + script_dir;
  if (auto user = spec.env.find("PYTHONPATH"); user != spec.env.end() && !user->second.empty()) {
    python_path += ":" + user->second;
  } else if (inherited != nullptr && *inherited != '\0') {
    python_path += ":" + std::string(inherited);
  }
  env["AZUREML_ENTRY_SCRIPT"] = spec.entry_script;
  if (!spec.model_dir.empty()) env["AZUREML_MODEL_DIR"] = spec.model_dir;
  env["PYTHONUNBUFFERED"] = "1";  // the script's prints reach the log as they happen
  env["AMLC_WORKER_NUMBER"] = std::to_string(number);
  for (const auto& [key, value] : spec.env) env[key] = value;
  env["PYTHONPATH"] = python_path;
  return EnvironmentWith(env);
}

}  // namespace

StatusOr<WorkerProcess> StartWorker(const WorkerSpec& spec, int number) {
  int request[2] = {-1, -1}, response[2] = {-1, -1}, log[2] = {-1, -1};
  auto close_all = [&] {
    for (int* pair : {request, response, log}) {
      CloseIfOpen(pair[0]);
      CloseIfOpen(pair[1]);
    }
  };
  if (pipe2(request, O_CLOEXEC) != 0 || pipe2(response, O_CLOEXEC) != 0 ||
      pipe2(log, O_CLOEXEC) != 0) {
    std::string error = std::strerror(errno);
    close_all();
    return Status(StatusCode::kUnavailable,
                  "cannot make pipes for worker " + std::to_string(number) + ": " + error);
  }
  // Bigger pipes let a large request body go in with fewer wake-ups (best effort).
  fcntl(request[1], F_SETPIPE_SZ, 1 << 20);
  fcntl(response[1], F_SETPIPE_SZ, 1 << 20);
  ProcessSpec process_spec;
  process_spec.argv = {spec.python, "-m", "amlc.scoring", "--worker"};
  process_spec.env = WorkerEnvironment(spec, number);
  process_spec.cwd = std::filesystem::path(spec.entry_script).parent_path().string();
  process_spec.stdout_fd = process_spec.stderr_fd = log[1];
  process_spec.fds = {{request[0], 3}, {response[1], 4}};
  process_spec.parent_death_signal = SIGKILL;
  StatusOr<Process> started = Spawn(process_spec);
  if (!started.ok()) {
    close_all();
    return Status(StatusCode::kUnavailable,
                  "cannot start worker " + std::to_string(number) + ": " + started.status().message());
  }
  CloseIfOpen(request[0]);
  CloseIfOpen(response[1]);
  CloseIfOpen(log[1]);
  fcntl(request[1], F_SETFL, fcntl(request[1], F_GETFL) | O_NONBLOCK);
  fcntl(response[0], F_SETFL, fcntl(response[0], F_GETFL) | O_NONBLOCK);
  WorkerProcess process;
  process.pid = started->pid();
  process.request_fd = request[1];
  process.response_fd = response[0];
  process.log_fd = log[0];
  return process;
}

void KillWorkerGroup(pid_t pid) { SignalGroup(pid, SIGKILL); }

void CloseWorkerPipes(WorkerProcess& process) {
  CloseIfOpen(process.request_fd);
  CloseIfOpen(process.response_fd);
}

}  // namespace amlc::runtime::serving
