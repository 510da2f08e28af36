#include "cli/workspace_access.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/time.h"
#include "cli/output.h"

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
  return std::move(workspace.value());
}

std::string CurrentUser() {
  const char* override_user = std::getenv("AMLC_USER");
  if (override_user && *override_user) return override_user;
  struct passwd* entry = getpwuid(getuid());
  return entry ? entry->pw_name : "";
}

namespace {

WorkspaceRole RoleNamed(const std::string& name) {
  if (name == "owner") return WorkspaceRole::kOwner;
  if (name == "contributor") return WorkspaceRole::kContributor;
  if (name == "reader") return WorkspaceRole::kReader;
  return WorkspaceRole::kNone;
}

// The highest role `user` holds in a workspace spec's `roles` mapping.
WorkspaceRole RoleIn(const nlohmann::json& roles, const std::string& user) {
  WorkspaceRole best = WorkspaceRole::kNone;
  for (const auto& [role, members] : roles.items()) {
    if (!members.is_array()) continue;
    for (const nlohmann::json& member : members) {
      if (member.is_string() && member.get<std::string>() == user) best = std::max(best, RoleNamed(role));
    }
  }
  return best;
}

}  // namespace

StatusOr<WorkspaceAccess> CurrentAccess(runtime::Workspace& workspace) {
  WorkspaceAccess access;
  access.user = CurrentUser();
  auto records = workspace.state().ListResources();
  if (!records.ok()) return records.status();
  for (const runtime::ResourceRecord& record : records.value()) {
    if (record.kind != "workspace") continue;
    access.workspace = record.name;
    nlohmann::json spec = nlohmann::json::parse(record.spec_json, nullptr, false);
    if (!spec.is_object() || !spec.contains("roles") || !spec["roles"].is_object()) break;
    access.roles_declared = true;
    access.role = RoleIn(spec["roles"], access.user);
    break;
  }
  return access;
}

std::string RoleName(WorkspaceRole role) {
  switch (role) {
    case WorkspaceRole::kOwner: return "owner";
    case WorkspaceRole::kContributor: return "contributor";
    case WorkspaceRole::kReader: return "reader";
    case WorkspaceRole::kNone: break;
  }
  return "no role";
}

bool RequireRole(runtime::Workspace& workspace, WorkspaceRole needed, const std::string& action, int& exit_code) {
  auto access = CurrentAccess(workspace);
  if (!access.ok()) {
    std::fprintf(stderr, "amlc: error: cannot check your role: %s\n", access.status().message().c_str());
    exit_code = kExitSpecErrors;
    return false;
  }
  if (access->Allows(needed)) return true;
  std::string holds = access->role == WorkspaceRole::kNone ? "holds no role there"
                                                            : "is a " + RoleName(access->role);
  std::fprintf(stderr, "amlc: error: %s in workspace %s needs the %s role, and '%s' %s\n", action.c_str(),
               access->workspace.c_str(), RoleName(needed).c_str(), access->user.c_str(), holds.c_str());
  exit_code = kExitSpecErrors;
  return false;
}

std::string FormatTime(int64_t millis) {
  if (millis == 0) return "-";
  return FormatUtcTime(millis, "%Y-%m-%d %H:%M:%S");
}

}  // namespace amlc::cli
