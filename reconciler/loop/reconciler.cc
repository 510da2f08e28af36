#include "reconciler/loop/reconciler.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

#include "reconciler/loop/preview_commit.h"
#include "reconciler/loop/resource_status.h"
#include "reconciler/loop/scheduled_jobs.h"
#include "reconciler/preview/forge_client.h"
#include "runtime/views/record_json.h"
#include "base/clock.h"
#include "base/duration.h"
#include "runtime/engine/executor.h"

namespace amlc::reconciler {

namespace fs = std::filesystem;
using compiler::planner::Plan;
using nlohmann::json;

namespace {

// The settings a `reconciler` spec in the repository declares (the first one).
const compiler::ir::Value* ReconcilerSpec(const CompiledCommit* commit) {
  if (!commit) return nullptr;
  for (const compiler::ir::Resource& r : commit->compilation->graph.resources()) {
    if (r.kind == "reconciler") return &r.spec;
  }
  return nullptr;
}

// What started a pass, as its sync records it. A new head found by the
// interval timer is a push whose webhook has not come (yet, or at all): the
// sync names that push rather than only the timer. Its author is in the sync.
std::string DescribeTrigger(const std::string& trigger, const std::string& head, const CompiledCommit* current) {
  bool new_head = !head.empty() && (!current || current->info.id != head);
  if (trigger != "interval" || !new_head) return trigger;
  return "push " + ShortCommit(head) + " (found by the interval pass)";
}

bool SpecBool(const compiler::ir::Value* spec, const char* field, bool fallback) {
  const compiler::ir::Value* value = spec ? spec->Find(field) : nullptr;
  return value && value->type() == compiler::ir::Value::Type::kBool ? value->as_bool() : fallback;
}

// Hears about a plan's actions as they run: writes the apply log and tells
// the loop's log.
class SyncReporter : public runtime::ProgressReporter {
 public:
  SyncReporter(std::string& log, std::function<void(const std::string&)> echo)
      : log_(log), echo_(std::move(echo)) {}
  void Started(size_t, const compiler::planner::Action& action) override {
    Line(std::string("start  ") + compiler::planner::ActionSymbol(action.type) + " " + action.resource_id);
  }
  void Progress(size_t, const std::string&) override {}
  void Finished(size_t, const compiler::planner::Action& action, const runtime::ActionResult& result,
                double seconds) override {
    static const char* kOutcome[] = {"ok     ", "failed ", "skipped"};
    char took[32];
    std::snprintf(took, sizeof took, " (%.1fs)", seconds);
    Line(kOutcome[static_cast<int>(result.outcome)] + std::string(compiler::planner::ActionSymbol(action.type)) +
         " " + action.resource_id + ": " + result.message + took);
  }

