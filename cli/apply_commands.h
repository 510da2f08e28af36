#ifndef AMLC_CLI_APPLY_COMMANDS_H_
#define AMLC_CLI_APPLY_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc plan` and `amlc apply`.
void AddApplyCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_APPLY_COMMANDS_H_
