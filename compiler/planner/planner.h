#ifndef AMLC_COMPILER_PLANNER_PLANNER_H_
#define AMLC_COMPILER_PLANNER_PLANNER_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"
#include "compiler/planner/plan.h"
#include "base/status.h"

namespace amlc::compiler::planner {

/// A resource as the state store last recorded it.
struct RecordedResource {
  std::string id;
  std::string kind;
  std::string digest;
  std::string spec_json;
};

/// What the runtime observed about one job now: its run key (from the code
/// snapshot, command, environment, compute and input digests) and the runs
/// recorded with it.
struct JobObservation {
  Status status;                                  // not ok: the key could not be computed
  std::string run_key;
  std::map<std::string, std::string> key_parts;   // "code", "command", "environment", ...
  std::string completed_run;                      // id of a Completed run with this key, or ""
  std::string active_run;                         // id of a Queued/Running run with this key, or ""
  std::map<std::string, std::string> last_parts;  // key parts of the job's newest run, if any
  int changed_files = -1;                         // files changed since that run's snapshot
};

/// What the runtime observed about a model or image: the key of its inputs
/// (the producing run or the files' digest; for an image, its models, code,
/// environment and base) and whether a version with that key exists.
struct ArtifactObservation {
  Status status;                 // not ok: the inputs cannot be read
  std::string key;
  std::string current;           // "iris:3" when a version with this key exists, else ""
  bool exists = false;           // an earlier version is in place and a new one replaces it (~, not +)
  std::string held_back;         // register_when is false: why; "" otherwise
  std::vector<std::string> reasons;  // why a new version is made ("run X is newer than version 2's")
};

/// Everything outside the compiler the planner needs, supplied by the runtime.
class PlanEnvironment {
 public:
  virtual ~PlanEnvironment() = default;
  virtual std::vector<RecordedResource> Recorded() = 0;
  /// Observes `job`; `upstream_runs` maps each job it reads outputs from to
  /// the completed run whose outputs it would read.
  virtual JobObservation ObserveJob(const ir::Graph& graph, size_t job,
                                    const std::map<std::string, std::string>& upstream_runs) = 0;
  /// Observes a model or image; `upstream_runs` as for ObserveJob.
  virtual ArtifactObservation ObserveArtifact(const ir::Graph& graph, size_t index,
                                              const std::map<std::string, std::string>& upstream_runs) = 0;
  /// Why an applied resource whose spec did not change is no longer as
  /// applied (a service that stopped); "" when it is.
  virtual std::string Drift(const ir::Resource& resource) { return ""; }
  /// Whether the runtime can carry out resources of this kind yet; else the reason.
  virtual std::optional<std::string> Unsupported(const ir::Resource& resource) = 0;
};

struct PlanOptions {
  std::set<std::string> rerun;  // job ids forced to run (--rerun)
  bool destroy = false;         // plan to take down everything the specs created
};

/// The plan for `graph` against what `environment` reports. Errors computing
/// a job's key (e.g. a code folder with a symlink out of it) are returned as
/// messages in `errors`, and such jobs get no action.
Plan MakePlan(const ir::Graph& graph, PlanEnvironment& environment, const PlanOptions& options,
              std::vector<std::string>& errors);

/// The fields that differ between two canonical JSON specs ("a.b" paths).
std::vector<FieldChange> DiffSpecs(const std::string& old_json, const std::string& new_json);

}  // namespace amlc::compiler::planner

#endif  // AMLC_COMPILER_PLANNER_PLANNER_H_