 private:
  void Line(const std::string& line) {
    std::lock_guard lock(mutex_);
    log_ += line + "\n";
    if (echo_) echo_("  " + line);
  }
  std::mutex mutex_;
  std::string& log_;
  std::function<void(const std::string&)> echo_;
};

}  // namespace

double BackoffSeconds(int failures, double cap, double random01) {
  double delay = std::min(cap, std::ldexp(1.0, std::clamp(failures - 1, 0, 30)));
  return delay * (0.5 + 0.5 * std::clamp(random01, 0.0, 1.0));
}

StatusOr<std::unique_ptr<Reconciler>> Reconciler::Create(ReconcileOptions options) {
  if (options.data_dir.empty()) return amlc::Status(StatusCode::kInvalidArgument, "no data folder given");
  std::error_code error;
  fs::create_directories(options.data_dir, error);
  if (error) {
    return amlc::Status(StatusCode::kFailedPrecondition,
                  "cannot create the data folder " + options.data_dir + ": " + error.message());
  }
  options.data_dir = fs::absolute(options.data_dir).lexically_normal().string();
  if (options.workspace_home.empty()) options.workspace_home = options.data_dir + "/workspace";
  auto workspace = runtime::Workspace::Open(options.workspace_home);
  if (!workspace.ok()) return workspace.status();
  auto reconciler = std::unique_ptr<Reconciler>(new Reconciler(std::move(options), std::move(workspace.value())));
  reconciler->MarkInterruptedSyncs();
  for (const std::string& note : reconciler->workspace_->notes()) reconciler->Log("note: " + note);
  if (auto applied = reconciler->workspace_->state().GetReconcilerValue("applied_commit"); applied.ok()) {
    reconciler->applied_commit_ = applied.value();
  }
  reconciler->status_ = {{"repository", reconciler->options_.repository},
                         {"branch", reconciler->options_.branch},
                         {"path", reconciler->options_.path},
                         {"workspace", reconciler->workspace_->home()},
                         {"status", "Unknown"},
                         {"health", "Unknown"},
                         {"resources", json::array()}};
  // A rollback's pause outlives a restart: the pin is read back from the state store.
  if (std::optional<RollbackPin> pin = LoadRollbackPin(reconciler->workspace_->state())) {
    reconciler->pin_ = pin;
    reconciler->status_["paused"] = pin->ToJson(reconciler->options_.branch);
  }
  return reconciler;
}

// A sync still "Running" when the reconciler starts was cut short (killed,
// or stopped at once by a second signal); the apply journal resumes its work.
void Reconciler::MarkInterruptedSyncs() {
  auto syncs = workspace_->state().ListSyncs(20);
  if (!syncs.ok()) return;
  for (runtime::SyncRecord sync : syncs.value()) {
    if (sync.result != "Running") continue;
    sync.result = "Failed";
    sync.diagnostics += "interrupted: the reconciler stopped during this sync\n";
    sync.ended_at = NowMillis();
    workspace_->state().FinishSync(sync);
  }
}

void Reconciler::RememberAppliedCommit(const std::string& commit) {
  if (commit == applied_commit_) return;
  applied_commit_ = commit;
  workspace_->state().SetReconcilerValue("applied_commit", commit);
}

void Reconciler::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

SyncPolicy Reconciler::Policy() const {
  const compiler::ir::Value* spec = ReconcilerSpec(current_.get());
  SyncPolicy policy;
  policy.auto_sync = options_.auto_sync.value_or(SpecBool(spec, "auto_sync", true));
  policy.self_heal = options_.self_heal.value_or(SpecBool(spec, "self_heal", true));
  policy.prune = options_.prune.value_or(SpecBool(spec, "prune", false));
  policy.protected_resources.insert(options_.protected_resources.begin(), options_.protected_resources.end());
  if (const compiler::ir::Value* list = spec ? spec->Find("protected") : nullptr; list && list->is_list()) {
    for (const compiler::ir::Value& id : list->items()) policy.protected_resources.insert(id.as_string());
  }
  return policy;
}

double Reconciler::IntervalSeconds() const {
  if (options_.interval_seconds) return *options_.interval_seconds;
  const compiler::ir::Value* spec = ReconcilerSpec(current_.get());
  const compiler::ir::Value* interval = spec ? spec->Find("interval") : nullptr;
  if (!interval) return 300;
  int64_t seconds = interval->is_string() ? ParseDurationSeconds(interval->as_string())
                                          : interval->as_int();
  constexpr int64_t kYear = 366 * 24 * 3600;  // beyond it, milliseconds would overflow the clock arithmetic
  return seconds > 0 ? static_cast<double>(std::min(seconds, kYear)) : 300;
}

bool Reconciler::UpdateMirror() {
  amlc::Status status = Status::Ok();
  if (!mirror_) {
    // Open reuses a mirror left by an earlier run as it is, so fetch after it too.
    auto opened = GitMirror::Open(options_.repository, options_.data_dir + "/mirror");
    if (opened.ok()) mirror_ = std::move(opened.value());
    status = opened.status();
  }
  if (mirror_ && status.ok()) status = mirror_->Fetch();
  std::unique_lock lock(mutex_);
  if (status.ok()) {
    git_failures_ = 0;
    status_["git"] = {{"ok", true}};
    return true;
  }
  ++git_failures_;
  static std::mt19937 random{std::random_device{}()};
  double wait = BackoffSeconds(git_failures_, std::max(1.0, IntervalSeconds()),
                               std::uniform_real_distribution<double>(0, 1)(random));
  next_pass_ = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(wait * 1000));
  status_["git"] = {{"ok", false},
                    {"error", status.message()},
                    {"failures", git_failures_},
                    {"retry_at", NowMillis() + static_cast<int64_t>(wait * 1000)}};
  std::string line = "git: " + status.message() + " (attempt " + std::to_string(git_failures_) + ", retrying in " +
                     std::to_string(static_cast<int>(std::ceil(wait))) + "s)";
  lock.unlock();
  Log(line);
  return false;
}

