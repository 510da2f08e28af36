#ifndef AMLC_CLI_ENDPOINTS_COMMANDS_H_
#define AMLC_CLI_ENDPOINTS_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc endpoints invoke` (as `az ml online-endpoint invoke`).
void AddEndpointsCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_ENDPOINTS_COMMANDS_H_
