#ifndef AMLC_CLI_DEPLOYMENTS_COMMANDS_H_
#define AMLC_CLI_DEPLOYMENTS_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace amlc::cli {

/// Registers `amlc deployments list|show|logs|delete|keys|telemetry`.
void AddDeploymentsCommands(CLI::App& app, int& exit_code);

/// What `deployments list|show|keys|telemetry` print, from the JSON the
/// workspace holds and its server answers (runtime/views/record_json.h);
/// the remote twins (remote_deployments.cc) print through these too.
void PrintDeploymentRows(const nlohmann::json& rows, const std::string& format);
void PrintDeployment(const nlohmann::json& deployment, bool json_output);
void PrintKeys(const nlohmann::json& keys, bool json_output);
void PrintTelemetryRows(const nlohmann::json& records, const std::string& format);
/// What `deployments delete` prints once deployment `name` is deleted.
void PrintDeploymentDeleted(const std::string& name);

}  // namespace amlc::cli

#endif  // AMLC_CLI_DEPLOYMENTS_COMMANDS_H_
