#include "runtime/compute/run_folder.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "runtime/workspace/python_module.h"

namespace amlc::runtime {

namespace fs = std::filesystem;

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string ExitCodeFile(const Workspace& workspace, const std::string& run_id) {
  return workspace.run_dir(run_id) + "/exit_code";
}

bool ReadExitCode(const std::string& path, int& code) {
  std::ifstream in(path);
  return static_cast<bool>(in >> code);
}

namespace {

constexpr fs::perms kExecutable = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec;

// `python` in the command means the environment's interpreter. A wrapper
// rather than a symlink: a venv's interpreter must be run by its own path to
// find its pyvenv.cfg.
void WritePythonWrappers(const std::string& bin, const std::string& python) {
  std::error_code error;
  for (const char* name : {"/python", "/python3"}) {
    std::string wrapper = bin + name;
    std::ofstream(wrapper) << "#!/bin/sh\nexec " << ShellQuote(python) << " \"$@\"\n";
    fs::permissions(wrapper, kExecutable, error);
  }
}

}  // namespace

StatusOr<std::map<std::string, std::string>> PrepareRunFolder(Workspace& workspace, const RunRecord& run,
                                                              const RunRequest& request, const std::string& work,
                                                              const RunFolderOptions& options) {
  std::error_code error;
  fs::remove_all(work, error);
  // A job without `code` runs in an empty folder.
  Status prepared = run.snapshot_digest.empty() ? Status::Ok()
                                                : workspace.snapshots().Materialize(run.snapshot_digest, work, options.snapshot_bytes);
  if (!prepared.ok()) return Status(prepared.code(), "cannot prepare the work folder: " + prepared.message());
  for (const char* sub : {"/outputs", "/logs", "/.amlc-bin"}) fs::create_directories(work + sub, error);
  for (const std::string& name : request.output_names) fs::create_directories(work + "/outputs/" + name, error);

  std::map<std::string, std::string> env = request.env;
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  // In a container the image's own interpreter and PYTHONPATH apply.
  if (!request.python.empty() && request.container_image.empty()) {
    WritePythonWrappers(work + "/.amlc-bin", request.python);
    path = work + "/.amlc-bin:" + path;
  }
  env["PATH"] = path;
  // amlc's module, then the stand-ins (mlflow, ...) that a real install later
  // on the path takes precedence over.
  std::string python_path = RunPythonPath();
  if (options.stage_python_module) {
    std::string staged = work + "/.amlc-python";
    for (const std::string& from : {PythonModuleDir(), PythonFallbackDir()}) {
      std::string to = staged + (from == PythonModuleDir() ? "/module" : "/fallback");
      fs::create_directories(to, error);
      fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, error);
      if (error) return Status(StatusCode::kUnavailable, "cannot stage amlc's Python modules: " + error.message());
    }
    python_path = staged + "/module:" + staged + "/fallback";
  }
  const char* existing = std::getenv("PYTHONPATH");
  if (existing && *existing && request.container_image.empty()) python_path += std::string(":") + existing;
  env["PYTHONPATH"] = python_path;
  env["AMLC_RUN_ID"] = run.id;
  env["AMLC_EXPERIMENT"] = run.experiment;
  env["AMLC_TRACKING_FILE"] = workspace.run_dir(run.id) + "/tracking.jsonl";
  env["AMLC_OUTPUTS_DIR"] = work + "/outputs";
  return env;
}

void CollectRunOutputs(Workspace& workspace, RunRecord& run, const RunRequest& request, const std::string& work) {
  std::string stored = workspace.run_outputs(run.id);
  std::error_code error;
  fs::create_directories(fs::path(stored).parent_path(), error);
  fs::remove_all(stored, error);
  fs::rename(work + "/outputs", stored, error);
  if (error) fs::create_directories(stored, error);
  fs::path logs = fs::path(stored).parent_path() / "logs";
  fs::remove_all(logs, error);
  fs::rename(work + "/logs", logs, error);
  nlohmann::json outputs = nlohmann::json::object();
  for (const std::string& name : request.output_names) {
    std::string path = stored + "/" + name;
    std::string digest;
    if (fs::is_directory(path)) {
      auto scanned = workspace.snapshots().Scan(path);
      digest = scanned.ok() ? scanned->tree_digest : "";
    } else if (fs::is_regular_file(path)) {
      auto file = DigestFile(path);
      digest = file.ok() ? file.value() : "";
    }
    outputs[name] = {{"path", path}, {"digest", digest}};
  }
  if (request.artifacts_output) {
    std::string root = fs::path(stored).parent_path().string();
    auto scanned = workspace.snapshots().Scan(root);
    outputs[kArtifactsOutput] = {{"path", root}, {"digest", scanned.ok() ? scanned->tree_digest : ""}};
  }
  run.outputs_json = outputs.dump();
}

}  // namespace amlc::runtime
