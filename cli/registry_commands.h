#ifndef AMLC_CLI_REGISTRY_COMMANDS_H_
#define AMLC_CLI_REGISTRY_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc models register|list|show|download|delete|tag` and
/// `amlc images list|show|tag|push|delete`.
void AddRegistryCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_REGISTRY_COMMANDS_H_
