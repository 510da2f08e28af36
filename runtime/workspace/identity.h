#ifndef AMLC_RUNTIME_WORKSPACE_IDENTITY_H_
#define AMLC_RUNTIME_WORKSPACE_IDENTITY_H_

// Who calls the workspace server: users with one role each, and the API
// tokens that stand for them. A token's secret ("amlc_" and 40 hex digits) is
// shown once when it is issued and stored only as its SHA-256, so reading the
// state store gives nobody a working token. The CLI's `users` and `tokens`
// commands and the server's identity routes both go through here.

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "runtime/state/server_records.h"
#include "runtime/workspace/access.h"
#include "runtime/workspace/workspace.h"

namespace amlc::runtime {

/// What every token's secret starts with, so a leaked one is recognisable
/// (by people and by secret scanners).
inline constexpr const char* kTokenPrefix = "amlc_";

/// A token just issued: its record and the secret, which exists nowhere else.
struct IssuedToken {
  TokenRecord record;
  std::string secret;
};

/// An authenticated caller.
struct Caller {
  std::string user;
  WorkspaceRole role = WorkspaceRole::kNone;
  int64_t token_id = 0;
  /// Set for a run-scoped token: the caller may only write this run and its
  /// child runs (server/run_report_routes.cc), with a Contributor's role.
  std::string run_id;
};

/// The role "owner", "contributor" or "reader" names; kNone for anything else.
WorkspaceRole RoleNamed(const std::string& name);

/// Who a workspace spec about to be applied (its canonical JSON) would give a
/// higher role than the applied one gives them, as "bob: reader -> owner".
/// A workspace that declares no roles lets everyone do everything, so
/// declaring roles for the first time raises nobody. The workspace server
/// lets only an Owner apply a spec that raises anyone. (Defined in access.cc,
/// beside the reading of the roles.)
StatusOr<std::vector<std::string>> RolesRaisedBy(Workspace& workspace, const std::string& new_spec_json);

/// kInvalidArgument naming the roles when `role` is not one of them.
StatusOr<WorkspaceRole> ParseUserRole(const std::string& role);

/// kInvalidArgument when `name` is empty, longer than 64 characters or holds
/// characters other than letters, digits and ._@-.
Status CheckUserName(const std::string& name);

/// Issues a token for `user` (who must exist), valid for `lifetime_seconds`
/// (0: until revoked), labelled `label`. With `run_id`, a run-scoped token:
/// it writes only that run and its child runs, until the run ends or the
/// token is revoked, and `user` (who started the run) need not be a user of
/// the server.
StatusOr<IssuedToken> IssueToken(ServerRecords& records, const std::string& user, const std::string& label,
                                 int64_t lifetime_seconds, int64_t now_ms, const std::string& run_id = "");

/// The caller a secret stands for. kPermissionDenied-like refusals are
/// kFailedPrecondition with the reason a client may be told ("the token is
/// not known", "the token expired at …", "the token was revoked at …", "its
/// user was removed"); kUnavailable/kInternal when the store cannot be read.
StatusOr<Caller> Authenticate(ServerRecords& records, const std::string& secret, int64_t now_ms);

}  // namespace amlc::runtime

#endif  // AMLC_RUNTIME_WORKSPACE_IDENTITY_H_
