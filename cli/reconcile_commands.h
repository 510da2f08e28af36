#ifndef AMLC_CLI_RECONCILE_COMMANDS_H_
#define AMLC_CLI_RECONCILE_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// `amlc reconcile`, `amlc status` and `amlc preview`.
void AddReconcileCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_RECONCILE_COMMANDS_H_
