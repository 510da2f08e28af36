#ifndef AMLC_CLI_RUNS_COMMANDS_H_
#define AMLC_CLI_RUNS_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc runs list|show|logs|cancel` and `amlc metrics`.
void AddRunsCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_RUNS_COMMANDS_H_
