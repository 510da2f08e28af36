#ifndef AMLC_RUNTIME_TRACKING_MLFLOW_ARTIFACTS_H_
#define AMLC_RUNTIME_TRACKING_MLFLOW_ARTIFACTS_H_

// MLflow's artifact proxy (/api/2.0/mlflow-artifacts/artifacts/...), the
// way `mlflow server` serves it, over the runs' outputs: a run's
// artifact_uri is "mlflow-artifacts:/RUN_ID", which an MLflow client turns
// into this API on its tracking server, so `mlflow.log_artifact` from a
// user's machine lands in the run's outputs folder, where amlc's own runs
// keep theirs. Paths are RUN_ID/RELATIVE; "..", absolute and empty segments
// are refused. No HTTP library here: the server front hands over the path
// (after /artifacts/) and the body.

#include <string>

#include "runtime/tracking/mlflow_rest.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// The artifact_uri of a run, "mlflow-artifacts:/RUN_ID".
std::string MlflowArtifactUri(const std::string& run_id);

/// The file or folder under a run's outputs that "RUN_ID[/RELATIVE]" names;
/// otherwise `path` is empty and `error` is the MLflow error to answer (an
/// unknown run, or a path that would leave the outputs folder).
struct MlflowArtifactLocation {
  std::string path;
  MlflowRestAnswer error;
};
MlflowArtifactLocation LocateMlflowArtifact(Workspace& workspace, const std::string& artifact_path);

/// PUT: writes `body` to the file `path` names (folders made); answers {}.
MlflowRestAnswer PutMlflowArtifact(Workspace& workspace, const std::string& path, const std::string& body);

/// GET: the file's bytes, as body (status 200), or an MLflow error.
MlflowRestAnswer GetMlflowArtifact(Workspace& workspace, const std::string& path);

/// GET ?path=: {"files": [{"path": NAME, "is_dir": B, "file_size": N}]} of
/// the folder `path` names, names only as MLflow's server lists them; {} for
/// an empty or absent folder of an existing run.
MlflowRestAnswer ListMlflowArtifacts(Workspace& workspace, const std::string& path);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_TRACKING_MLFLOW_ARTIFACTS_H_
