#ifndef AMLC_CLI_REMOTE_COMMANDS_H_
#define AMLC_CLI_REMOTE_COMMANDS_H_

// The CLI as a client of a workspace server. Each workspace command is
// written once against the local folder (its own file); when a server is
// named (--server URL or $AMLC_SERVER) the command's callback is swapped,
// after parsing, for its remote twin here, which reads the same parsed
// options, calls the API and prints what the local command prints (the
// server's bodies are the local --json, runtime/views/record_json.h).
// Commands with a --workspace option and no twin yet say so instead of
// quietly reading a local folder.

#include <functional>
#include <map>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/list_output.h"
#include "cli/server_client.h"

namespace amlc::cli {

/// A command run against the server: reads its parsed options from
/// `command`, prints as the local command does, returns the exit code.
using RemoteCommand = std::function<int(const ServerClient& server, const CLI::App& command)>;

/// The remote twins, by command path ("runs list", "apply").
std::map<std::string, RemoteCommand> RemoteApplyCommands();
std::map<std::string, RemoteCommand> RemoteRunsCommands();
std::map<std::string, RemoteCommand> RemoteListCommands();
std::map<std::string, RemoteCommand> RemoteRegistryCommands();
std::map<std::string, RemoteCommand> RemoteDeploymentsCommands();
std::map<std::string, RemoteCommand> RemoteIdentityCommands();
std::map<std::string, RemoteCommand> RemoteSyncCommands();
std::map<std::string, RemoteCommand> RemoteDownloadCommands();

/// Adds the global --server and --ca-file options to `app` and, once it is
/// parsed, runs the chosen command remotely when a server is named. Call it
/// after every command is added.
void AddServerClient(CLI::App& app, int& exit_code);

/// The parsed value of `name` ("--where", or a positional's name) of
/// `command`; its default ("" when none) when it was not given, false for an absent flag.
std::string OptionText(const CLI::App& command, const std::string& name);
bool OptionFlag(const CLI::App& command, const std::string& name);
std::vector<std::string> OptionList(const CLI::App& command, const std::string& name);

/// The JSON body `server` answers a GET of `path` with, or nullopt with the
/// failure printed and its exit code in `exit_code`.
std::optional<nlohmann::json> GetJson(const ServerClient& server, const std::string& path, int& exit_code);

/// The JSON body of `answer` (to a call of `path`), or nullopt with the
/// failure printed and its exit code in `exit_code`.
std::optional<nlohmann::json> AnswerJson(const ServerClient& server, const ServerAnswer& answer,
                                         const std::string& path, int& exit_code);

/// `body` as the local commands' --json prints one document: indented by 2.
void PrintJson(const nlohmann::json& body);

/// The query string (from "?") a list command's options make, for ListTwin.
using QueryOf = std::function<std::string(const CLI::App& command)>;

/// A list command's twin: GET `path` plus `query`'s string, print the rows
/// with `columns` as -o asks (as AddWorkspaceListCommand's callback does).
RemoteCommand ListTwin(std::string path, const std::vector<ListColumn>& columns, QueryOf query = nullptr);

/// The -o of a list command: table, json, yaml or tsv, --json meaning json, as locally.
std::string OutputFormat(const CLI::App& command);

/// `value` encoded for a query string.
std::string QueryValue(const std::string& value);

}  // namespace amlc::cli

#endif  // AMLC_CLI_REMOTE_COMMANDS_H_
