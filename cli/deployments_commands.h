#ifndef AMLC_CLI_DEPLOYMENTS_COMMANDS_H_
#define AMLC_CLI_DEPLOYMENTS_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc deployments list|show|logs|delete|keys|telemetry`.
void AddDeploymentsCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_DEPLOYMENTS_COMMANDS_H_
