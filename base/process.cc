// Implementation notes: posix_spawn (glibc's clone(CLONE_VFORK) path) rather
// than fork: the parent is multi-threaded, and posix_spawn runs nothing of
// ours in the child, reports a failed exec as an error code instead of an
// exit status, and does not copy the address space. What fork-based code did
// by hand in the child maps onto spawn attributes and file actions:
// setsid -> POSIX_SPAWN_SETSID, chdir -> addchdir_np, dup2 -> adddup2,
// close_range -> addclosefrom_np, signal reset -> SETSIGMASK + SETSIGDEF.
// The one thing posix_spawn cannot do, PR_SET_PDEATHSIG, goes through
// setpriv (see ProcessSpec::parent_death_signal).
#include "base/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace amlc {

namespace {

constexpr char kDefaultPath[] = "/usr/local/bin:/usr/bin:/bin";
constexpr char kShell[] = "/bin/sh";

std::string ErrnoText(int error) { return std::strerror(error); }

std::string BootId() {
  // Read once: it cannot change while this process runs.
  static const std::string boot_id = [] {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string text;
    in >> text;
    return text;
  }();
  return boot_id;
}

struct StatFields {
  char state = '?';
  uint64_t start_ticks = 0;
};

// Fields 3 (state) and 22 (starttime) of /proc/PID/stat. The command name
// (field 2) may hold spaces and parentheses, so fields are counted after the
// last ')'.
std::optional<StatFields> ReadStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(paren + 1));
  StatFields out;
  std::string skipped;
  fields >> out.state;
  for (int field = 4; field < 22; ++field) fields >> skipped;
  if (!(fields >> out.start_ticks)) return std::nullopt;
  return out;
}

// A pidfd for `pid`: -1 with ENOSYS (kernels before 5.3; the caller then
// relies on the identity), -1 with ESRCH when it does not exist.
int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

// Descriptors closed when the spawn is done, on every path.
class FdCloser {
 public:
  ~FdCloser() {
    for (int fd : fds_) close(fd);
  }
  int Keep(int fd) {
    if (fd >= 0) fds_.push_back(fd);
    return fd;
  }

 private:
  std::vector<int> fds_;
};

std::string PathOf(const std::vector<std::string>& env) {
  for (const std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) return entry.substr(5);
  }
  return kDefaultPath;
}

// What posix_spawn runs: the file and its argv.
struct Exec {
  std::string path;
  std::vector<std::string> argv;
};

// The program resolved as a shell's PATH search would in the child, and with
// a parent death signal the setpriv + /bin/sh guard in front. The guard: setpriv arms the
// signal for the parent it has then; if we died before that, the child was
// adopted by init and would never get it, so the shell checks its parent is
// still us and otherwise exits 126 before running the program. (The program
// then sees its resolved path as argv[0].)
StatusOr<Exec> ResolveExec(const ProcessSpec& spec, const std::vector<std::string>& env) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return Status(StatusCode::kInvalidArgument, "no program to start");
  }
  const std::string& program = spec.argv[0];
  std::optional<std::string> found;
  if (program.find('/') != std::string::npos && program[0] != '/' && !spec.cwd.empty()) {
    // Relative to the child's folder, where the child resolves it after its chdir.
    if (FindProgram(spec.cwd + "/" + program, "")) found = program;
  } else {
    found = FindProgram(program, PathOf(env));
  }
  if (!found)
    return Status(StatusCode::kNotFound, "cannot start '" + program + "': no such executable file");
  if (spec.parent_death_signal == 0) return Exec{*found, spec.argv};
  const char* name = sigabbrev_np(spec.parent_death_signal);
  if (name == nullptr)
    return Status(StatusCode::kInvalidArgument, "no such signal for parent_death_signal");
  std::optional<std::string> setpriv = FindProgram("setpriv", "/usr/bin:/bin:/usr/sbin:/sbin");
  if (!setpriv) {
    return Status(
        StatusCode::kFailedPrecondition,
        "cannot start '" + program + "': setpriv (util-linux) is needed for a parent death signal");
  }
  std::string guard = "[ \"$PPID\" = " + std::to_string(getpid()) + " ] || exit 126; exec \"$@\"";
  Exec exec{*setpriv, {*setpriv, "--pdeathsig", name, "--", kShell, "-c", guard, program, *found}};
  exec.argv.insert(exec.argv.end(), spec.argv.begin() + 1, spec.argv.end());
  return exec;
}