int64_t Reconciler::Record(runtime::SyncRecord& sync, bool applied) {
  std::string what = sync.commit + "\n" + sync.result + "\n" + sync.diagnostics;
  if (!applied && what == last_recorded_) return 0;
  sync.ended_at = NowMillis();
  if (sync.id == 0) {
    auto id = workspace_->state().StartSync(sync);
    if (!id.ok()) {
      Log("error: " + id.status().message());
      return 0;
    }
    sync.id = id.value();
  } else if (amlc::Status status = workspace_->state().FinishSync(sync); !status.ok()) {
    Log("error: " + status.message());
  }
  last_recorded_ = what;
  Log("sync " + std::to_string(sync.id) + ": " + sync.result + " at " + ShortCommit(sync.commit) + " (" +
      sync.trigger + ")" + (sync.summary.empty() ? "" : ": " + sync.summary));
  std::lock_guard lock(mutex_);
  status_["last_sync"] = runtime::SyncJson(sync, false);
  return sync.id;
}

bool Reconciler::AdoptHead(const std::string& head, const std::string& trigger, PassOutcome& outcome) {
  if (current_ && current_->info.id == head) return true;
  if (head == rejected_head_) return false;
  if (current_ && !pin_ && !mirror_->IsAncestor(current_->info.id, head)) {
    Log("git: " + options_.branch + " was rewritten (force-push): " + ShortCommit(current_->info.id) + " is not in " +
        ShortCommit(head) + "'s history; converging on the new head");
  }
  auto compiled = CompileCommit(*mirror_, head, options_.path, options_.data_dir + "/trees");
  runtime::SyncRecord sync;
  sync.trigger = trigger;
  sync.commit = head;
  sync.started_at = NowMillis();
  if (compiled.ok()) {
    sync.author = compiled.value()->author();
    sync.message = compiled.value()->info.summary;
  }
  if (!compiled.ok() && compiled.status().code() != StatusCode::kNotFound) {
    // Git or the disk failed, not the specs: the next pass tries this head again.
    Log("git: cannot read " + ShortCommit(head) + ": " + compiled.status().message());
    return false;
  }
  if (!compiled.ok() || !compiled.value()->compiles()) {
    sync.result = "InvalidSpec";
    if (compiled.ok()) {
      const compiler::Compilation& compilation = *compiled.value()->compilation;
      sync.diagnostics = compiler::DiagnosticsText(compilation, false);
      sync.summary = compiler::SummarizeCounts(compilation.diagnostics.error_count(),
                                               compilation.diagnostics.warning_count()) +
                     "; nothing was changed";
    } else {
      sync.diagnostics = compiled.status().message();
      sync.summary = "the specs cannot be read; nothing was changed";
    }
    rejected_head_ = head;
    outcome.result = sync.result;
    outcome.sync_id = Record(sync, false);
    std::lock_guard lock(mutex_);
    status_["status"] = "InvalidSpec";
    status_["head"] = head;
    return false;
  }
  // Trees of older commits are no longer read: runs keep snapshots of their code.
  current_ = std::move(compiled.value());
  rejected_head_.clear();
  std::error_code ignored;
  for (const auto& entry : fs::directory_iterator(options_.data_dir + "/trees", ignored)) {
    if (entry.path().filename() != head) fs::remove_all(entry.path(), ignored);
  }
  return true;
}

