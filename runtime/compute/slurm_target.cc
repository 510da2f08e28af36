// Following a job: the exit code file (in the shared run folder) is looked
// at every 100 ms, so a short job finishes as soon as its script does; Slurm
// is asked once a second (scontrol), for the job's start, its nodes, and the
// ends no script reports (node failure, preemption, out of memory, time
// limit, a scancel from outside amlc). A slurmctld that does not answer (a
// restart) is waited for: the job keeps running on its nodes meanwhile.
// Failure policy: jobs are submitted with --no-requeue, so a node failure or
// preemption ends the run Failed with Slurm's reason; the next apply starts
// a new run (the job's run key has no completed run).
#include "runtime/compute/slurm_target.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "base/clock.h"
#include "base/file_tail.h"
#include "runtime/compute/run_folder.h"
#include "runtime/compute/slurm_script.h"
#include "runtime/compute/tracking_reader.h"

namespace amlc::runtime {

namespace fs = std::filesystem;

namespace {

constexpr char kJobIdTag[] = "slurm.job_id";
constexpr char kNodesTag[] = "slurm.nodes";
constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kQueryInterval = std::chrono::seconds(1);
// How long Slurm may not know a job (and no exit code appear) before the run
// counts as lost: the exit code file may lag on a shared file system.
constexpr auto kUnknownGrace = std::chrono::seconds(15);

std::string JobName(const std::string& run_id) { return "amlc-" + run_id; }

std::string SettingOr(const Placement& placement, const std::string& field, const std::string& fallback = "") {
  auto found = placement.settings.find(field);
  return found == placement.settings.end() ? fallback : found->second;
}

}  // namespace

std::string SlurmEndReason(const std::string& job_id, const slurm::JobState& job) {
  static const std::map<std::string, std::string> kMeaning = {
      {"TIMEOUT", "reached its Slurm time limit"},
      {"NODE_FAIL", "lost a node (node failure)"},
      {"PREEMPTED", "was preempted"},
      {"OUT_OF_MEMORY", "ran out of memory"},
      {"BOOT_FAIL", "could not boot its nodes"},
      {"DEADLINE", "missed its deadline"},
      {"FAILED", "failed"},
      {"CANCELLED", "was canceled in Slurm (not by amlc)"},
  };
  auto meaning = kMeaning.find(job.state);
  std::string text = "Slurm job " + job_id + " " + (meaning == kMeaning.end() ? "ended" : meaning->second) + " (" +
                     job.state + (job.reason.empty() ? "" : ", reason " + job.reason) + ")";
  if (!job.nodes.empty()) text += " on " + job.nodes;
  if (job.exit_code != 0 || job.signal != 0) {
    text += "; exit code " + std::to_string(job.exit_code) + (job.signal ? ", signal " + std::to_string(job.signal) : "");
  }
  return text;
}

void SlurmTarget::Fail(RunRecord& run, const std::string& error) {
  run.status = RunStatus::kFailed;
  run.error = error;
  run.ended_at = NowMillis();
  workspace_.state().UpdateRun(run);
}

bool SlurmTarget::IsPartition(const std::string& name) {
  std::lock_guard<std::mutex> lock(cluster_mutex_);
  if (!partitions_) partitions_ = slurm::Partitions();
  return std::find(partitions_->begin(), partitions_->end(), name) != partitions_->end();
}

bool SlurmTarget::IsFeature(const std::string& name) {
  std::lock_guard<std::mutex> lock(cluster_mutex_);
  if (!features_) features_ = slurm::NodeFeatures();
  return std::find(features_->begin(), features_->end(), name) != features_->end();
}

StatusOr<std::vector<std::string>> SlurmTarget::SbatchOptions(const RunRecord& run, const RunRequest& request) {
  const Placement& placement = request.placement;
  std::string compute = placement.compute_name.empty() ? "" : " compute '" + placement.compute_name + "'";
  if (std::string max = SettingOr(placement, "max_instances"); !max.empty() && placement.instance_count > std::stoll(max)) {
    return Status(StatusCode::kInvalidArgument,
                  "resources.instance_count " + std::to_string(placement.instance_count) + " is more than" + compute +
                      " allows (max_instances " + max + "); lower instance_count or raise max_instances");
  }
  std::string run_dir = workspace_.run_dir(run.id);
  std::vector<std::string> options = {"--job-name=" + JobName(run.id), "--chdir=" + run_dir + "/work",
                                      "--output=" + run_dir + "/output.log", "--open-mode=append", "--no-requeue",
                                      "--nodes=" + std::to_string(placement.instance_count)};
  if (placement.distribution == "tensorflow" && placement.worker_count > 0) {
    int64_t per_node = (placement.worker_count + placement.instance_count - 1) / placement.instance_count;
    options.push_back("--ntasks=" + std::to_string(placement.worker_count));
    options.push_back("--ntasks-per-node=" + std::to_string(per_node));
  } else {
    options.push_back("--ntasks-per-node=" + std::to_string(slurm::IsDistributed(placement) ? placement.processes_per_node : 1));
  }
  std::string partition = SettingOr(placement, "partition");
  std::string size = SettingOr(placement, "size");
  // An Azure VM size names no partition of a Slurm cluster; it may name a
  // node feature (nodes of that size advertise it). Otherwise it is left out,
  // and the run's log says so.
  if (!size.empty() && partition.empty() && IsPartition(size)) {
    partition = size;
  } else if (!size.empty() && IsFeature(size)) {
    options.push_back("--constraint=" + size);
  } else if (!size.empty()) {
    std::ofstream(run_dir + "/output.log", std::ios::app)
        << "amlc: size '" << size << "' is neither a partition nor a node feature of this Slurm cluster; "
        << "the job was submitted without it\n";
  }
  if (!partition.empty()) options.push_back("--partition=" + partition);
  if (std::string account = SettingOr(placement, "account"); !account.empty()) options.push_back("--account=" + account);
  // A backstop: amlc cancels at limits.timeout itself; Slurm's limit (whole
  // minutes) ends the job when no amlc is watching.
  if (request.timeout_seconds > 0) options.push_back("--time=" + std::to_string(request.timeout_seconds / 60 + 2));
  return options;
}

void SlurmTarget::Run(RunRecord& run, const RunRequest& request, const RunProgress& progress) {
  std::string run_dir = workspace_.run_dir(run.id);
  std::string work = run_dir + "/work";
  RunFolderOptions folder;
  folder.stage_python_module = true;
  folder.snapshot_bytes = progress.bytes();
  auto env = PrepareRunFolder(workspace_, run, request, work, folder);
  if (!env.ok()) return Fail(run, env.status().message());
  std::error_code error;
  fs::remove(ExitCodeFile(workspace_, run.id), error);
  auto options = SbatchOptions(run, request);
  if (!options.ok()) return Fail(run, options.status().message());
  // In an image, the container sees the run's folder (with amlc's Python
  // module staged in it) and the inputs at their own paths.
  std::vector<std::string> mounts = {run_dir};
  for (const RunInput& input : request.inputs) mounts.push_back(input.path);
  auto script = slurm::WriteScripts(
      {run_dir, work, request.command, env.value(), request.placement, run.id, request.container_image, mounts});
  if (!script.ok()) return Fail(run, script.status().message());
  auto job = slurm::Submit(options.value(), script.value());
  if (!job.ok()) return Fail(run, job.status().message());
  workspace_.state().SetRunTag(run.id, kJobIdTag, job.value());
  run.work_dir = work;
  workspace_.state().UpdateRun(run);
  if (progress) progress("submitted as Slurm job " + job.value());
  Follow(run, request, progress, job.value());
}

void SlurmTarget::Adopt(RunRecord& run, const RunRequest& request, const RunProgress& progress) {
  std::optional<std::string> job = JobIdOf(run.id);
  if (!job) {
    return Fail(run, "no Slurm job is recorded for this run (the apply that submitted it ended before sbatch "
                     "answered); apply again to start a new run");
  }
  if (progress) progress("following Slurm job " + *job);
  Follow(run, request, progress, *job);
}

std::optional<std::string> SlurmTarget::JobIdOf(const std::string& run_id) {
  if (auto tags = workspace_.state().RunTags(run_id); tags.ok()) {
    for (const auto& [key, value] : tags.value()) {
      if (key == kJobIdTag) return value;
    }
  }
  std::optional<std::string> found = slurm::FindJobByName(JobName(run_id));
  if (found) workspace_.state().SetRunTag(run_id, kJobIdTag, *found);
  return found;
}

void SlurmTarget::Follow(RunRecord& run, const RunRequest& request, const RunProgress& progress,
                         const std::string& job_id) {
  std::string run_dir = workspace_.run_dir(run.id);
  std::string exit_file = ExitCodeFile(workspace_, run.id);
  TrackingReader tracking(run_dir + "/tracking.jsonl", workspace_.state(), run);
  auto next_query = std::chrono::steady_clock::now();
  // Since when Slurm has not known the job (steady_clock's epoch: it knows it).
  std::chrono::steady_clock::time_point unknown_since{};
  std::string said;  // the last state line given to progress
  bool timed_out = false;
  auto tell = [&](const std::string& line) {
    if (progress && line != said) progress(line);
    said = line;
  };
  // The nodes are tagged once Slurm names them: while it runs, or at the end
  // for a job that finished between two queries.
  std::string nodes_tagged;
  auto tag_nodes = [&](const std::string& nodes) {
    if (nodes.empty() || nodes == nodes_tagged) return;
    workspace_.state().SetRunTag(run.id, kNodesTag, nodes);
    nodes_tagged = nodes;
  };
  auto finish = [&](RunStatus status, const std::string& error) {
    if (nodes_tagged.empty()) {
      if (slurm::Query query = slurm::QueryJob(job_id); query.answer == slurm::Answer::kKnown) tag_nodes(query.job.nodes);
    }
    tracking.Poll();
    run.status = status;
    run.error = error;
    run.ended_at = NowMillis();
    tracking.FinishChildren(status);
    CollectRunOutputs(workspace_, run, request, run_dir + "/work");
    workspace_.state().UpdateRun(run);
  };
  auto finish_with_code = [&](int code) {
    if (timed_out) return finish(RunStatus::kCanceled, "timed out after " + std::to_string(request.timeout_seconds) + " s");
    if (code == 0) return finish(RunStatus::kCompleted, "");
    run.exit_code = code;
    finish(RunStatus::kFailed, "exit code " + std::to_string(code) + " (Slurm job " + job_id +
                                   "); last lines of the log:\n" + LastLines(LogPath(run.id), 10));
  };
  while (true) {
    tracking.Poll();
    if (progress && !tracking.latest().empty()) progress(tracking.latest());
    int code = 0;
    // A recorded cancel first: `runs cancel` scancels the job itself, and the
    // batch script may write its exit code (143) before this loop looks.
    auto recorded = workspace_.state().GetRun(run.id);
    if (recorded.ok() && recorded.value() && recorded.value()->status == RunStatus::kCanceled) {
      slurm::Cancel(job_id);
      return finish(RunStatus::kCanceled, recorded.value()->error);
    }
    if (ReadExitCode(exit_file, code)) return finish_with_code(code);
    if (run.status == RunStatus::kRunning && request.timeout_seconds > 0 && !timed_out &&
        NowMillis() - run.started_at > request.timeout_seconds * 1000) {
      timed_out = true;
      slurm::Cancel(job_id);
      tell("timed out after " + std::to_string(request.timeout_seconds) + " s: scancel " + job_id);
    }
    if (std::chrono::steady_clock::now() >= next_query) {
      next_query = std::chrono::steady_clock::now() + kQueryInterval;
      slurm::Query query = slurm::QueryJob(job_id);
      if (query.answer == slurm::Answer::kKnown) {
        unknown_since = {};
        const slurm::JobState& job = query.job;
        if (job.state == "RUNNING" && run.status != RunStatus::kRunning) {
          run.status = RunStatus::kRunning;
          if (run.started_at == 0) run.started_at = NowMillis();
          workspace_.state().UpdateRun(run);
        }
        tag_nodes(job.nodes);
        if (slurm::IsFinal(job.state)) {
          // The script may have written its exit code since the look above.
          if (ReadExitCode(exit_file, code)) return finish_with_code(code);
          if (timed_out) return finish_with_code(-1);
          if (job.state == "COMPLETED") return finish(RunStatus::kCompleted, "");
          RunStatus status = job.state == "CANCELLED" ? RunStatus::kCanceled : RunStatus::kFailed;
          // Slurm's exit code (from scontrol, or sacct once slurmctld forgot
          // the job): a signal reads as a shell does, 128 + the signal.
          if (job.exit_code != 0) run.exit_code = job.exit_code;
          else if (job.signal != 0) run.exit_code = 128 + job.signal;
          return finish(status, SlurmEndReason(job_id, job));
        }
        tell(job.state == "PENDING" ? "Slurm job " + job_id + " pending" + (job.reason.empty() ? "" : " (" + job.reason + ")")
                                    : "Slurm job " + job_id + " " + job.state + " on " + job.nodes);
      } else if (query.answer == slurm::Answer::kUnreachable) {
        tell("Slurm does not answer (" + query.error + "); waiting for it");
      } else {
        if (unknown_since == std::chrono::steady_clock::time_point{}) unknown_since = std::chrono::steady_clock::now();
        if (std::chrono::steady_clock::now() - unknown_since > kUnknownGrace) {
          return finish(RunStatus::kFailed, "Slurm no longer knows job " + job_id + " and it left no exit code");
        }
      }
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

RunLiveness SlurmTarget::Observe(const RunRecord& run) {
  std::error_code error;
  if (fs::exists(ExitCodeFile(workspace_, run.id), error)) return RunLiveness::kFinished;
  std::optional<std::string> job = JobIdOf(run.id);
  if (!job) return RunLiveness::kLost;
  slurm::Query query = slurm::QueryJob(*job);
  switch (query.answer) {
    case slurm::Answer::kKnown:
      return slurm::IsFinal(query.job.state) ? RunLiveness::kFinished : RunLiveness::kAlive;
    case slurm::Answer::kUnreachable:
      return RunLiveness::kAlive;  // not known to be gone: never reap on a restarting slurmctld
    case slurm::Answer::kUnknownJob:
      break;
  }
  return RunLiveness::kLost;
}

Status SlurmTarget::Cancel(const std::string& run_id, const std::string& reason) {
  if (StatusOr<RunRecord> recorded = RecordCancel(workspace_, run_id, reason); !recorded.ok()) return recorded.status();
  // The run's follower (an apply) sees the cancel and collects; scancel here
  // as well, for a run no apply follows.
  if (std::optional<std::string> job = JobIdOf(run_id)) slurm::Cancel(*job);
  return Status::Ok();
}

}  // namespace amlc::runtime
