#ifndef AMLC_RUNTIME_DEPLOY_DEPLOYMENT_ACTIONS_H_
#define AMLC_RUNTIME_DEPLOY_DEPLOYMENT_ACTIONS_H_

// What `amlc deployments logs|delete` and `amlc endpoints invoke` do on a
// workspace's local endpoints, written once for the CLI on a local folder
// and for the workspace server's routes that serve the same commands.

#include <string>

#include "base/status.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// A deployment the workspace has: its name and its endpoint's; kNotFound
/// ("no deployment 'NAME' in this workspace (amlc deployments list)") when none.
struct DeploymentRef {
  std::string name;
  std::string endpoint;
};
StatusOr<DeploymentRef> FindDeployment(Workspace& workspace, const std::string& name);

/// Its replicas' logs, each file as "== FILE\n" and its lines, in file order.
std::string DeploymentLogs(Workspace& workspace, const DeploymentRef& deployment);

/// Stops its replicas (the endpoint host is told and waited for, up to a
/// minute) and forgets it; the next apply of its spec brings it back.
Status DeleteDeployment(Workspace& workspace, const DeploymentRef& deployment);

/// One scoring request's answer, from the deployment it went to.
struct ScoreAnswer {
  std::string deployment;
  int status = 0;
  std::string body;
};

/// Sends `body` to endpoint `endpoint`'s deployment `deployment` (""
/// draws one by the traffic split) with that deployment's key. kNotFound
/// without such an endpoint, kInvalidArgument when no deployment can be
/// chosen, kFailedPrecondition when it is not running, kUnavailable when
/// it does not answer within `timeout_seconds`.
StatusOr<ScoreAnswer> InvokeEndpoint(Workspace& workspace, const std::string& endpoint, const std::string& deployment,
                                     const std::string& body, double timeout_seconds);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_DEPLOY_DEPLOYMENT_ACTIONS_H_
