#include "runtime/engine/applier.h"

#include "base/clock.h"
#include "runtime/engine/drivers/job_driver.h"

namespace amlc::runtime {

using compiler::ir::Resource;
using compiler::planner::Action;
using compiler::planner::ActionType;
using compiler::planner::Observation;
using compiler::planner::RecordedResource;

Applier::Applier(Workspace& workspace, const compiler::ir::Graph& graph, std::string specs_root,
                 const DriverSetup& setup)
    : context_(workspace, graph, std::move(specs_root)) {
  setup(drivers_, context_);
}

std::vector<RecordedResource> Applier::Recorded() {
  std::vector<RecordedResource> out;
  auto records = context_.state().ListResources();
  if (!records.ok()) return out;
  for (const ResourceRecord& r : records.value()) out.push_back({r.id, r.kind, r.digest, r.spec_json});
  return out;
}

std::optional<std::string> Applier::Unsupported(const Resource& r) {
  Driver* driver = DriverOf(r.kind, r.type);
  if (!driver) return "no driver for " + r.kind + " resources";
  return driver->Unsupported(r);
}

std::vector<std::string> Applier::InWorkspace(const std::string& kind) {
  std::vector<std::string> held;
  if (auto records = context_.state().ListResources(); records.ok()) {
    for (const ResourceRecord& r : records.value()) {
      if (r.kind != kind) continue;
      held.push_back(r.name);
      if (!r.version.empty()) held.push_back(r.name + ":" + r.version);
    }
  }
  if (kind == "model") {
    if (auto versions = context_.state().ListModelVersions({}); versions.ok()) {
      for (const ModelVersionRecord& v : versions.value()) {
        held.push_back(v.name);
        held.push_back(v.name + ":" + std::to_string(v.version));
      }
    }
  }
  return held;
}

StatusOr<Observation> Applier::Observe(const compiler::ir::Graph& graph, size_t index,
                                       const std::map<std::string, std::string>& upstream_runs) {
  const Resource& r = graph.resource(index);
  Driver* driver = DriverOf(r.kind, r.type);
  if (!driver) return Status(StatusCode::kFailedPrecondition, "no driver for " + r.kind + " resources");
  return driver->Observe(r, upstream_runs);
}

ActionResult Applier::Run(const Action& action, const ProgressSink& progress) {
  // Every action is an activity: what, on what, since when, how it ended.
  ActivityRecord activity;
  activity.kind = compiler::planner::ActionName(action.type);
  activity.resource_id = action.resource_id;
  activity.status = "Running";
  activity.started_at = NowMillis();
  auto started = context_.state().StartActivity(activity);
  if (started.ok()) activity.id = started.value();
  ProgressSink noting_runs(
      [&](const std::string& status) {
        if (status.rfind("run ", 0) == 0) activity.run_id = status.substr(4);
        progress(status);
      },
      progress.bytes());
  ActionResult result = Carry(action, noting_runs);
  activity.status = result.outcome == Outcome::kSucceeded ? "Succeeded" : "Failed";
  activity.progress = 1;
  activity.message = result.message;
  activity.ended_at = NowMillis();
  if (started.ok()) context_.state().UpdateActivity(activity);
  return result;
}

ActionResult Applier::Carry(const Action& action, const ProgressSink& progress) {
  if (action.type == ActionType::kDelete) return Delete(action);
  const Resource* r = context_.Find(action.resource_id);
  if (!r) return {Outcome::kFailed, action.resource_id + " is not in the specs"};
  Driver* driver = DriverOf(r->kind, r->type);
  if (!driver) return {Outcome::kFailed, "no driver for " + r->kind + " resources"};
  StatusOr<std::string> done = driver->Apply(action, *r, progress);
  if (!done.ok()) return {Outcome::kFailed, done.status().message()};
  return {Outcome::kSucceeded, done.value()};
}

// The driver takes down what the resource made; then its record goes.
ActionResult Applier::Delete(const Action& action) {
  std::string kept;  // said, so "removed" never hides versions that stay
  if (Driver* driver = DriverOf(action.kind, "")) {
    if (Status status = driver->Delete(action, purge_); !status.ok()) return {Outcome::kFailed, status.message()};
    kept = driver->History(action.resource_id);
  }
  Status status = context_.state().DeleteResource(action.resource_id);
  if (!status.ok()) return {Outcome::kFailed, status.message()};
  return {Outcome::kSucceeded, kept.empty() ? "removed" : "removed; kept " + kept + " (destroy --purge deletes them)"};
}

std::vector<ActionResult> Applier::Execute(const compiler::planner::Plan& plan, ProgressReporter& reporter,
                                           int parallelism, const std::string& apply_id) {
  for (const auto& [job, run] : plan.completed_runs) context_.SetCompletedRun(job, run);
  context_.pools().SetDepths(plan.pools);
  ExecuteOptions options;
  options.parallelism = parallelism;
  options.pools = &context_.pools();
  options.journal = &context_.state();
  options.apply_id = apply_id;
  return ExecutePlan(plan, *this, reporter, options);
}

std::string Applier::History(const Resource& resource) {
  Driver* driver = DriverOf(resource.kind, "");
  return driver ? driver->History(resource.id()) : "";
}

Status Applier::PurgeHistory(const Resource& resource) {
  Action action;
  action.type = ActionType::kDelete;
  action.resource_id = resource.id();
  action.kind = resource.kind;
  Driver* driver = DriverOf(resource.kind, "");
  return driver ? driver->Delete(action, true) : Status::Ok();
}

ReapedWork Applier::ReapDeadApplies() {
  ReapedWork reaped;
  reaped.runs = ReapLostRuns(context_);
  auto ended = context_.state().EndInterruptedActivities(
      NowMillis(), "interrupted: the apply carrying it ended before it finished (killed?)");
  reaped.activities = ended.ok() ? ended.value() : 0;
  return reaped;
}

}  // namespace amlc::runtime
