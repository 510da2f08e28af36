// The workspace lists against a workspace server: experiments list,
// endpoints list (and the list twins of other families). Each prints what its local twin in workspace_lists.cc
// prints, from the same rows the server answers with.

#include <nlohmann/json.hpp>

#include "cli/list_output.h"
#include "cli/output.h"
#include "cli/remote_commands.h"
#include "cli/workspace_lists.h"

namespace amlc::cli {

RemoteCommand ListTwin(std::string path, const std::vector<ListColumn>& columns, QueryOf query) {
  return [path = std::move(path), &columns, query](const ServerClient& server, const CLI::App& command) -> int {
    int exit_code = kExitOk;
    std::optional<nlohmann::json> rows = GetJson(server, path + (query ? query(command) : ""), exit_code);
    if (!rows) return exit_code;
    PrintList(*rows, columns, OutputFormat(command));
    return kExitOk;
  };
}

std::map<std::string, RemoteCommand> RemoteListCommands() {
  return {{"experiments list", ListTwin("/api/v1/experiments", kExperimentColumns)},
          {"endpoints list", ListTwin("/api/v1/endpoints", kEndpointColumns)}};
}

}  // namespace amlc::cli
