#ifndef AMLC_CLI_RUNS_DOWNLOAD_H_
#define AMLC_CLI_RUNS_DOWNLOAD_H_

#include <CLI/CLI.hpp>

namespace amlc::cli {

/// Registers `runs download RUN [--output NAME] -o DIR [--overwrite] [--json]`
/// (as `az ml job download`): a run's outputs into DIR/outputs/NAME and its
/// logs into DIR/logs.
void AddRunsDownloadCommand(CLI::App* runs, int& exit_code);

}  // namespace amlc::cli

#endif  // AMLC_CLI_RUNS_DOWNLOAD_H_
