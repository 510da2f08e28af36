// Implementation notes: the follow loop reads the stream session's frames
// from a pipe with poll(), so it notices a cancel recorded by `amlc runs
// cancel`, the timeout and a silent connection within 200 ms. Offsets are the
// sizes of the local copies of the log and tracking file, which makes a
// reconnect (or an amlc restarted with -9) resume exactly where the last one
// stopped: nothing is read twice, nothing skipped. The timeout counts from
// the run's recorded start, so an adopted run keeps its deadline.
#include "runtime/compute/ssh_target.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "base/clock.h"
#include "base/file_tail.h"
#include "runtime/compute/environments.h"
#include "runtime/compute/local_runner.h"
#include "runtime/compute/run_folder.h"
#include "runtime/compute/ssh_staging.h"
#include "runtime/compute/tracking_reader.h"
#include "runtime/workspace/python_module.h"

namespace amlc::runtime {

namespace fs = std::filesystem;

namespace {

constexpr int kSilenceSeconds = 30;  // no frame for this long: the connection is dead

// How long a run may go without contact with its host before it is given up
// as Failed: AMLC_SSH_RECONNECT_SECONDS, default 10 minutes.
int ReconnectWindowSeconds() {
  const char* value = std::getenv("AMLC_SSH_RECONNECT_SECONDS");
  int seconds = value ? std::atoi(value) : 0;
  return seconds > 0 ? seconds : 600;
}

uint64_t FileSize(const std::string& path) {
  std::error_code error;
  uintmax_t size = fs::file_size(path, error);
  return error ? 0 : static_cast<uint64_t>(size);
}

void Append(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::app) << bytes;
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
  return text;
}

// The stream session's frames, fed as bytes arrive.
class FrameReader {
 public:
  enum class End { kNone, kExited, kDied, kError };

  // Feeds `bytes`; complete frames are written to the local files.
  void Feed(const std::string& bytes, const std::string& log, const std::string& tracking) {
    buffer_ += bytes;
    while (end_ == End::kNone) {
      if (pending_ > 0) {
        size_t take = std::min<size_t>(pending_, buffer_.size());
        if (take == 0) return;
        Append(pending_log_ ? log : tracking, buffer_.substr(0, take));
        buffer_.erase(0, take);
        pending_ -= take;
        continue;
      }
      size_t newline = buffer_.find('\n');
      if (newline == std::string::npos) return;
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      if (line.empty()) continue;
      char tag = line[0];
      std::string rest = line.size() > 2 ? line.substr(2) : "";
      if (tag == 'L' || tag == 'T') {
        pending_ = std::strtoull(rest.c_str(), nullptr, 10);
        pending_log_ = tag == 'L';
      } else if (tag == 'X') {
        end_ = End::kExited;
        exit_code_ = std::atoi(rest.c_str());
      } else if (tag == 'D') {
        end_ = End::kDied;
      } else if (tag == 'E') {
        end_ = End::kError;
        message_ = rest;
      }
    }
  }
  End end() const { return end_; }
  int exit_code() const { return exit_code_; }
  const std::string& message() const { return message_; }

 private:
  std::string buffer_;
  uint64_t pending_ = 0;
  bool pending_log_ = true;
  End end_ = End::kNone;
  int exit_code_ = 0;
  std::string message_;
};

std::string TargetFile(const Workspace& workspace, const std::string& run_id) {
  return workspace.run_dir(run_id) + "/ssh-target.json";
}

std::string RemoteRunOf(const std::string& remote_root, const std::string& run_id) {
  return remote_root + "/runs/" + run_id;
}

// The digests of `files`, each once, leaving out those `already` has.
std::vector<std::string> UniqueDigests(const std::vector<StagedFile>& files, const std::vector<StagedFile>& already) {
  std::set<std::string> seen;
  for (const StagedFile& f : already) seen.insert(f.digest);
  std::vector<std::string> digests;
  for (const StagedFile& f : files) {
    if (seen.insert(f.digest).second) digests.push_back(f.digest);
  }
  return digests;
}

}  // namespace

void SshTarget::Fail(RunRecord& run, const std::string& error) {
  run.status = RunStatus::kFailed;
  run.error = error;
  run.ended_at = NowMillis();
  workspace_.state().UpdateRun(run);
}

StatusOr<SshClient> SshTarget::ClientOfRun(const std::string& run_id, std::string& remote_run) {
  std::ifstream in(TargetFile(workspace_, run_id));
  nlohmann::json saved = nlohmann::json::parse(in, nullptr, false);
  if (!saved.is_object()) return Status(StatusCode::kNotFound, "run " + run_id + " was never started on a host");
  auto endpoint = SshEndpointOf(workspace_, saved.value("compute", ""), saved.value("spec", "{}"));
  if (!endpoint.ok()) return endpoint.status();
  remote_run = saved.value("remote_run", "");
  return SshClient(endpoint.value());
}

