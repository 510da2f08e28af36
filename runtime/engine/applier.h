#ifndef AMLC_RUNTIME_ENGINE_APPLIER_H_
#define AMLC_RUNTIME_ENGINE_APPLIER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"
#include "compiler/planner/planner.h"
#include "runtime/engine/driver.h"
#include "runtime/engine/engine_context.h"
#include "runtime/engine/executor.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// The runtime side of plan and apply for one compiled spec folder: a
/// dispatcher that answers the planner (PlanEnvironment) and the executor
/// (ActionRunner) through the driver of each resource's kind, and records
/// every action as an activity.
/// What ReapDeadApplies found and ended.
struct ReapedWork {
  int runs = 0;
  int activities = 0;
};

class Applier : public compiler::planner::PlanEnvironment, public ActionRunner {
 public:
  using DriverSetup = std::function<void(DriverRegistry&, EngineContext&)>;

  /// `specs_root` is the folder the graph's relative paths start from;
  /// `setup` registers the drivers (the built-in ones unless a test gives its own).
  Applier(Workspace& workspace, const compiler::ir::Graph& graph, std::string specs_root,
          const DriverSetup& setup = RegisterBuiltinDrivers);

  // PlanEnvironment
  std::vector<compiler::planner::RecordedResource> Recorded() override;
  StatusOr<compiler::planner::Observation> Observe(
      const compiler::ir::Graph& graph, size_t index,
      const std::map<std::string, std::string>& upstream_runs) override;
  /// "no driver for this kind" when none is registered; else the driver's answer.
  std::optional<std::string> Unsupported(const compiler::ir::Resource& resource) override;
  /// The records of `kind` applied to this workspace (from any specs folder),
  /// and for models every registered version.
  std::vector<std::string> InWorkspace(const std::string& kind) override;

  // ActionRunner
  ActionResult Run(const compiler::planner::Action& action,
                   const ProgressSink& progress) override;

  /// Carries out `plan` (made by MakePlan with this applier): the runs it
  /// found up to date feed their dependants, its pools bound the compute
  /// targets, every action is journaled under `apply_id`.
  std::vector<ActionResult> Execute(const compiler::planner::Plan& plan, ProgressReporter& reporter,
                                    int parallelism, const std::string& apply_id);

  EngineContext& context() { return context_; }
  /// With purge, deleting a job also deletes its run history (runs, metrics,
  /// logs, outputs), and deleting a model or image its versions; without,
  /// history stays.
  void set_purge(bool purge) { purge_ = purge; }
  /// The git commit of the specs, recorded on every run ("" when unknown).
  void set_spec_commit(std::string commit) { context_.set_spec_commit(std::move(commit)); }
  /// Why the runs this applier starts were started; see EngineContext::set_trigger.
  void set_trigger(std::string trigger) { context_.set_trigger(std::move(trigger)); }

  /// What deleting `resource` without purge leaves behind (its driver's
  /// History: a job's runs, a model's or image's versions); "" when nothing.
  std::string History(const compiler::ir::Resource& resource);
  /// Deletes what `resource` left behind: a job's runs (and their children)
  /// with their folders, a model's or image's versions. Fails when the
  /// state store cannot be written or a version is still in use.
  Status PurgeHistory(const compiler::ir::Resource& resource);
  /// Puts right what an apply that died left (call with the apply lock
  /// held): Running runs whose compute target lost them become Failed, and
  /// activities still Running become Interrupted. Returns how many of each.
  ReapedWork ReapDeadApplies();

 private:
  Driver* DriverOf(const std::string& kind, const std::string& type) const { return drivers_.Find(kind, type); }
  ActionResult Carry(const compiler::planner::Action& action, const ProgressSink& progress);
  ActionResult Delete(const compiler::planner::Action& action);

  EngineContext context_;
  DriverRegistry drivers_;
  bool purge_ = false;
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_APPLIER_H_
