#include "cli/workspace_lists.h"

#include <memory>
#include <string>

#include "cli/output.h"
#include "cli/workspace_access.h"
#include "runtime/views/record_json.h"

namespace amlc::cli {

namespace {

struct ListFlags {
  std::string workspace;
  std::string format = "table";
  bool json_output = false;
};

}  // namespace

const std::vector<ListColumn> kExperimentColumns = {{"NAME", "name"}};
const std::vector<ListColumn> kEndpointColumns = {{"NAME", "name"}, {"TRAFFIC", "traffic"}};

void AddWorkspaceListCommand(CLI::App* command, std::vector<ListColumn> columns, WorkspaceRows rows,
                             int& exit_code) {
  auto flags = std::make_shared<ListFlags>();
  command->add_option("--workspace", flags->workspace, "Workspace home (default: $AMLC_WORKSPACE, else ./.amlc)");
  command->add_flag("--json", flags->json_output, "Print JSON (as -o json)");
  AddListFormatOption(command, flags->format);
  command->callback([flags, columns = std::move(columns), rows = std::move(rows), &exit_code] {
    auto workspace = OpenExistingWorkspace(flags->workspace, exit_code);
    if (!workspace) return;
    StatusOr<nlohmann::json> read = rows(*workspace);
    if (!read.ok()) {
      PrintError(read.status().message());
      exit_code = kExitSpecErrors;
      return;
    }
    exit_code = kExitOk;
    PrintList(*read, columns, ListFormat(flags->format, flags->json_output));
  });
}

void AddExperimentsCommands(CLI::App& app, int& exit_code) {
  CLI::App* experiments = app.add_subcommand("experiments", "Experiments: groups of runs (list)");
  experiments->require_subcommand(1);
  CLI::App* list = experiments->add_subcommand("list", "The workspace's experiments");
  AddWorkspaceListCommand(list, kExperimentColumns,
                          [](runtime::Workspace& workspace) { return runtime::ExperimentsJson(workspace.state()); },
                          exit_code);
}

}  // namespace amlc::cli
