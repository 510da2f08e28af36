// The reconciler's record against a workspace server: syncs list|show and
// status. A reconciler working on a workspace records each sync in its
// state store, which the server serves at /api/v1/syncs; `amlc status`
// shows the workspace's status (/api/v1/status): runs by status, the caller
// and the newest sync with its resources. The local commands ask a running
// reconciler's own API instead (their --server); given that, they still do.

#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/output.h"
#include "cli/reconcile_commands.h"
#include "cli/remote_commands.h"
#include "cli/sync_commands.h"

namespace amlc::cli {

namespace {

using nlohmann::json;

int SyncsList(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> syncs =
      GetJson(server, "/api/v1/syncs?limit=" + QueryValue(OptionText(command, "--limit")), exit_code);
  if (!syncs) return exit_code;
  PrintSyncRows(*syncs, OutputFormat(command));
  return kExitOk;
}

int SyncsShow(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::string path = "/api/v1/syncs/" + QueryValue(OptionText(command, "id"));
  ServerAnswer answer = server.Get(path);
  std::optional<json> sync = AnswerJson(server, answer, path, exit_code);
  // A sync that is not there is exit status 1 from the reconciler's own API too.
  if (!sync) return answer.status == 404 ? kExitSpecErrors : exit_code;
  PrintSync(*sync, OptionFlag(command, "--json"));
  return kExitOk;
}

// "3 queued, 1 running, ..." of the server's runs by status.
std::string RunCounts(const json& runs) {
  std::string text;
  for (const char* status : {"Queued", "Running", "Completed", "Failed", "Canceled"}) {
    std::string lower = status;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    text += (text.empty() ? "" : ", ") + std::to_string(runs.value(status, 0)) + " " + lower;
  }
  return text;
}

void PrintWorkspaceStatus(const json& status) {
  const json& you = status.value("you", json::object());
  std::printf("Workspace   %s (state serial %s)\n", status.value("workspace", "").c_str(),
              status.value("state_serial", json()).dump().c_str());
  std::printf("You         %s (%s)\n", you.value("user", "").c_str(), you.value("role", "").c_str());
  std::printf("Runs        %s\n", RunCounts(status.value("runs", json::object())).c_str());
  const json& sync = status.value("last_sync", json());
  if (!sync.is_object()) {
    std::printf("Last sync   none: no reconciler has synced this workspace (amlc reconcile --workspace HOME)\n");
    return;
  }
  std::printf("Commit      %s %s\n", sync.value("commit", "").substr(0, 7).c_str(), sync.value("message", "").c_str());
  PrintLastSyncLine(sync);
  PrintResourceTable(status.value("resources", json::array()));
}

int ShowStatus(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> status = GetJson(server, "/api/v1/status", exit_code);
  if (!status) return exit_code;
  if (OptionFlag(command, "--json")) {
    PrintJson(*status);
  } else {
    PrintWorkspaceStatus(*status);
  }
  return kExitOk;
}

}  // namespace

std::map<std::string, RemoteCommand> RemoteSyncCommands() {
  return {{"syncs list", SyncsList}, {"syncs show", SyncsShow}, {"status", ShowStatus}};
}

}  // namespace amlc::cli
