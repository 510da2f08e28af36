#ifndef AMLC_CLI_COMPILE_COMMANDS_H_
#define AMLC_CLI_COMPILE_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc validate` and `amlc graph`; the chosen one runs from main
/// and sets `exit_code`.
void AddCompileCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_COMPILE_COMMANDS_H_
