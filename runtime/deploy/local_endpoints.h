#ifndef AMLC_RUNTIME_DEPLOY_LOCAL_ENDPOINTS_H_
#define AMLC_RUNTIME_DEPLOY_LOCAL_ENDPOINTS_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "runtime/deploy/deployment_settings.h"
#include "runtime/serving/endpoint/desired_state.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// The local target's side of an endpoint: a folder per endpoint under the
/// workspace home where `amlc endpoint-host` (the endpoint's load-balancing
/// front and the supervisor of its deployments' replicas) reads desired.json
/// and writes status.json, events.jsonl and its logs. Apply only writes the
/// desired state and waits for the host to report it reached it.
std::string EndpointDir(const Workspace& workspace, const std::string& endpoint);

/// A deployment's primary and secondary keys (random, 256 bits each, in a
/// 0600 file the replicas re-read when it changes).
struct DeploymentKeys {
  std::string primary;
  std::string secondary;
};
std::string KeysFile(const Workspace& workspace, const std::string& endpoint, const std::string& deployment);
/// The keys, made on first use.
StatusOr<DeploymentKeys> EnsureDeploymentKeys(const Workspace& workspace, const std::string& endpoint,
                                              const std::string& deployment);
/// Replaces one key ("primary" or "secondary"); the other keeps working.
StatusOr<DeploymentKeys> RegenerateDeploymentKey(const Workspace& workspace, const std::string& endpoint,
                                                 const std::string& deployment, const std::string& which);

/// Where the endpoint's desired state is (read it with endpoint::ReadDesiredState).
std::string DesiredStateFile(const std::string& endpoint_dir);

/// Reads desired.json (when missing, an empty desired state for the endpoint
/// the folder is named after), lets `change` edit it, bumps its generation
/// and writes it atomically, all under a lock on the folder. Returns the new
/// generation. Writes nothing and fails with kUnavailable when the lock
/// cannot be taken, with kInvalidArgument naming the fields when the file
/// there or the edited state is not one the endpoint host takes, or with the
/// write's error.
StatusOr<int64_t> UpdateDesiredState(const std::string& endpoint_dir,
                                     const std::function<void(endpoint::DesiredState&)>& change);

/// A deployment's replica count, autoscale and readiness timeout as the
/// endpoint host runs them; the caller fills in what it runs (revision,
/// image, command).
endpoint::DeploymentSpec ScaledDeploymentSpec(const deploy::DeploymentSettings& settings);

/// The amlc binary that is running (replicas and hosts are started with it).
std::string AmlcExecutable();

/// Whether the endpoint's host process is alive (its pid file names a live process).
bool EndpointHostRunning(const std::string& endpoint_dir);
/// Starts `amlc endpoint-host --state-dir DIR` detached unless it runs.
Status EnsureEndpointHost(const std::string& endpoint_dir);
/// Asks the host to stop (SIGTERM: it drains and stops its replicas) and
/// waits up to `timeout_seconds` for it to go.
Status StopEndpointHost(const std::string& endpoint_dir, double timeout_seconds);
/// status.json (an empty object when missing or unreadable).
nlohmann::json ReadHostStatus(const std::string& endpoint_dir);

/// Waits until the host has acted on `generation` and `deployment` (""
/// for none) is no longer Updating; returns that deployment's status object
/// (state, message, replicas). kUnavailable when the host dies or the time
/// runs out, with the end of its log.
StatusOr<nlohmann::json> WaitForHost(const std::string& endpoint_dir, int64_t generation,
                                     const std::string& deployment, double timeout_seconds);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_DEPLOY_LOCAL_ENDPOINTS_H_
