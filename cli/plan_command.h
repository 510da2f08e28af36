#ifndef AMLC_CLI_PLAN_COMMAND_H_
#define AMLC_CLI_PLAN_COMMAND_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc plan`.
void AddPlanCommand(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_PLAN_COMMAND_H_
