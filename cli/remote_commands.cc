#include "cli/remote_commands.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/url.h"
#include "cli/list_output.h"
#include "cli/output.h"

namespace amlc::cli {

namespace {

struct ServerFlags {
  std::string server;
  std::string ca_file;
};

// Commands that stay local with a server named: the server itself, and a
// reconciler's client (status, syncs) given its own --server after the
// command name, which is a reconciler's address.
bool AlwaysLocal(const std::string& path, const CLI::App& command) {
  const CLI::Option* own_server = command.get_option_no_throw("--server");
  return path == "server" || (own_server != nullptr && own_server->count() > 0);
}

// The chosen leaf command and its path ("runs list").
CLI::App* ChosenCommand(CLI::App& app, std::string& path) {
  CLI::App* command = &app;
  while (!command->get_subcommands().empty()) {
    command = command->get_subcommands().front();
    path += (path.empty() ? "" : " ") + command->get_name();
  }
  return command == &app ? nullptr : command;
}

std::map<std::string, RemoteCommand> AllRemoteCommands() {
  std::map<std::string, RemoteCommand> all = RemoteApplyCommands();
  all.merge(RemoteRunsCommands());
  all.merge(RemoteListCommands());
  all.merge(RemoteRegistryCommands());
  all.merge(RemoteDeploymentsCommands());
  all.merge(RemoteIdentityCommands());
  all.merge(RemoteSyncCommands());
  all.merge(RemoteDownloadCommands());
  return all;
}

// Swaps the chosen command's callback for its remote twin when a server is named.
void RouteChosenCommand(CLI::App& app, const ServerFlags& flags, int& exit_code) {
  std::string path;
  CLI::App* command = ChosenCommand(app, path);
  if (!command || AlwaysLocal(path, *command)) return;
  std::map<std::string, RemoteCommand> remote = AllRemoteCommands();
  auto twin = remote.find(path);
  bool reads_workspace = command->get_option_no_throw("--workspace") != nullptr;
  if (twin == remote.end() && !reads_workspace) return;
  StatusOr<std::optional<ServerTarget>> target = ResolveServer(flags.server, flags.ca_file);
  if (target.ok() && !target->has_value()) return;  // no server: the local folder
  if (!target.ok()) {
    command->callback([&exit_code, message = target.status().message()] {
      PrintError(message);
      exit_code = kExitUsage;
    });
    return;
  }
  if (twin == remote.end()) {
    command->callback([&exit_code, path] {
      PrintError("'amlc " + path + "' works on a local workspace folder only, not yet with --server");
      exit_code = kExitUsage;
    });
    return;
  }
  command->callback([&exit_code, command, run = twin->second, client = ServerClient(**target)] {
    exit_code = run(client, *command);
  });
}

}  // namespace

std::string OptionText(const CLI::App& command, const std::string& name) {
  const CLI::Option* option = command.get_option_no_throw(name);
  if (option == nullptr) return "";
  return option->count() == 0 ? option->get_default_str() : option->as<std::string>();
}

bool OptionFlag(const CLI::App& command, const std::string& name) {
  const CLI::Option* option = command.get_option_no_throw(name);
  return option != nullptr && option->count() > 0;
}

std::vector<std::string> OptionList(const CLI::App& command, const std::string& name) {
  const CLI::Option* option = command.get_option_no_throw(name);
  if (option == nullptr || option->count() == 0) return {};
  return option->results();
}

std::string OutputFormat(const CLI::App& command) {
  return ListFormat(OptionText(command, "--output"), OptionFlag(command, "--json"));
}

std::string QueryValue(const std::string& value) { return PercentEncode(value); }

std::optional<nlohmann::json> GetJson(const ServerClient& server, const std::string& path, int& exit_code) {
  return AnswerJson(server, server.Get(path), path, exit_code);
}

std::optional<nlohmann::json> AnswerJson(const ServerClient& server, const ServerAnswer& answer,
                                         const std::string& path, int& exit_code) {
  if (!answer.ok()) {
    exit_code = ReportServerFailure(server.target(), answer);
    return std::nullopt;
  }
  nlohmann::json body = nlohmann::json::parse(answer.body, nullptr, false);
  if (body.is_discarded()) {
    PrintError(server.target().url + " sent no JSON for " + path);
    exit_code = kExitSpecErrors;
    return std::nullopt;
  }
  return body;
}

void PrintJson(const nlohmann::json& body) { std::printf("%s\n", body.dump(2).c_str()); }

void AddServerClient(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServerFlags>();
  app.add_option("--server", flags->server,
                 "Work on the workspace served by `amlc server` at URL instead of a local folder "
                 "(default: $AMLC_SERVER); the token is $AMLC_TOKEN or the one `amlc login` saved");
  app.add_option("--ca-file", flags->ca_file,
                 "PEM CA bundle to check an https:// server's certificate against (default: $AMLC_CA_FILE, "
                 "else the system's CAs)");
  app.parse_complete_callback([&app, flags, &exit_code] { RouteChosenCommand(app, *flags, exit_code); });
}

}  // namespace amlc::cli
