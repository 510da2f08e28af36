#ifndef AMLC_RUNTIME_ENGINE_ENGINE_CONTEXT_H_
#define AMLC_RUNTIME_ENGINE_ENGINE_CONTEXT_H_

// What the drivers of one plan and apply share: the workspace, the compiled
// graph and where its relative paths start, the compute targets and their
// pools, and the run ledger (which completed run each job's dependants read).

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "base/status.h"
#include "compiler/ir/graph.h"
#include "runtime/compute/compute_target.h"
#include "runtime/engine/pools.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// The compute target a job runs on, from these specs or, for one only the
/// workspace holds, from its record; `local` when the job names none.
struct ComputeChoice {
  std::string name = "local";
  std::string type = "local";
  std::string spec_json = "{}";  // the compute's spec as canonical JSON
};

class EngineContext {
 public:
  /// `specs_root` is the folder the graph's relative paths start from.
  EngineContext(Workspace& workspace, const compiler::ir::Graph& graph, std::string specs_root);

  Workspace& workspace() { return workspace_; }
  StateStore& state() { return workspace_.state(); }
  const compiler::ir::Graph& graph() const { return graph_; }
  ComputeTargets& compute_targets() { return compute_targets_; }
  Pools& pools() { return pools_; }

  /// The git commit of the specs, recorded on runs and model versions ("" when unknown).
  const std::string& spec_commit() const { return spec_commit_; }
  void set_spec_commit(std::string commit) { spec_commit_ = std::move(commit); }
  /// Why the runs of this apply were started ("sync 12: push abc1234");
  /// recorded as each run's `amlc.trigger` tag.
  const std::string& trigger() const { return trigger_; }
  void set_trigger(std::string trigger) { trigger_ = std::move(trigger); }

  /// The completed run whose outputs `job_id`'s dependants read.
  std::optional<std::string> CompletedRun(const std::string& job_id);
  void SetCompletedRun(const std::string& job_id, const std::string& run_id);
  /// The runs of the jobs resource `index` reads outputs from, as far as known.
  std::map<std::string, std::string> UpstreamRuns(size_t index);

  /// Where run `run` keeps its output `output`: the path the run recorded
  /// (a sweep records its best trial's), else the run's outputs folder.
  std::string OutputPath(const RunRecord& run, const std::string& output);

  /// A spec path made absolute against the specs' folder.
  std::string LocalPath(const std::string& relative) const;
  /// A folder's tree digest or a file's digest; "" when it cannot be read.
  std::string PathDigest(const std::string& path);
  /// The compute target a job's (effective) spec names.
  ComputeChoice ComputeOf(const compiler::ir::Value& job_spec);
  /// The resource with this id in the graph, or nullptr.
  const compiler::ir::Resource* Find(const std::string& id) const;
  /// Records `resource` as applied, with what applying it produced (JSON).
  /// Fails when the state store cannot be written.
  Status RecordApplied(const compiler::ir::Resource& resource, const std::string& outputs_json);

 private:
  Workspace& workspace_;
  const compiler::ir::Graph& graph_;
  std::string specs_root_;
  std::string spec_commit_;
  std::string trigger_;
  ComputeTargets compute_targets_;
  Pools pools_;
  std::mutex ledger_mutex_;
  std::map<std::string, std::string> completed_runs_;  // job id -> run id
};

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_ENGINE_ENGINE_CONTEXT_H_
