#include "runtime/views/run_files.h"

#include <filesystem>
#include <nlohmann/json.hpp>

namespace amlc::runtime {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Every file under `from` (or `from` itself), to the same place under `to`.
void AddFiles(const fs::path& from, const fs::path& to, std::vector<RunFile>& files) {
  std::error_code error;
  if (fs::is_regular_file(from, error)) {
    files.push_back({from.string(), to.string()});
    return;
  }
  for (auto it = fs::recursive_directory_iterator(from, error); !error && it != fs::end(it); it.increment(error)) {
    if (it->is_regular_file(error)) files.push_back({it->path().string(), (to / fs::relative(it->path(), from, error)).string()});
  }
}

std::string OutputNames(const json& outputs) {
  std::string names;
  for (const auto& [name, value] : outputs.items()) names += (names.empty() ? "" : ", ") + name;
  return names.empty() ? "(none)" : names;
}

}  // namespace

StatusOr<std::vector<RunFile>> RunDownloadFiles(Workspace& workspace, const std::string& run_id,
                                                const std::string& output_name) {
  auto run = workspace.state().GetRun(run_id);
  if (!run.ok() || !run.value()) {
    return Status(StatusCode::kNotFound, "no run '" + run_id + "' in this workspace (amlc runs list)");
  }
  json outputs = json::parse(run.value()->outputs_json, nullptr, false);
  if (!outputs.is_object()) outputs = json::object();
  if (!output_name.empty() && !outputs.contains(output_name)) {
    return Status(StatusCode::kNotFound,
                  "run " + run_id + " has no output '" + output_name + "'; its outputs: " + OutputNames(outputs));
  }
  std::vector<RunFile> files;
  fs::path stored = workspace.run_outputs(run_id);
  for (const auto& [name, value] : outputs.items()) {
    if (output_name.empty() || name == output_name) AddFiles(stored / name, fs::path("outputs") / name, files);
  }
  if (output_name.empty()) {
    AddFiles(stored.parent_path() / "logs", "logs", files);
    AddFiles(fs::path(workspace.run_dir(run_id)) / "output.log", "logs/output.log", files);
  }
  return files;
}

}  // namespace amlc::runtime
