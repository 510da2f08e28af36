#ifndef AMLC_CLI_VERSION_COMMAND_H_
#define AMLC_CLI_VERSION_COMMAND_H_

#include <CLI/CLI.hpp>
#include <string>

namespace amlc::cli {

/// "amlc 0.1.0 (commit 3de8578146f0…)": what `amlc version` and `--version` print.
std::string VersionLine();

/// Registers `amlc version`.
void AddVersionCommand(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_VERSION_COMMAND_H_
