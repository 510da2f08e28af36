// Deployments against a workspace server: deployments list|show|keys|
// telemetry. Each prints what its local twin in deployments_commands.cc
// prints, from the same JSON the server answers with.

#include <nlohmann/json.hpp>

#include "cli/deployments_commands.h"
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

}  // namespace

std::map<std::string, RemoteCommand> RemoteDeploymentsCommands() {
  return {{"deployments list", List}, {"deployments show", Show},
          {"deployments keys", Keys}, {"deployments telemetry", Telemetry}};
}

}  // namespace amlc::cli
