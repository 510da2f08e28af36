#ifndef AMLC_CLI_WORKSPACE_LISTS_H_
#define AMLC_CLI_WORKSPACE_LISTS_H_

// List commands that read one JSON array from the workspace (the rows the
// workspace server answers too) and print it as `-o` asks:
// `experiments list`, `endpoints list`.
#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/status.h"
#include "cli/list_output.h"
#include "runtime/workspace/workspace.h"

namespace amlc::cli {

using WorkspaceRows = std::function<StatusOr<nlohmann::json>(runtime::Workspace&)>;

/// The columns of `experiments list` and `endpoints list` tables, shared
/// with their remote twins (remote_lists.cc).
extern const std::vector<ListColumn> kExperimentColumns;
extern const std::vector<ListColumn> kEndpointColumns;

/// Gives `command` --workspace, --json and -o, and a callback printing `rows`.
void AddWorkspaceListCommand(CLI::App* command, std::vector<ListColumn> columns, WorkspaceRows rows,
                             int& exit_code);

/// Registers `experiments list`.
void AddExperimentsCommands(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_WORKSPACE_LISTS_H_
