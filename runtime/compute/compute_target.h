#ifndef AMLC_RUNTIME_COMPUTE_COMPUTE_TARGET_H_
#define AMLC_RUNTIME_COMPUTE_COMPUTE_TARGET_H_

// Where a job's command runs. The job driver turns a job into a RunRequest
// and a Queued RunRecord; a ComputeTarget carries the run out and finishes
// the record. One implementation per compute type (`local` today; Slurm, SSH
// and Kubernetes are new files beside it), chosen by the compute resource's
// `type` through ComputeTargets.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/progress_sink.h"
#include "base/status.h"
#include "runtime/state/state_store.h"

namespace amlc::runtime {

class Workspace;

/// Where a run goes on a cluster: the compute resource's settings and the
/// shape of a distributed run. Targets of one machine ignore it.
struct Placement {
  std::string compute_name = "local";           // the compute resource ("cpu-cluster")
  std::string spec_json = "{}";                 // its spec (host, port, ...) as canonical JSON
  std::map<std::string, std::string> settings;  // its spec's scalar fields (partition, size, account, max_instances, ...)
  int64_t instance_count = 1;                   // resources.instance_count: nodes
  std::string distribution;                     // distribution.type: "pytorch", "mpi", "tensorflow"; "" = none
  int64_t processes_per_node = 1;               // distribution.process_count_per_instance
  int64_t worker_count = 0;                     // tensorflow: distribution.worker_count (0 = one per node)
};

/// A local file or folder an input names, which the command reads by that
/// path: targets that reach this machine's files use it as it is; the ssh
/// target sends it to the host and gives the command the path there.
struct RunInput {
  std::string name;  // the input's name
  std::string path;  // absolute, on this machine
};

/// An environment given as requirements (pip_requirements): a venv over the
/// target's python3, made once per environment digest where the run goes.
struct RunVenv {
  std::string digest;                     // the environment's digest: the venv's folder name
  std::vector<std::string> requirements;  // requirement lines, checked in the venv
};

/// What to run: the command already expanded, in a folder holding the snapshot.
struct RunRequest {
  std::string command;                      // for /bin/sh -c, run in the work folder
  std::string python;                       // interpreter that `python` means ("" = the system's)
  std::map<std::string, std::string> env;   // extra environment variables
  std::vector<std::string> output_names;    // ${{outputs.X}} folders to collect
  /// Azure ML's default output, declared as `artifacts:` with nothing in it:
  /// the run's artifact root (its outputs/ and logs/), not a folder of its own.
  bool artifacts_output = false;
  int64_t timeout_seconds = 0;              // 0 = none
  std::string environment_error;            // why the environment could not be made ("" = fine)
  std::string container_image;              // run in this image with podman ("" = on the host); local and slurm
  std::vector<RunInput> inputs;             // the local paths the command names
  std::optional<RunVenv> venv;              // make `python` where the run goes (ssh); else `python` holds it
  Placement placement;
};

/// What a target can tell of a run recorded as Running.
enum class RunLiveness {
  kAlive,     // still running: follow it with Adopt
  kFinished,  // ended and left its result: Adopt collects it
  kLost,      // gone without a result (its machine or process died)
};

/// A run's statuses, and the bytes of its snapshot as the run folder gets it.
using RunProgress = ProgressSink;

class ComputeTarget {
 public:
  virtual ~ComputeTarget() = default;

  /// Carries `run` out to the end: starts it, streams its log and metrics,
  /// enforces the timeout, collects its outputs and finishes the record
  /// (Completed, Failed with the reason, or Canceled). Failures are recorded
  /// in `run`, never thrown or returned.
  virtual void Run(RunRecord& run, const RunRequest& request, const RunProgress& progress) = 0;

  /// Follows a run an earlier process started (an apply that was killed, a
  /// reconciler that restarted) to its end, as Run does.
  virtual void Adopt(RunRecord& run, const RunRequest& request, const RunProgress& progress) = 0;

  /// Whether a run recorded as Running is still going on this target.
  virtual RunLiveness Observe(const RunRecord& run) = 0;

  /// Ends a running run and marks it Canceled with `reason`.
  /// kFailedPrecondition when it is not running.
  virtual Status Cancel(const std::string& run_id, const std::string& reason) = 0;

  /// The file holding the run's output so far.
  virtual std::string LogPath(const std::string& run_id) const = 0;
};

/// The compute targets amlc can drive, by compute type ("local", ...).
/// Adding a compute type is one file implementing ComputeTarget and one
/// Register line in RegisterBuiltinComputeTargets.
class ComputeTargets {
 public:
  using Factory = std::function<std::unique_ptr<ComputeTarget>(Workspace&)>;

  explicit ComputeTargets(Workspace& workspace) : workspace_(workspace) {}

  void Register(const std::string& type, Factory factory) { factories_[type] = std::move(factory); }
  bool Has(const std::string& type) const { return factories_.count(type) > 0; }
  /// The target for `type`, made once; nullptr when no driver handles it.
  ComputeTarget* For(const std::string& type);

 private:
  Workspace& workspace_;
  std::map<std::string, Factory> factories_;
  std::mutex mutex_;  // For is called from parallel actions
  std::map<std::string, std::unique_ptr<ComputeTarget>> made_;
};

/// Registers the compute types this build carries out.
void RegisterBuiltinComputeTargets(ComputeTargets& targets);

/// Records a Queued or Running run as Canceled with `reason` (its follower
/// sees this and stops it); returns the record as it was. kNotFound for an
/// unknown run, kFailedPrecondition when it is not running. Targets' Cancel
/// call this first, then end the run where it runs.
StatusOr<RunRecord> RecordCancel(Workspace& workspace, const std::string& run_id, const std::string& reason);

/// Cancels a run on the compute target it runs on (`amlc runs cancel`).
/// kNotFound for an unknown run; kFailedPrecondition when it is not running
/// or no driver handles its compute type.
Status CancelRunOnItsTarget(Workspace& workspace, const std::string& run_id, const std::string& reason);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_COMPUTE_COMPUTE_TARGET_H_
