// A run's files against a workspace server. `runs download`: the run's
// files are listed by /api/v1/runs/{id}/files and each is streamed from
// /files/{path} into the folder, with the same checks, progress and result
// as the local command (runs_download.cc). `runs snapshot`: the code
// snapshot's files (--list) or its zip (-o), as runs_commands.cc prints them.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/byte_progress.h"
#include "cli/byte_lines.h"
#include "cli/output.h"
#include "cli/remote_commands.h"
#include "cli/runs_download.h"

namespace amlc::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Streams one file of the run to `to`; false (the error printed) when it cannot be.
bool DownloadFile(const ServerClient& server, const std::string& files_path, const std::string& path,
                  const fs::path& to, uintmax_t& written, ByteReporter& download, int& exit_code) {
  std::error_code error;
  fs::create_directories(to.parent_path(), error);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  if (error || !out) {
    PrintError("cannot write " + to.string() + (error ? ": " + error.message() : ""));
    exit_code = kExitSpecErrors;
    return false;
  }
  std::string encoded;
  for (const fs::path& part : fs::path(path)) encoded += (encoded.empty() ? "" : "/") + QueryValue(part.string());
  ServerAnswer answer = server.Stream(files_path + "/" + encoded, [&](const char* data, size_t size) {
    out.write(data, static_cast<std::streamsize>(size));
    written += size;
    download.Reached(written);
    return static_cast<bool>(out);
  });
  if (!answer.ok()) {
    exit_code = ReportServerFailure(server.target(), answer);
    return false;
  }
  if (!out.flush()) {
    PrintError("cannot write " + to.string());
    exit_code = kExitSpecErrors;
    return false;
  }
  return true;
}

int RunsDownload(const ServerClient& server, const CLI::App& command) {
  std::string run = OptionText(command, "run");
  std::string dir = OptionText(command, "--download-path");
  std::string output = OptionText(command, "--output");
  bool json_output = OptionFlag(command, "--json");
  std::string files_path = "/api/v1/runs/" + QueryValue(run) + "/files";
  int exit_code = kExitOk;
  std::optional<json> files =
      GetJson(server, files_path + (output.empty() ? "" : "?output=" + QueryValue(output)), exit_code);
  if (!files) return exit_code;
  std::vector<std::string> paths;
  uintmax_t total = 0;
  for (const json& file : *files) {
    paths.push_back(file.value("path", ""));
    total += file.value("size", uintmax_t{0});
  }
  if (!MayWriteDownload(paths, dir, OptionFlag(command, "--overwrite"), exit_code)) return exit_code;
  // On stderr, so stdout keeps only the result (--json's document), as locally.
  ByteLines lines(stderr, isatty(STDERR_FILENO) == 1, "");
  ByteSink progress;
  if (!json_output) progress = [&](const ByteProgress& report) { lines.Report(report); };
  ByteReporter download(progress, "download " + run, total);
  uintmax_t written = 0;
  for (const std::string& path : paths) {
    if (!DownloadFile(server, files_path, path, fs::path(dir) / path, written, download, exit_code)) return exit_code;
  }
  download.Finish();
  PrintDownloadResult(run, dir, paths, written, json_output);
  return kExitOk;
}

bool WriteWhole(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out.flush());
}

int RunsSnapshot(const ServerClient& server, const CLI::App& command) {
  std::string id = OptionText(command, "run");
  std::string run_path = "/api/v1/runs/" + QueryValue(id);
  int exit_code = kExitOk;
  std::optional<json> run = GetJson(server, run_path, exit_code);
  if (!run) return exit_code;
  std::string digest = run->value("snapshot", "");
  if (digest.empty()) {
    PrintError("run '" + id + "' has no code snapshot (its job has no code folder)");
    return kExitSpecErrors;
  }
  std::optional<json> listing = GetJson(server, run_path + "/snapshot/files", exit_code);
  if (!listing) return exit_code;
  const json files = listing->value("files", json::array());
  if (OptionFlag(command, "--list")) {
    for (const json& file : files) {
      std::printf("%s %10llu  %s\n", file.value("digest", "").substr(0, 12).c_str(),
                  static_cast<unsigned long long>(file.value("size", uint64_t{0})), file.value("path", "").c_str());
    }
    return kExitOk;
  }
  std::string output = OptionText(command, "--output");
  if (output.empty()) {
    PrintError("give -o FILE.zip, or --list");
    return kExitUsage;
  }
  ServerAnswer zip = server.Get(run_path + "/snapshot");
  if (!zip.ok()) return ReportServerFailure(server.target(), zip);
  if (!WriteWhole(output, zip.body)) {
    PrintError("cannot write " + output);
    return kExitSpecErrors;
  }
  std::printf("%s: %zu files of run %s (snapshot %s)\n", output.c_str(), files.size(), id.c_str(),
              digest.substr(0, 12).c_str());
  return kExitOk;
}

}  // namespace

std::map<std::string, RemoteCommand> RemoteDownloadCommands() {
  return {{"runs download", RunsDownload}, {"runs snapshot", RunsSnapshot}};
}

}  // namespace amlc::cli
