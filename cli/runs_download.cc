#include "cli/runs_download.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli/byte_lines.h"
#include "cli/output.h"
#include "cli/workspace_access.h"
#include "runtime/views/run_files.h"
#include "runtime/workspace/workspace.h"

namespace amlc::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct DownloadFlags {
  std::string workspace;
  std::string run_id;
  std::string output_name;  // "" = every output and the logs
  std::string dir;
  bool overwrite = false;
  bool json_output = false;
};

// The workspace's files of the run and where each goes, or nullopt (and the
// error printed) for an unknown run or output.
std::optional<std::vector<runtime::RunFile>> PlanCopies(runtime::Workspace& workspace, const DownloadFlags& flags,
                                                        int& exit_code) {
  auto files = runtime::RunDownloadFiles(workspace, flags.run_id, flags.output_name);
  if (!files.ok()) {
    PrintError(files.status().message());
    exit_code = kExitUsage;
    return std::nullopt;
  }
  return std::move(files.value());
}

// Copies the files, their bytes reported to `bytes` (file by file); the
// bytes written, or nullopt (and the error printed) when one cannot be.
std::optional<uintmax_t> CopyFiles(const std::vector<runtime::RunFile>& copies, const DownloadFlags& flags,
                                   const ByteSink& bytes) {
  uintmax_t total = 0;
  std::error_code error;
  for (const runtime::RunFile& copy : copies) total += fs::file_size(copy.stored, error);
  ByteReporter download(bytes, "download " + flags.run_id, total);
  uintmax_t written = 0;
  for (const runtime::RunFile& copy : copies) {
    fs::path to = fs::path(flags.dir) / copy.path;
    fs::create_directories(to.parent_path(), error);
    if (!error) fs::copy_file(copy.stored, to, fs::copy_options::overwrite_existing, error);
    if (error) {
      PrintError("cannot write " + to.string() + ": " + error.message());
      return std::nullopt;
    }
    written += fs::file_size(to, error);
    download.Reached(written);
  }
  download.Finish();
  return written;
}

std::vector<std::string> Paths(const std::vector<runtime::RunFile>& files) {
  std::vector<std::string> paths;
  for (const runtime::RunFile& file : files) paths.push_back(file.path);
  return paths;
}

void RunsDownload(const DownloadFlags& flags, int& exit_code) {
  auto workspace = OpenExistingWorkspace(flags.workspace, exit_code);
  if (!workspace) return;
  std::optional<std::vector<runtime::RunFile>> copies = PlanCopies(*workspace, flags, exit_code);
  if (!copies || !MayWriteDownload(Paths(*copies), flags.dir, flags.overwrite, exit_code)) return;
  // On stderr, so stdout keeps only the result (--json's document).
  ByteLines lines(stderr, isatty(STDERR_FILENO) == 1, "");
  ByteSink progress;
  if (!flags.json_output) progress = [&](const ByteProgress& report) { lines.Report(report); };
  std::optional<uintmax_t> bytes = CopyFiles(*copies, flags, progress);
  if (!bytes) {
    exit_code = kExitSpecErrors;
    return;
  }
  exit_code = kExitOk;
  PrintDownloadResult(flags.run_id, flags.dir, Paths(*copies), *bytes, flags.json_output);
}

}  // namespace

bool MayWriteDownload(const std::vector<std::string>& paths, const std::string& dir, bool overwrite, int& exit_code) {
  if (overwrite) return true;
  std::vector<std::string> existing;
  for (const std::string& path : paths) {
    if (fs::exists(fs::path(dir) / path)) existing.push_back((fs::path(dir) / path).string());
  }
  if (existing.empty()) return true;
  PrintError(std::to_string(existing.size()) + " file(s) already exist, e.g. " + existing.front() +
             "; nothing was written (give --overwrite to replace them, or another -o DIR)");
  exit_code = kExitSpecErrors;
  return false;
}

void PrintDownloadResult(const std::string& run_id, const std::string& dir, const std::vector<std::string>& paths,
                         uintmax_t bytes, bool json_output) {
  if (json_output) {
    std::printf("%s\n", json{{"run", run_id}, {"dir", dir}, {"files", paths}, {"bytes", bytes}}.dump(2).c_str());
    return;
  }
  std::printf("wrote %zu files (%ju bytes) of run %s to %s\n", paths.size(), bytes, run_id.c_str(), dir.c_str());
}

void AddRunsDownloadCommand(CLI::App* runs, int& exit_code) {
  auto flags = std::make_shared<DownloadFlags>();
  CLI::App* download = runs->add_subcommand(
      "download", "A run's outputs (DIR/outputs/NAME) and logs (DIR/logs) into a folder");
  download->add_option("run", flags->run_id, "Run id")->required();
  download->add_option("-o,--download-path", flags->dir, "Folder to write into (created when missing)")->required();
  download->add_option("--output", flags->output_name, "Only this output (no logs)");
  download->add_flag("--overwrite", flags->overwrite, "Replace files that already exist");
  download->add_option("--workspace", flags->workspace, "Workspace home (default: $AMLC_WORKSPACE, else ./.amlc)");
  download->add_flag("--json", flags->json_output, "Print JSON: the files written and their size");
  download->callback([flags, &exit_code] { RunsDownload(*flags, exit_code); });
}

}  // namespace amlc::cli
