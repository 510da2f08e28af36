#ifndef AMLC_RECONCILER_LOOP_RECONCILER_H_
#define AMLC_RECONCILER_LOOP_RECONCILER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "reconciler/git/git_source.h"
#include "reconciler/loop/commit_plan.h"
#include "reconciler/loop/rollback_pin.h"
#include "reconciler/loop/sync_policy.h"
#include "reconciler/server/reconciler_control.h"
#include "runtime/workspace/workspace.h"

namespace amlc::reconciler {

/// How `amlc reconcile` was started. Settings left unset come from the
/// repository's `reconciler` spec, if it has one, else the defaults.
struct ReconcileOptions {
  std::string repository;      // URL or local path
  std::string branch = "main";
  std::string path = ".";      // folder of the specs in the repository
  std::string data_dir;        // mirror, exported trees and (by default) the workspace home
  std::string workspace_home;  // "" = DATA_DIR/workspace
  std::optional<double> interval_seconds;  // default 300
  std::optional<bool> auto_sync;
  std::optional<bool> self_heal;
  std::optional<bool> prune;
  std::vector<std::string> protected_resources;
  int parallelism = 2;
  double lock_timeout_seconds = 600;
  bool previews = true;
  std::string forge_url;    // GitHub-compatible REST base; "" = previews are not posted
  std::string forge_token;  // read from the workspace's secret store; never printed
  /// One line per event ("sync 3: Synced ..."); may be called from any thread.
  std::function<void(const std::string&)> log;
};

/// What one pass did.
struct PassOutcome {
  int64_t sync_id = 0;      // 0 when nothing was recorded (no change, same result)
  std::string result;       // Synced, OutOfSync, Failed, InvalidSpec, GitError
  std::string commit;
  bool applied = false;     // some action was carried out
  double seconds = 0;
};

/// The reconcile loop: keeps a workspace equal to the head of a branch.
///
/// The loop (Run), one thread; everything that touches the workspace
/// happens on it, in this order, each time it wakes:
///   1. previews queued by pull-request webhooks are made (and posted);
///   2. schedules that are due start their job's run;
///   3. when a pass is due (a push arrived, the interval elapsed, or git is
///      to be retried), a pass: fetch, resolve the branch, compile the head
///      if it is new, plan against the live state, apply what the sync
///      policy allows, record the sync, refresh the status;
///   4. sleep until the next pass, schedule or request.
/// Git errors never end the loop: they are shown in the status and retried
/// with exponential backoff and jitter, while passes go on healing drift
/// against the last commit that was fetched.
class Reconciler : public ReconcilerControl {
 public:
  /// Opens the workspace and the data folder. The mirror is cloned by the
  /// first pass (so an unreachable remote is retried, not fatal).
  static StatusOr<std::unique_ptr<Reconciler>> Create(ReconcileOptions options);

  /// Runs until Stop(). A pass in flight when Stop() is called finishes first.
  void Run();
  /// Asks Run() to return; safe from any thread.
  void Stop();
  /// One pass now, on the caller's thread (for `--once`, tests and benchmarks).
  PassOutcome RunPass(const std::string& trigger);
  /// Makes the queued previews now, on the caller's thread.
  void RunQueuedPreviews();
  /// Starts the runs of schedules that are due at `now_ms`; returns how many.
  int RunDueSchedules(int64_t now_ms);

  runtime::Workspace& workspace() { return *workspace_; }

  // ReconcilerControl
  std::string Branch() const override { return options_.branch; }
  void RequestPass(const std::string& reason) override;
  void RequestPreview(const PullRequestEvent& pull_request) override;
  nlohmann::json Status() override;
  nlohmann::json Syncs(int limit) override;
  std::optional<nlohmann::json> Sync(int64_t id) override;
  StatusOr<nlohmann::json> RequestRollback(int64_t sync_id, const std::string& by) override;

 private:
  using Clock = std::chrono::steady_clock;
  Reconciler(ReconcileOptions options, std::unique_ptr<runtime::Workspace> workspace)
      : options_(std::move(options)), workspace_(std::move(workspace)) {}

  void Log(const std::string& line) const;
  /// Clones or fetches; records the outcome in the git status. False on failure.
  bool UpdateMirror();
  /// Compiles `head` when it is not the commit already compiled; false (and
  /// the sync recorded) when it does not compile.
  bool AdoptHead(const std::string& head, const std::string& trigger, PassOutcome& outcome);
  SyncPolicy Policy() const;
  double IntervalSeconds() const;
  /// The commit this pass converges on: the branch head, or the commit a
  /// rollback pinned until a new head arrives. Starts and ends the pin.
  std::string TargetCommit(const std::string& head, std::optional<RollbackPin> rollback);
  void Pin(std::optional<RollbackPin> pin);
  nlohmann::json RequestRollbackJson(const RollbackPin& rollback) const;
  PassOutcome PlanAndApply(const std::string& trigger, bool commit_changed, bool rolling_back);
  /// Records a sync unless it repeats the last one (same commit, result and
  /// diagnostics; nothing applied); returns its id or 0.
  int64_t Record(runtime::SyncRecord& sync, bool applied);
  void Preview(const PullRequestEvent& pull_request);
  void MarkInterruptedSyncs();
  void RememberAppliedCommit(const std::string& commit);

  ReconcileOptions options_;
  std::unique_ptr<runtime::Workspace> workspace_;
  std::unique_ptr<GitMirror> mirror_;
  std::unique_ptr<CompiledCommit> current_;  // the newest head that compiles
  std::string head_;                         // the newest head fetched
  std::string rejected_head_;                // a head that does not compile, already recorded
  std::string applied_commit_;               // the last commit a pass applied (or found nothing to do for)
  std::string last_recorded_;                // commit, result and diagnostics of the last sync recorded
  std::optional<RollbackPin> pin_;           // set while a rollback pauses auto-sync

  // Shared with the HTTP threads.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::string requested_pass_;               // the trigger of a requested pass, "" = none
  std::optional<RollbackPin> requested_rollback_;
  std::deque<PullRequestEvent> previews_;
  nlohmann::json status_ = nlohmann::json::object();
  int git_failures_ = 0;
  Clock::time_point next_pass_ = Clock::now();
};

/// Seconds to wait after `failures` failed git attempts in a row: 1, 2, 4, …
/// seconds, at most `cap`, scaled by a jitter in [0.5, 1] drawn from `random01`
/// so that reconcilers restarted together do not fetch in step.
double BackoffSeconds(int failures, double cap, double random01);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_LOOP_RECONCILER_H_
