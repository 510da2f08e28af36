#ifndef AMLC_CLI_RUNS_COMMANDS_H_
#define AMLC_CLI_RUNS_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/list_output.h"

namespace amlc::cli {

/// Registers `amlc runs list|show|logs|cancel` and `amlc metrics`.
void AddRunsCommands(CLI::App& app, int& exit_code);

/// `runs show`'s text of a run's JSON (runtime::RunWithChildrenJson): one
/// "key: value" line each, params, tags, metrics, inputs and outputs indented below.
void PrintRunDetails(const nlohmann::json& run);
// The `activities` table, from ActivityJson rows (local or a server's).
void PrintActivityTable(const nlohmann::json& activities);
// `runs compare`'s table (or JSON array), from RunJson objects.
void PrintRunComparison(const std::vector<nlohmann::json>& runs, bool json_output, bool only_diff);

/// The columns of `-o tsv` and the field order of `-o yaml`, the same with
/// --server as without.
inline const std::vector<ListColumn> kRunListColumns = {
    {"RUN", "id"}, {"EXPERIMENT", "experiment"}, {"STATUS", "status"}, {"STARTED", "started_at"},
    {"DURATION", "duration"}};
inline const std::vector<ListColumn> kActivityColumns = {
    {"ID", "id"},           {"KIND", "kind"},         {"RESOURCE", "resource"}, {"STATUS", "status"},
    {"STARTED", "started_at"}, {"ENDED", "ended_at"}, {"MESSAGE", "message"}};
inline const std::vector<ListColumn> kMetricColumns = {
    {"NAME", "name"}, {"STEP", "step"}, {"VALUE", "value"}, {"TIMESTAMP", "timestamp"}};

}  // namespace amlc::cli

#endif  // AMLC_CLI_RUNS_COMMANDS_H_
