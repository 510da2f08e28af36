// Implementation notes: a replica is forked from the host's main thread and
// gets its own session (so a signal to its group reaches its workers and
// nothing else) and PR_SET_PDEATHSIG, so it is told to stop even when the host
// is killed with -9. Everything the child needs (argv, envp, the resolved
// executable, open log) is prepared before fork: the host has router threads,
// and after fork only async-signal-safe calls are allowed in the child.
// SIGTERM goes to the leader only, which lets `amlc serve` drain its own
// workers; SIGKILL, after the grace period, goes to the whole group.
#include "runtime/serving/endpoint/replica_set.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

extern char** environ;

namespace amlc::runtime::endpoint {

namespace {

constexpr double kStopGraceS = 10;       // SIGTERM to SIGKILL
constexpr double kDrainTimeoutS = 300;   // longest wait for in-flight requests
constexpr double kProbeConnectS = 0.2;
constexpr double kProbeReadS = 1.0;

std::string ExitDescription(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "ended (status " + std::to_string(status) + ")";
}

// The host's environment with the deployment's variables on top, as KEY=VALUE.
std::vector<std::string> MergedEnvironment(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> merged;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string text = *entry;
    size_t equals = text.find('=');
    if (equals != std::string::npos) merged[text.substr(0, equals)] = text.substr(equals + 1);
  }
  for (const auto& [key, value] : extra) merged[key] = value;
  std::vector<std::string> out;
  for (const auto& [key, value] : merged) out.push_back(key + "=" + value);
  return out;
}

// execvp's search, done before fork: the executable's path, or `program`
// itself when it is not found (exec then fails and the log says so).
std::string ResolveExecutable(const std::string& program, const std::vector<std::string>& env) {
  if (program.find('/') != std::string::npos) return program;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) path = entry.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;
}

std::vector<char*> Pointers(std::vector<std::string>& texts) {
  std::vector<char*> out;
  for (std::string& text : texts) out.push_back(text.data());
  out.push_back(nullptr);
  return out;
}

// Runs in the child after fork: only async-signal-safe calls. Never returns.
[[noreturn]] void ExecReplica(pid_t host, int log_fd, int null_fd, const char* executable,
                              char* const* argv, char* const* envp, const std::string& failure) {
  setsid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != host) _exit(126);  // the host died before prctl took effect
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // the host blocks the signals it waits for
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &action, nullptr);  // the host ignores it; exec keeps "ignored"
  dup2(null_fd, STDIN_FILENO);
  dup2(log_fd, STDOUT_FILENO);
  dup2(log_fd, STDERR_FILENO);
  close_range(3, ~0U, 0);  // the router's sockets, the pid file's lock
  execve(executable, argv, envp);
  ssize_t ignored = write(STDERR_FILENO, failure.data(), failure.size());
  (void)ignored;
  _exit(127);
}

}  // namespace

const char* ReplicaPhaseName(ReplicaPhase phase) {
  switch (phase) {
    case ReplicaPhase::kStarting: return "starting";
    case ReplicaPhase::kReady: return "ready";
    case ReplicaPhase::kDraining: return "draining";
    case ReplicaPhase::kStopping: return "stopping";
  }
  return "unknown";
}

ReplicaSet::ReplicaSet(std::string deployment, HostPaths paths, std::shared_ptr<LoadMeter> meter)
    : deployment_(std::move(deployment)), paths_(std::move(paths)), meter_(std::move(meter)) {}

StatusOr<Replica*> ReplicaSet::Launch(const DeploymentSpec& spec, double now) {
  auto replica = std::make_unique<Replica>();
  replica->index = next_index_++;
  replica->name = deployment_ + "-" + std::to_string(replica->index);
  replica->key = spec.RolloutKey();
  replica->revision = spec.revision;
  std::string stem = paths_.replica(deployment_, replica->index);
  replica->log_path = stem + ".log";
  replica->port_file = stem + ".port";
  std::error_code error;
  std::filesystem::create_directories(paths_.replicas(), error);
  std::filesystem::remove(replica->port_file, error);  // never read a previous run's port

  std::vector<std::string> args = spec.command;
  for (const char* flag : {"--port", "0"}) args.emplace_back(flag);
  args.insert(args.end(), {"--port-file", replica->port_file, "--log-file", replica->log_path});
  std::vector<std::string> env = MergedEnvironment(spec.env);
  std::string executable = ResolveExecutable(args[0], env);
  std::vector<char*> argv = Pointers(args);
  std::vector<char*> envp = Pointers(env);
  std::string failure = "amlc endpoint-host: cannot execute " + executable + "\n";

  int log_fd = open(replica->log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    if (log_fd >= 0) close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return Status(StatusCode::kUnavailable, "cannot open " + replica->log_path + ": " +
                                                std::strerror(errno));
  }
  std::string banner = "=== amlc endpoint-host: starting " + replica->name + " (revision " +
                       spec.revision + ")\n";
  ssize_t ignored = write(log_fd, banner.data(), banner.size());
  (void)ignored;
  pid_t host = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecReplica(host, log_fd, null_fd, executable.c_str(), argv.data(), envp.data(),
                            failure);
  int fork_errno = errno;
  close(log_fd);
  close(null_fd);
  if (pid < 0) {
    return Status(StatusCode::kUnavailable,
                  "cannot start " + replica->name + ": fork: " + std::strerror(fork_errno));
  }
  replica->pid = pid;
  replica->started_at_ms = UnixMillis();
  replica->started_s = now;
  replica->phase_since_s = now;
  replicas_.push_back(std::move(replica));
  return replicas_.back().get();
}

