// Notes: the host is multi-threaded, so everything the child needs (argv,
// envp, paths) is built before fork() and the child only makes
// async-signal-safe calls until execve. Every host pipe is opened
// close-on-exec and the child closes every descriptor above 4, so a worker
// never holds another worker's pipes or the listening socket (which would
// hide EOF from the host when a worker dies).
#include "runtime/serving/scoring/worker_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "runtime/compute/local_runner.h"

extern char** environ;

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
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text = *entry;
    size_t equals = text.find('=');
    if (equals != std::string::npos) env[text.substr(0, equals)] = text.substr(equals + 1);
  }
  std::string script_dir = std::filesystem::path(spec.entry_script).parent_path().string();
  std::string python_path = PythonModuleDir() + ":" + script_dir;
  if (auto user = spec.env.find("PYTHONPATH"); user != spec.env.end() && !user->second.empty()) {
    python_path += ":" + user->second;
  } else if (auto inherited = env.find("PYTHONPATH");
             inherited != env.end() && !inherited->second.empty()) {
    python_path += ":" + inherited->second;
  }
  env["AZUREML_ENTRY_SCRIPT"] = spec.entry_script;
  if (!spec.model_dir.empty()) env["AZUREML_MODEL_DIR"] = spec.model_dir;
  env["PYTHONUNBUFFERED"] = "1";  // the script's prints reach the log as they happen
  env["AMLC_WORKER_NUMBER"] = std::to_string(number);
  for (const auto& [key, value] : spec.env) env[key] = value;
  env["PYTHONPATH"] = python_path;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [key, value] : env) out.push_back(key + "=" + value);
  return out;
}

[[noreturn]] void ExecWorker(const char* dir, const char* python, char* const argv[],
                             char* const envp[], int request_read, int response_write,
                             int log_write, pid_t parent) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // the host blocks SIGTERM/SIGINT for its signal thread
  signal(SIGPIPE, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  setsid();
  // A worker must not outlive a host killed with -9.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(126);
  // Copies above 10 first: an original may itself be 0..4 and be overwritten
  // by an earlier dup2. The copies are closed with everything above 4 below.
  int sources[4] = {open("/dev/null", O_RDONLY), log_write, request_read, response_write};
  for (int& fd : sources) {
    fd = fd < 0 ? -1 : fcntl(fd, F_DUPFD, 10);
    if (fd < 0) _exit(126);
  }
  if (dup2(sources[0], 0) != 0 || dup2(sources[1], 1) != 1 || dup2(sources[1], 2) != 2 ||
      dup2(sources[2], 3) != 3 || dup2(sources[3], 4) != 4) {
    _exit(126);
  }
  syscall(SYS_close_range, 5u, ~0u, 0u);
  if (chdir(dir) != 0) {
    const char message[] = "amlc: cannot enter the entry script's folder\n";
    (void)!write(2, message, sizeof message - 1);
    _exit(126);
  }
  execve(python, argv, envp);
  const char message[] = "amlc: cannot execute the Python interpreter\n";
  (void)!write(2, message, sizeof message - 1);
  _exit(127);
}

}  // namespace

StatusOr<WorkerProcess> StartWorker(const WorkerSpec& spec, int number) {
  std::string dir = std::filesystem::path(spec.entry_script).parent_path().string();
  std::vector<std::string> args = {spec.python, "-m", "amlc.scoring", "--worker"};
  std::vector<std::string> env = WorkerEnvironment(spec, number);
  std::vector<char*> argv, envp;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (std::string& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);

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
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    std::string error = std::strerror(errno);
    close_all();
    return Status(StatusCode::kUnavailable,
                  "cannot start worker " + std::to_string(number) + ": fork: " + error);
  }
  if (pid == 0) {
    ExecWorker(dir.c_str(), spec.python.c_str(), argv.data(), envp.data(), request[0], response[1],
               log[1], parent);
  }
  CloseIfOpen(request[0]);
  CloseIfOpen(response[1]);
  CloseIfOpen(log[1]);
  fcntl(request[1], F_SETFL, fcntl(request[1], F_GETFL) | O_NONBLOCK);
  fcntl(response[0], F_SETFL, fcntl(response[0], F_GETFL) | O_NONBLOCK);
  WorkerProcess process;
  process.pid = pid;
  process.request_fd = request[1];
  process.response_fd = response[0];
  process.log_fd = log[0];
  return process;
}

void KillWorkerGroup(pid_t pid) {
  if (pid <= 0) return;
  // The group may not exist yet if the child has not reached setsid().
  if (kill(-pid, SIGKILL) != 0) kill(pid, SIGKILL);
}

void CloseWorkerPipes(WorkerProcess& process) {
  CloseIfOpen(process.request_fd);
  CloseIfOpen(process.response_fd);
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return "exit code " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    int signal_number = WTERMSIG(wait_status);
    const char* name = sigabbrev_np(signal_number);
    return "killed by signal " + std::to_string(signal_number) +
           (name ? std::string(" (SIG") + name + ")" : "");
  }
  return "ended (status " + std::to_string(wait_status) + ")";
}

}  // namespace amlc::runtime::serving
