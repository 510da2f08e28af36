#ifndef AMLC_RUNTIME_WORKSPACE_ACCESS_H_
#define AMLC_RUNTIME_WORKSPACE_ACCESS_H_

// Workspace access policy: the Owner, Contributor and Reader roles a
// workspace spec declares, and what the user running amlc holds. Every
// front (the CLI today, the workspace server next) asks here.

#include <string>

#include "base/status.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

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
StatusOr<WorkspaceAccess> CurrentAccess(Workspace& workspace);

/// "owner", "contributor", "reader" or "no role".
std::string RoleName(WorkspaceRole role);

/// Ok when the current user holds `needed` (or better), or the workspace
/// declares no roles. kFailedPrecondition otherwise, saying "ACTION in
/// workspace W needs the owner role, and 'bob' is a contributor"; an
/// unreadable state store refuses too.
Status CheckRole(Workspace& workspace, WorkspaceRole needed, const std::string& action);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_WORKSPACE_ACCESS_H_
