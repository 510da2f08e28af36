// `amlc job create -f FILE`: `amlc apply` narrowed to one job spec and what
// it depends on (the folder of FILE is compiled, so its compute, environment
// and upstream jobs resolve as plan would), with the run's log followed.
#include "cli/job_create_command.h"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "cli/apply_commands.h"
#include "runtime/workspace/workspace.h"

namespace amlc::cli {

namespace {

struct JobCreateFlags {
  ApplyOptions apply;
  std::string file;
  bool stream = false;
};

// Copies a run's output.log to `out` as it grows, from the moment the run
// action reports its run id until the action ends (then the rest is drained).
class RunLogStreamer : public runtime::ProgressReporter {
 public:
  RunLogStreamer(std::string workspace_home, FILE* out) : home_(std::move(workspace_home)), out_(out) {}
  ~RunLogStreamer() override { StopFollowing(); }

  void Started(size_t, const compiler::planner::Action&) override {}
  void Progress(size_t index, const std::string& status) override {
    if (status.rfind("run ", 0) != 0 || follower_.joinable()) return;
    index_ = index;
    stop_ = false;
    follower_ = std::thread([this, path = home_ + "/runs/" + status.substr(4) + "/output.log"] { Follow(path); });
  }
  void Finished(size_t index, const compiler::planner::Action&, const runtime::ActionResult&, double) override {
    if (follower_.joinable() && index == index_) StopFollowing();
  }

 private:
  void StopFollowing() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    if (follower_.joinable()) follower_.join();
  }
  void Follow(const std::string& path) {
    std::ifstream in;
    char buffer[8192];
    for (;;) {
      bool stopping;
      {
        std::unique_lock lock(mutex_);
        stopping = stop_;
      }
      if (!in.is_open()) in.open(path, std::ios::binary);
      while (in.is_open() && (in.read(buffer, sizeof buffer) || in.gcount() > 0)) {
        std::fwrite(buffer, 1, static_cast<size_t>(in.gcount()), out_);
      }
      in.clear();
      std::fflush(out_);
      if (stopping) return;
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; });
    }
  }

  std::string home_;
  FILE* out_;
  size_t index_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread follower_;
};

void RunJobCreate(JobCreateFlags flags, int& exit_code) {
  ApplyOptions& options = flags.apply;
  std::filesystem::path file = std::filesystem::absolute(flags.file);
  options.dir = file.parent_path().string();
  options.job_file = file.string();
  options.auto_approve = true;  // as az ml job create: submitting is the command's point
  if (!flags.stream) return RunApply(options, exit_code);
  // With --json the log goes to stderr: stdout carries only the events.
  RunLogStreamer streamer(runtime::DefaultWorkspaceHome(options.dir, options.workspace),
                          options.json ? stderr : stdout);
  RunApply(options, exit_code, &streamer);
}

}  // namespace

void AddJobCreateCommand(CLI::App& app, int& exit_code) {
  CLI::App* job = app.add_subcommand("job", "One job at a time, as the Azure ML CLI does: create");
  job->require_subcommand(1);
  auto flags = std::make_shared<JobCreateFlags>();
  CLI::App* create = job->add_subcommand(
      "create", "Apply the job FILE declares (and what it needs: compute, environment, upstream jobs)");
  create->add_option("-f,--file", flags->file, "The job spec (Azure ML commandJob/sweepJob/pipelineJob YAML or .aml)")
      ->required()
      ->check(CLI::ExistingFile);
  create->add_flag("-s,--stream", flags->stream, "Print the run's output as it comes, until the run ends");
  create->add_flag("--rerun", flags->apply.rerun_job, "Run it again even when a run with its key exists");
  create->add_option("--workspace", flags->apply.workspace,
                     "Workspace home folder (default: $AMLC_WORKSPACE, else FILE's folder/.amlc)");
  create->add_flag("--json", flags->apply.json,
                   "Stream apply's JSON events (cli/README.md); with --stream the log goes to stderr");
  create->add_flag("--no-color", flags->apply.no_color, "No colour, also on a terminal (as NO_COLOR=1)");
  create->add_option("--lock-timeout", flags->apply.lock_timeout, "Seconds to wait for another apply of the workspace")
      ->capture_default_str();
  create->footer(
      "The folder of FILE is compiled whole, so the job's references resolve as `amlc plan` resolves them;\n"
      "only the job and what it waits for are applied. A job whose run key has a completed run is up to\n"
      "date (nothing runs; --rerun runs it again).\n"
      "Exit status: 0 the job's run succeeded (or was up to date), 1 spec errors or a failed run,\n"
      "2 usage errors (FILE declares no job).");
  create->callback([flags, &exit_code] { RunJobCreate(*flags, exit_code); });
}

}  // namespace amlc::cli
