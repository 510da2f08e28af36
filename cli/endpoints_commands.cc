// `amlc endpoints invoke NAME --request-file F [--deployment D]`: one scoring
// request to a live endpoint, its address and key looked up in the workspace,
// so nobody has to build a curl line by hand.
#include "cli/endpoints_commands.h"

#include <httplib.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <random>

#include "cli/output.h"
#include "cli/workspace_lists.h"
#include "cli/workspace_access.h"
#include "runtime/deploy/local_endpoints.h"
#include "runtime/serving/endpoint/desired_state.h"
#include "runtime/views/record_json.h"

namespace amlc::cli {

namespace {

struct InvokeOptions {
  std::string workspace;
  std::string name;
  std::string request_file;
  std::string deployment;
  double timeout_seconds = 60;
};

void Fail(int& exit_code, int code, const std::string& message) {
  PrintError(message);
  exit_code = code;
}

// The deployment a request goes to: the one asked for, else one drawn by the
// endpoint's traffic split (keys are per deployment, so the request is pinned
// to the one whose key it carries; over many calls the split holds).
std::string ChooseDeployment(const runtime::endpoint::DesiredState& desired, const std::string& asked) {
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

void Invoke(const InvokeOptions& options, int& exit_code) {
  std::ifstream in(options.request_file, std::ios::binary);
  if (!in) return Fail(exit_code, kExitUsage, "cannot read the request file " + options.request_file);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  std::string dir = runtime::EndpointDir(*workspace, options.name);
  auto desired = runtime::endpoint::ReadDesiredState(runtime::DesiredStateFile(dir));
  if (!desired.ok() || desired->deployments.empty()) {
    return Fail(exit_code, kExitSpecErrors,
                "no endpoint '" + options.name + "' with deployments in this workspace (amlc deployments list)");
  }
  std::string deployment = ChooseDeployment(*desired, options.deployment);
  if (deployment.empty()) {
    return Fail(exit_code, kExitUsage,
                options.deployment.empty()
                    ? "endpoint '" + options.name + "' sends no traffic to any deployment; name one with --deployment"
                    : "endpoint '" + options.name + "' has no deployment '" + options.deployment + "'");
  }
  if (!runtime::EndpointHostRunning(dir)) {
    return Fail(exit_code, kExitSpecErrors,
                "endpoint '" + options.name + "' is not running; amlc apply DIR starts it again");
  }
  nlohmann::json status = runtime::ReadHostStatus(dir);
  auto keys = runtime::EnsureDeploymentKeys(*workspace, options.name, deployment);
  if (!keys.ok()) return Fail(exit_code, kExitSpecErrors, keys.status().message());
  httplib::Client client(status.value("host", std::string("127.0.0.1")), status.value("port", 0));
  client.set_connection_timeout(5);
  client.set_read_timeout(static_cast<time_t>(options.timeout_seconds));
  httplib::Headers headers = {{"Authorization", "Bearer " + keys->primary}, {desired->pin_header, deployment}};
  httplib::Result result = client.Post("/score", headers, body, "application/json");
  if (!result) {
    return Fail(exit_code, kExitSpecErrors,
                "endpoint '" + options.name + "' did not answer: " + httplib::to_string(result.error()));
  }
  std::fputs(result->body.c_str(), stdout);
  if (!result->body.empty() && result->body.back() != '\n') std::fputc('\n', stdout);
  if (result->status / 100 != 2) {
    return Fail(exit_code, kExitSpecErrors,
                "deployment '" + deployment + "' answered " + std::to_string(result->status));
  }
  exit_code = kExitOk;
}

}  // namespace

void AddEndpointsCommands(CLI::App& app, int& exit_code) {
  CLI::App* endpoints = app.add_subcommand("endpoints", "Online endpoints: list, invoke");
  endpoints->require_subcommand(1);
  CLI::App* list = endpoints->add_subcommand("list", "Endpoints: traffic split and their deployments");
  AddWorkspaceListCommand(list, kEndpointColumns, runtime::EndpointsJson, exit_code);
  auto options = std::make_shared<InvokeOptions>();
  CLI::App* invoke = endpoints->add_subcommand(
      "invoke", "Send a scoring request to an endpoint (address and key looked up in the workspace)");
  invoke->add_option("name", options->name, "The endpoint")->required();
  invoke->add_option("-r,--request-file", options->request_file, "File holding the JSON request body")->required();
  invoke->add_option("-d,--deployment", options->deployment,
                     "Send it to this deployment (default: one drawn by the endpoint's traffic)");
  invoke->add_option("--workspace", options->workspace, "Workspace home (default: $AMLC_WORKSPACE, else ./.amlc)");
  invoke->add_option("--timeout", options->timeout_seconds, "Seconds to wait for the answer")->capture_default_str();
  invoke->footer("Prints the scoring script's answer. Exit status: 0 a 2xx answer, 1 any other answer or no\n"
                 "endpoint, 2 usage errors.");
  invoke->callback([options, &exit_code] { Invoke(*options, exit_code); });
}

}  // namespace amlc::cli
