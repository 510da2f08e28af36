#ifndef AMLC_RUNTIME_TRACKING_MLFLOW_REST_H_
#define AMLC_RUNTIME_TRACKING_MLFLOW_REST_H_

// MLflow's tracking REST API (/api/2.0/mlflow/...) over the workspace's state
// store, with no HTTP library in it: a server front (the reconciler's
// listener today, `amlc server` later) hands it the method, the path after
// /api/2.0/mlflow/, the query parameters and the body, and sends back what
// it answers. Covered: experiments create/get/get-by-name/search, runs
// create/update/get/search, log-batch, log-metric, log-parameter, set-tag,
// metrics/get-history. An experiment's id is its name ("0" is "Default").
// Errors are MLflow's: {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": ...}
// with 404, 400 for INVALID_PARAMETER_VALUE and RESOURCE_ALREADY_EXISTS.

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/state/state_store.h"

namespace amlc::runtime {

struct MlflowRestAnswer {
  int status = 200;
  std::string body;  // JSON, or an artifact's bytes
  std::string content_type = "application/json";
};

/// MLflow's error answer: {"error_code": code, "message": message}.
MlflowRestAnswer MlflowError(int status, const std::string& code, const std::string& message);

/// A request's fields: the query parameters with the JSON body's over them;
/// nullopt when the body is not a JSON object.
std::optional<nlohmann::json> MlflowRequestFields(const std::map<std::string, std::string>& query,
                                                  const std::string& body);

MlflowRestAnswer HandleMlflowRest(StateStore& state, const std::string& method, const std::string& path,
                                  const std::map<std::string, std::string>& query, const std::string& body);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_TRACKING_MLFLOW_REST_H_
