// Who may do what: the caller's own identity, users and roles, API tokens,
// the audit log, and the two things a Reader never sees: secrets and
// endpoint keys.

#include <httplib.h>

#include <cstdlib>

#include "base/clock.h"
#include "base/duration.h"
#include "runtime/deploy/local_endpoints.h"
#include "runtime/views/record_json.h"
#include "runtime/workspace/secret_store.h"
#include "server/api_route.h"

namespace amlc::server {

namespace {

using nlohmann::json;
using runtime::WorkspaceRole;

void WhoAmI(Call& call) {
  call.Json(200, {{"user", call.caller.user},
                  {"role", runtime::RoleName(call.caller.role)},
                  {"token_id", call.caller.token_id}});
}

void ListUsers(Call& call) {
  auto users = call.records.ListUsers();
  if (!users.ok()) return Fail(call, users.status());
  json out = json::array();
  for (const auto& user : *users) out.push_back(runtime::UserJson(user));
  call.Json(200, out);
}

// Owners who would be left if `name` stopped being one: the workspace keeps
// at least one, or nobody could manage it over the API again.
bool LeavesAnOwner(Call& call, const std::string& name) {
  auto users = call.records.ListUsers();
  if (!users.ok()) return true;
  for (const auto& user : *users) {
    if (user.role == "owner" && user.name != name) return true;
  }
  call.Message(409, name + " is the workspace's last owner; make another user an owner first");
  return false;
}

void AddUser(Call& call) {
  json body;
  if (!ObjectBody(call, body)) return;
  runtime::UserRecord user{StringField(body, "name"), StringField(body, "role"), NowMillis()};
  call.target = user.name;
  if (Status named = runtime::CheckUserName(user.name); !named.ok()) return Fail(call, named);
  if (auto role = runtime::ParseUserRole(user.role); !role.ok()) return Fail(call, role.status());
  if (Status added = call.records.AddUser(user); !added.ok()) return Fail(call, added);
  call.Json(201, runtime::UserJson(user));
}

void SetRole(Call& call) {
  json body;
  if (!ObjectBody(call, body)) return;
  call.target = call.path_params[0];
  std::string role = StringField(body, "role");
  if (auto parsed = runtime::ParseUserRole(role); !parsed.ok()) return Fail(call, parsed.status());
  if (role != "owner" && !LeavesAnOwner(call, call.target)) return;
  if (Status set = call.records.SetUserRole(call.target, role); !set.ok()) return Fail(call, set);
  auto user = call.records.GetUser(call.target);
  if (!user.ok() || !user->has_value()) return call.Message(404, "no user " + call.target);
  call.Json(200, runtime::UserJson(**user));
}

void RemoveUser(Call& call) {
  call.target = call.path_params[0];
  if (!LeavesAnOwner(call, call.target)) return;
  if (Status removed = call.records.RemoveUser(call.target, NowMillis()); !removed.ok()) {
    return Fail(call, removed);
  }
  call.Json(200, {{"removed", call.target}});
}

bool IsOwner(const Call& call) { return call.caller.role >= WorkspaceRole::kOwner; }

void Forbid(Call& call, const std::string& action) {
  call.Message(403, action + " needs the owner role; " + call.caller.user + " is a " +
                        runtime::RoleName(call.caller.role));
}

// GET /api/v1/tokens: the caller's own tokens; an Owner sees everyone's
// (?user=NAME narrows).
void ListTokens(Call& call) {
  std::string user = call.Query("user");
  if (!IsOwner(call)) {
    if (!user.empty() && user != call.caller.user) return Forbid(call, "listing another user's tokens");
    user = call.caller.user;
  }
  auto tokens = call.records.ListTokens(user);
  if (!tokens.ok()) return Fail(call, tokens.status());
  json out = json::array();
  int64_t now = NowMillis();
  for (const auto& token : *tokens) out.push_back(runtime::TokenJson(token, now));
  call.Json(200, out);
}

// POST /api/v1/tokens {"user", "name", "expires": "30d"}: a token for the
// caller, or (Owner) for another user; the secret is in this answer only.
void CreateToken(Call& call) {
  json body;
  if (!ObjectBody(call, body)) return;
  std::string user = StringField(body, "user");
  if (user.empty()) user = call.caller.user;
  call.target = user;
  if (user != call.caller.user && !IsOwner(call)) return Forbid(call, "creating a token for another user");
  int64_t lifetime = 0;
  if (std::string expires = StringField(body, "expires"); !expires.empty() && expires != "never") {
    lifetime = ParseDurationSeconds(expires);
    if (lifetime <= 0) return call.Message(400, "expires: '" + expires + "' is not a duration (30d, 12h, never)");
  }
  auto issued = runtime::IssueToken(call.records, user, StringField(body, "name"), lifetime, NowMillis());
  if (!issued.ok()) return Fail(call, issued.status());
  json out = runtime::TokenJson(issued->record, NowMillis());
  out["token"] = issued->secret;
  call.Json(201, out);
}

void RevokeToken(Call& call) {
  call.target = call.path_params[0];
  int64_t id = std::atoll(call.target.c_str());
  auto token = call.records.GetToken(id);
  if (!token.ok()) return Fail(call, token.status());
  if (id <= 0 || !token->has_value()) return call.Message(404, "no token " + call.target);
  if ((*token)->user != call.caller.user && !IsOwner(call)) return Forbid(call, "revoking another user's token");
  if (Status revoked = call.records.RevokeToken(id, NowMillis()); !revoked.ok()) return Fail(call, revoked);
  call.Json(200, {{"revoked", id}});
}

void ListAudit(Call& call) {
  int limit = call.HasQuery("limit") ? std::atoi(call.Query("limit").c_str()) : 100;
  if (limit < 1 || limit > 100000) return call.Message(400, "limit must be a whole number from 1 to 100000");
  auto entries = call.records.ListAudit(limit);
  if (!entries.ok()) return Fail(call, entries.status());
  json out = json::array();
  for (const auto& entry : *entries) out.push_back(runtime::AuditJson(entry));
  call.Json(200, out);
}

void ListSecrets(Call& call) {
  auto store = runtime::SecretStore::Open(call.workspace.home());
  if (!store.ok()) return Fail(call, store.status());
  auto secrets = store->List();
  if (!secrets.ok()) return Fail(call, secrets.status());
  json out = json::array();
  for (const auto& secret : *secrets) out.push_back(runtime::SecretJson(secret));
  call.Json(200, out);
}

void SetSecret(Call& call) {
  json body;
  if (!ObjectBody(call, body)) return;
  call.target = call.path_params[0];
  if (!body.contains("value") || !body["value"].is_string()) return call.Message(400, "the body needs \"value\": a string");
  auto store = runtime::SecretStore::Open(call.workspace.home());
  if (!store.ok()) return Fail(call, store.status());
  if (Status set = store->Set(call.target, body["value"].get<std::string>(), call.caller.user); !set.ok()) {
    return Fail(call, set);
  }
  call.Json(200, {{"name", call.target}, {"action", "set"}, {"workspace", call.workspace.home()}});
}

void DeleteSecret(Call& call) {
  call.target = call.path_params[0];
  auto store = runtime::SecretStore::Open(call.workspace.home());
  if (!store.ok()) return Fail(call, store.status());
  if (Status deleted = store->Delete(call.target); !deleted.ok()) return Fail(call, deleted);
  call.Json(200, {{"name", call.target}, {"action", "deleted"}, {"workspace", call.workspace.home()}});
}

// The endpoint of the deployment the path names, or a 404 answered.
std::optional<std::string> DeploymentEndpoint(Call& call) {
  call.target = call.path_params[0];
  auto deployment = runtime::DeploymentJson(call.workspace, call.target, 0);
  if (!deployment) {
    call.Message(404, "no deployment '" + call.target + "' in this workspace");
    return std::nullopt;
  }
  return deployment->value("endpoint", "");
}

void KeysAnswer(Call& call, const StatusOr<runtime::DeploymentKeys>& keys) {
  if (!keys.ok()) return Fail(call, keys.status());
  call.Json(200, {{"primary", keys->primary}, {"secondary", keys->secondary}});
}

void ReadKeys(Call& call) {
  auto endpoint = DeploymentEndpoint(call);
  if (!endpoint) return;
  KeysAnswer(call, runtime::EnsureDeploymentKeys(call.workspace, *endpoint, call.target));
}

// POST /api/v1/deployments/{name}/keys/regenerate {"key": "primary"|"secondary"}.
void RegenerateKey(Call& call) {
  json body;
  if (!ObjectBody(call, body)) return;
  auto endpoint = DeploymentEndpoint(call);
  if (!endpoint) return;
  KeysAnswer(call, runtime::RegenerateDeploymentKey(call.workspace, *endpoint, call.target, StringField(body, "key")));
}

}  // namespace

std::vector<ApiRoute> IdentityRoutes() {
  constexpr WorkspaceRole kReader = WorkspaceRole::kReader;
  constexpr WorkspaceRole kContributor = WorkspaceRole::kContributor;
  constexpr WorkspaceRole kOwner = WorkspaceRole::kOwner;
  return {
      {"GET", "/api/v1/whoami", kReader, "reading who you are", WhoAmI},
      {"GET", "/api/v1/users", kOwner, "listing users", ListUsers},
      {"POST", "/api/v1/users", kOwner, "adding a user", AddUser},
      {"PUT", "/api/v1/users/{name}", kOwner, "changing a user's role", SetRole},
      {"DELETE", "/api/v1/users/{name}", kOwner, "removing a user", RemoveUser},
      {"GET", "/api/v1/tokens", kReader, "listing tokens", ListTokens},
      {"POST", "/api/v1/tokens", kReader, "creating a token", CreateToken},
      {"DELETE", "/api/v1/tokens/{id}", kReader, "revoking a token", RevokeToken},
      {"GET", "/api/v1/audit", kOwner, "reading the audit log", ListAudit},
      {"GET", "/api/v1/secrets", kOwner, "listing secrets", ListSecrets},
      {"PUT", "/api/v1/secrets/{name}", kOwner, "setting a secret", SetSecret},
      {"DELETE", "/api/v1/secrets/{name}", kOwner, "deleting a secret", DeleteSecret},
      {"GET", "/api/v1/deployments/{name}/keys", kContributor, "reading a deployment's keys", ReadKeys},
      {"POST", "/api/v1/deployments/{name}/keys/regenerate", kOwner, "regenerating a deployment's key",
       RegenerateKey},
  };
}

}  // namespace amlc::server