// The venv of a requirements environment, made on the host once per
// environment digest (ROOT/envs/DIGEST) over the host's system interpreter,
// /usr/bin/python3, as venvs made here are: the python3 first on a login's
// PATH may be a user's own (pyenv) without the system's packages.
StatusOr<std::string> SshTarget::RemoteVenv(SshClient& ssh, const std::string& remote_root, const RunVenv& venv) {
  std::string dir = remote_root + "/envs/" + venv.digest;
  std::string base = "\"$(if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3; fi)\"";
  auto made = ssh.Exec(VenvScript(dir, base, venv.requirements), "", 600);
  if (!made.ok()) return made.status();
  if (made->exit_code != 0) {
    return VenvFailure(made->exit_code, made->out + made->err, " on " + ssh.endpoint().Display());
  }
  return dir + "/bin/python";
}

// The run's snapshot under work/ and amlc's Python module under python/.
StatusOr<std::vector<StagedFile>> SshTarget::CodeFiles(const RunRecord& run) {
  std::vector<StagedFile> files;
  if (!run.snapshot_digest.empty()) {
    auto code = workspace_.snapshots().Load(run.snapshot_digest);
    if (!code.ok()) return code.status();
    for (const SnapshotFile& f : code->files) files.push_back({f.digest, f.executable, "work/" + f.path, ""});
  }
  auto module = workspace_.snapshots().Take(PythonModuleDir());
  if (!module.ok()) return Status(module.status().code(), "cannot snapshot amlc's Python module: " + module.status().message());
  for (const SnapshotFile& f : module->files) files.push_back({f.digest, false, "python/" + f.path, ""});
  return files;
}

StatusOr<int64_t> SshTarget::Start(SshClient& ssh, const RunRecord& run, const RunRequest& request,
                                   const std::string& remote_run, const ByteSink& upload_bytes) {
  auto code = CodeFiles(run);
  if (!code.ok()) return code.status();
  std::vector<StagedFile>& files = code.value();
  std::string scratch = workspace_.run_dir(run.id) + "/ssh-staging";
  std::error_code error;
  fs::create_directories(scratch, error);
  std::vector<std::string> missing;
  auto root = MissingBlobs(ssh, UniqueDigests(files, {}), missing, scratch);
  if (!root.ok()) return root.status();
  std::string remote = RemoteRunOf(root.value(), run.id);
  // The inputs' paths on the host are made from the root's absolute path,
  // which the first answer brought: their blobs take a second look.
  auto inputs = StageInputs(workspace_.snapshots(), request.inputs, remote);
  if (!inputs.ok()) return inputs.status();
  if (std::vector<std::string> more = UniqueDigests(inputs->files, files); !more.empty()) {
    if (auto checked = MissingBlobs(ssh, more, missing, scratch); !checked.ok()) return checked.status();
  }
  files.insert(files.end(), inputs->files.begin(), inputs->files.end());
  if (remote != remote_run) {  // now the absolute path is known: record it before anything starts
    nlohmann::json saved = nlohmann::json::parse(std::ifstream(TargetFile(workspace_, run.id)), nullptr, false);
    saved["remote_run"] = remote;
    std::ofstream(TargetFile(workspace_, run.id)) << saved.dump();
  }
  RunRequest there = request;
  // Paths the command names inside the run's folder here are the same places
  // there; the inputs' local paths become the copies sent with the run.
  there.command = RewritePaths(Replace(request.command, workspace_.run_dir(run.id) + "/work", remote + "/work"),
                               inputs->paths);
  if (request.venv) {
    auto python = RemoteVenv(ssh, root.value(), *request.venv);
    if (!python.ok()) return python.status();
    there.python = python.value();
  }
  std::string tar = scratch + "/stage.tar";
  Status packed = WriteStagingTar(workspace_.snapshots(), missing, files, inputs->folders, there,
                                  RunScript(there, remote, run.id, run.experiment), scratch, tar);
  if (!packed.ok()) return packed;
  auto started = ssh.Exec(UnpackAndStartScript(root.value(), remote), tar, 300, "", upload_bytes);
  fs::remove_all(scratch, error);
  if (!started.ok()) return started.status();
  if (started->exit_code != 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "the host " + ssh.endpoint().Display() + " could not start the run: " + started->err);
  }
  int64_t pid = std::atoll(started->out.c_str());
  if (pid <= 0) return Status(StatusCode::kInternal, "the host did not say which process the run is");
  return pid;
}

