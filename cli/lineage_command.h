#ifndef AMLC_CLI_LINEAGE_COMMAND_H_
#define AMLC_CLI_LINEAGE_COMMAND_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace amlc::cli {

/// `amlc lineage DEPLOYMENT|IMAGE:V|MODEL:V|RUN [--json]`: the chain from
/// what serves back to the code: deployment -> image digest -> model
/// versions -> run -> snapshot digest -> spec commit.
void AddLineageCommand(CLI::App& app, int& exit_code);

/// The chain as `lineage` prints it (indented text, or JSON), from
/// TraceLineage's JSON, a local one or a server's.
void PrintLineageAs(const nlohmann::json& chain, bool json_output);

}  // namespace amlc::cli

#endif  // AMLC_CLI_LINEAGE_COMMAND_H_
