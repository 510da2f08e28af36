#ifndef AMLC_RUNTIME_ENGINE_APPLIER_H_
#define AMLC_RUNTIME_ENGINE_APPLIER_H_

#include <map>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "compiler/ir/graph.h"
#include "compiler/planner/planner.h"
#include "runtime/compute/local_runner.h"
#include "runtime/engine/executor.h"
#include "runtime/artifacts/registry/image_packaging.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// The runtime side of plan and apply for one compiled spec folder: it tells
/// the planner what is recorded and observed (PlanEnvironment), and carries
/// out the plan's actions with the drivers (ActionRunner).
/// The trials of a sweep: parameter sets drawn from its search space (grid:
/// the product of the choice values; random: seeded draws), at most
/// limits.max_total_trials.
std::vector<std::map<std::string, compiler::ir::Value>> SweepTrials(const compiler::ir::Value& spec);

/// Whether an early-termination policy (bandit, median_stopping,
/// truncation_selection) stops a trial that has logged `trial` so far, given
/// the other trials' values; "" to go on, else the reason.
std::string EarlyTerminationVerdict(const compiler::ir::Value& policy, bool maximize,
                                    const std::vector<double>& trial,
                                    const std::vector<std::vector<double>>& others);

class Applier : public compiler::planner::PlanEnvironment, public ActionRunner {
 public:
  /// `specs_root` is the folder the graph's relative paths start from.
  Applier(Workspace& workspace, const compiler::ir::Graph& graph, std::string specs_root)
      : workspace_(workspace), graph_(graph), specs_root_(std::move(specs_root)), runner_(workspace) {}

  // PlanEnvironment
  std::vector<compiler::planner::RecordedResource> Recorded() override;
  compiler::planner::JobObservation ObserveJob(
      const compiler::ir::Graph& graph, size_t job,
      const std::map<std::string, std::string>& upstream_runs) override;
  compiler::planner::ArtifactObservation ObserveArtifact(
      const compiler::ir::Graph& graph, size_t index,
      const std::map<std::string, std::string>& upstream_runs) override;
  std::optional<std::string> Unsupported(const compiler::ir::Resource& resource) override;
  std::string Drift(const compiler::ir::Resource& resource) override;

  // ActionRunner
  ActionResult Run(const compiler::planner::Action& action,
                   const std::function<void(const std::string&)>& progress) override;

  /// With purge, deleting a job also deletes its run history (runs, metrics,
  /// logs, outputs); without, history stays.
  void set_purge(bool purge) { purge_ = purge; }

  /// Deletes a job's runs (and their children) with their folders.
  Status PurgeHistory(const std::string& job_id);

  /// The git commit of the specs, recorded on every run ("" when unknown).
  void set_spec_commit(std::string commit) { spec_commit_ = std::move(commit); }

  /// Why the runs this applier starts were started ("sync 12: push abc1234",
  /// "schedule nightly"); recorded as each run's `amlc.trigger` tag.
  void set_trigger(std::string trigger) { trigger_ = std::move(trigger); }

  /// Marks Running runs whose process is gone as Failed (after an apply was
  /// killed); returns how many.
  int ReapDeadRuns();

