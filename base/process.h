#ifndef AMLC_BASE_PROCESS_H_
#define AMLC_BASE_PROCESS_H_

// The one way amlc starts another program (posix_spawn), and the few things
// every caller does with it afterwards: wait, signal its process group, and
// tell after a restart whether a recorded pid is still the process it started.
//
// Why a start time and not only a pidfd: a pidfd pins a process only while
// the process that opened it keeps it open. amlc persists runs across its own
// restarts (an apply killed with -9, a reconciler restarted), and all it can
// write down is a number. So a spawned process is known by its
// ProcessIdentity: the pid, the process's start time in clock ticks after
// boot (field 22 of /proc/PID/stat) and the boot id. A later process that
// reuses the pid has a later start time; a reboot changes the boot id. The
// check is as fine as one clock tick (10 ms): the kernel would have to hand
// out the same pid twice within one tick. Once a re-attach has checked the
// identity it holds a pidfd (where the kernel has pidfd_open), so the check
// cannot go stale while it waits.

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace amlc {

/// Which process a pid meant when it was recorded; written to a file as text
/// so a re-attach after a restart can tell it from a later process with the
/// same pid.
struct ProcessIdentity {
  pid_t pid = 0;
  uint64_t start_ticks = 0;  // clock ticks after boot when it started
  std::string boot_id;       // /proc/sys/kernel/random/boot_id

  /// "PID START_TICKS BOOT_ID", one line without a newline.
  std::string ToString() const;
  /// Reads ToString()'s text; kInvalidArgument when it is not that.
  static StatusOr<ProcessIdentity> Parse(const std::string& text);
};

/// The identity of the process `pid` now. kNotFound when no such process
/// exists (or /proc cannot be read).
StatusOr<ProcessIdentity> IdentityOf(pid_t pid);

/// Whether the process `identity` names still runs: false when it ended (a
/// zombie counts as ended), or when its pid now belongs to another process,
/// or when the machine rebooted since.
bool IsSameProcess(const ProcessIdentity& identity);

/// One descriptor handed to the child: its `target` is a copy of our `source`.
struct FdMapping {
  int source = -1;
  int target = -1;  // 3 or above; 0..2 are set by ProcessSpec's stdio fields
};

/// What to start. The child gets /dev/null on stdin, its stdout and stderr
/// as chosen below, the descriptors in `fds`, and no other descriptor of
/// ours (whether close-on-exec or not). Its signal mask is empty and every
/// signal has its default action, whatever this (multi-threaded) process
/// blocks or ignores.
struct ProcessSpec {
  /// argv[0] is a path (with a '/') or a name looked up in the PATH of `env`
  /// (of this process when `env` is unset), as a shell would in the child.
  std::vector<std::string> argv;
  /// The whole environment, "KEY=VALUE"; unset = this process's.
  std::optional<std::vector<std::string>> env;
  /// The child's working folder; "" = ours.
  std::string cwd;
  /// A new session and process group whose id is the child's pid (setsid),
  /// so SignalGroup reaches what it starts and a terminal's signals to our
  /// group do not reach it.
  bool new_session = true;
  /// Appends stdout and stderr to this file (created 0644). "" = use the
  /// two fds below.
  std::string output_file;
  int stdout_fd = -1;  // -1 = ours
  int stderr_fd = -1;  // -1 = ours
  std::vector<FdMapping> fds;
  /// Signal the child gets when the thread that spawned it ends, even by
  /// SIGKILL (Linux's PR_SET_PDEATHSIG); 0 = none. posix_spawn cannot set
  /// it, so the child is started through util-linux's setpriv and a /bin/sh
  /// line that exits at once if we died before the signal was armed.
  int parent_death_signal = 0;
};

/// A started (or re-attached) process. Owns its pidfd, which it closes; it
/// never waits for or kills the process by itself, so dropping it leaves the
/// process as it is (a child of ours must still be reaped by pid).
class Process {
 public:
  Process() = default;
  Process(ProcessIdentity identity, int pidfd, bool child)
      : identity_(std::move(identity)), pidfd_(pidfd), child_(child) {}
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return identity_.pid; }
  /// -1 where the kernel has no pidfd_open (before Linux 5.3).
  int pidfd() const { return pidfd_; }
  const ProcessIdentity& identity() const { return identity_; }
  /// Whether it is a child of this process (started here, not re-attached).
  bool child() const { return child_; }

  /// Whether it still runs (a zombie has ended). Asks the pidfd where there
  /// is one, else compares the identity, so a reused pid never answers true.
  bool Running() const;
  /// Sends `signal` to its process group (it must have been started with
  /// new_session), or to it alone when the group is gone. Does nothing once
  /// it has ended, so a reused pid is never signalled. kUnavailable when
  /// kill fails otherwise.
  Status SignalGroup(int signal) const;
  /// Waits until it ends. For a child: reaps it and returns its wait status.
  /// For a re-attached process: returns 0 once it is gone (only its parent
  /// learns how it ended). kInternal when waitpid fails.
  StatusOr<int> Wait();

 private:
  ProcessIdentity identity_;
  int pidfd_ = -1;
  bool child_ = false;
  bool reaped_ = false;
};

/// Starts `spec.argv`. Fails, without starting anything, with kInvalidArgument
/// when argv is empty, kNotFound when the program is not found or is not
/// executable, kFailedPrecondition when setpriv is missing for a
/// parent_death_signal, and kUnavailable when a file or pipe cannot be opened
/// or posix_spawn fails (EAGAIN, ENOMEM). Never throws and never crashes on
/// a bad program.
StatusOr<Process> Spawn(const ProcessSpec& spec);

/// Re-attaches to a process a previous amlc started: opens a pidfd for it and
/// checks that it is still that process. kNotFound when it ended or the pid
/// now belongs to another process.
StatusOr<Process> Adopt(const ProcessIdentity& identity);

/// This process's environment with `overrides` set on top, as Spawn takes it.
std::vector<std::string> EnvironmentWith(const std::map<std::string, std::string>& overrides);

/// The file that `program` names: itself when it has a '/', else the first
/// executable match in the folders of `path` (a shell's search). nullopt when
/// there is none.
std::optional<std::string> FindProgram(const std::string& program, const std::string& path);

/// waitpid(pid, WNOHANG) for a child of ours: its wait status if it ended
/// (and is now reaped), nullopt while it runs or when it is not our child.
std::optional<int> ReapIfEnded(pid_t pid);

/// Blocks until the child `pid` ends and reaps it, retrying on EINTR; its wait
/// status, or -1 when it is not a child of ours (ECHILD).
int WaitForChild(pid_t pid);

/// SIGNALs the process group `pgid`, or the process `pgid` alone when it has
/// no group of that id (not yet, or not started with new_session). Call only
/// while `pgid` is an unreaped child of ours, or after checking its identity:
/// a reaped pid may be reused.
void SignalGroup(pid_t pgid, int signal);

/// Runs `argv` to its end with stdout and stderr on one pipe, in our process
/// group (a step of ours that a Ctrl-C should end too). Its output, and its
/// exit code in `exit_code` (-1 when a signal ended it). Fails as Spawn does.
StatusOr<std::string> RunCapture(const std::vector<std::string>& argv, int& exit_code);

/// "exit code 3", "killed by signal 9 (SIGKILL)": how a wait status ended.
std::string DescribeWaitStatus(int wait_status);

}  // namespace amlc

#endif  // AMLC_BASE_PROCESS_H_