bool ReplicaSet::Probe(Replica& replica) {
  // Read the port file on every probe: a half-written file or a stale port
  // only fails the probe, the next one reads it again.
  std::ifstream in(replica.port_file);
  int port = 0;
  if (!(in >> port) || port <= 0 || port > 65535) return false;
  replica.port = port;
  HttpClient client("127.0.0.1", port, kProbeConnectS, kProbeReadS);
  StatusOr<HttpResponse> response = client.Get("/health/ready");
  return response.ok() && response->status == 200;
}

void ReplicaSet::Advance(Replica& replica, double now) {
  switch (replica.phase) {
    case ReplicaPhase::kStarting:
      if (Probe(replica)) {
        replica.phase = ReplicaPhase::kReady;
        replica.phase_since_s = now;
        replica.backend = std::make_shared<Backend>(deployment_, replica.revision, replica.pid,
                                                    replica.port, meter_);
      }
      break;
    case ReplicaPhase::kReady:
      break;
    case ReplicaPhase::kDraining:
      if (!replica.backend ||
          (!replica.backend->routed() && replica.backend->in_flight() == 0) ||
          now - replica.phase_since_s > kDrainTimeoutS) {
        if (replica.backend) replica.backend->CloseConnections();
        kill(replica.pid, SIGTERM);
        replica.phase = ReplicaPhase::kStopping;
        replica.phase_since_s = now;
      }
      break;
    case ReplicaPhase::kStopping:
      if (!replica.killed && now - replica.phase_since_s > kStopGraceS) {
        kill(-replica.pid, SIGKILL);
        replica.killed = true;
      }
      break;
  }
}

PollResult ReplicaSet::Poll(double now) {
  PollResult result;
  for (auto it = replicas_.begin(); it != replicas_.end();) {
    Replica& replica = **it;
    int status = 0;
    if (waitpid(replica.pid, &status, WNOHANG) == replica.pid) {
      // The leader is gone; whatever it left in its group goes too (the group
      // id cannot be reused while any member lives).
      kill(-replica.pid, SIGKILL);
      std::error_code error;
      std::filesystem::remove(replica.port_file, error);
      if (replica.backend) replica.backend->CloseConnections();
      bool expected = replica.phase == ReplicaPhase::kDraining ||
                      replica.phase == ReplicaPhase::kStopping;
      result.exits.push_back({std::move(replica), ExitDescription(status), expected});
      it = replicas_.erase(it);
      continue;
    }
    ReplicaPhase before = replica.phase;
    Advance(replica, now);
    if (before == ReplicaPhase::kStarting && replica.phase == ReplicaPhase::kReady) {
      result.became_ready.push_back(replica.name);
    }
    ++it;
  }
  return result;
}

void ReplicaSet::Drain(Replica& replica, double now) {
  if (replica.phase == ReplicaPhase::kDraining || replica.phase == ReplicaPhase::kStopping) return;
  replica.phase = ReplicaPhase::kDraining;
  replica.phase_since_s = now;
  Advance(replica, now);  // a never-routed replica is signalled at once
}

void ReplicaSet::KillAll() {
  for (auto& replica : replicas_) {
    kill(-replica->pid, SIGKILL);
    int status = 0;
    waitpid(replica->pid, &status, 0);
  }
  replicas_.clear();
}

nlohmann::json ReplicaSet::StatusJson() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& replica : replicas_) {
    out.push_back({{"name", replica->name},
                   {"pid", replica->pid},
                   {"port", replica->port},
                   {"revision", replica->revision},
                   {"ready", replica->phase == ReplicaPhase::kReady},
                   {"state", ReplicaPhaseName(replica->phase)},
                   {"started_at", replica->started_at_ms}});
  }
  return out;
}

}  // namespace amlc::runtime::endpoint
