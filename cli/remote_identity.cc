// Who may do what, against a workspace server: secrets list|set|delete,
// users add|list|set-role|remove, tokens create|list|revoke, audit. Each
// prints what its local twin (secrets_commands.cc, identity_commands.cc)
// prints, from the same JSON the server answers with; the server checks the
// caller's role (Owner for secrets, users and the audit log; anyone for their
// own tokens).

#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "cli/identity_commands.h"
#include "cli/list_output.h"
#include "cli/output.h"
#include "cli/remote_commands.h"
#include "cli/secrets_commands.h"

namespace amlc::cli {

namespace {

using nlohmann::json;

// What `answer` carries, printed as the local `command` prints its result.
int PrintResult(const ServerClient& server, const ServerAnswer& answer, const std::string& path,
                const std::string& command, const CLI::App& options) {
  int exit_code = kExitOk;
  std::optional<json> body = AnswerJson(server, answer, path, exit_code);
  if (!body) return exit_code;
  PrintIdentityResult(command, *body, OptionFlag(options, "--json"));
  return kExitOk;
}

// ---- secrets ----------------------------------------------------------------

std::string SecretPath(const CLI::App& command) { return "/api/v1/secrets/" + QueryValue(OptionText(command, "name")); }

int SecretsList(const ServerClient& server, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> rows = GetJson(server, "/api/v1/secrets", exit_code);
  if (!rows) return exit_code;
  PrintSecretRows(*rows, OutputFormat(command));
  return kExitOk;
}

// The server's answer to a change of a secret, printed as locally.
int PrintSecretAnswer(const ServerClient& server, const ServerAnswer& answer, const CLI::App& command) {
  int exit_code = kExitOk;
  std::optional<json> body = AnswerJson(server, answer, SecretPath(command), exit_code);
  if (!body) return exit_code;
  PrintSecretChange(body->value("name", ""), body->value("action", ""), body->value("workspace", ""),
                    OptionFlag(command, "--json"));
  return kExitOk;
}

int SecretsSet(const ServerClient& server, const CLI::App& command) {
  std::string name = OptionText(command, "name");
  // Checked before a value is asked for, as locally.
  if (std::string error = SecretNameError(name); !error.empty()) {
    PrintError(error);
    return kExitUsage;
  }
  StatusOr<std::string> value = ReadSecretValue(name, OptionText(command, "--from-env"));
  if (!value.ok()) {
    PrintError(value.status().message());
    return kExitUsage;
  }
  if (value->empty()) {
    PrintError("the value of secret '" + name + "' is empty; nothing was set");
    return kExitUsage;
  }
  return PrintSecretAnswer(server, server.PutJson(SecretPath(command), json{{"value", *value}}.dump()), command);
}

int SecretsDelete(const ServerClient& server, const CLI::App& command) {
  return PrintSecretAnswer(server, server.Delete(SecretPath(command)), command);
}

// ---- users ------------------------------------------------------------------

std::string UserPath(const CLI::App& command) { return "/api/v1/users/" + QueryValue(OptionText(command, "name")); }

int UsersAdd(const ServerClient& server, const CLI::App& command) {
  json body = {{"name", OptionText(command, "name")}, {"role", OptionText(command, "--role")}};
  return PrintResult(server, server.Post("/api/v1/users", body.dump()), "/api/v1/users", "users add", command);
}

int UsersSetRole(const ServerClient& server, const CLI::App& command) {
  std::string role = OptionText(command, "--role");
  ServerAnswer answer = server.PutJson(UserPath(command), json{{"role", role}}.dump());
  int exit_code = kExitOk;
  std::optional<json> user = AnswerJson(server, answer, UserPath(command), exit_code);
  if (!user) return exit_code;
  // The server answers the whole user; the local command prints its name and new role.
  PrintIdentityResult("users set-role", {{"name", user->value("name", "")}, {"role", user->value("role", "")}},
                      OptionFlag(command, "--json"));
  return kExitOk;
}

int UsersRemove(const ServerClient& server, const CLI::App& command) {
  return PrintResult(server, server.Delete(UserPath(command)), UserPath(command), "users remove", command);
}

// ---- tokens -----------------------------------------------------------------

int TokensCreate(const ServerClient& server, const CLI::App& command) {
  std::string expires = OptionText(command, "--expires");
  if (!expires.empty() && expires != "never" && ParseDurationSeconds(expires) <= 0) {  // as locally, before any call
    PrintError("--expires '" + expires + "' is not a duration (30d, 12h, never)");
    return kExitUsage;
  }
  json body = {{"user", OptionText(command, "--user")}, {"name", OptionText(command, "--name")}, {"expires", expires}};
  return PrintResult(server, server.Post("/api/v1/tokens", body.dump()), "/api/v1/tokens", "tokens create", command);
}

int TokensRevoke(const ServerClient& server, const CLI::App& command) {
  std::string path = "/api/v1/tokens/" + QueryValue(OptionText(command, "id"));
  return PrintResult(server, server.Delete(path), path, "tokens revoke", command);
}

std::string TokensQuery(const CLI::App& command) {
  std::string user = OptionText(command, "--user");
  return user.empty() ? "" : "?user=" + QueryValue(user);
}

std::string AuditQuery(const CLI::App& command) { return "?limit=" + QueryValue(OptionText(command, "--limit")); }

}  // namespace

std::map<std::string, RemoteCommand> RemoteIdentityCommands() {
  return {{"secrets list", SecretsList},
          {"secrets set", SecretsSet},
          {"secrets delete", SecretsDelete},
          {"users add", UsersAdd},
          {"users list", ListTwin("/api/v1/users", kUserColumns)},
          {"users set-role", UsersSetRole},
          {"users remove", UsersRemove},
          {"tokens create", TokensCreate},
          {"tokens list", ListTwin("/api/v1/tokens", kTokenColumns, TokensQuery)},
          {"tokens revoke", TokensRevoke},
          {"audit", ListTwin("/api/v1/audit", kAuditColumns, AuditQuery)}};
}

}  // namespace amlc::cli
