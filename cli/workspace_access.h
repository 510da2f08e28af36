#ifndef AMLC_CLI_WORKSPACE_ACCESS_H_
#define AMLC_CLI_WORKSPACE_ACCESS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "runtime/workspace/access.h"
#include "runtime/workspace/workspace.h"

namespace amlc::cli {

using runtime::CurrentAccess;
using runtime::CurrentUser;
using runtime::RoleName;
using runtime::WorkspaceAccess;
using runtime::WorkspaceRole;

/// The workspace the query commands read (--workspace, else $AMLC_WORKSPACE,
/// else ./.amlc); nullptr, with the error printed and `exit_code` set, when
/// there is none yet or it cannot be opened.
std::unique_ptr<runtime::Workspace> OpenExistingWorkspace(const std::string& workspace_flag, int& exit_code);
/// Prints what opening the workspace changed (modes narrowed) to stderr.
void PrintWorkspaceNotes(const runtime::Workspace& workspace);

/// Whether the current user holds `needed` (or better) when the workspace
/// declares roles. When not, prints "amlc: error: ACTION in workspace W needs
/// the owner role, and 'bob' is a contributor", sets `exit_code` to 3 (kExitDenied, as a
/// workspace server's 403 is) and returns
/// false; an unreadable state store refuses too.
bool RequireRole(runtime::Workspace& workspace, WorkspaceRole needed, const std::string& action, int& exit_code);

/// "2026-11-27 23:07:11" (UTC) of unix milliseconds; "-" for 0.
std::string FormatTime(int64_t millis);

}  // namespace amlc::cli

#endif  // AMLC_CLI_WORKSPACE_ACCESS_H_
