#ifndef AMLC_CLI_SERVER_COMMAND_H_
#define AMLC_CLI_SERVER_COMMAND_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc server`: the workspace's HTTP API for a team (server/).
void AddServerCommand(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_SERVER_COMMAND_H_
