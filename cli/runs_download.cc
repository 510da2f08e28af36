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

struct FileCopy {
  fs::path from;
  fs::path to;
};

// Every file under `from` (or `from` itself), to the same place under `to`.
void AddFiles(const fs::path& from, const fs::path& to, std::vector<FileCopy>& copies) {
  std::error_code error;
  if (fs::is_regular_file(from, error)) {
    copies.push_back({from, to});
    return;
  }
  for (auto it = fs::recursive_directory_iterator(from, error); !error && it != fs::end(it); it.increment(error)) {
    if (it->is_regular_file(error)) copies.push_back({it->path(), to / fs::relative(it->path(), from, error)});
  }
}

std::string OutputNames(const json& outputs) {
  std::string names;
  for (const auto& [name, value] : outputs.items()) names += (names.empty() ? "" : ", ") + name;
  return names.empty() ? "(none)" : names;
}

// What to copy, or nullopt (and the error printed) for an unknown run or output.
std::optional<std::vector<FileCopy>> PlanCopies(runtime::Workspace& workspace, const DownloadFlags& flags,
                                                int& exit_code) {
  auto run = workspace.state().GetRun(flags.run_id);
  if (!run.ok() || !run.value()) {
    PrintError("no run '" + flags.run_id + "' in this workspace (amlc runs list)");
    exit_code = kExitUsage;
    return std::nullopt;
  }
  json outputs = json::parse(run.value()->outputs_json, nullptr, false);
  if (!outputs.is_object()) outputs = json::object();
  if (!flags.output_name.empty() && !outputs.contains(flags.output_name)) {
    PrintError("run " + flags.run_id + " has no output '" + flags.output_name + "'; its outputs: " +
               OutputNames(outputs));
    exit_code = kExitUsage;
    return std::nullopt;
  }
  std::vector<FileCopy> copies;
  fs::path dir = flags.dir;
  fs::path stored = workspace.run_outputs(flags.run_id);
  for (const auto& [name, value] : outputs.items()) {
    if (flags.output_name.empty() || name == flags.output_name) AddFiles(stored / name, dir / "outputs" / name, copies);
  }
  if (flags.output_name.empty()) {
    AddFiles(stored.parent_path() / "logs", dir / "logs", copies);
    AddFiles(fs::path(workspace.run_dir(flags.run_id)) / "output.log", dir / "logs" / "output.log", copies);
  }
  return copies;
}

// Refuses (before writing anything) when a file would be replaced without --overwrite.
bool CheckExisting(const std::vector<FileCopy>& copies, const DownloadFlags& flags, int& exit_code) {
  if (flags.overwrite) return true;
  std::vector<std::string> existing;
  for (const FileCopy& copy : copies) {
    if (fs::exists(copy.to)) existing.push_back(copy.to.string());
  }
  if (existing.empty()) return true;
  PrintError(std::to_string(existing.size()) + " file(s) already exist, e.g. " + existing.front() +
             "; nothing was written (give --overwrite to replace them, or another -o DIR)");
  exit_code = kExitSpecErrors;
  return false;
}

// Copies the files, their bytes reported to `bytes` (file by file); the
// bytes written, or nullopt (and the error printed) when one cannot be.
std::optional<uintmax_t> CopyFiles(const std::vector<FileCopy>& copies, const std::string& run_id,
                                   const ByteSink& bytes) {
  uintmax_t total = 0;
  std::error_code error;
  for (const FileCopy& copy : copies) total += fs::file_size(copy.from, error);
  ByteReporter download(bytes, "download " + run_id, total);
  uintmax_t written = 0;
  for (const FileCopy& copy : copies) {
    fs::create_directories(copy.to.parent_path(), error);
    if (!error) fs::copy_file(copy.from, copy.to, fs::copy_options::overwrite_existing, error);
    if (error) {
      PrintError("cannot write " + copy.to.string() + ": " + error.message());
      return std::nullopt;
    }
    written += fs::file_size(copy.to, error);
    download.Reached(written);
  }
  download.Finish();
  return written;
}

void RunsDownload(const DownloadFlags& flags, int& exit_code) {
  auto workspace = OpenExistingWorkspace(flags.workspace, exit_code);
  if (!workspace) return;
  std::optional<std::vector<FileCopy>> copies = PlanCopies(*workspace, flags, exit_code);
  if (!copies || !CheckExisting(*copies, flags, exit_code)) return;
  // On stderr, so stdout keeps only the result (--json's document).
  ByteLines lines(stderr, isatty(STDERR_FILENO) == 1, "");
  ByteSink progress;
  if (!flags.json_output) progress = [&](const ByteProgress& report) { lines.Report(report); };
  std::optional<uintmax_t> bytes = CopyFiles(*copies, flags.run_id, progress);
  if (!bytes) {
    exit_code = kExitSpecErrors;
    return;
  }
  exit_code = kExitOk;
  if (flags.json_output) {
    json files = json::array();
    for (const FileCopy& copy : *copies) files.push_back(fs::relative(copy.to, flags.dir).string());
    std::printf("%s\n", json{{"run", flags.run_id}, {"dir", flags.dir}, {"files", files}, {"bytes", *bytes}}
                            .dump(2).c_str());
    return;
  }
  std::printf("wrote %zu files (%ju bytes) of run %s to %s\n", copies->size(), *bytes, flags.run_id.c_str(),
              flags.dir.c_str());
}

}  // namespace

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
