#ifndef AMLC_CLI_RUNS_DOWNLOAD_H_
#define AMLC_CLI_RUNS_DOWNLOAD_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace amlc::cli {

/// Registers `runs download RUN [--output NAME] -o DIR [--overwrite] [--json]`
/// (as `az ml job download`): a run's outputs into DIR/outputs/NAME and its
/// logs into DIR/logs.
void AddRunsDownloadCommand(CLI::App* runs, int& exit_code);

/// Whether the download may write `paths` (relative to `dir`): with
/// `overwrite`, or when none exists; otherwise the error is printed, nothing
/// is written and `exit_code` is set.
bool MayWriteDownload(const std::vector<std::string>& paths, const std::string& dir, bool overwrite, int& exit_code);

/// What `runs download` prints once `paths` (`bytes` in all) are written.
void PrintDownloadResult(const std::string& run_id, const std::string& dir, const std::vector<std::string>& paths,
                         uintmax_t bytes, bool json_output);

}  // namespace amlc::cli

#endif  // AMLC_CLI_RUNS_DOWNLOAD_H_
