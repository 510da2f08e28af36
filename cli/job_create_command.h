#ifndef AMLC_CLI_JOB_CREATE_COMMAND_H_
#define AMLC_CLI_JOB_CREATE_COMMAND_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `amlc job create -f FILE [--stream] [--rerun] [--json]`, as
/// `az ml job create --stream`: apply the job FILE declares (and what it
/// needs) and, with --stream, print its run's output as it comes.
void AddJobCreateCommand(CLI::App& app, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_JOB_CREATE_COMMAND_H_
