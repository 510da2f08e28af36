#include "cli/workspace_access.h"

#include <cstdio>
#include <filesystem>

#include "cli/output.h"
#include "runtime/views/record_json.h"

namespace amlc::cli {

std::unique_ptr<runtime::Workspace> OpenExistingWorkspace(const std::string& workspace_flag, int& exit_code) {
  std::string home = runtime::DefaultWorkspaceHome(".", workspace_flag);
  if (!std::filesystem::exists(home + "/state.db")) {
    std::fprintf(stderr, "amlc: error: no workspace at '%s' (apply some specs first, or pass --workspace)\n",
                 home.c_str());
    exit_code = kExitUsage;
    return nullptr;
  }
  auto workspace = runtime::Workspace::Open(home);
  if (!workspace.ok()) {
    std::fprintf(stderr, "amlc: error: %s\n", workspace.status().message().c_str());
    exit_code = kExitSpecErrors;
    return nullptr;
  }
  PrintWorkspaceNotes(*workspace.value());
  return std::move(workspace.value());
}

void PrintWorkspaceNotes(const runtime::Workspace& workspace) {
  for (const std::string& note : workspace.notes()) std::fprintf(stderr, "amlc: note: %s\n", note.c_str());
}

bool RequireRole(runtime::Workspace& workspace, WorkspaceRole needed, const std::string& action, int& exit_code) {
  Status allowed = runtime::CheckRole(workspace, needed, action);
  if (allowed.ok()) return true;
  std::fprintf(stderr, "amlc: error: %s\n", allowed.message().c_str());
  exit_code = kExitDenied;  // as a workspace server's 403 is for its client
  return false;
}

std::string FormatTime(int64_t millis) { return runtime::DisplayTime(millis); }

}  // namespace amlc::cli
