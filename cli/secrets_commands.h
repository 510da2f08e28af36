#ifndef AMLC_CLI_SECRETS_COMMANDS_H_
#define AMLC_CLI_SECRETS_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc secrets set|list|delete`: the workspace's encrypted secret
/// store. No command prints a value; set and delete need the Owner role
/// when the workspace declares roles.
void AddSecretsCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_SECRETS_COMMANDS_H_
