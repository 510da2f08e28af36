#ifndef AMLC_CLI_SECRETS_COMMANDS_H_
#define AMLC_CLI_SECRETS_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace amlc::cli {

/// Registers `amlc secrets set|list|delete`: the workspace's encrypted secret
/// store. No command prints a value; set and delete need the Owner role
/// when the workspace declares roles.
void AddSecretsCommands(CLI::App& app, int& exit_code);

/// What `secrets list` prints for `rows` (runtime::SecretJson's), as -o asks;
/// shared with its twin against a workspace server.
void PrintSecretRows(const nlohmann::json& rows, const std::string& format);

/// What `secrets set|delete` print once `name` was set ("set") or deleted
/// ("deleted") in the workspace at `home`.
void PrintSecretChange(const std::string& name, const std::string& action, const std::string& home, bool json_output);

/// A secret's value: the environment variable `from_env` when given, else one
/// line of stdin (on a terminal prompted, not echoed). kInvalidArgument when none.
StatusOr<std::string> ReadSecretValue(const std::string& name, const std::string& from_env);

/// The error for a secret name that is not 1 to 128 of [A-Za-z0-9_.-], "" when valid.
std::string SecretNameError(const std::string& name);

}  // namespace amlc::cli

#endif  // AMLC_CLI_SECRETS_COMMANDS_H_
