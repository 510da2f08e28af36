#ifndef AMLC_CLI_LOGIN_COMMANDS_H_
#define AMLC_CLI_LOGIN_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc login` (check a token against a workspace server and
/// save it in the credentials file) and `amlc logout` (forget it).
void AddLoginCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_LOGIN_COMMANDS_H_
