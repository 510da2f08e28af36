#include "runtime/tracking/mlruns_import.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace amlc::runtime {

namespace fs = std::filesystem;

namespace {

// One run as the file store holds it, read before anything is written.
struct StoredRun {
  RunRecord record;
  fs::path dir;
};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// meta.yaml, or a null node (with a warning) when it cannot be read.
YAML::Node ReadMeta(const fs::path& file, std::vector<std::string>& warnings) {
  try {
    return YAML::LoadFile(file.string());
  } catch (const YAML::Exception& error) {
    warnings.push_back(file.string() + ": not readable YAML (" + error.what() + "); skipped");
    return YAML::Node();
  }
}

std::string Scalar(const YAML::Node& meta, const char* key) {
  const YAML::Node value = meta[key];
  return value && value.IsScalar() ? value.as<std::string>() : "";
}

int64_t Millis(const YAML::Node& meta, const char* key) {
  std::string text = Scalar(meta, key);
  return text.empty() || text == "null" ? 0 : std::strtoll(text.c_str(), nullptr, 10);
}

// MLflow's RunStatus numbers (or names, in newer stores).
RunStatus StatusOf(const std::string& status) {
  if (status == "1" || status == "RUNNING") return RunStatus::kRunning;
  if (status == "2" || status == "SCHEDULED") return RunStatus::kQueued;
  if (status == "4" || status == "FAILED") return RunStatus::kFailed;
  if (status == "5" || status == "KILLED") return RunStatus::kCanceled;
  return RunStatus::kCompleted;
}

// key -> file text for every file below `folder`; keys may hold '/'.
std::vector<std::pair<std::string, std::string>> KeyFiles(const fs::path& folder) {
  std::vector<std::pair<std::string, std::string>> files;
  std::error_code error;
  if (!fs::is_directory(folder, error)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(folder, error)) {
    if (entry.is_regular_file()) {
      files.emplace_back(entry.path().lexically_relative(folder).generic_string(), Slurp(entry.path()));
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// metrics/KEY: one "timestamp value [step]" line per point.
std::vector<MetricPoint> ReadMetrics(const StoredRun& run, std::vector<std::string>& warnings) {
  std::vector<MetricPoint> points;
  for (const auto& [key, text] : KeyFiles(run.dir / "metrics")) {
    std::istringstream lines(text);
    std::string line;
    int number = 0;
    while (std::getline(lines, line)) {
      ++number;
      if (line.empty()) continue;
      std::istringstream fields(line);
      std::string value;
      MetricPoint point;
      point.run_id = run.record.id;
      point.name = key;
      if (!(fields >> point.timestamp >> value)) {
        warnings.push_back((run.dir / "metrics" / key).string() + ":" + std::to_string(number) +
                           ": not \"timestamp value step\"; skipped");
        continue;
      }
      point.value = std::strtod(value.c_str(), nullptr);  // reads nan and inf as Python writes them
      if (!(fields >> point.step)) point.step = 0;
      points.push_back(std::move(point));
    }
  }
  return points;
}

std::vector<StoredRun> ReadExperiment(const fs::path& dir, const std::string& experiment,
                                      std::vector<std::string>& warnings) {
  std::vector<StoredRun> runs;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    fs::path meta_file = entry.path() / "meta.yaml";
    if (!entry.is_directory() || !fs::exists(meta_file)) continue;
    YAML::Node meta = ReadMeta(meta_file, warnings);
    if (!meta || Scalar(meta, "lifecycle_stage") == "deleted") continue;
    StoredRun run;
    run.dir = entry.path();
    RunRecord& record = run.record;
    record.id = Scalar(meta, "run_id");
    if (record.id.empty()) record.id = Scalar(meta, "run_uuid");
    if (record.id.empty()) record.id = entry.path().filename().string();
    record.experiment = experiment;
    record.status = StatusOf(Scalar(meta, "status"));
    record.compute = "mlflow";
    record.command = Scalar(meta, "run_name");
    record.created_at = record.started_at = Millis(meta, "start_time");
    record.ended_at = Millis(meta, "end_time");
    record.work_dir = entry.path().string();
    runs.push_back(std::move(run));
  }
  return runs;
}

Status CopyArtifacts(Workspace& workspace, const StoredRun& run, MlrunsImport& result) {
  fs::path artifacts = run.dir / "artifacts";
  std::error_code error;
  if (!fs::is_directory(artifacts, error)) return Status::Ok();
  fs::path outputs = workspace.run_outputs(run.record.id);
  fs::create_directories(outputs, error);
  for (const auto& entry : fs::recursive_directory_iterator(artifacts, error)) {
    if (!entry.is_regular_file()) continue;
    fs::path target = outputs / entry.path().lexically_relative(artifacts);
    fs::create_directories(target.parent_path(), error);
    fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing, error);
    if (error) return Status(StatusCode::kInternal, "copying " + entry.path().string() + ": " + error.message());
    ++result.artifact_files;
  }
  return Status::Ok();
}

// Writes one run: its row, metrics, params, tags and artifacts.
Status ImportRun(Workspace& workspace, StoredRun& run, const std::string& parent, MlrunsImport& result) {
  StateStore& state = workspace.state();
  auto tags = KeyFiles(run.dir / "tags");
  run.record.parent_run_id = parent;
  if (Status s = state.InsertRun(run.record); !s.ok()) return s;
  auto params = KeyFiles(run.dir / "params");
  if (Status s = state.SetRunParams(run.record.id, params); !s.ok()) return s;
  for (const auto& [key, value] : tags) {
    if (Status s = state.SetRunTag(run.record.id, key, value); !s.ok()) return s;
  }
  std::vector<MetricPoint> points = ReadMetrics(run, result.warnings);
  if (!points.empty()) {
    if (Status s = state.AppendMetrics(points); !s.ok()) return s;
  }
  ++result.runs;
  result.metric_points += static_cast<int>(points.size());
  result.params += static_cast<int>(params.size());
  result.tags += static_cast<int>(tags.size());
  return CopyArtifacts(workspace, run, result);
}

}  // namespace

StatusOr<MlrunsImport> ImportMlruns(Workspace& workspace, const std::string& dir) {
  MlrunsImport result;
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    return Status(StatusCode::kInvalidArgument, dir + " is not a folder; give the mlruns/ folder MLflow wrote");
  }
  std::vector<StoredRun> runs;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    fs::path meta_file = entry.path() / "meta.yaml";
    if (!entry.is_directory() || entry.path().filename() == ".trash" || !fs::exists(meta_file)) continue;
    YAML::Node meta = ReadMeta(meta_file, result.warnings);
    if (!meta || Scalar(meta, "lifecycle_stage") == "deleted") continue;
    std::string name = Scalar(meta, "name");
    if (name.empty()) name = entry.path().filename().string();
    if (Status s = workspace.state().EnsureExperiment(name); !s.ok()) return s;
    ++result.experiments;
    for (StoredRun& run : ReadExperiment(entry.path(), name, result.warnings)) runs.push_back(std::move(run));
  }
  if (result.experiments == 0) {
    return Status(StatusCode::kInvalidArgument,
                  dir + " holds no MLflow experiment (no EXPERIMENT/meta.yaml); give the mlruns/ folder itself");
  }
  // Parents before their children (the store refers to the parent's row);
  // a run whose parent is nowhere becomes a top-level run.
  std::map<std::string, bool> known;
  for (const StoredRun& run : runs) known[run.record.id] = false;
  for (size_t pass = 0, left = runs.size(); left > 0 && pass <= runs.size(); ++pass) {
    for (StoredRun& run : runs) {
      if (known[run.record.id]) continue;
      std::string parent;
      for (const auto& [key, value] : KeyFiles(run.dir / "tags")) {
        if (key == "mlflow.parentRunId") parent = value;
      }
      if (!parent.empty() && known.count(parent) && !known[parent]) continue;  // parent first
      known[run.record.id] = true;
      --left;
      auto existing = workspace.state().GetRun(run.record.id);
      if (!existing.ok()) return existing.status();
      if (existing.value()) {
        ++result.already_there;
        continue;
      }
      if (!parent.empty() && !known.count(parent)) {
        auto stored_parent = workspace.state().GetRun(parent);
        if (!stored_parent.ok() || !stored_parent.value()) {
          result.warnings.push_back("run " + run.record.id + ": its parent " + parent +
                                    " is in neither the folder nor the workspace; imported as a top-level run");
          parent.clear();
        }
      }
      if (Status s = ImportRun(workspace, run, parent, result); !s.ok()) return s;
    }
  }
  return result;
}

}  // namespace amlc::runtime
