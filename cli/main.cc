// amlc: a declarative ML platform you run yourself. Each subcommand lives in
// its own file under cli/ and registers itself on the CLI11 app here.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "cli/apply_commands.h"
#include "cli/compile_commands.h"
#include "cli/completion_command.h"
#include "cli/deployments_commands.h"
#include "cli/endpoint_host_command.h"
#include "cli/identity_commands.h"
#include "cli/job_create_command.h"
#include "cli/lineage_command.h"
#include "cli/login_commands.h"
#include "cli/endpoints_commands.h"
#include "cli/output.h"
#include "cli/reconcile_commands.h"
#include "cli/registry_commands.h"
#include "cli/remote_commands.h"
#include "cli/render_command.h"
#include "cli/runs_commands.h"
#include "cli/secrets_commands.h"
#include "cli/serve_command.h"
#include "cli/server_command.h"
#include "cli/state_commands.h"
#include "cli/sync_commands.h"
#include "cli/version_command.h"
#include "cli/workspace_lists.h"

namespace {

// Where exit status 2 means "changes present" (plan --detailed-exitcode,
// preview), a usage error is 1 like every other error.
bool TwoMeansChanges(const std::vector<std::string>& args) {
  return std::find(args.begin(), args.end(), "--detailed-exitcode") != args.end() ||
         (!args.empty() && args.front() == "preview");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "amlc compiles ML workspace specs (Azure ML CLI v2 YAML or the amlc DSL) into a typed\n"
      "dependency graph, plans and applies them.",
      "amlc"};
  app.set_version_flag("--version", amlc::cli::VersionLine());
  app.require_subcommand(1);
  app.footer("Run 'amlc COMMAND --help' for a command's options.");
  int exit_code = amlc::cli::kExitOk;
  amlc::cli::AddCompileCommands(app, exit_code);
  amlc::cli::AddApplyCommands(app, exit_code);
  amlc::cli::AddJobCreateCommand(app, exit_code);
  amlc::cli::AddRunsCommands(app, exit_code);
  amlc::cli::AddExperimentsCommands(app, exit_code);
  amlc::cli::AddRegistryCommands(app, exit_code);
  amlc::cli::AddEndpointsCommands(app, exit_code);
  amlc::cli::AddDeploymentsCommands(app, exit_code);
  amlc::cli::AddLineageCommand(app, exit_code);
  amlc::cli::AddServeCommand(app, exit_code);
  amlc::cli::AddEndpointHostCommand(app, exit_code);
  amlc::cli::AddRenderCommand(app, exit_code);
  amlc::cli::AddSecretsCommands(app, exit_code);
  amlc::cli::AddReconcileCommands(app, exit_code);
  amlc::cli::AddSyncCommands(app, exit_code);
  amlc::cli::AddServerCommand(app, exit_code);
  amlc::cli::AddIdentityCommands(app, exit_code);
  amlc::cli::AddLoginCommands(app, exit_code);
  amlc::cli::AddStateCommands(app, exit_code);
  amlc::cli::AddVersionCommand(app, exit_code);
  amlc::cli::AddCompletionCommand(app, exit_code);  // it reads the commands above
  amlc::cli::AddServerClient(app, exit_code);       // last: it routes the commands above to a server
  // Terraform users type `plan -out FILE`; CLI11 spells long options with two dashes.
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::string& arg : args) {
    if (arg == "-out" || arg.rfind("-out=", 0) == 0) arg.insert(0, "-");
  }
  bool two_means_changes = TwoMeansChanges(args);
  std::reverse(args.begin(), args.end());  // CLI11 takes them last to first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    if (code == 0) return amlc::cli::kExitOk;
    return two_means_changes ? amlc::cli::kExitSpecErrors : amlc::cli::kExitUsage;
  }
  return exit_code;
}
