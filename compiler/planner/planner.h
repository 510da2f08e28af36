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

/// What the runtime observed about one resource now. How a resource is
/// planned decides which fields mean something:
///  - a job runs when no completed run has its run key (`key`, made of
///    `key_parts`: code snapshot, command, environment, compute, inputs);
///  - a model, image or deployment gets a new version when none has the key
///    of its inputs (the producing run or the files' digest; what an image
///    packages; the image and settings a deployment serves);
///  - any other resource is a record: it changes when its spec does, or
///    when what was applied has drifted.
struct Observation {
  std::string key;
  std::map<std::string, std::string> key_parts;   // jobs: "code", "command", "environment", ...
  std::string current;      // a job's Completed run with this key; "iris:3" for an artifact; "" if none
  std::string in_progress;  // a job's Queued/Running run with this key, or ""
  std::map<std::string, std::string> last_parts;  // key parts of the job's newest run, if any
  std::string last_run;     // that run's id, and how it ended ("Failed: exit code 1"), for reasons
  std::string last_outcome;
  std::map<std::string, std::string> inputs;       // jobs: each input as written (JSON), now
  std::map<std::string, std::string> last_inputs;  // and for the newest run
  int changed_files = -1;   // files changed since that run's snapshot (-1: unknown)
  std::map<std::string, std::string> unkeyed_parts;  // jobs: fields outside the key ("limits", ...)
  std::vector<std::string> unkeyed_changes;  // those that differ from the newest run's
  bool exists = false;      // an earlier version is in place and a new one replaces it (~, not +)
  std::string held_back;    // register_when is false, or an input is not there yet: why
  std::vector<std::string> reasons;  // why a new version is made ("run X is newer than version 2's")
  std::string drift;        // a record: why what was applied is no longer so ("" when it is)
  std::vector<std::string> warnings;  // what will not be as the spec says (an environment's image ignored)
};

/// Everything outside the compiler the planner needs, supplied by the runtime.
class PlanEnvironment {
 public:
  virtual ~PlanEnvironment() = default;
  virtual std::vector<RecordedResource> Recorded() = 0;
  /// Observes resource `index`; `upstream_runs` maps each job it reads
  /// outputs from to the completed run whose outputs it would read. Fails
  /// when its key cannot be computed (a code folder with a symlink out of
  /// it, a model path that cannot be read).
  virtual StatusOr<Observation> Observe(const ir::Graph& graph, size_t index,
                                        const std::map<std::string, std::string>& upstream_runs) = 0;
  /// Whether the runtime can carry out resources of this kind yet; else the reason.
  virtual std::optional<std::string> Unsupported(const ir::Resource& resource) = 0;
  /// What the workspace holds of `kind` ("compute", "environment", "data",
  /// "model") outside these specs, for the `azureml:` references the specs
  /// make without declaring: each as "NAME" and, when versioned, "NAME:VERSION".
  virtual std::vector<std::string> InWorkspace(const std::string& kind) = 0;
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
