#ifndef AMLC_RUNTIME_TRACKING_MLRUNS_IMPORT_H_
#define AMLC_RUNTIME_TRACKING_MLRUNS_IMPORT_H_

#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// What `amlc runs import` did.
struct MlrunsImport {
  int experiments = 0;
  int runs = 0;            // runs added
  int already_there = 0;   // runs with an id the workspace had: left as they were
  int metric_points = 0;
  int params = 0;
  int tags = 0;
  int artifact_files = 0;
  std::vector<std::string> warnings;  // what was skipped, and where
};

/// Imports an MLflow file store (an `mlruns/` folder: EXPERIMENT/meta.yaml,
/// EXPERIMENT/RUN/{meta.yaml, metrics/, params/, tags/, artifacts/}) into
/// the workspace: each run keeps its id, experiment, status, times, metric
/// history, params and tags (`mlflow.parentRunId` makes it a child run); its
/// artifacts are copied into its outputs. Deleted experiments and runs
/// (lifecycle_stage: deleted, .trash) are skipped. Importing twice adds
/// nothing. kInvalidArgument when `dir` holds no experiment.
StatusOr<MlrunsImport> ImportMlruns(Workspace& workspace, const std::string& dir);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_TRACKING_MLRUNS_IMPORT_H_
