#ifndef AMLC_CLI_ENDPOINT_HOST_COMMAND_H_
#define AMLC_CLI_ENDPOINT_HOST_COMMAND_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc endpoint-host --state-dir DIR`: the long-running router
/// and replica supervisor of one endpoint (apply starts it).
void AddEndpointHostCommand(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_ENDPOINT_HOST_COMMAND_H_
