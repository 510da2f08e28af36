#ifndef AMLC_RUNTIME_ENGINE_DRIVERS_JOB_DRIVER_H_
#define AMLC_RUNTIME_ENGINE_DRIVERS_JOB_DRIVER_H_

// Jobs are planned like build steps: a job's run key is the digest of
// everything that can change its result (the code snapshot's tree digest,
// the command, the environment's digest, the compute target's type and one
// part per input: a literal's JSON, a local file's or folder's digest, or the
// digest of the upstream run's output). A completed run with that key makes
// the job up to date. JobDriver computes the key, records new runs and
// adopts runs in progress; its subclasses carry a run out: a command on its
// compute target, a sweep's trials, a pipeline's parent run.

#include <mutex>

#include "runtime/compute/curated_environments.h"
#include "runtime/engine/driver.h"
#include "runtime/engine/engine_context.h"

namespace amlc::runtime {

class JobDriver : public Driver {
 public:
  explicit JobDriver(EngineContext& context) : context_(context) {}

  StatusOr<compiler::planner::Observation> Observe(
      const compiler::ir::Resource& job, const std::map<std::string, std::string>& upstream_runs) override;
  /// Runs the job unless a completed run has its key by now (a run that
  /// finished since the plan); joins a run with its key in progress.
  StatusOr<std::string> Apply(const compiler::planner::Action& action, const compiler::ir::Resource& job,
                              const Progress& progress) override;
  /// With purge, deletes the job's runs with their folders; else history stays.
  Status Delete(const compiler::planner::Action& action, bool purge) override;
  /// "N runs": the job's run history, which Delete with purge removes.
  std::string History(const std::string& resource_id) override;

 protected:
  /// Carries a new run of `job` out (recorded Queued, its snapshot taken)
  /// and finishes `run`.
  virtual void Carry(RunRecord& run, const compiler::ir::Resource& job, const compiler::planner::Observation& seen,
                     const RunRequest& request, const Progress& progress) = 0;
  /// Follows a run of `job` an earlier apply started to its end.
  virtual void Adopt(RunRecord& run, const RunRequest& request, const Progress& progress);

  /// What to run for a job's (or trial's) effective spec: the command with
  /// its expressions given their values, the interpreter, outputs,
  /// variables, timeout. `trial` holds a sweep trial's search-space values;
  /// without it, inputs a trial binds show as written (${{search_space.X}}).
  RunRequest MakeRequest(const compiler::ir::Resource& job, const compiler::ir::JobSpec& spec,
                         const std::string& run_id, const std::map<std::string, compiler::ir::Value>* trial = nullptr);
  /// Where a spec's runs go on a cluster: its compute's settings, nodes and distribution.
  Placement PlacementOf(const compiler::ir::Value& spec, const ComputeChoice& compute);
  /// The compute target of a spec's compute type; nullptr when none drives it.
  ComputeTarget* TargetOf(const std::string& compute_type) { return context_.compute_targets().For(compute_type); }
  /// The pool of the compute target a spec runs on ("compute/local" when it names none).
  static std::string PoolOf(const compiler::ir::Value& fields);
  /// A job's effective spec from the lowering pass; an error when the graph
  /// was not lowered (a compilation with errors is never applied).
  static StatusOr<const compiler::ir::JobSpec*> EffectiveOf(const compiler::ir::Resource& job);

  EngineContext& context_;

