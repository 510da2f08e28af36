#include "runtime/tracking/mlflow_artifacts.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace amlc::runtime {

namespace fs = std::filesystem;
using nlohmann::json;

std::string MlflowArtifactUri(const std::string& run_id) { return "mlflow-artifacts:/" + run_id; }

MlflowArtifactLocation LocateMlflowArtifact(Workspace& workspace, const std::string& artifact_path) {
  std::string text = artifact_path;
  while (!text.empty() && text.back() == '/') text.pop_back();
  size_t slash = text.find('/');
  std::string run_id = text.substr(0, slash);
  std::string relative = slash == std::string::npos ? "" : text.substr(slash + 1);
  fs::path rest(relative);
  for (const fs::path& part : rest) {
    if (part == ".." || part == "." || part.empty()) {
      return {"", MlflowError(400, "INVALID_PARAMETER_VALUE", "Invalid path '" + artifact_path + "'")};
    }
  }
  if (run_id.empty() || rest.is_absolute()) {
    return {"", MlflowError(400, "INVALID_PARAMETER_VALUE", "Invalid path '" + artifact_path + "': artifact paths are RUN_ID/PATH")};
  }
  auto run = workspace.state().GetRun(run_id);
  if (!run.ok()) return {"", MlflowError(500, "INTERNAL_ERROR", run.status().message())};
  if (!run.value()) return {"", MlflowError(404, "RESOURCE_DOES_NOT_EXIST", "Run '" + run_id + "' not found")};
  fs::path outputs = workspace.run_outputs(run_id);
  return {(relative.empty() ? outputs : outputs / rest).string(), {}};
}

MlflowRestAnswer PutMlflowArtifact(Workspace& workspace, const std::string& path, const std::string& body) {
  MlflowArtifactLocation at = LocateMlflowArtifact(workspace, path);
  if (at.path.empty()) return at.error;
  fs::path file(at.path);
  if (file == fs::path(workspace.run_outputs(path.substr(0, path.find('/'))))) {
    return MlflowError(400, "INVALID_PARAMETER_VALUE", "Invalid path '" + path + "': name a file inside the run");
  }
  std::error_code error;
  fs::create_directories(file.parent_path(), error);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(body.data(), static_cast<std::streamsize>(body.size()));
  out.close();
  if (error || !out) return MlflowError(500, "INTERNAL_ERROR", "cannot write the artifact '" + path + "'");
  return {200, "{}"};
}

MlflowRestAnswer GetMlflowArtifact(Workspace& workspace, const std::string& path) {
  MlflowArtifactLocation at = LocateMlflowArtifact(workspace, path);
  if (at.path.empty()) return at.error;
  fs::path file(at.path);
  if (!fs::is_regular_file(file)) {
    return MlflowError(404, "RESOURCE_DOES_NOT_EXIST", "No artifact '" + path + "'");
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return {200, bytes.str(), "application/octet-stream"};
}

MlflowRestAnswer ListMlflowArtifacts(Workspace& workspace, const std::string& path) {
  MlflowArtifactLocation at = LocateMlflowArtifact(workspace, path);
  if (at.path.empty()) return at.error;
  json files = json::array();
  std::error_code error;
  if (fs::is_directory(at.path)) {
    for (const auto& entry : fs::directory_iterator(at.path, error)) {
      json listed = {{"path", entry.path().filename().string()}, {"is_dir", entry.is_directory()}};
      if (!entry.is_directory()) listed["file_size"] = static_cast<int64_t>(entry.file_size(error));
      files.push_back(listed);
    }
  }
  std::sort(files.begin(), files.end(), [](const json& a, const json& b) { return a["path"] < b["path"]; });
  return {200, files.empty() ? "{}" : json{{"files", files}}.dump()};
}

}  // namespace amlc::runtime
