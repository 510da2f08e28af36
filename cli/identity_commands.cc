// Users, API tokens and the audit log of the workspace server, on the local
// workspace folder. The same records the server's /api/v1/users, /tokens and
// /audit routes serve, in the same JSON (runtime/views/record_json.h).
#include "cli/identity_commands.h"

#include <cstdio>
#include <memory>

#include "base/clock.h"
#include "base/duration.h"
#include "cli/list_output.h"
#include "cli/output.h"
#include "cli/workspace_access.h"
#include "runtime/views/record_json.h"
#include "runtime/workspace/identity.h"

namespace amlc::cli {

namespace {

using nlohmann::json;

struct IdentityFlags {
  std::string workspace;
  std::string name;
  std::string role;
  std::string user;
  std::string expires;
  std::string label;
  int64_t token_id = 0;
  int limit = 50;
  bool json_output = false;
  std::string format = "table";
};

// Users and tokens are made before the first apply, so the workspace is
// created when missing (OpenExistingWorkspace would refuse); opening it
// brings its state store's schema up to date before the records are read.
std::unique_ptr<runtime::ServerRecords> OpenRecords(const IdentityFlags& flags, int& exit_code) {
  auto fail = [&](const Status& status) -> std::unique_ptr<runtime::ServerRecords> {
    std::fprintf(stderr, "amlc: error: %s\n", status.message().c_str());
    exit_code = kExitSpecErrors;
    return nullptr;
  };
  auto workspace = runtime::Workspace::Open(runtime::DefaultWorkspaceHome(".", flags.workspace));
  if (!workspace.ok()) return fail(workspace.status());
  PrintWorkspaceNotes(**workspace);
  auto records = runtime::ServerRecords::Open(runtime::StateStorePath((*workspace)->home()));
  if (!records.ok()) return fail(records.status());
  return std::move(records.value());
}

bool Failed(const Status& status, int& exit_code) {
  if (status.ok()) return false;
  std::fprintf(stderr, "amlc: error: %s\n", status.message().c_str());
  // A name that is not there is a usage error, as the server's 404 is for its client.
  bool usage = status.code() == StatusCode::kInvalidArgument || status.code() == StatusCode::kNotFound;
  exit_code = usage ? kExitUsage : kExitSpecErrors;
  return true;
}

void PrintRows(const json& rows, const std::vector<ListColumn>& columns, const IdentityFlags& flags) {
  PrintList(rows, columns, ListFormat(flags.format, flags.json_output));
}


void AddUser(const IdentityFlags& flags, int& exit_code) {
  if (Failed(runtime::CheckUserName(flags.name), exit_code)) return;
  if (auto role = runtime::ParseUserRole(flags.role); Failed(role.status(), exit_code)) return;
  auto records = OpenRecords(flags, exit_code);
  if (!records) return;
  runtime::UserRecord user{flags.name, flags.role, NowMillis()};
  if (Failed(records->AddUser(user), exit_code)) return;
  exit_code = kExitOk;
  PrintIdentityResult("users add", runtime::UserJson(user), flags.json_output);
}

void ListUsers(const IdentityFlags& flags, int& exit_code) {
  auto records = OpenRecords(flags, exit_code);
  if (!records) return;
  auto users = records->ListUsers();
  if (Failed(users.status(), exit_code)) return;
  json rows = json::array();
  for (const auto& user : *users) rows.push_back(runtime::UserJson(user));
  exit_code = kExitOk;
  PrintRows(rows, kUserColumns, flags);
}

void SetRole(const IdentityFlags& flags, int& exit_code) {
  if (auto role = runtime::ParseUserRole(flags.role); Failed(role.status(), exit_code)) return;
  auto records = OpenRecords(flags, exit_code);
  if (!records) return;
  if (Failed(records->SetUserRole(flags.name, flags.role), exit_code)) return;
  exit_code = kExitOk;
  PrintIdentityResult("users set-role", {{"name", flags.name}, {"role", flags.role}}, flags.json_output);
}

void RemoveUser(const IdentityFlags& flags, int& exit_code) {
  auto records = OpenRecords(flags, exit_code);
  if (!records) return;
  if (Failed(records->RemoveUser(flags.name, NowMillis()), exit_code)) return;
  exit_code = kExitOk;
  PrintIdentityResult("users remove", {{"removed", flags.name}}, flags.json_output);
}

void CreateToken(const IdentityFlags& flags, int& exit_code) {
  int64_t lifetime = 0;
  if (!flags.expires.empty() && flags.expires != "never") {
    lifetime = ParseDurationSeconds(flags.expires);
    if (lifetime <= 0) {
      std::fprintf(stderr, "amlc: error: --expires '%s' is not a duration (30d, 12h, never)\n", flags.expires.c_str());
      exit_code = kExitUsage;
      return;
    }
  }
  auto records = OpenRecords(flags, exit_code);
  if (!records) return;
  auto issued = runtime::IssueToken(*records, flags.user, flags.label, lifetime, NowMillis());
  if (issued.ok() == false && issued.status().code() == StatusCode::kNotFound) {
    std::fprintf(stderr, "amlc: error: %s (add them first: amlc users add %s --role reader)\n",
                 issued.status().message().c_str(), flags.user.c_str());
    exit_code = kExitUsage;
    return;
  }
  if (Failed(issued.status(), exit_code)) return;
  exit_code = kExitOk;
  json out = runtime::TokenJson(issued->record, NowMillis());
  out["token"] = issued->secret;
  PrintIdentityResult("tokens create", out, flags.json_output);
}

void ListTokens(const IdentityFlags& flags, int& exit_code) {
  auto records = OpenRecords(flags, exit_code);
  if (!records) return;
  auto tokens = records->ListTokens(flags.user);
  if (Failed(tokens.status(), exit_code)) return;
  json rows = json::array();
  int64_t now = NowMillis();
  for (const auto& token : *tokens) rows.push_back(runtime::TokenJson(token, now));
  exit_code = kExitOk;
  PrintRows(rows, kTokenColumns, flags);
}

void RevokeToken(const IdentityFlags& flags, int& exit_code) {
  auto records = OpenRecords(flags, exit_code);
  if (!records) return;
  if (Failed(records->RevokeToken(flags.token_id, NowMillis()), exit_code)) return;
  exit_code = kExitOk;
  PrintIdentityResult("tokens revoke", {{"revoked", flags.token_id}}, flags.json_output);
}

void ListAudit(const IdentityFlags& flags, int& exit_code) {
  auto records = OpenRecords(flags, exit_code);
  if (!records) return;
  auto entries = records->ListAudit(flags.limit);
  if (Failed(entries.status(), exit_code)) return;
  json rows = json::array();
  for (const auto& entry : *entries) rows.push_back(runtime::AuditJson(entry));
  exit_code = kExitOk;
  PrintRows(rows, kAuditColumns, flags);
}

}  // namespace

void PrintIdentityResult(const std::string& command, const json& row, bool json_output) {
  if (json_output) {
    std::printf("%s\n", row.dump(2).c_str());
    return;
  }
  auto text = [&row](const char* key) { return row.value(key, ""); };
  std::string sentence;
  if (command == "users add") {
    sentence = "Added user " + text("name") + " as " + text("role") +
               ". Give them a token: amlc tokens create --user " + text("name");
  } else if (command == "users set-role") {
    sentence = text("name") + " is now a " + text("role") + ".";
  } else if (command == "users remove") {
    sentence = "Removed user " + text("removed") + " and revoked their tokens.";
  } else if (command == "tokens create") {
    sentence = "Token " + row.value("id", json()).dump() + " for " + text("user") + " (expires " + text("expires_at") +
               "):\n\n    " + text("token") +
               "\n\nIt is shown this once and stored only as a hash. Use it as AMLC_TOKEN or "
               "\"Authorization: Bearer TOKEN\".";
  } else {
    sentence = "Revoked token " + row.value("revoked", json()).dump() + ".";
  }
  std::printf("%s\n", sentence.c_str());
}

void AddIdentityCommands(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<IdentityFlags>();
  auto common = [&](CLI::App* command, bool list) {
    command->add_option("--workspace", flags->workspace, "The workspace's home folder (default $AMLC_WORKSPACE, else ./.amlc)");
    command->add_flag("--json", flags->json_output, "JSON output");
    if (list) AddListFormatOption(command, flags->format);
  };
  const char* roles = "reader, contributor or owner";

  CLI::App* users = app.add_subcommand("users", "Users of the workspace server and their roles (on the folder, or over --server by an Owner)");
  users->require_subcommand(1);
  CLI::App* add = users->add_subcommand("add", "Add a user with a role");
  add->add_option("name", flags->name, "User name (letters, digits, . _ @ -)")->required();
  add->add_option("--role", flags->role, roles)->required();
  common(add, false);
  add->callback([flags, &exit_code] { AddUser(*flags, exit_code); });
  CLI::App* list = users->add_subcommand("list", "Users and their roles");
  common(list, true);
  list->callback([flags, &exit_code] { ListUsers(*flags, exit_code); });
  CLI::App* set_role = users->add_subcommand("set-role", "Change a user's role");
  set_role->add_option("name", flags->name, "User name")->required();
  set_role->add_option("--role", flags->role, roles)->required();
  common(set_role, false);
  set_role->callback([flags, &exit_code] { SetRole(*flags, exit_code); });
  CLI::App* remove = users->add_subcommand("remove", "Remove a user and revoke their tokens");
  remove->add_option("name", flags->name, "User name")->required();
  common(remove, false);
  remove->callback([flags, &exit_code] { RemoveUser(*flags, exit_code); });

  CLI::App* tokens = app.add_subcommand("tokens", "API tokens of the workspace server (shown once, stored as hashes)");
  tokens->require_subcommand(1);
  CLI::App* create = tokens->add_subcommand("create", "Issue a token for a user; it is printed once");
  create->add_option("--user", flags->user, "Whose token")->required();
  create->add_option("--expires", flags->expires, "Lifetime: 30d, 12h, 1w, or never (default never)");
  create->add_option("--name", flags->label, "A label to recognise it by (ci, laptop)");
  common(create, false);
  create->callback([flags, &exit_code] { CreateToken(*flags, exit_code); });
  CLI::App* list_tokens = tokens->add_subcommand("list", "Tokens (never their secrets): prefix, state, last use");
  list_tokens->add_option("--user", flags->user, "Only this user's");
  common(list_tokens, true);
  list_tokens->callback([flags, &exit_code] { ListTokens(*flags, exit_code); });
  CLI::App* revoke = tokens->add_subcommand("revoke", "Revoke a token: its next call gets 401");
  revoke->add_option("id", flags->token_id, "Token id (tokens list)")->required();
  common(revoke, false);
  revoke->callback([flags, &exit_code] { RevokeToken(*flags, exit_code); });

  CLI::App* audit = app.add_subcommand("audit", "The server's audit log: who called what, when, and the outcome");
  audit->add_option("--limit", flags->limit, "How many, newest first")->capture_default_str();
  common(audit, true);
  audit->callback([flags, &exit_code] { ListAudit(*flags, exit_code); });
}

}  // namespace amlc::cli