// Adds the child's descriptors to `actions`. Every source is first copied
// above the highest target, so that no dup2 overwrites a source a later dup2
// still needs (a source may itself be 0..4); closefrom then closes the copies
// and every other descriptor of ours.
Status AddDescriptors(const ProcessSpec& spec, posix_spawn_file_actions_t& actions,
                      FdCloser& closer) {
  std::vector<FdMapping> mappings;
  int null = closer.Keep(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null < 0)
    return Status(StatusCode::kUnavailable, "cannot open /dev/null: " + ErrnoText(errno));
  mappings.push_back({null, STDIN_FILENO});
  int out = spec.stdout_fd, err = spec.stderr_fd;
  if (!spec.output_file.empty()) {
    out = err = closer.Keep(
        open(spec.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (out < 0)
      return Status(StatusCode::kUnavailable,
                    "cannot open '" + spec.output_file + "': " + ErrnoText(errno));
  }
  if (out >= 0) mappings.push_back({out, STDOUT_FILENO});
  if (err >= 0) mappings.push_back({err, STDERR_FILENO});
  int highest = STDERR_FILENO;
  for (const FdMapping& mapping : spec.fds) {
    if (mapping.target <= STDERR_FILENO) {
      return Status(StatusCode::kInvalidArgument,
                    "descriptor targets start at 3; 0..2 are set by the spec");
    }
    mappings.push_back(mapping);
    highest = std::max(highest, mapping.target);
  }
  for (const FdMapping& mapping : mappings) {
    int copy = closer.Keep(fcntl(mapping.source, F_DUPFD_CLOEXEC, highest + 1));
    if (copy < 0) {
      return Status(
          StatusCode::kUnavailable,
          "cannot pass descriptor " + std::to_string(mapping.source) + ": " + ErrnoText(errno));
    }
    posix_spawn_file_actions_adddup2(&actions, copy, mapping.target);
  }
  posix_spawn_file_actions_addclosefrom_np(&actions, highest + 1);
  if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
  return Status::Ok();
}

void SetAttributes(const ProcessSpec& spec, posix_spawnattr_t& attributes) {
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (spec.new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attributes, flags);
}

std::vector<char*> Pointers(std::vector<std::string>& texts) {
  std::vector<char*> out;
  out.reserve(texts.size() + 1);
  for (std::string& text : texts) out.push_back(text.data());
  out.push_back(nullptr);
  return out;
}

// The spawn itself, with the file actions and attributes freed on every path.
StatusOr<pid_t> SpawnWith(const ProcessSpec& spec, Exec exec, std::vector<std::string> env) {
  FdCloser closer;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  Status ready = AddDescriptors(spec, actions, closer);
  pid_t pid = -1;
  int error = 0;
  if (ready.ok()) {
    SetAttributes(spec, attributes);
    std::vector<char*> argv = Pointers(exec.argv);
    std::vector<char*> envp = Pointers(env);
    error = posix_spawn(&pid, exec.path.c_str(), &actions, &attributes, argv.data(), envp.data());
  }
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (!ready.ok()) return ready;
  if (error != 0) {
    // ENOENT/EACCES/ENOEXEC: exec failed in the child, or the working folder is missing.
    StatusCode code =
        error == EAGAIN || error == ENOMEM ? StatusCode::kUnavailable : StatusCode::kNotFound;
    return Status(code, "cannot start '" + spec.argv[0] + "'" +
                            (spec.cwd.empty() ? "" : " in '" + spec.cwd + "'") + ": " +
                            ErrnoText(error));
  }
  return pid;
}

}  // namespace

std::string ProcessIdentity::ToString() const {
  return std::to_string(pid) + " " + std::to_string(start_ticks) + " " + boot_id;
}

StatusOr<ProcessIdentity> ProcessIdentity::Parse(const std::string& text) {
  std::istringstream in(text);
  ProcessIdentity identity;
  if (!(in >> identity.pid >> identity.start_ticks >> identity.boot_id) || identity.pid <= 0) {
    return Status(StatusCode::kInvalidArgument, "not a process identity: '" + text + "'");
  }
  return identity;
}

StatusOr<ProcessIdentity> IdentityOf(pid_t pid) {
  std::optional<StatFields> stat = pid > 0 ? ReadStat(pid) : std::nullopt;
  if (!stat) return Status(StatusCode::kNotFound, "no process " + std::to_string(pid));
  return ProcessIdentity{pid, stat->start_ticks, BootId()};
}

bool IsSameProcess(const ProcessIdentity& identity) {
  if (identity.pid <= 0 || identity.boot_id != BootId()) return false;
  std::optional<StatFields> stat = ReadStat(identity.pid);
  return stat && stat->state != 'Z' && stat->start_ticks == identity.start_ticks;
}

Process::Process(Process&& other) noexcept
    : identity_(std::move(other.identity_)),
      pidfd_(other.pidfd_),
      child_(other.child_),
      reaped_(other.reaped_) {
  other.pidfd_ = -1;
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (pidfd_ >= 0) close(pidfd_);
    identity_ = std::move(other.identity_);
    pidfd_ = other.pidfd_;
    child_ = other.child_;
    reaped_ = other.reaped_;
    other.pidfd_ = -1;
  }
  return *this;
}

Process::~Process() {
  if (pidfd_ >= 0) close(pidfd_);
}