void Reconciler::Pin(std::optional<RollbackPin> pin) {
  if (amlc::Status saved = SaveRollbackPin(workspace_->state(), pin); !saved.ok()) Log("error: " + saved.message());
  pin_ = std::move(pin);
  std::lock_guard lock(mutex_);
  if (pin_) {
    status_["paused"] = pin_->ToJson(options_.branch);
  } else {
    status_.erase("paused");
  }
}

std::string Reconciler::TargetCommit(const std::string& head, std::optional<RollbackPin> rollback) {
  if (rollback) {
    rollback->paused_head = head;
    Log("rollback to sync " + std::to_string(rollback->sync_id) + " (" + ShortCommit(rollback->commit) +
        "): auto-sync is paused until " + options_.branch + " moves past " + ShortCommit(head));
    Pin(std::move(rollback));
  } else if (pin_ && pin_->EndedBy(head)) {
    Log("new head " + ShortCommit(head) + ": the rollback to sync " + std::to_string(pin_->sync_id) +
        " ends, auto-sync resumes");
    Pin(std::nullopt);
  }
  return pin_ ? pin_->commit : head;
}

json Reconciler::RequestRollbackJson(const RollbackPin& rollback) const {
  return {{"requested", true}, {"sync", rollback.sync_id}, {"commit", rollback.commit},
          {"message", "sync " + std::to_string(rollback.sync_id) + "'s commit " + ShortCommit(rollback.commit) +
                          " is applied as soon as the reconciler is free; auto-sync is paused until the next push "
                          "to " + options_.branch}};
}

StatusOr<json> Reconciler::RequestRollback(int64_t sync_id, const std::string& by) {
  auto sync = workspace_->state().GetSync(sync_id);
  if (!sync.ok()) return sync.status();
  if (!sync->has_value()) return amlc::Status(StatusCode::kNotFound, "no sync " + std::to_string(sync_id));
  if ((*sync)->commit.empty()) {
    return amlc::Status(StatusCode::kFailedPrecondition,
                        "sync " + std::to_string(sync_id) + " has no commit to go back to (the repository could "
                        "not be read then); pick another one: amlc syncs list");
  }
  if ((*sync)->result == "InvalidSpec") {
    return amlc::Status(StatusCode::kFailedPrecondition,
                        "sync " + std::to_string(sync_id) + "'s commit does not compile; pick a sync that was "
                        "Synced: amlc syncs list");
  }
  RollbackPin rollback{sync_id, (*sync)->commit, "", by, NowMillis()};
  std::lock_guard lock(mutex_);
  requested_rollback_ = rollback;
  requested_pass_ = "rollback to sync " + std::to_string(sync_id) + " requested by " + by;
  wake_.notify_all();
  return RequestRollbackJson(rollback);
}

PassOutcome Reconciler::RunPass(const std::string& trigger) {
  auto started = Clock::now();
  PassOutcome outcome;
  std::optional<RollbackPin> rollback;
  {
    std::lock_guard lock(mutex_);
    rollback.swap(requested_rollback_);
  }
  bool fetched = UpdateMirror();
  std::string head;
  if (fetched) {
    auto resolved = mirror_->ResolveBranch(options_.branch);
    if (resolved.ok()) {
      head = resolved.value();
    } else {
      std::lock_guard lock(mutex_);
      status_["git"] = {{"ok", false}, {"error", resolved.status().message()}};
    }
  }
  // Without a head (git failed) the pin cannot be placed yet: it waits for the next pass.
  const bool rolling_back = rollback && !head.empty();
  if (rollback && head.empty()) {
    std::lock_guard lock(mutex_);
    requested_rollback_.swap(rollback);
  }
  const std::string target = head.empty() ? head : TargetCommit(head, std::move(rollback));
  const std::string described = DescribeTrigger(trigger, target, current_.get());
  if (head.empty() && !current_) {
    // Nothing was ever fetched: record the trouble once.
    runtime::SyncRecord sync;
    sync.trigger = described;
    sync.result = "GitError";
    sync.started_at = NowMillis();
    sync.summary = "the repository cannot be read; nothing was changed";
    {
      std::lock_guard lock(mutex_);
      sync.diagnostics = status_["git"].value("error", "");
    }
    outcome.sync_id = Record(sync, false);
    outcome.result = sync.result;
    return outcome;
  }
  if (!target.empty()) {
    {
      std::lock_guard lock(mutex_);
      status_["head"] = head;
    }
    if (!AdoptHead(target, described, outcome)) {
      // The head does not compile: nothing is applied until a commit that does.
      outcome.commit = target;
      outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
      return outcome;
    }
  }
  // Without self-heal only the first pass that applies a commit changes
  // anything; the commit last applied is kept across restarts.
  bool commit_changed = current_->info.id != applied_commit_;
  outcome = PlanAndApply(described, commit_changed, rolling_back);
  outcome.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::lock_guard lock(mutex_);
  status_["last_pass"] = {{"at", NowMillis()}, {"seconds", outcome.seconds}, {"trigger", described}};
  return outcome;
}

