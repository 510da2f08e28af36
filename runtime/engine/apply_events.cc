#include "runtime/engine/apply_events.h"

#include "base/clock.h"
#include "base/time.h"

namespace amlc::runtime {

using compiler::planner::Action;
using compiler::planner::ActionName;
using compiler::planner::ActionType;
using nlohmann::json;

namespace {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSucceeded: return "succeeded";
    case Outcome::kFailed: return "failed";
    case Outcome::kSkipped: return "skipped";
  }
  return "failed";
}

json ActionJson(size_t index, const Action& action) {
  return {{"index", index}, {"action", ActionName(action.type)}, {"resource", action.resource_id},
          {"kind", action.kind}};
}

}  // namespace

ApplyEvents::ApplyEvents(LineWriter write) : write_(std::move(write)), started_(std::chrono::steady_clock::now()) {}

void ApplyEvents::Emit(json event) {
  event["time"] = IsoUtcMillis(NowMillis());
  std::string line = event.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  std::lock_guard lock(mutex_);
  write_(line);
}

void ApplyEvents::Planned(const compiler::planner::Plan& plan, const std::string& workspace) {
  json actions = json::array();
  for (size_t i = 0; i < plan.actions.size(); ++i) {
    json action = ActionJson(i, plan.actions[i]);
    action["reasons"] = plan.actions[i].reasons;
    action["after"] = plan.actions[i].after;
    actions.push_back(std::move(action));
  }
  json counts = {{"add", plan.Count(ActionType::kCreate)},     {"change", plan.Count(ActionType::kUpdate)},
                 {"replace", plan.Count(ActionType::kReplace)}, {"destroy", plan.Count(ActionType::kDelete)},
                 {"run", plan.Count(ActionType::kRun)},         {"up_to_date", plan.up_to_date}};
  Emit({{"type", "plan"}, {"schema", kApplyEventsSchema}, {"workspace", workspace}, {"actions", actions},
        {"counts", counts}, {"summary", compiler::planner::PlanSummary(plan)}});
}

void ApplyEvents::Error(const std::string& message) { Emit({{"type", "error"}, {"message", message}}); }

void ApplyEvents::Started(size_t index, const Action& action) {
  json event = ActionJson(index, action);
  event["type"] = "action_started";
  Emit(std::move(event));
}

void ApplyEvents::Bytes(size_t index, const ByteProgress& progress) {
  json event = {{"type", "bytes"},
                {"index", index},
                {"label", progress.label},
                {"done", progress.done},
                {"bytes_per_second", progress.bytes_per_second},
                {"finished", progress.finished}};
  if (progress.total) event["total"] = *progress.total;
  Emit(std::move(event));
}

void ApplyEvents::Progress(size_t index, const std::string& status) {
  json event = {{"type", "action_progress"}, {"index", index}, {"status", status}};
  // A job's driver says "run ID" when it has started the run.
  if (status.rfind("run ", 0) == 0) {
    std::lock_guard lock(mutex_);
    run_ids_[index] = status.substr(4);
  }
  Emit(std::move(event));
}

void ApplyEvents::Finished(size_t index, const Action& action, const ActionResult& result, double seconds) {
  json event = ActionJson(index, action);
  event["type"] = "action_finished";
  event["outcome"] = OutcomeName(result.outcome);
  event["message"] = result.message;
  event["elapsed_seconds"] = seconds;
  {
    std::lock_guard lock(mutex_);
    if (auto it = run_ids_.find(index); it != run_ids_.end()) event["run_id"] = it->second;
  }
  Emit(std::move(event));
}

void ApplyEvents::Summary(const std::vector<ActionResult>& results, int exit_code) {
  int succeeded = 0, failed = 0, skipped = 0;
  for (const ActionResult& r : results) {
    succeeded += r.outcome == Outcome::kSucceeded;
    failed += r.outcome == Outcome::kFailed;
    skipped += r.outcome == Outcome::kSkipped;
  }
  const char* outcome = results.empty() ? (exit_code == 0 ? "no_changes" : "error")
                        : failed + skipped ? "failed"
                                           : "complete";
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  Emit({{"type", "summary"}, {"outcome", outcome}, {"succeeded", succeeded}, {"failed", failed},
        {"skipped", skipped}, {"elapsed_seconds", elapsed}, {"exit_code", exit_code}});
}

}  // namespace amlc::runtime
