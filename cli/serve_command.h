#ifndef AMLC_CLI_SERVE_COMMAND_H_
#define AMLC_CLI_SERVE_COMMAND_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc serve`: one scoring replica (runtime/serving).
void AddServeCommand(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_SERVE_COMMAND_H_
