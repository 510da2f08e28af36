#ifndef AMLC_CLI_STATE_COMMANDS_H_
#define AMLC_CLI_STATE_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc state migrate --from sqlite:PATH --to postgresql://...`.
void AddStateCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_STATE_COMMANDS_H_
