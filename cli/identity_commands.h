#ifndef AMLC_CLI_IDENTITY_COMMANDS_H_
#define AMLC_CLI_IDENTITY_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc users`, `amlc tokens` and `amlc audit`: the workspace
/// server's users, API tokens and audit log, managed on the workspace folder
/// itself (whoever can write that folder manages them: its file permissions
/// are the trust boundary).
void AddIdentityCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_IDENTITY_COMMANDS_H_