PassOutcome Reconciler::PlanAndApply(const std::string& trigger, bool commit_changed, bool rolling_back) {
  PassOutcome outcome;
  outcome.commit = current_->info.id;
  runtime::SyncRecord sync;
  sync.trigger = trigger;
  sync.commit = current_->info.id;
  sync.author = current_->author();
  sync.message = current_->info.summary;
  sync.started_at = NowMillis();
  SyncPolicy policy = Policy();
  policy.auto_sync = policy.auto_sync || rolling_back;  // a rollback is asked for: applied even without auto-sync

  auto lock = runtime::ApplyLock::Acquire(workspace_->home(), options_.lock_timeout_seconds, nullptr);
  if (!lock.ok()) {
    sync.result = "Failed";
    sync.summary = "the workspace is busy; nothing was changed";
    sync.diagnostics = lock.status().message();
    outcome.result = sync.result;
    outcome.sync_id = Record(sync, false);
    std::lock_guard status_lock(mutex_);
    status_["status"] = "Failed";
    return outcome;
  }
  std::unique_ptr<runtime::Session> planned = PlanCommit(*workspace_, *current_, {});
  runtime::ReapedWork reaped = planned->applier().ReapDeadApplies();
  if (reaped.runs > 0) Log("marked " + std::to_string(reaped.runs) + " run(s) Failed: their process died");
  if (reaped.activities > 0) {
    Log("marked " + std::to_string(reaped.activities) + " activit(ies) Interrupted: their apply died");
  }
  PolicyDecision decision = ApplyPolicy(planned->plan(), policy, commit_changed);
  sync.plan_json = compiler::planner::PlanToJson(planned->plan());
  sync.summary = compiler::planner::PlanSummary(planned->plan());
  for (const std::string& error : planned->errors()) sync.diagnostics += "error: " + error + "\n";

  if (planned->errors().empty() && !decision.to_apply.empty()) {
    // Record the sync first: its id is the trigger the runs it starts carry.
    sync.result = "Running";
    if (auto id = workspace_->state().StartSync(sync); id.ok()) {
      sync.id = id.value();
    } else {
      Log("error: " + id.status().message());
    }
    planned->applier().set_trigger("sync " + std::to_string(sync.id) + ": " + trigger);
    Log("sync " + std::to_string(sync.id) + ": applying " + ShortCommit(sync.commit) + ": " + sync.summary);
    SyncReporter reporter(sync.apply_log, options_.log);
    auto results = planned->Apply(decision.to_apply, reporter, options_.parallelism,
                                            "sync-" + std::to_string(sync.id));
    bool failed = std::any_of(results.begin(), results.end(),
                              [](const runtime::ActionResult& r) { return r.outcome != runtime::Outcome::kSucceeded; });
    outcome.applied = true;
    // What the pass leaves behind, seen afresh.
    planned->MakePlan({}, current_->specs_root);
    if (failed) planned->errors().push_back("some actions failed; see the apply log");
    decision = ApplyPolicy(planned->plan(), policy, false);
  }
  sync.result = !planned->errors().empty() ? "Failed" : planned->plan().empty() ? "Synced" : "OutOfSync";
  if (planned->errors().empty()) RememberAppliedCommit(current_->info.id);
  for (const auto& withheld : decision.withheld) {
    sync.diagnostics += "not applied: " + withheld.resource_id + ": " + withheld.reason + "\n";
  }
  json resources = ResourceStatuses(current_->compilation->graph, planned->plan(), workspace_->state());
  sync.resources_json = resources.dump();
  outcome.result = sync.result;
  outcome.sync_id = Record(sync, outcome.applied);
  std::lock_guard status_lock(mutex_);
  status_["commit"] = current_->info.id;
  status_["author"] = sync.author;
  status_["message"] = sync.message;
  status_["status"] = sync.result;
  status_["health"] = OverallHealth(resources);
  status_["resources"] = resources;
  status_["settings"] = {{"interval_seconds", IntervalSeconds()}, {"auto_sync", policy.auto_sync},
                         {"self_heal", policy.self_heal},       {"prune", policy.prune},
                         {"protected", policy.protected_resources}};
  return outcome;
}

