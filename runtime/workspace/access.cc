#include "runtime/workspace/access.h"

#include "runtime/workspace/identity.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace amlc::runtime {

std::string CurrentUser() {
  const char* override_user = std::getenv("AMLC_USER");
  if (override_user && *override_user) return override_user;
  struct passwd* entry = getpwuid(getuid());
  return entry ? entry->pw_name : "";
}

WorkspaceRole RoleNamed(const std::string& name) {
  if (name == "owner") return WorkspaceRole::kOwner;
  if (name == "contributor") return WorkspaceRole::kContributor;
  if (name == "reader") return WorkspaceRole::kReader;
  return WorkspaceRole::kNone;
}

namespace {

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

StatusOr<WorkspaceAccess> CurrentAccess(Workspace& workspace) {
  WorkspaceAccess access;
  access.user = CurrentUser();
  auto records = workspace.state().ListResources();
  if (!records.ok()) return records.status();
  for (const ResourceRecord& record : records.value()) {
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

StatusOr<std::vector<std::string>> RolesRaisedBy(Workspace& workspace, const std::string& new_spec_json) {
  nlohmann::json spec = nlohmann::json::parse(new_spec_json, nullptr, false);
  std::vector<std::string> raised;
  if (!spec.is_object() || !spec.contains("roles") || !spec["roles"].is_object()) return raised;
  auto records = workspace.state().ListResources();
  if (!records.ok()) return records.status();
  nlohmann::json applied_roles;  // null: none declared, everyone may do everything
  for (const ResourceRecord& record : records.value()) {
    if (record.kind != "workspace") continue;
    nlohmann::json applied = nlohmann::json::parse(record.spec_json, nullptr, false);
    if (applied.is_object() && applied.contains("roles") && applied["roles"].is_object()) applied_roles = applied["roles"];
  }
  if (applied_roles.is_null()) return raised;
  for (const auto& [role, members] : spec["roles"].items()) {
    if (!members.is_array()) continue;
    for (const auto& member : members) {
      if (!member.is_string()) continue;
      std::string user = member.get<std::string>();
      WorkspaceRole before = RoleIn(applied_roles, user), after = RoleIn(spec["roles"], user);
      if (after > before) raised.push_back(user + ": " + RoleName(before) + " -> " + RoleName(after));
    }
  }
  std::sort(raised.begin(), raised.end());
  raised.erase(std::unique(raised.begin(), raised.end()), raised.end());
  return raised;
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

Status CheckRole(Workspace& workspace, WorkspaceRole needed, const std::string& action) {
  auto access = CurrentAccess(workspace);
  if (!access.ok()) return Status(access.status().code(), "cannot check your role: " + access.status().message());
  if (access->Allows(needed)) return Status::Ok();
  std::string holds = access->role == WorkspaceRole::kNone ? "holds no role there"
                                                            : "is a " + RoleName(access->role);
  return Status(StatusCode::kFailedPrecondition, action + " in workspace " + access->workspace + " needs the " +
                                                     RoleName(needed) + " role, and '" + access->user + "' " + holds);
}

}  // namespace amlc::runtime
