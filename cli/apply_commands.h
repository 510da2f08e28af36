#ifndef AMLC_CLI_APPLY_COMMANDS_H_
#define AMLC_CLI_APPLY_COMMANDS_H_

#include <CLI/CLI.hpp>

#include "cli/specs_session.h"
#include "runtime/engine/executor.h"

namespace amlc::cli {

/// Registers `amlc plan` and `amlc apply`.
void AddApplyCommands(CLI::App& app, int& exit_code);

/// `amlc apply` (or destroy, with options.destroy): plan, confirm, apply, and
/// report on a terminal display, plain lines or JSON events; `also`, when
/// given, hears every action's start, progress and end too.
void RunApply(ApplyOptions options, int& exit_code, runtime::ProgressReporter* also = nullptr);

}  // namespace amlc::cli

#endif  // AMLC_CLI_APPLY_COMMANDS_H_
