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
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "base/clock.h"
#include "base/process.h"
#include "runtime/compute/tracking_reader.h"
#include "runtime/workspace/python_module.h"

namespace amlc::runtime {

namespace fs = std::filesystem;

namespace {

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string LastLines(const std::string& path, int count) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = text.size();
  while (pos > 0 && (text[pos - 1] == '\n')) --pos;
  for (int lines = 0; pos > 0 && lines < count; --pos) {
    if (text[pos - 1] == '\n' && ++lines == count) break;
  }
  std::string tail = text.substr(pos, 2000);
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  return tail;
}

bool ReadExitCode(const std::string& path, int& code) {
  std::ifstream in(path);
  return static_cast<bool>(in >> code);
}

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
                          const std::function<void(const std::string&)>& progress) {
  std::string work = work_dir(run.id);
  std::error_code error;
  fs::remove_all(work, error);
  // A job without `code` runs in an empty folder.
  Status prepared = run.snapshot_digest.empty()
                        ? Status::Ok()
                        : workspace_.snapshots().Materialize(run.snapshot_digest, work);
  if (!prepared.ok()) {
    Fail(run, "cannot prepare the work folder: " + prepared.message());
    return;
  }
  for (const char* sub : {"/outputs", "/logs", "/.amlc-bin"}) fs::create_directories(work + sub, error);
  for (const std::string& name : request.output_names) fs::create_directories(work + "/outputs/" + name, error);

  std::map<std::string, std::string> env = request.env;
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  if (!request.python.empty()) {
    // `python` in the command means the environment's interpreter. A wrapper
    // rather than a symlink: a venv's interpreter must be run by its own path
    // to find its pyvenv.cfg.
    for (const char* name : {"/python", "/python3"}) {
      std::string wrapper = work + "/.amlc-bin" + name;
      std::ofstream(wrapper) << "#!/bin/sh\nexec " << ShellQuote(request.python) << " \"$@\"\n";
      fs::permissions(wrapper, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                   fs::perms::others_read | fs::perms::others_exec, error);
    }
    path = work + "/.amlc-bin:" + path;
  }
  env["PATH"] = path;
  std::string python_path = RunPythonPath();
  if (const char* existing = std::getenv("PYTHONPATH"); existing && *existing) python_path += std::string(":") + existing;
  env["PYTHONPATH"] = python_path;
  env["AMLC_RUN_ID"] = run.id;
  env["AMLC_EXPERIMENT"] = run.experiment;
  env["AMLC_TRACKING_FILE"] = workspace_.run_dir(run.id) + "/tracking.jsonl";
  env["AMLC_OUTPUTS_DIR"] = work + "/outputs";

  std::string exit_file = workspace_.run_dir(run.id) + "/exit_code";
  fs::remove(exit_file, error);
  std::string script = "( " + request.command + " ); code=$?; echo $code > " + ShellQuote(exit_file) +
                       "; exit $code";
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = EnvironmentWith(env);
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
                         const std::function<void(const std::string&)>& progress) {
  WaitAndFinish(run, request, progress, /*own_child=*/false);
}

void LocalRunner::WaitAndFinish(RunRecord& run, const RunRequest& request,
                                const std::function<void(const std::string&)>& progress,
                                bool own_child) {
  TrackingReader tracking(workspace_.run_dir(run.id) + "/tracking.jsonl", workspace_.state(), run);
  std::string exit_file = workspace_.run_dir(run.id) + "/exit_code";
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
    if (timed_out && elapsed > request.timeout_seconds + 3) signal_group(SIGKILL);
    auto current = workspace_.state().GetRun(run.id);
    if (current.ok() && current.value() && current.value()->status == RunStatus::kCanceled) {
      signal_group(SIGKILL);
      if (own_child) WaitForChild(pid);
      run = *current.value();
      tracking.FinishChildren(RunStatus::kCanceled);
      Collect(run, request);
      workspace_.state().UpdateRun(run);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
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
  std::string work = work_dir(run.id);
  std::string stored = workspace_.run_outputs(run.id);
  std::error_code error;
  fs::create_directories(fs::path(stored).parent_path(), error);
  fs::remove_all(stored, error);
  fs::rename(work + "/outputs", stored, error);
  if (error) fs::create_directories(stored, error);
  fs::path logs = fs::path(stored).parent_path() / "logs";
  fs::remove_all(logs, error);
  fs::rename(work + "/logs", logs, error);
  nlohmann::json outputs = nlohmann::json::object();
  for (const std::string& name : request.output_names) {
    std::string path = stored + "/" + name;
    std::string digest;
    if (fs::is_directory(path)) {
      auto scanned = workspace_.snapshots().Scan(path);
      digest = scanned.ok() ? scanned->tree_digest : "";
    } else if (fs::is_regular_file(path)) {
      auto file = DigestFile(path);
      digest = file.ok() ? file.value() : "";
    }
    outputs[name] = {{"path", path}, {"digest", digest}};
  }
  run.outputs_json = outputs.dump();
}

Status CancelRun(Workspace& workspace, const std::string& run_id, const std::string& reason) {
  auto found = workspace.state().GetRun(run_id);
  if (!found.ok()) return found.status();
  if (!found.value()) return Status(StatusCode::kNotFound, "no run '" + run_id + "'");
  RunRecord run = *found.value();
  if (run.status != RunStatus::kRunning && run.status != RunStatus::kQueued) {
    return Status(StatusCode::kFailedPrecondition,
                  "run '" + run_id + "' is " + RunStatusName(run.status) + ", not running");
  }
  run.status = RunStatus::kCanceled;
  run.error = reason;
  run.ended_at = NowMillis();
  if (Status status = workspace.state().UpdateRun(run); !status.ok()) return status;
  if (run.pid <= 0) return Status::Ok();
  // Checked against the recorded identity: the run may have ended long ago
  // and its pid be another process's now.
  if (std::optional<Process> process = AdoptRun(IdentityFile(workspace, run.id), run.pid)) {
    return process->SignalGroup(SIGTERM);
  }
  return Status::Ok();
}

}  // namespace amlc::runtime
