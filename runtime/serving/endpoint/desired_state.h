#ifndef AMLC_RUNTIME_SERVING_ENDPOINT_DESIRED_STATE_H_
#define AMLC_RUNTIME_SERVING_ENDPOINT_DESIRED_STATE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/deploy/deployment_settings.h"

// desired.json is the contract between `amlc apply` (the writer, through
// runtime/deploy/local_endpoints.h) and the endpoint host (the reader): this
// struct, DesiredStateToJson and ParseDesiredState are its only definition.
// Fields the file omits take the deployment defaults of
// runtime/deploy/deployment_settings.h, the same numbers apply writes.

namespace amlc::runtime::endpoint {

/// When and how far a deployment scales itself on the router's in-flight count.
struct AutoscaleSpec {
  bool enabled = false;
  int min = static_cast<int>(deploy::kDefaultMinReplicas);
  int max = static_cast<int>(deploy::kDefaultMaxReplicas);
  // in-flight requests per replica it aims at
  double target_in_flight = deploy::kDefaultTargetInFlightPerWorker * deploy::kDefaultWorkersPerReplica;
  // load above target this long: one more replica
  double scale_up_after_s = deploy::kDefaultScaleUpAfterS;
  // load below target/2 this long: one fewer
  double scale_down_after_s = deploy::kDefaultScaleDownAfterS;
  // how often the load is measured
  double polling_interval_s = deploy::kDefaultPollingIntervalS;
  bool operator==(const AutoscaleSpec&) const = default;
};

/// One deployment of the endpoint as the apply side wants it.
struct DeploymentSpec {
  std::string name;                   // its key in `deployments`, not written inside it
  std::string revision;               // opaque; a change means new replicas
  std::string image;                  // "NAME:VERSION", for people and plans; "" when none
  std::vector<std::string> command;   // the host appends --port 0 --port-file F --log-file F
  std::map<std::string, std::string> env;
  int instance_count = static_cast<int>(deploy::kDefaultInstanceCount);
  AutoscaleSpec autoscale;
  double readiness_timeout_s = deploy::kDefaultReadinessTimeoutS;
  bool operator==(const DeploymentSpec&) const = default;

  /// What identifies a set of replicas: a change of the revision, the command
  /// or the environment needs new processes, so it is a rollout.
  std::string RolloutKey() const;
  /// The replica count to start with: instance_count, inside [min, max] when
  /// autoscaling.
  int InitialReplicas() const;
};

/// The whole of DIR/desired.json.
struct DesiredState {
  std::string endpoint;
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = any free port
  std::string pin_header = "azureml-model-deployment";
  int64_t generation = 0;
  std::map<std::string, int> traffic;  // deployment -> percent; absent = 0
  std::map<std::string, DeploymentSpec> deployments;
  bool operator==(const DesiredState&) const = default;

  int TrafficOf(const std::string& deployment) const {
    auto found = traffic.find(deployment);
    return found == traffic.end() ? 0 : found->second;
  }
};

/// Parses and validates desired.json. kInvalidArgument lists every problem,
/// each with its JSON path ("deployments.blue.instance_count: ..."), an
/// unknown field too ("deployments.blue.replicas: unknown field").
StatusOr<DesiredState> ParseDesiredState(const std::string& text);

/// `state` as desired.json text, every field written (ParseDesiredState of it
/// gives `state` back when it is valid). Never fails.
std::string DesiredStateToJson(const DesiredState& state);

/// Reads and parses a desired.json file; kNotFound when it does not exist,
/// else as ParseDesiredState.
StatusOr<DesiredState> ReadDesiredState(const std::string& path);

}  // namespace amlc::runtime::endpoint

#endif  // AMLC_RUNTIME_SERVING_ENDPOINT_DESIRED_STATE_H_
