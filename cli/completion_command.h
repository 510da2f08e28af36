#ifndef AMLC_CLI_COMPLETION_COMMAND_H_
#define AMLC_CLI_COMPLETION_COMMAND_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc completion bash|zsh|fish|commands`. Register it last, or at
/// least after the commands it should complete: the tree is read when it runs.
void AddCompletionCommand(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_COMPLETION_COMMAND_H_