 private:
  ActionResult RunAction(const compiler::planner::Action& action,
                         const std::function<void(const std::string&)>& progress);
  ActionResult ApplyRecord(const compiler::planner::Action& action, const compiler::ir::Resource& r);
  ActionResult RunJob(const compiler::planner::Action& action, const compiler::ir::Resource& job,
                      const std::function<void(const std::string&)>& progress);
  RunRequest MakeRequest(const compiler::ir::Resource& job, const std::string& run_id);
  std::string ExpandCommand(const compiler::ir::Resource& job, const compiler::ir::Value& spec,
                            const std::string& work);
  compiler::ir::Value EffectiveSpec(const compiler::ir::Resource& job);
  /// The interpreter `python` means for a spec's environment ("" = the system's).
  StatusOr<std::string> PythonOf(const compiler::ir::Value& spec);
  /// The compute target a spec runs on ("compute/local" when it names none).
  std::string ComputeOf(const compiler::ir::Value& spec);
  // artifacts.cc: declarative models and images.
  struct ModelSource;
  StatusOr<ModelSource> ModelSourceOf(const compiler::ir::Resource& model,
                                      const std::map<std::string, std::string>& upstream_runs);
  compiler::planner::ArtifactObservation ObserveModel(const compiler::ir::Resource& model,
                                                      const std::map<std::string, std::string>& upstream_runs);
  compiler::planner::ArtifactObservation ObserveImage(const compiler::ir::Resource& image);
  StatusOr<ImageInputs> ImageInputsOf(const compiler::ir::Resource& image);
  ActionResult ApplyModel(const compiler::planner::Action& action, const compiler::ir::Resource& model);
  ActionResult ApplyImage(const compiler::planner::Action& action, const compiler::ir::Resource& image,
                          const std::function<void(const std::string&)>& progress);
  Status PushIfWanted(const compiler::ir::Resource& image, const ImageRecord& built,
                      const std::function<void(const std::string&)>& progress);
  /// With purge: deletes the model versions or images a removed resource registered.
  Status PurgeArtifacts(const std::string& resource_id, const std::string& kind);
  /// Records the resource as applied, with what applying produced.
  Status RecordApplied(const compiler::ir::Resource& r, const std::string& outputs_json);
  // deployments.cc: endpoints and deployments on the local target.
  std::string EndpointOf(const compiler::ir::Resource& deployment);
  nlohmann::json DeclaredTraffic(const std::string& endpoint, const nlohmann::json& desired);
  /// The image a deployment runs: the one it names (latest version unless
  /// pinned), or one made of its model, code and environment, built first
  /// when `build` (else kNotFound while it is not built).
  StatusOr<ImageRecord> DeploymentImage(const compiler::ir::Resource& deployment, bool build,
                                        const std::function<void(const std::string&)>& progress);
  /// Digest of the image and every setting the replicas start with.
  std::string DeploymentRevision(const compiler::ir::Resource& deployment, const ImageRecord& image);
  compiler::planner::ArtifactObservation ObserveDeployment(const compiler::ir::Resource& deployment);
  ActionResult ApplyEndpoint(const compiler::ir::Resource& endpoint);
  StatusOr<std::vector<std::string>> ReplicaCommand(const compiler::ir::Resource& deployment,
                                                    const std::string& endpoint, const ImageRecord& image,
                                                    const std::string& rootfs);
  ActionResult ApplyDeployment(const compiler::ir::Resource& deployment,
                               const std::function<void(const std::string&)>& progress);
  ActionResult DeleteService(const compiler::planner::Action& action);
  // sweep.cc
  compiler::ir::Value TrialSpec(const compiler::ir::Resource& sweep);
  void RunSweep(RunRecord& parent, const compiler::ir::Resource& sweep,
                const std::function<void(const std::string&)>& progress);
  void FinishPipelineRun(RunRecord& run, const compiler::planner::JobObservation& seen);
  std::string InputValue(const compiler::ir::Value& input);
  std::string LocalPath(const std::string& relative) const;
  /// A folder's tree digest or a file's digest; "" when it cannot be read.
  std::string PathDigest(const std::string& path);
  std::map<std::string, std::string> UpstreamRuns(size_t job);

  Workspace& workspace_;
  const compiler::ir::Graph& graph_;
  std::string specs_root_;
  LocalRunner runner_;
  /// Waits until the compute target has a free slot (its max_concurrent) and
  /// takes it; the slot is given back when the returned object goes.
  class ComputeSlot {
   public:
    ComputeSlot(Applier& applier, std::string compute) : applier_(applier), compute_(std::move(compute)) {}
    ~ComputeSlot();

   private:
    Applier& applier_;
    std::string compute_;
  };
  std::unique_ptr<ComputeSlot> AcquireSlot(const std::string& compute_id);

  std::mutex mutex_;
  std::condition_variable slot_freed_;
  std::map<std::string, int> slots_in_use_;  // compute id -> runs on it now
  std::string spec_commit_;
  std::string trigger_;
  bool purge_ = false;
  std::mutex venv_mutex_;
  std::map<std::string, std::string> run_of_;  // job id -> the completed run its dependants read
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_APPLIER_H_
