#ifndef AMLC_CLI_WORKSPACE_ACCESS_H_
#define AMLC_CLI_WORKSPACE_ACCESS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/workspace/workspace.h"

namespace amlc::cli {

/// The workspace the query commands read (--workspace, else $AMLC_WORKSPACE,
/// else ./.amlc); nullptr, with the error printed and `exit_code` set, when
/// there is none yet or it cannot be opened.
std::unique_ptr<runtime::Workspace> OpenExistingWorkspace(const std::string& workspace_flag, int& exit_code);

/// The roles a workspace spec declares, lowest first.
enum class WorkspaceRole { kNone, kReader, kContributor, kOwner };

/// Who runs this command and what the workspace spec, as applied, lets them do.
struct WorkspaceAccess {
  std::string user;              // $AMLC_USER, else the login name
  std::string workspace;         // the workspace spec's name; "" when none was applied
  bool roles_declared = false;   // a workspace without roles lets everyone do everything
  WorkspaceRole role = WorkspaceRole::kNone;  // the highest role the user holds

  bool Allows(WorkspaceRole needed) const { return !roles_declared || role >= needed; }
};

/// The user running this command: $AMLC_USER when set, else the login name.
std::string CurrentUser();

/// The current user's access to `workspace`, read from its applied workspace spec.
StatusOr<WorkspaceAccess> CurrentAccess(runtime::Workspace& workspace);

/// "owner", "contributor", "reader" or "no role".
std::string RoleName(WorkspaceRole role);

/// Whether the current user holds `needed` (or better) when the workspace
/// declares roles. When not, prints "amlc: error: ACTION in workspace W needs
/// the owner role, and 'bob' is a contributor", sets `exit_code` and returns
/// false; an unreadable state store refuses too.
bool RequireRole(runtime::Workspace& workspace, WorkspaceRole needed, const std::string& action, int& exit_code);

/// "2026-11-27 23:07:11" (UTC) of unix milliseconds; "-" for 0.
std::string FormatTime(int64_t millis);

}  // namespace amlc::cli

#endif  // AMLC_CLI_WORKSPACE_ACCESS_H_
