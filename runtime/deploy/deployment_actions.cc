#include "runtime/deploy/deployment_actions.h"

#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "runtime/deploy/local_endpoints.h"
#include "runtime/serving/endpoint/desired_state.h"
#include "runtime/views/record_json.h"

namespace amlc::runtime {

namespace {

namespace fs = std::filesystem;

// The deployment a request goes to: the one asked for, else one drawn by the
// endpoint's traffic split (keys are per deployment, so the request is pinned
// to the one whose key it carries; over many calls the split holds).
std::string ChooseDeployment(const endpoint::DesiredState& desired, const std::string& asked) {
  if (!asked.empty()) return desired.deployments.count(asked) ? asked : "";
  std::vector<std::string> names;
  std::vector<int> weights;
  for (const auto& [name, spec] : desired.deployments) {
    names.push_back(name);
    weights.push_back(desired.TrafficOf(name));
  }
  if (names.size() == 1) return names.front();
  int total = 0;
  for (int weight : weights) total += weight;
  if (total == 0) return "";
  std::mt19937 random(std::random_device{}());
  std::discrete_distribution<size_t> draw(weights.begin(), weights.end());
  return names[draw(random)];
}

}  // namespace

StatusOr<DeploymentRef> FindDeployment(Workspace& workspace, const std::string& name) {
  std::optional<nlohmann::json> found = DeploymentJson(workspace, name, 0);
  if (!found) {
    return Status(StatusCode::kNotFound, "no deployment '" + name + "' in this workspace (amlc deployments list)");
  }
  return DeploymentRef{name, found->value("endpoint", "")};
}

std::string DeploymentLogs(Workspace& workspace, const DeploymentRef& deployment) {
  std::vector<fs::path> logs;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(EndpointDir(workspace, deployment.endpoint) + "/replicas", error)) {
    std::string file = entry.path().filename().string();
    if (file.rfind(deployment.name + "-", 0) == 0 && file.ends_with(".log")) logs.push_back(entry.path());
  }
  std::sort(logs.begin(), logs.end());
  std::string text;
  for (const fs::path& log : logs) {
    text += "== " + log.filename().string() + "\n";
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) text += line + "\n";
  }
  return text;
}

Status DeleteDeployment(Workspace& workspace, const DeploymentRef& deployment) {
  std::string dir = EndpointDir(workspace, deployment.endpoint);
  auto generation = UpdateDesiredState(dir, [&](endpoint::DesiredState& desired) {
    // The host refuses a split naming a deployment it does not have.
    desired.deployments.erase(deployment.name);
    desired.traffic.erase(deployment.name);
  });
  if (!generation.ok()) return generation.status();
  if (EndpointHostRunning(dir)) {
    auto waited = WaitForHost(dir, generation.value(), "", 60);
    if (!waited.ok()) return waited.status();
  }
  workspace.state().DeleteResource("deployment/" + deployment.name);
  return Status::Ok();
}

StatusOr<ScoreAnswer> InvokeEndpoint(Workspace& workspace, const std::string& endpoint, const std::string& asked,
                                     const std::string& body, double timeout_seconds) {
  std::string dir = EndpointDir(workspace, endpoint);
  auto desired = endpoint::ReadDesiredState(DesiredStateFile(dir));
  if (!desired.ok() || desired->deployments.empty()) {
    return Status(StatusCode::kNotFound,
                  "no endpoint '" + endpoint + "' with deployments in this workspace (amlc deployments list)");
  }
  std::string deployment = ChooseDeployment(*desired, asked);
  if (deployment.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  asked.empty() ? "endpoint '" + endpoint + "' sends no traffic to any deployment; name one with --deployment"
                                : "endpoint '" + endpoint + "' has no deployment '" + asked + "'");
  }
  if (!EndpointHostRunning(dir)) {
    return Status(StatusCode::kFailedPrecondition,
                  "endpoint '" + endpoint + "' is not running; amlc apply DIR starts it again");
  }
  nlohmann::json status = ReadHostStatus(dir);
  auto keys = EnsureDeploymentKeys(workspace, endpoint, deployment);
  if (!keys.ok()) return Status(StatusCode::kFailedPrecondition, keys.status().message());
  httplib::Client client(status.value("host", std::string("127.0.0.1")), status.value("port", 0));
  client.set_connection_timeout(5);
  client.set_read_timeout(static_cast<time_t>(timeout_seconds));
  httplib::Headers headers = {{"Authorization", "Bearer " + keys->primary}, {desired->pin_header, deployment}};
  httplib::Result result = client.Post("/score", headers, body, "application/json");
  if (!result) {
    return Status(StatusCode::kUnavailable,
                  "endpoint '" + endpoint + "' did not answer: " + httplib::to_string(result.error()));
  }
  return ScoreAnswer{deployment, result->status, result->body};
}

}  // namespace amlc::runtime