void SshTarget::Run(RunRecord& run, const RunRequest& request, const RunProgress& progress) {
  auto endpoint = SshEndpointOf(workspace_, request.placement.compute_name, request.placement.spec_json);
  if (!endpoint.ok()) return Fail(run, endpoint.status().message());
  SshClient ssh(endpoint.value());
  std::error_code error;
  fs::create_directories(workspace_.run_dir(run.id), error);
  nlohmann::json saved = {{"compute", request.placement.compute_name}, {"spec", request.placement.spec_json}, {"remote_run", ""}};
  std::ofstream(TargetFile(workspace_, run.id)) << saved.dump();
  fs::remove(LogPath(run.id), error);
  fs::remove(workspace_.run_dir(run.id) + "/tracking.jsonl", error);
  progress("sending the snapshot to " + ssh.endpoint().Display());
  std::string remote_run;
  ByteSink upload;  // named as the other targets' snapshot transfers are
  if (progress.bytes()) {
    upload = [&, label = "snapshot upload to " + ssh.endpoint().Display()](ByteProgress report) {
      report.label = label;
      progress.bytes()(report);
    };
  }
  auto pid = Start(ssh, run, request, remote_run, upload);
  if (!pid.ok()) return Fail(run, "ssh target " + request.placement.compute_name + ": " + pid.status().message());
  run.pid = pid.value();
  run.status = RunStatus::kRunning;
  run.started_at = NowMillis();
  std::ifstream in(TargetFile(workspace_, run.id));
  run.work_dir = "ssh://" + ssh.endpoint().Display() + nlohmann::json::parse(in, nullptr, false).value("remote_run", "") + "/work";
  workspace_.state().UpdateRun(run);
  Follow(ssh, run, request, progress);
}

void SshTarget::Adopt(RunRecord& run, const RunRequest& request, const RunProgress& progress) {
  std::string remote_run;
  auto ssh = ClientOfRun(run.id, remote_run);
  if (!ssh.ok()) return Fail(run, ssh.status().message());
  Follow(ssh.value(), run, request, progress);
}

void SshTarget::Follow(SshClient& ssh, RunRecord& run, const RunRequest& request, const RunProgress& progress) {
  std::string remote_run;
  if (auto saved = ClientOfRun(run.id, remote_run); !saved.ok() || remote_run.empty()) {
    return Fail(run, "run " + run.id + " has no folder on its host");
  }
  std::string log = LogPath(run.id);
  std::string tracking_file = workspace_.run_dir(run.id) + "/tracking.jsonl";
  TrackingReader tracking(tracking_file, workspace_.state(), run);
  auto last_contact = std::chrono::steady_clock::now();
  int backoff = 1;
  bool timed_out = false, canceled = false, killed = false;
  auto elapsed = [&] { return (NowMillis() - run.started_at) / 1000.0; };
  FrameReader frames;
  while (frames.end() == FrameReader::End::kNone) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Fail(run, "cannot make a pipe to follow the run");
    std::string err_file = workspace_.run_dir(run.id) + "/ssh-stream.err";
    auto session = ssh.Start(StreamScript(remote_run, FileSize(log), FileSize(tracking_file)), pipe_fds[1], err_file);
    close(pipe_fds[1]);
    frames = FrameReader();
    auto last_frame = std::chrono::steady_clock::now();
    bool open = session.ok();
    while (open && frames.end() == FrameReader::End::kNone) {
      pollfd ready{pipe_fds[0], POLLIN, 0};
      if (poll(&ready, 1, 200) > 0) {
        char buffer[65536];
        ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
        if (n <= 0) {
          open = false;
        } else {
          frames.Feed(std::string(buffer, static_cast<size_t>(n)), log, tracking_file);
          last_frame = last_contact = std::chrono::steady_clock::now();
          backoff = 1;
        }
      }
      tracking.Poll();
      if (progress && !tracking.latest().empty()) progress(tracking.latest());
      auto recorded = workspace_.state().GetRun(run.id);
      if (!canceled && recorded.ok() && recorded.value() && recorded.value()->status == RunStatus::kCanceled) {
        canceled = true;
        ssh.Exec(SignalScript(remote_run, "TERM"), "", 30);
      }
      if (!timed_out && request.timeout_seconds > 0 && elapsed() > request.timeout_seconds) {
        timed_out = true;
        ssh.Exec(SignalScript(remote_run, "TERM"), "", 30);
      }
      if ((timed_out && elapsed() > request.timeout_seconds + 3) || (canceled && !killed)) {
        if (!killed) std::this_thread::sleep_for(std::chrono::seconds(1));
        killed = true;
        ssh.Exec(SignalScript(remote_run, "KILL"), "", 30);
      }
      if (std::chrono::steady_clock::now() - last_frame > std::chrono::seconds(kSilenceSeconds)) open = false;
    }
    close(pipe_fds[0]);
    if (session.ok()) {
      session->SignalGroup(SIGKILL);
      WaitForChild(session->pid());
    }
    if (frames.end() != FrameReader::End::kNone) break;
    // The connection broke (or never came up): the run goes on there; try again.
    std::ifstream err_in(err_file);
    std::string err((std::istreambuf_iterator<char>(err_in)), std::istreambuf_iterator<char>());
    Status why = session.ok() ? ssh.Explain(err) : session.status();
    if (why.code() == StatusCode::kFailedPrecondition) {  // a refused host key or login: waiting will not help
      return Fail(run, "ssh target: " + why.message() + " (the run may still be going on the host)");
    }
    double silent = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_contact).count();
    if (silent > ReconnectWindowSeconds()) {
      return Fail(run, "lost contact with " + ssh.endpoint().Display() + " for " + std::to_string(int(silent)) +
                           " s: " + why.message());
    }
    if (progress) progress("reconnecting to " + ssh.endpoint().Display() + ": " + why.message());
    std::this_thread::sleep_for(std::chrono::seconds(backoff));
    backoff = std::min(backoff * 2, 10);
  }
  tracking.Poll();
  if (frames.end() == FrameReader::End::kError) return Fail(run, "ssh target: " + frames.message());
  run.ended_at = NowMillis();
  auto recorded = workspace_.state().GetRun(run.id);
  if (recorded.ok() && recorded.value() && recorded.value()->status == RunStatus::kCanceled) {
    run.status = RunStatus::kCanceled;
    run.error = recorded.value()->error;
  } else if (timed_out) {
    run.status = RunStatus::kCanceled;
    run.error = "timed out after " + std::to_string(request.timeout_seconds) + " s";
  } else if (frames.end() == FrameReader::End::kDied) {
    run.status = RunStatus::kFailed;
    run.error = "the run's process on " + ssh.endpoint().Display() + " died without an exit code";
  } else if (frames.exit_code() == 0) {
    run.status = RunStatus::kCompleted;
  } else {
    run.status = RunStatus::kFailed;
    run.exit_code = frames.exit_code();
    run.error = "exit code " + std::to_string(frames.exit_code()) + "; last lines of the log:\n" + LastLines(log, 10);
  }
  tracking.FinishChildren(run.status);
  Finish(ssh, run, request, remote_run);
}