 private:
  /// `snapshot_bytes` hears the code snapshot's upload into the store.
  StatusOr<RunRecord> NewRun(const compiler::ir::Resource& job, const compiler::planner::Observation& seen,
                             RunRequest& request, const ByteSink& snapshot_bytes);
  std::string ExpandCommand(const compiler::ir::Resource& job, const compiler::ir::JobSpec& spec,
                            const std::string& work, const std::map<std::string, compiler::ir::Value>* trial);
  /// What an input puts in a command; nullopt when it has nothing.
  std::optional<std::string> InputValue(const compiler::ir::Value& input);
  /// The local file or folder a path input names (a path in the specs, an
  /// upstream run's output, a fetched URL); nullopt for a literal.
  std::optional<std::string> InputPath(const compiler::ir::Value& input);
  /// The local paths a job's command names through its inputs (and, for a
  /// step, its pipeline's).
  std::vector<RunInput> InputPaths(const compiler::ir::Resource& job, const compiler::ir::JobSpec& spec);
  /// Where inputs given by URL are cached (runtime/artifacts/remote/url_cache.h).
  std::string UrlCacheDir();
  /// The interpreter `python` means for a spec's environment ("" = the
  /// system's); for a requirements list, the venv made here for it.
  StatusOr<std::string> PythonOf(const compiler::ir::Value& fields);
  /// The venv a spec's environment asks for (pip_requirements without a
  /// python); nullopt for any other environment.
  StatusOr<std::optional<RunVenv>> VenvOf(const compiler::ir::Value& fields);
  /// The catalog entry of the Azure curated environment the spec names
  /// (AzureML-sklearn-1.5@latest, azureml://registries/azureml/...); nullopt
  /// for any other environment; an error when the catalog lacks the name.
  StatusOr<std::optional<CuratedEnvironment>> CuratedOf(const compiler::ir::Value& fields);
  /// The entry's interpreter, once it imports the entry's modules; else what to do.
  StatusOr<std::string> CuratedPython(const CuratedEnvironment& curated);
  /// The parts of a run key that inputs contribute (a step's own, and the
  /// pipeline's its command reads).
  Status AddInputParts(const compiler::ir::Resource& job, const compiler::ir::JobSpec& spec,
                       const std::map<std::string, std::string>& upstream_runs, compiler::planner::Observation& seen);
  /// One input's part of a run key: an upstream output's digest, a local
  /// path's digest, or the literal's JSON.
  StatusOr<std::string> InputPart(const std::string& name, const compiler::ir::Value& input,
                                  const std::map<std::string, std::string>& upstream_runs);
  /// The pipeline's input `name`, for a step; nullptr when there is none.
  const compiler::ir::JobInput* ParentInput(const compiler::ir::Resource& step, const std::string& name);
  /// An environment's image on a target that does not run images: a plan
  /// warning naming the interpreter that runs instead, or an error when the
  /// environment sets require_image.
  Status CheckImage(const compiler::ir::Value& spec, compiler::planner::Observation& seen);
  /// A plan warning for an environment that gives only a conda file, naming
  /// the interpreter that runs instead.
  void CheckConda(const compiler::ir::Value& spec, compiler::planner::Observation& seen);
  /// A spec's environment definition (nullptr when it has none these specs hold) and its name.
  const compiler::ir::Value* EnvironmentOf(const compiler::ir::Value& spec, std::string& name);
  /// The image a run of `spec` runs in with podman ("" = on the host).
  std::string ContainerImageOf(const compiler::ir::Value& spec);
  /// The parts of a run key the environment contributes: its spec, the files it names, the variables.
  void AddEnvironmentParts(const compiler::ir::Value& spec, compiler::planner::Observation& seen);
  /// The part of a run key the outputs `spec` declares contribute, under `part`.
  void AddOutputPart(const compiler::ir::Value& spec, compiler::planner::Observation& seen,
                     const std::string& part = "outputs");
  void ReadLastRun(const compiler::ir::Resource& job, const Snapshot& code,
                   compiler::planner::Observation& seen);

  std::mutex venv_mutex_;  // two runs of one environment make its venv once
};

/// Command jobs and pipeline steps: the command runs on the job's compute target.
class CommandJobDriver : public JobDriver {
 public:
  using JobDriver::JobDriver;
  /// Job types without a driver of their own (automl, spark, ...) land here.
  std::optional<std::string> Unsupported(const compiler::ir::Resource& job) override;

 protected:
  void Carry(RunRecord& run, const compiler::ir::Resource& job, const compiler::planner::Observation& seen,
             const RunRequest& request, const Progress& progress) override;
};

/// Marks runs recorded as Running whose compute target lost them (the
/// apply that started them was killed, with the process) as Failed; returns
/// how many.
int ReapLostRuns(EngineContext& context);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_DRIVERS_JOB_DRIVER_H_
