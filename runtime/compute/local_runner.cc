// Implementation notes: a run's process is started in a new session (base's
// Spawn) so it has its own process group (cancel and timeout signal the whole
// group, not only the shell). The wrapper `( CMD ); echo $? > exit_code` is
// what lets another apply learn how a run ended when the apply that started
// it died. Its ProcessIdentity goes to the run folder beside the exit code:
// the state store keeps only the pid, and after a restart that pid may belong
// to another process.
// The loop in WaitAndFinish polls every 100 ms: for the child's exit (or, when
// attached, for the recorded process to end), for new tracking records, for
// the timeout and for a cancel recorded by `amlc runs cancel`.
#include "runtime/compute/local_runner.h"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "base/file_tail.h"
#include "base/process.h"
#include "runtime/compute/containers.h"
#include "runtime/compute/run_folder.h"
#include "runtime/compute/tracking_reader.h"
#include "runtime/workspace/python_module.h"

namespace amlc::runtime {

namespace fs = std::filesystem;

namespace {

std::string IdentityFile(const Workspace& workspace, const std::string& run_id) {
  return workspace.run_dir(run_id) + "/process-identity";
}

// Written by rename, so a reader never sees half of it.
void WriteIdentity(const std::string& path, const ProcessIdentity& identity) {
  std::error_code error;
  std::ofstream(path + ".tmp") << identity.ToString() << "\n";
  fs::rename(path + ".tmp", path, error);
}

// The run's process as a previous apply left it, re-attached by the identity
// in the run folder so that a pid reused since is not taken for the run.
// nullopt once it has ended. A run recorded before identities were written is
// taken to be whatever process has its pid now, as amlc did then.
std::optional<Process> AdoptRun(const std::string& identity_file, int64_t pid) {
  std::ifstream in(identity_file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  StatusOr<ProcessIdentity> identity =
      in.is_open() ? ProcessIdentity::Parse(text) : IdentityOf(static_cast<pid_t>(pid));
  if (!identity.ok()) return std::nullopt;
  StatusOr<Process> adopted = Adopt(identity.value());
  if (!adopted.ok()) return std::nullopt;
  return std::move(adopted.value());
}

}  // namespace

bool RunProcessAlive(const Workspace& workspace, const RunRecord& run) {
  return AdoptRun(IdentityFile(workspace, run.id), run.pid).has_value();
}

void LocalRunner::Fail(RunRecord& run, const std::string& error) {
  run.status = RunStatus::kFailed;
  run.error = error;
  run.ended_at = NowMillis();
  workspace_.state().UpdateRun(run);
}

void LocalRunner::Execute(RunRecord& run, const RunRequest& request,
                          const RunProgress& progress) {
  std::string work = work_dir(run.id);
  RunFolderOptions folder;
  folder.snapshot_bytes = progress.bytes();
  auto env = PrepareRunFolder(workspace_, run, request, work, folder);
  if (!env.ok()) {
    Fail(run, env.status().message());
    return;
  }
  std::error_code error;
  std::string exit_file = ExitCodeFile(workspace_, run.id);
  fs::remove(exit_file, error);
  std::string command = request.command;
  if (!request.container_image.empty()) {
    // The run's folder, amlc's Python module and the inputs appear at the
    // same paths inside, so the command, the tracking file and outputs need
    // no rewriting.
    std::vector<std::string> mounts = {workspace_.run_dir(run.id), PythonModuleDir()};
    for (const RunInput& input : request.inputs) mounts.push_back(input.path);
    std::string argv;
    for (const std::string& arg : ContainerRunArgv(run.id, request.container_image, request.command, work,
                                                   mounts, env.value())) {
      argv += (argv.empty() ? "" : " ") + ShellQuote(arg);
    }
    command = argv;
  }
  std::string script = "( " + command + " ); code=$?; echo $code > " + ShellQuote(exit_file) +
                       "; exit $code";
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = EnvironmentWith(env.value());
  spec.cwd = work;
  spec.output_file = log_path(run.id);
  StatusOr<Process> process = Spawn(spec);
  if (!process.ok()) {
    Fail(run, "cannot start the process: " + process.status().message());
    return;
  }
  WriteIdentity(IdentityFile(workspace_, run.id), process->identity());
  run.pid = process->pid();
  run.status = RunStatus::kRunning;
  run.started_at = NowMillis();
  run.work_dir = work;
  workspace_.state().UpdateRun(run);
  WaitAndFinish(run, request, progress, /*own_child=*/true);
}

void LocalRunner::Attach(RunRecord& run, const RunRequest& request,
                         const RunProgress& progress) {
  WaitAndFinish(run, request, progress, /*own_child=*/false);
}

void LocalRunner::WaitAndFinish(RunRecord& run, const RunRequest& request,
                                const RunProgress& progress,
                                bool own_child) {
  TrackingReader tracking(workspace_.run_dir(run.id) + "/tracking.jsonl", workspace_.state(), run);
  std::string exit_file = ExitCodeFile(workspace_, run.id);
  auto started = std::chrono::steady_clock::now();
  bool timed_out = false;
  int wait_status = 0;
  bool exited = false;
  pid_t pid = static_cast<pid_t>(run.pid);
  // Our own child is followed by its pid (it cannot be reused before we reap
  // it); a previous apply's by the identity it recorded.
  std::optional<Process> attached;
  if (!own_child) attached = AdoptRun(IdentityFile(workspace_, run.id), run.pid);
  auto signal_group = [&](int signal) {
    if (own_child) SignalGroup(pid, signal);
    else if (attached) attached->SignalGroup(signal);
  };
  while (!exited) {
    if (own_child) {
      std::optional<int> ended = ReapIfEnded(pid);
      exited = ended.has_value();
      wait_status = ended.value_or(0);
    } else {
      exited = !attached || !attached->Running();
    }
    tracking.Poll();
    if (progress && !tracking.latest().empty()) progress(tracking.latest());
    if (exited) break;
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (request.timeout_seconds > 0 && elapsed > request.timeout_seconds && !timed_out) {
      timed_out = true;
      signal_group(SIGTERM);
    }
    if (timed_out && elapsed > request.timeout_seconds + 3) {
      signal_group(SIGKILL);
      if (!request.container_image.empty()) RemoveContainer(run.id);  // a killed podman client leaves it
    }
    auto current = workspace_.state().GetRun(run.id);
    if (current.ok() && current.value() && current.value()->status == RunStatus::kCanceled) {
      signal_group(SIGKILL);
      if (!request.container_image.empty()) RemoveContainer(run.id);
      if (own_child) WaitForChild(pid);
      run = *current.value();
      tracking.FinishChildren(RunStatus::kCanceled);
      Collect(run, request);
      workspace_.state().UpdateRun(run);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // A TERM ends the podman client's shell at once, but the container goes on
  // (its PID 1 may ignore the TERM podman passes on): remove it.
  if (timed_out && !request.container_image.empty()) RemoveContainer(run.id);
  tracking.Poll();
  run.ended_at = NowMillis();
  int code = 0;
  bool have_code = ReadExitCode(exit_file, code);
  // `amlc runs cancel` records the cancel before it signals, so a process
  // that died of that signal was canceled, not failed.
  auto recorded = workspace_.state().GetRun(run.id);
  bool canceled = recorded.ok() && recorded.value() && recorded.value()->status == RunStatus::kCanceled;
  if (canceled) {
    run.status = RunStatus::kCanceled;
    run.error = recorded.value()->error;
  } else if (timed_out) {
    run.status = RunStatus::kCanceled;
    run.error = "timed out after " + std::to_string(request.timeout_seconds) + " s";
  } else if (!have_code) {
    run.status = RunStatus::kFailed;
    run.error = own_child && WIFSIGNALED(wait_status)
                    ? "killed by signal " + std::to_string(WTERMSIG(wait_status))
                    : "the run's process died without an exit code";
  } else if (code == 0) {
    run.status = RunStatus::kCompleted;
  } else {
    run.status = RunStatus::kFailed;
    run.exit_code = code;
    run.error = "exit code " + std::to_string(code) + "; last lines of the log:\n" + LastLines(log_path(run.id), 10);
  }
  tracking.FinishChildren(run.status);
  Collect(run, request);
  workspace_.state().UpdateRun(run);
}

void LocalRunner::Collect(RunRecord& run, const RunRequest& request) {
  CollectRunOutputs(workspace_, run, request, work_dir(run.id));
}

Status CancelRun(Workspace& workspace, const std::string& run_id, const std::string& reason) {
  StatusOr<RunRecord> recorded = RecordCancel(workspace, run_id, reason);
  if (!recorded.ok()) return recorded.status();
  const RunRecord& run = recorded.value();
  if (run.pid <= 0) return Status::Ok();
  // Checked against the recorded identity: the run may have ended long ago
  // and its pid be another process's now.
  if (std::optional<Process> process = AdoptRun(IdentityFile(workspace, run.id), run.pid)) {
    return process->SignalGroup(SIGTERM);
  }
  return Status::Ok();
}

}  // namespace amlc::runtime