void Reconciler::RequestPass(const std::string& reason) {
  std::lock_guard lock(mutex_);
  requested_pass_ = reason;
  wake_.notify_all();
}

void Reconciler::RequestPreview(const PullRequestEvent& pull_request) {
  std::lock_guard lock(mutex_);
  previews_.push_back(pull_request);
  wake_.notify_all();
}

void Reconciler::Stop() {
  std::lock_guard lock(mutex_);
  stop_ = true;
  wake_.notify_all();
}

json Reconciler::Status() {
  std::lock_guard lock(mutex_);
  json status = status_;
  auto next = std::chrono::duration_cast<std::chrono::milliseconds>(next_pass_ - Clock::now()).count();
  status["next_pass_at"] = NowMillis() + std::max<int64_t>(0, next);
  return status;
}

json Reconciler::Syncs(int limit) {
  json out = json::array();
  auto syncs = workspace_->state().ListSyncs(limit);
  if (!syncs.ok()) return {{"message", syncs.status().message()}};
  for (const runtime::SyncRecord& sync : syncs.value()) out.push_back(runtime::SyncJson(sync, false));
  return out;
}

std::optional<json> Reconciler::Sync(int64_t id) {
  auto sync = workspace_->state().GetSync(id);
  if (!sync.ok() || !sync->has_value()) return std::nullopt;
  return runtime::SyncJson(**sync, true);
}

void Reconciler::Preview(const PullRequestEvent& pull_request) {
  if (!options_.previews || !SpecBool(ReconcilerSpec(current_.get()), "previews", true)) return;
  if (!UpdateMirror()) return;  // the trouble is in the status and the log
  PreviewRequest request;
  request.repository = pull_request.repository;
  request.pull_request = pull_request.number;
  request.base = pull_request.base_ref;
  request.head = pull_request.head_sha.empty() ? pull_request.head_ref : pull_request.head_sha;
  request.path = options_.path;
  std::string trees = options_.data_dir + "/preview-trees";
  auto preview = PreviewCommit(*mirror_, *workspace_, request, trees);
  std::error_code ignored;
  fs::remove_all(trees, ignored);
  std::string name = "preview of #" + std::to_string(pull_request.number);
  if (!preview.ok()) {
    Log(name + ": " + preview.status().message());
    return;
  }
  {
    std::lock_guard lock(mutex_);
    json& previews = status_["previews"];
    if (previews.size() >= 100 && !previews.contains(std::to_string(pull_request.number))) {
      previews.erase(previews.begin());  // the lowest-numbered pull request: usually the oldest
    }
    previews[std::to_string(pull_request.number)] = {
        {"head", request.head}, {"compiles", preview->compiles}, {"summary", preview->json.value("summary", "")},
        {"at", NowMillis()}};
  }
  if (options_.forge_url.empty()) {
    Log(name + ": " + preview->json.value("summary", "") + " (no forge configured; not posted)");
    return;
  }
  auto forge = ForgeClient::Create(options_.forge_url, options_.forge_token);
  auto posted = forge.ok() ? forge->UpsertComment(pull_request.repository, pull_request.number, preview->markdown)
                           : StatusOr<int64_t>(forge.status());
  Log(name + (posted.ok() ? ": posted as comment " + std::to_string(posted.value()) : ": " + posted.status().message()));
}

