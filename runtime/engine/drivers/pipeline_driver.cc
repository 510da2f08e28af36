#include "runtime/engine/drivers/pipeline_driver.h"

#include <nlohmann/json.hpp>

#include "base/clock.h"

namespace amlc::runtime {

void PipelineDriver::Carry(RunRecord& run, const compiler::ir::Resource& job,
                           const compiler::planner::Observation& seen, const RunRequest& request,
                           const Progress& progress) {
  run.status = RunStatus::kCompleted;
  run.started_at = run.created_at;
  run.ended_at = NowMillis();
  nlohmann::json outputs = nlohmann::json::object();
  for (const auto& [part, step_run] : seen.key_parts) {
    if (part.rfind("step:", 0) != 0) continue;
    auto step = context_.state().GetRun(step_run);
    if (!step.ok() || !step.value()) continue;
    RunRecord child = *step.value();
    if (child.parent_run_id.empty()) {
      child.parent_run_id = run.id;
      context_.state().UpdateRun(child);
    }
    outputs[part.substr(5)] = child.id;
  }
  run.outputs_json = outputs.dump();
  context_.state().UpdateRun(run);
}

}  // namespace amlc::runtime
