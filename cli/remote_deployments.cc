// Deployments against a workspace server: deployments list|show|logs|
// delete|keys|telemetry and endpoints invoke. Each prints what its local twin
// in deployments_commands.cc or endpoints_commands.cc prints, from the same
// JSON the server answers with (runtime/deploy/deployment_actions.h does
// the work on both sides).

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include "cli/deployments_commands.h"
#include "cli/endpoints_commands.h"
#include "cli/list_output.h"
#include "cli/output.h"
#include "cli/remote_commands.h"

namespace amlc::cli {

namespace {

using nlohmann::json;

std::string DeploymentPath(const CLI::App& command) {
  return "/api/v1/deployments/" + QueryValue(OptionText(command, "name"));
}

int List(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> rows = GetJson(server, "/api/v1/deployments", exit_code);
  if (!rows) return exit_code;
  PrintDeploymentRows(*rows, OutputFormat(command));
  return kExitOk;
}

int Show(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> deployment =
      GetJson(server, DeploymentPath(command) + "?limit=" + QueryValue(OptionText(command, "--limit")), exit_code);
  if (!deployment) return exit_code;
  PrintDeployment(*deployment, OptionFlag(command, "--json"));
  return kExitOk;
}

int Keys(const ServerClient& server, const CLI::App& command) {
  std::string regenerate = OptionText(command, "--regenerate");
  ServerAnswer answer = regenerate.empty()
                            ? server.Get(DeploymentPath(command) + "/keys")
                            : server.Post(DeploymentPath(command) + "/keys/regenerate", json{{"key", regenerate}}.dump());
  if (!answer.ok()) return ReportServerFailure(server.target(), answer);
  json keys = json::parse(answer.body, nullptr, false);
  if (!keys.is_object()) {
    PrintError(server.target().url + " sent no keys for " + OptionText(command, "name"));
    return kExitSpecErrors;
  }
  PrintKeys(keys, OptionFlag(command, "--json"));
  return kExitOk;
}

int Telemetry(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> records = GetJson(
      server, DeploymentPath(command) + "/telemetry?limit=" + QueryValue(OptionText(command, "--limit")), exit_code);
  if (!records) return exit_code;
  PrintTelemetryRows(*records, OutputFormat(command));
  return kExitOk;
}

int Logs(const ServerClient& server, const CLI::App& command) {
  ServerAnswer answer = server.Get(DeploymentPath(command) + "/logs");
  if (!answer.ok()) return ReportServerFailure(server.target(), answer);
  std::fputs(answer.body.c_str(), stdout);
  return kExitOk;
}

int Delete(const ServerClient& server, const CLI::App& command) {
  ServerAnswer answer = server.Delete(DeploymentPath(command));
  if (!answer.ok()) return ReportServerFailure(server.target(), answer);
  PrintDeploymentDeleted(OptionText(command, "name"));
  return kExitOk;
}

// POST /api/v1/endpoints/{name}/invoke: the server sends the request with
// the deployment's key (which the caller need not be able to read) and
// answers with the deployment's status and body.
int Invoke(const ServerClient& server, const CLI::App& command) {
  std::string request_file = OptionText(command, "--request-file");
  std::ifstream in(request_file, std::ios::binary);
  if (!in) {
    PrintError("cannot read the request file " + request_file);
    return kExitUsage;
  }
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string path = "/api/v1/endpoints/" + QueryValue(OptionText(command, "name")) +
                     "/invoke?timeout=" + QueryValue(OptionText(command, "--timeout"));
  if (std::string deployment = OptionText(command, "--deployment"); !deployment.empty()) {
    path += "&deployment=" + QueryValue(deployment);
  }
  ServerAnswer answer = server.Post(path, body);
  if (!answer.ok()) {
    int exit_code = ReportServerFailure(server.target(), answer);
    // No such endpoint is exit status 1 locally (endpoints invoke --help), not a usage error.
    return answer.status == 404 ? kExitSpecErrors : exit_code;
  }
  int exit_code = kExitOk;
  std::optional<json> score = AnswerJson(server, answer, path, exit_code);
  if (!score) return exit_code;
  return PrintScoreAnswer(score->value("deployment", ""), score->value("status", 0), score->value("body", ""));
}

}  // namespace

std::map<std::string, RemoteCommand> RemoteDeploymentsCommands() {
  return {{"deployments list", List},          {"deployments show", Show},   {"deployments logs", Logs},
          {"deployments delete", Delete},      {"deployments keys", Keys},   {"deployments telemetry", Telemetry},
          {"endpoints invoke", Invoke}};
}

}  // namespace amlc::cli
