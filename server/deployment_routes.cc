// What the CLI's deployments logs|delete and endpoints invoke do, over the
// API: a deployment's replica logs (Reader), deleting a deployment (Owner:
// it destroys what specs created, as destroy does), and a scoring request
// sent by the server with the deployment's key (Contributor, who may read
// the keys anyway), so a client needs no route to the endpoint's host.

#include <httplib.h>

#include <cstdlib>

#include "runtime/deploy/deployment_actions.h"
#include "server/api_route.h"

namespace amlc::server {

namespace {

using nlohmann::json;
using runtime::WorkspaceRole;

// The deployment the path names, or nullopt once a 404 is answered.
std::optional<runtime::DeploymentRef> PathDeployment(Call& call) {
  call.target = call.path_params[0];
  auto found = runtime::FindDeployment(call.workspace, call.target);
  if (!found.ok()) {
    Fail(call, found.status());
    return std::nullopt;
  }
  return *found;
}

void DeploymentLogs(Call& call) {
  auto deployment = PathDeployment(call);
  if (!deployment) return;
  call.response.status = 200;
  call.response.set_content(runtime::DeploymentLogs(call.workspace, *deployment), "text/plain; charset=utf-8");
}

void DeleteDeployment(Call& call) {
  auto deployment = PathDeployment(call);
  if (!deployment) return;
  if (Status deleted = runtime::DeleteDeployment(call.workspace, *deployment); !deleted.ok()) {
    return call.Message(500, deleted.message());
  }
  call.Json(200, {{"deleted", deployment->name}});
}

// POST /api/v1/endpoints/{name}/invoke?deployment=D&timeout=S with the
// scoring request as the body: {"deployment", "status", "body"} of the
// deployment's answer, whatever its status.
void InvokeEndpoint(Call& call) {
  call.target = call.path_params[0];
  double timeout = call.HasQuery("timeout") ? std::atof(call.Query("timeout").c_str()) : 60;
  if (!(timeout > 0 && timeout <= 3600)) return call.Message(400, "timeout must be seconds from 0 to 3600");
  auto answer = runtime::InvokeEndpoint(call.workspace, call.target, call.Query("deployment"), call.request.body,
                                        timeout);
  if (!answer.ok()) return Fail(call, answer.status());
  call.Json(200, {{"deployment", answer->deployment}, {"status", answer->status}, {"body", answer->body}});
}

}  // namespace

std::vector<ApiRoute> DeploymentRoutes() {
  return {
      {"GET", "/api/v1/deployments/{name}/logs", WorkspaceRole::kReader, "reading a deployment's logs",
       DeploymentLogs},
      {"DELETE", "/api/v1/deployments/{name}", WorkspaceRole::kOwner, "deleting a deployment", DeleteDeployment},
      {"POST", "/api/v1/endpoints/{name}/invoke", WorkspaceRole::kContributor, "invoking an endpoint",
       InvokeEndpoint},
  };
}

}  // namespace amlc::server
