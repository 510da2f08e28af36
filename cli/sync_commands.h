#ifndef AMLC_CLI_SYNC_COMMANDS_H_
#define AMLC_CLI_SYNC_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc sync` (a pass now) and `amlc syncs list|show ID`, clients
/// of a running reconciler's API.
void AddSyncCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_SYNC_COMMANDS_H_