// Brings ./outputs and ./logs back, records them, and clears the run's folder on the host.
void SshTarget::Finish(SshClient& ssh, RunRecord& run, const RunRequest& request, const std::string& remote_run) {
  std::string work = workspace_.run_dir(run.id) + "/work";
  std::error_code error;
  fs::remove_all(work, error);
  fs::create_directories(work, error);
  std::string tar = workspace_.run_dir(run.id) + "/collected.tar";
  auto packed = ssh.Exec("cd " + ShellQuote(remote_run + "/work") + " && tar -cf - outputs logs", "", 600, tar);
  bool collected = false;
  if (packed.ok() && packed->exit_code == 0) {
    ProcessSpec untar;
    untar.argv = {"tar", "-xf", tar, "-C", work};
    if (auto process = Spawn(untar); process.ok()) {
      int status = WaitForChild(process->pid());
      collected = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
  }
  fs::remove(tar, error);
  if (!collected && run.status == RunStatus::kCompleted) {
    run.status = RunStatus::kFailed;
    run.error = "the run's outputs could not be brought back from " + ssh.endpoint().Display() +
                (packed.ok() ? "" : ": " + packed.status().message());
  }
  CollectRunOutputs(workspace_, run, request, work);
  workspace_.state().UpdateRun(run);
  if (collected) ssh.Exec("rm -rf " + ShellQuote(remote_run), "", 60);
}

RunLiveness SshTarget::Observe(const RunRecord& run) {
  std::string remote_run;
  auto ssh = ClientOfRun(run.id, remote_run);
  if (!ssh.ok() || remote_run.empty()) return RunLiveness::kLost;
  auto answer = ssh->Exec(ObserveScript(remote_run), "", 60);
  if (!answer.ok()) return RunLiveness::kAlive;  // cannot tell: Adopt follows it and reconnects
  if (answer->out.rfind("finished", 0) == 0) return RunLiveness::kFinished;
  if (answer->out.rfind("alive", 0) == 0) return RunLiveness::kAlive;
  return RunLiveness::kLost;
}

Status SshTarget::Cancel(const std::string& run_id, const std::string& reason) {
  auto canceled = RecordCancel(workspace_, run_id, reason);
  if (!canceled.ok()) return canceled.status();
  std::string remote_run;
  auto ssh = ClientOfRun(run_id, remote_run);
  if (!ssh.ok() || remote_run.empty()) return Status::Ok();  // never started there
  auto signaled = ssh->Exec(SignalScript(remote_run, "TERM"), "", 60);
  return signaled.ok() ? Status::Ok() : signaled.status();
}

}  // namespace amlc::runtime
