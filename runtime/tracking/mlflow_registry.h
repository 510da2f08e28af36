#ifndef AMLC_RUNTIME_TRACKING_MLFLOW_REGISTRY_H_
#define AMLC_RUNTIME_TRACKING_MLFLOW_REGISTRY_H_

// The part of MLflow's model registry REST API (/api/2.0/mlflow/...) that
// `mlflow.register_model` and `log_model(registered_model_name=...)` use,
// over amlc's model registry: registered-models create/get/search and
// model-versions create/get/search. A model version is registered from its
// source ("runs:/RUN_ID/PATH" or "mlflow-artifacts:/RUN_ID/PATH", a run's
// outputs) into the workspace's content store, with the run as its lineage;
// a folder holding an MLmodel file is of type mlflow_model. A registered
// model exists in amlc once it has a version: create answers as MLflow does
// and records nothing, so a get before the first version is a 404. Stages
// are not kept (current_stage is "None"). Filters: name/run_id/source with
// =, !=, LIKE, ILIKE, joined by AND.

#include <map>
#include <string>

#include "runtime/tracking/mlflow_rest.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// Whether `path` (after /api/2.0/mlflow/) is a registry endpoint.
bool IsMlflowRegistryPath(const std::string& path);

/// Answers a registry endpoint, as HandleMlflowRest answers tracking ones.
MlflowRestAnswer HandleMlflowRegistry(Workspace& workspace, const std::string& method, const std::string& path,
                                      const std::map<std::string, std::string>& query, const std::string& body);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_TRACKING_MLFLOW_REGISTRY_H_