void Reconciler::RunQueuedPreviews() {
  for (;;) {
    PullRequestEvent next;
    {
      std::lock_guard lock(mutex_);
      if (previews_.empty()) return;
      next = previews_.front();
      previews_.pop_front();
    }
    Preview(next);
  }
}

int Reconciler::RunDueSchedules(int64_t now_ms) {
  if (!current_ || !Policy().auto_sync) return 0;
  int started = 0;
  for (const ScheduledJob& scheduled : ScheduledJobs(current_->compilation->graph)) {
    runtime::StateStore& state = workspace_->state();
    std::optional<int64_t> last = LastFire(state, scheduled);
    if (!last) {  // first seen: runs start from the next fire time on
      RememberFire(state, scheduled, now_ms);
      continue;
    }
    std::optional<int64_t> due = compiler::ir::NextFireAfter(scheduled.schedule, *last);
    if (!due || *due > now_ms) continue;
    auto lock = runtime::ApplyLock::Acquire(workspace_->home(), options_.lock_timeout_seconds, nullptr);
    if (!lock.ok()) {
      Log(scheduled.id + ": not started: " + lock.status().message());
      continue;
    }
    // Remember the fire before starting, so a crash does not start it twice;
    // the fire time itself, so a late loop does not push later fires back.
    RememberFire(state, scheduled, *due);
    compiler::planner::PlanOptions options;
    options.rerun.insert(scheduled.job_id);
    std::unique_ptr<runtime::Session> planned = PlanCommit(*workspace_, *current_, options);
    Plan only_the_run = planned->plan();
    only_the_run.actions.clear();
    for (const compiler::planner::Action& action : planned->plan().actions) {
      if (action.resource_id == scheduled.job_id && action.type == compiler::planner::ActionType::kRun) {
        only_the_run.actions.push_back(action);
        only_the_run.actions.back().after.clear();
      }
    }
    if (only_the_run.empty() || !planned->errors().empty()) {
      Log(scheduled.id + ": not started: " +
          (planned->errors().empty() ? "no job " + scheduled.job_id + " to run" : planned->errors().front()));
      continue;
    }
    std::string described = compiler::ir::DescribeSchedule(scheduled.schedule);
    planned->applier().set_trigger("schedule " + scheduled.id + " (" + described + ")");
    Log(scheduled.id + ": starting " + scheduled.job_id + " (" + described + ")");
    std::string log;
    SyncReporter reporter(log, options_.log);
    planned->Apply(only_the_run, reporter, 1, "schedule-" + scheduled.id + "-" + std::to_string(*due));
    ++started;
  }
  return started;
}

void Reconciler::Run() {
  std::string trigger = "startup";
  for (;;) {
    RunQueuedPreviews();
    RunDueSchedules(NowMillis());
    bool pass_due;
    {
      std::lock_guard lock(mutex_);
      if (stop_) return;
      pass_due = !requested_pass_.empty() || Clock::now() >= next_pass_;
      if (!requested_pass_.empty()) trigger = requested_pass_;
      requested_pass_.clear();
    }
    if (pass_due) {
      {
        std::lock_guard lock(mutex_);
        next_pass_ = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(IntervalSeconds() * 1000));
      }
      RunPass(trigger);  // on a git error it moves next_pass_ to the backoff
      trigger = "interval";
    }
    // The next schedule fire is read before taking the lock the HTTP threads share.
    std::optional<int64_t> fire = current_ ? NextScheduleFire(current_->compilation->graph, workspace_->state())
                                           : std::nullopt;
    std::unique_lock lock(mutex_);
    auto wake_at = next_pass_;
    if (fire) {
      int64_t until_fire = std::max<int64_t>(0, *fire - NowMillis());
      wake_at = std::min(wake_at, Clock::now() + std::chrono::milliseconds(until_fire));
    }
    wake_.wait_until(lock, wake_at, [&] { return stop_ || !requested_pass_.empty() || !previews_.empty(); });
  }
}

}  // namespace amlc::reconciler
