#ifndef AMLC_CLI_RECONCILE_COMMANDS_H_
#define AMLC_CLI_RECONCILE_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace amlc::cli {

/// `amlc reconcile`, `amlc status` and `amlc preview`.
void AddReconcileCommands(CLI::App& app, int& exit_code);

/// The "Last sync" line of `amlc status` for a sync (runtime::SyncJson's), and
/// its table of each resource's sync status and health; `status` with a
/// workspace server prints them from the newest sync the server has.
void PrintLastSyncLine(const nlohmann::json& sync);
void PrintResourceTable(const nlohmann::json& resources);

}  // namespace amlc::cli

#endif  // AMLC_CLI_RECONCILE_COMMANDS_H_
