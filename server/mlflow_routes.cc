// MLflow's REST APIs (tracking, artifacts, the model registry's subset) on the workspace server, so a real MLflow client pointed
// at it (MLFLOW_TRACKING_URI=https://HOST, MLFLOW_TRACKING_TOKEN=amlc_…)
// lands its runs, metrics and artifacts in the workspace. The answers are
// runtime/tracking's; this file only maps each endpoint to a route with its
// role: reads (searches are POSTs in MLflow) need a Reader, writes a
// Contributor, and the server audits each call as any other.

#include <httplib.h>

#include "runtime/tracking/mlflow_artifacts.h"
#include "runtime/tracking/mlflow_registry.h"
#include "runtime/tracking/mlflow_rest.h"
#include "server/api_route.h"

namespace amlc::server {

namespace {

using runtime::WorkspaceRole;

constexpr const char* kTrackingPrefix = "/api/2.0/mlflow/";
constexpr const char* kArtifactsPath = "/api/2.0/mlflow-artifacts/artifacts";

void Send(Call& call, const runtime::MlflowRestAnswer& answer) {
  call.response.status = answer.status;
  call.response.set_content(answer.body, answer.content_type);
}

// One tracking endpoint, "runs/log-batch", answered by runtime/tracking.
ApiRoute Tracking(const char* method, const std::string& endpoint, WorkspaceRole needed, std::string action) {
  return {method, kTrackingPrefix + endpoint, needed, std::move(action), [endpoint](Call& call) {
            std::map<std::string, std::string> query(call.request.params.begin(), call.request.params.end());
            call.target = query.count("run_id") ? query["run_id"] : query["experiment_id"];
            const std::string& method = call.request.method;
            Send(call, runtime::IsMlflowRegistryPath(endpoint)
                           ? runtime::HandleMlflowRegistry(call.workspace, method, endpoint, query, call.request.body)
                           : runtime::HandleMlflowRest(call.workspace.state(), method, endpoint, query,
                                                       call.request.body));
          }};
}

ApiRoute Read(const char* method, const std::string& endpoint, std::string action) {
  return Tracking(method, endpoint, WorkspaceRole::kReader, std::move(action));
}

ApiRoute Write(const std::string& endpoint, std::string action) {
  return Tracking("POST", endpoint, WorkspaceRole::kContributor, std::move(action));
}

void PutArtifact(Call& call) {
  call.target = call.path_params[0];
  Send(call, runtime::PutMlflowArtifact(call.workspace, call.path_params[0], call.request.body));
}

void GetArtifact(Call& call) {
  call.target = call.path_params[0];
  Send(call, runtime::GetMlflowArtifact(call.workspace, call.path_params[0]));
}

void ListArtifacts(Call& call) {
  call.target = call.Query("path");
  Send(call, runtime::ListMlflowArtifacts(call.workspace, call.Query("path")));
}

}  // namespace

std::vector<ApiRoute> MlflowRoutes() {
  std::string artifact = std::string(kArtifactsPath) + "/{path+}";
  return {
      Write("experiments/create", "creating an MLflow experiment"),
      Read("GET", "experiments/get", "reading an MLflow experiment"),
      Read("GET", "experiments/get-by-name", "reading an MLflow experiment"),
      Read("GET", "experiments/search", "searching MLflow experiments"),
      Read("POST", "experiments/search", "searching MLflow experiments"),
      Write("runs/create", "creating an MLflow run"),
      Write("runs/update", "updating an MLflow run"),
      Read("GET", "runs/get", "reading an MLflow run"),
      Read("POST", "runs/search", "searching MLflow runs"),
      Write("runs/log-batch", "logging to an MLflow run"),
      Write("runs/log-metric", "logging to an MLflow run"),
      Write("runs/log-parameter", "logging to an MLflow run"),
      Write("runs/set-tag", "tagging an MLflow run"),
      Read("GET", "metrics/get-history", "reading an MLflow metric's history"),
      Write("registered-models/create", "registering an MLflow model"),
      Read("GET", "registered-models/get", "reading a registered model"),
      Read("GET", "registered-models/search", "searching registered models"),
      Write("model-versions/create", "registering an MLflow model version"),
      Read("GET", "model-versions/get", "reading a model version"),
      Read("GET", "model-versions/search", "searching model versions"),
      {"PUT", artifact, WorkspaceRole::kContributor, "uploading an MLflow artifact", PutArtifact},
      {"GET", artifact, WorkspaceRole::kReader, "downloading an MLflow artifact", GetArtifact},
      {"GET", kArtifactsPath, WorkspaceRole::kReader, "listing MLflow artifacts", ListArtifacts},
  };
}

}  // namespace amlc::server
