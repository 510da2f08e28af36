// `amlc endpoints invoke NAME --request-file F [--deployment D]`: one scoring
// request to a live endpoint, its address and key looked up in the workspace,
// so nobody has to build a curl line by hand.
#include "cli/endpoints_commands.h"

#include <cstdio>
#include <fstream>
#include <memory>

#include "cli/output.h"
#include "cli/workspace_lists.h"
#include "cli/workspace_access.h"
#include "runtime/deploy/deployment_actions.h"
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

void Invoke(const InvokeOptions& options, int& exit_code) {
  std::ifstream in(options.request_file, std::ios::binary);
  if (!in) return Fail(exit_code, kExitUsage, "cannot read the request file " + options.request_file);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto workspace = OpenExistingWorkspace(options.workspace, exit_code);
  if (!workspace) return;
  auto answer = runtime::InvokeEndpoint(*workspace, options.name, options.deployment, body, options.timeout_seconds);
  if (!answer.ok()) {
    // No such endpoint is an answer that is not 2xx (1), as the footer says; a deployment that cannot be chosen is usage.
    bool usage = answer.status().code() == StatusCode::kInvalidArgument;
    return Fail(exit_code, usage ? kExitUsage : kExitSpecErrors, answer.status().message());
  }
  exit_code = PrintScoreAnswer(answer->deployment, answer->status, answer->body);
}

}  // namespace

int PrintScoreAnswer(const std::string& deployment, int status, const std::string& body) {
  std::fputs(body.c_str(), stdout);
  if (!body.empty() && body.back() != '\n') std::fputc('\n', stdout);
  if (status / 100 == 2) return kExitOk;
  PrintError("deployment '" + deployment + "' answered " + std::to_string(status));
  return kExitSpecErrors;
}

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
