#ifndef AMLC_CLI_SYNC_COMMANDS_H_
#define AMLC_CLI_SYNC_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace amlc::cli {

/// Registers `amlc sync` (a pass now) and `amlc syncs list|show ID`, clients
/// of a running reconciler's API.
void AddSyncCommands(CLI::App& app, int& exit_code);

/// What `syncs list` prints for `syncs` (runtime::SyncJson's), as -o asks,
/// and what `syncs show` prints for one; shared with their twins against a
/// workspace server, which serves the same records.
void PrintSyncRows(nlohmann::json syncs, const std::string& format);
void PrintSync(const nlohmann::json& sync, bool json_output);

}  // namespace amlc::cli

#endif  // AMLC_CLI_SYNC_COMMANDS_H_