bool Process::Running() const {
  if (reaped_ || identity_.pid <= 0) return false;
  if (pidfd_ >= 0) {
    // A pidfd turns readable when its process ends (zombie or gone).
    pollfd polled{pidfd_, POLLIN, 0};
    return poll(&polled, 1, 0) == 0;
  }
  return IsSameProcess(identity_);
}

Status Process::SignalGroup(int signal) const {
  if (!Running()) return Status::Ok();
  if (kill(-identity_.pid, signal) == 0) return Status::Ok();
  if (errno == ESRCH && kill(identity_.pid, signal) == 0) return Status::Ok();
  if (errno == ESRCH) return Status::Ok();  // ended meanwhile
  return Status(StatusCode::kUnavailable,
                "cannot signal process " + std::to_string(identity_.pid) + ": " + ErrnoText(errno));
}

StatusOr<int> Process::Wait() {
  if (child_ && !reaped_) {
    int status = WaitForChild(identity_.pid);
    if (status == -1)
      return Status(StatusCode::kInternal,
                    "process " + std::to_string(identity_.pid) + " is not ours to wait for");
    reaped_ = true;
    return status;
  }
  while (Running()) {
    if (pidfd_ >= 0) {
      pollfd polled{pidfd_, POLLIN, 0};
      poll(&polled, 1, -1);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return 0;
}

StatusOr<Process> Spawn(const ProcessSpec& spec) {
  std::vector<std::string> env = spec.env ? *spec.env : EnvironmentWith({});
  StatusOr<Exec> exec = ResolveExec(spec, env);
  if (!exec.ok()) return exec.status();
  StatusOr<pid_t> pid = SpawnWith(spec, std::move(exec.value()), std::move(env));
  if (!pid.ok()) return pid.status();
  // The child is not reaped before we wait for it, so its /proc entry and pid
  // are still its own here, even if it has ended already.
  StatusOr<ProcessIdentity> identity = IdentityOf(pid.value());
  ProcessIdentity known =
      identity.ok() ? identity.value() : ProcessIdentity{pid.value(), 0, BootId()};
  return Process(known, PidfdOpen(pid.value()), /*child=*/true);
}

StatusOr<Process> Adopt(const ProcessIdentity& identity) {
  // Open first, then check: if the check passes, the process that had the pid
  // at the check existed since the recorded start, so it is the one the pidfd
  // holds.
  int pidfd = PidfdOpen(identity.pid);
  if (pidfd < 0 && errno != ENOSYS) {
    return Status(StatusCode::kNotFound, "process " + std::to_string(identity.pid) + " has ended");
  }
  Process process(identity, pidfd, /*child=*/false);
  if (!IsSameProcess(identity)) {
    return Status(StatusCode::kNotFound, "process " + std::to_string(identity.pid) +
                                             " has ended (the pid is free or another process's)");
  }
  return process;
}

std::vector<std::string> EnvironmentWith(const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> merged;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text = *entry;
    size_t equals = text.find('=');
    if (equals != std::string::npos) merged[text.substr(0, equals)] = text.substr(equals + 1);
  }
  for (const auto& [key, value] : overrides) merged[key] = value;
  std::vector<std::string> out;
  out.reserve(merged.size());
  for (const auto& [key, value] : merged) out.push_back(key + "=" + value);
  return out;
}

std::optional<std::string> FindProgram(const std::string& program, const std::string& path) {
  auto executable = [](const std::string& file) {
    struct stat info {};
    return stat(file.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
           access(file.c_str(), X_OK) == 0;
  };
  if (program.find('/') != std::string::npos) {
    return executable(program) ? std::optional<std::string>(program) : std::nullopt;
  }
  size_t start = 0;
  while (!program.empty() && start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (executable(candidate)) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<int> ReapIfEnded(pid_t pid) {
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) return status;
  return std::nullopt;
}

int WaitForChild(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

void SignalGroup(pid_t pgid, int signal) {
  if (pgid <= 0) return;
  if (kill(-pgid, signal) != 0 && errno == ESRCH) kill(pgid, signal);
}

StatusOr<std::string> RunCapture(const std::vector<std::string>& argv, int& exit_code) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Status(StatusCode::kInternal, "pipe failed: " + ErrnoText(errno));
  ProcessSpec spec;
  spec.argv = argv;
  spec.new_session = false;
  spec.stdout_fd = spec.stderr_fd = pipe_fds[1];
  StatusOr<Process> process = Spawn(spec);
  close(pipe_fds[1]);
  std::string output;
  char buffer[4096];
  if (process.ok()) {
    for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR);) {
      if (n > 0) output.append(buffer, static_cast<size_t>(n));
    }
  }
  close(pipe_fds[0]);
  if (!process.ok()) return process.status();
  StatusOr<int> status = process->Wait();
  if (!status.ok()) return status.status();
  exit_code = WIFEXITED(status.value()) ? WEXITSTATUS(status.value()) : -1;
  return output;
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

}  // namespace amlc
