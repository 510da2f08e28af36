#ifndef AMLC_CLI_APPLY_COMMANDS_H_
#define AMLC_CLI_APPLY_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <vector>

#include "cli/specs_session.h"
#include "compiler/planner/plan.h"
#include "runtime/engine/executor.h"

namespace amlc::cli {

/// Registers `amlc plan` and `amlc apply`.
void AddApplyCommands(CLI::App& app, int& exit_code);

/// Asks "Apply these actions?" on a terminal; true only for "yes" (false when stdin is no terminal).
bool Confirm();

/// "Apply complete: 3 succeeded, 0 failed, 0 skipped." and a line per action that did not succeed.
void PrintSummary(const compiler::planner::Plan& plan, const std::vector<runtime::ActionResult>& results);

/// `amlc apply` (or destroy, with options.destroy): plan, confirm, apply, and
/// report on a terminal display, plain lines or JSON events; `also`, when
/// given, hears every action's start, progress and end too.
void RunApply(ApplyOptions options, int& exit_code, runtime::ProgressReporter* also = nullptr);

}  // namespace amlc::cli

#endif  // AMLC_CLI_APPLY_COMMANDS_H_
