#include "runtime/engine/engine_context.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "runtime/artifacts/snapshot/snapshot_store.h"
#include "base/clock.h"

namespace amlc::runtime {

namespace fs = std::filesystem;

EngineContext::EngineContext(Workspace& workspace, const compiler::ir::Graph& graph, std::string specs_root)
    : workspace_(workspace), graph_(graph), specs_root_(std::move(specs_root)), compute_targets_(workspace) {
  RegisterBuiltinComputeTargets(compute_targets_);
}

std::optional<std::string> EngineContext::CompletedRun(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(ledger_mutex_);
  auto it = completed_runs_.find(job_id);
  if (it == completed_runs_.end()) return std::nullopt;
  return it->second;
}

void EngineContext::SetCompletedRun(const std::string& job_id, const std::string& run_id) {
  std::lock_guard<std::mutex> lock(ledger_mutex_);
  completed_runs_[job_id] = run_id;
}

std::map<std::string, std::string> EngineContext::UpstreamRuns(size_t index) {
  std::lock_guard<std::mutex> lock(ledger_mutex_);
  std::map<std::string, std::string> runs;
  for (const compiler::ir::Dependency& d : graph_.dependencies()) {
    if (d.from != index || graph_.resource(d.to).kind != "job") continue;
    auto it = completed_runs_.find(graph_.resource(d.to).id());
    if (it != completed_runs_.end()) runs[it->first] = it->second;
  }
  return runs;
}

std::string EngineContext::OutputPath(const RunRecord& run, const std::string& output) {
  nlohmann::json outputs = nlohmann::json::parse(run.outputs_json, nullptr, false);
  if (outputs.is_object() && outputs.contains(output) && outputs[output].is_object()) {
    std::string path = outputs[output].value("path", "");
    if (!path.empty()) return path;
  }
  return workspace_.run_outputs(run.id) + "/" + output;
}

std::string EngineContext::LocalPath(const std::string& relative) const {
  if (!relative.empty() && relative[0] == '/') return relative;
  return (fs::path(specs_root_) / relative).lexically_normal().string();
}

std::string EngineContext::PathDigest(const std::string& path) {
  if (fs::is_directory(path)) {
    auto snapshot = workspace_.snapshots().Scan(path);
    return snapshot.ok() ? snapshot->tree_digest : "";
  }
  auto digest = DigestFile(path);
  return digest.ok() ? digest.value() : "";
}

ComputeChoice EngineContext::ComputeOf(const compiler::ir::Value& job_spec) {
  ComputeChoice choice;
  const compiler::ir::Value* ref = job_spec.Find("compute");
  if (!ref || !ref->is_ref()) return choice;
  const std::string& id = ref->as_ref().target;
  choice.name = id.substr(id.find('/') + 1);
  if (const compiler::ir::Resource* declared = Find(id)) {
    choice.type = declared->type;
    choice.spec_json = declared->spec.ToJson();
    return choice;
  }
  // Planning refuses a compute neither declared nor recorded, so a record is there.
  auto recorded = workspace_.state().GetResource(id);
  if (recorded.ok() && recorded.value()) {
    nlohmann::json spec = nlohmann::json::parse(recorded.value()->spec_json, nullptr, false);
    if (spec.is_object() && spec.contains("type") && spec["type"].is_string()) {
      choice.type = spec["type"].get<std::string>();
    }
    choice.spec_json = recorded.value()->spec_json;
  }
  return choice;
}

const compiler::ir::Resource* EngineContext::Find(const std::string& id) const {
  auto index = graph_.Find(id);
  return index ? &graph_.resource(*index) : nullptr;
}

Status EngineContext::RecordApplied(const compiler::ir::Resource& r, const std::string& outputs_json) {
  ResourceRecord record;
  record.id = r.id();
  record.kind = r.kind;
  record.name = r.name;
  record.version = r.version;
  record.digest = r.digest;
  record.spec_json = r.spec.ToJson();
  record.outputs_json = outputs_json;
  record.updated_at = NowMillis();
  return workspace_.state().PutResource(record);
}

}  // namespace amlc::runtime
