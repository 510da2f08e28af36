#ifndef AMLC_CLI_IDENTITY_COMMANDS_H_
#define AMLC_CLI_IDENTITY_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/list_output.h"

namespace amlc::cli {

/// Registers `amlc users`, `amlc tokens` and `amlc audit`: the workspace
/// server's users, API tokens and audit log, managed on the workspace folder
/// itself (whoever can write that folder manages them: its file permissions
/// are the trust boundary).
void AddIdentityCommands(CLI::App& app, int& exit_code);

/// The columns of `users list`, `tokens list` and `audit` (of the JSON
/// runtime::UserJson, TokenJson and AuditJson write), shared with their
/// twins against a workspace server.
inline const std::vector<ListColumn> kUserColumns = {{"NAME", "name"}, {"ROLE", "role"}, {"CREATED", "created_at"}};
inline const std::vector<ListColumn> kTokenColumns = {
    {"ID", "id"},         {"USER", "user"},           {"NAME", "name"},          {"PREFIX", "prefix"},
    {"STATE", "state"},   {"EXPIRES", "expires_at"},  {"LAST USED", "last_used_at"}};
inline const std::vector<ListColumn> kAuditColumns = {
    {"TIME", "time"},     {"USER", "user"},     {"METHOD", "method"}, {"ROUTE", "route"},
    {"TARGET", "target"}, {"STATUS", "status"}, {"CLIENT", "client"}};

/// What `command` ("users add", "users set-role", "users remove", "tokens
/// create", "tokens revoke") prints for its result `row`: the JSON with
/// --json, else a sentence (the token once, for tokens create).
void PrintIdentityResult(const std::string& command, const nlohmann::json& row, bool json_output);

}  // namespace amlc::cli

#endif  // AMLC_CLI_IDENTITY_COMMANDS_H_
