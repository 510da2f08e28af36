#ifndef AMLC_CLI_ENDPOINTS_COMMANDS_H_
#define AMLC_CLI_ENDPOINTS_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <string>

namespace amlc::cli {

/// Registers `amlc endpoints invoke` (as `az ml online-endpoint invoke`).
void AddEndpointsCommands(CLI::App& app, int& exit_code);

/// What `endpoints invoke` prints for the scoring answer (`status`, `body`)
/// of `deployment`: the body, and an error unless 2xx; the exit status.
int PrintScoreAnswer(const std::string& deployment, int status, const std::string& body);

}  // namespace amlc::cli

#endif  // AMLC_CLI_ENDPOINTS_COMMANDS_H_
