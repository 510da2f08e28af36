#ifndef AMLC_CLI_RUNS_COMMANDS_H_
#define AMLC_CLI_RUNS_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace amlc::cli {

/// Registers `amlc runs list|show|logs|cancel` and `amlc metrics`.
void AddRunsCommands(CLI::App& app, int& exit_code);

/// `runs show`'s text of a run's JSON (runtime::RunWithChildrenJson): one
/// "key: value" line each, params, tags, metrics, inputs and outputs indented below.
void PrintRunDetails(const nlohmann::json& run);

}  // namespace amlc::cli

#endif  // AMLC_CLI_RUNS_COMMANDS_H_
