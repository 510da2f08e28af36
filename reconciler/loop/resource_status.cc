#include "reconciler/loop/resource_status.h"

#include <map>

namespace amlc::reconciler {

using compiler::planner::Action;
using compiler::planner::ActionType;
using nlohmann::json;

namespace {

std::string JoinReasons(const Action& action) {
  std::string text;
  for (const std::string& reason : action.reasons) text += (text.empty() ? "" : "; ") + reason;
  return text;
}

bool IsDrift(const Action& action) {
  for (const std::string& reason : action.reasons) {
    if (reason.rfind("drift:", 0) == 0) return true;
  }
  return false;
}

// A job's health is its newest top-level run's.
json JobHealth(runtime::StateStore& state, const std::string& job_id) {
  runtime::RunQuery query;
  query.job_id = job_id;
  query.limit = 1;
  auto runs = state.ListRuns(query);
  if (!runs.ok() || runs->empty()) return {{"health", "Missing"}, {"message", "no run yet"}};
  const runtime::RunRecord& run = runs->front();
  std::string message = "run " + run.id + " " + runtime::RunStatusName(run.status);
  switch (run.status) {
    case runtime::RunStatus::kQueued:
    case runtime::RunStatus::kRunning:
      return {{"health", "Progressing"}, {"message", message}};
    case runtime::RunStatus::kCompleted:
      return {{"health", "Healthy"}, {"message", message}};
    default:
      return {{"health", "Degraded"}, {"message", message + (run.error.empty() ? "" : ": " + run.error)}};
  }
}

json Row(const std::string& id, const std::string& kind, const std::string& sync, const std::string& health,
            const std::string& message) {
  return {{"id", id}, {"kind", kind}, {"sync", sync}, {"health", health}, {"message", message}};
}

}  // namespace

json ResourceStatuses(const compiler::ir::Graph& graph, const compiler::planner::Plan& plan,
                      runtime::StateStore& state) {
  std::map<std::string, const Action*> action_of;
  for (const Action& action : plan.actions) action_of[action.resource_id] = &action;
  std::map<std::string, std::string> deferred;
  for (const auto& d : plan.deferred) deferred[d.resource_id] = d.reason;
  std::map<std::string, bool> recorded;
  if (auto records = state.ListResources(); records.ok()) {
    for (const runtime::ResourceRecord& r : records.value()) recorded[r.id] = true;
  }

  json statuses = json::array();
  for (const compiler::ir::Resource& r : graph.resources()) {
    std::string id = r.id();
    if (auto it = deferred.find(id); it != deferred.end()) {
      statuses.push_back(Row(id, r.kind, "Unsupported", "Missing", it->second));
      continue;
    }
    auto found = action_of.find(id);
    const Action* action = found == action_of.end() ? nullptr : found->second;
    std::string sync = action ? "OutOfSync" : "Synced";
    std::string why = action ? JoinReasons(*action) : "";
    if (r.kind == "job") {
      json health = JobHealth(state, id);
      statuses.push_back(Row(id, r.kind, sync, health["health"].get<std::string>(),
                                why.empty() ? health["message"].get<std::string>() : why));
    } else if (action && action->type == ActionType::kCreate) {
      statuses.push_back(Row(id, r.kind, sync, "Missing", why));
    } else if (action && IsDrift(*action)) {
      statuses.push_back(Row(id, r.kind, sync, "Degraded", why));
    } else if (!recorded.count(id) && !action) {
      statuses.push_back(Row(id, r.kind, sync, "Missing", "not recorded in the workspace"));
    } else {
      statuses.push_back(Row(id, r.kind, sync, "Healthy", why));
    }
  }
  for (const Action& action : plan.actions) {
    if (action.type != ActionType::kDelete) continue;
    statuses.push_back(Row(action.resource_id, action.kind, "OutOfSync", "Healthy", JoinReasons(action)));
  }
  return statuses;
}

std::string OverallHealth(const json& statuses) {
  static const char* kWorstFirst[] = {"Degraded", "Missing", "Progressing"};
  for (const char* health : kWorstFirst) {
    for (const json& s : statuses) {
      if (s.value("health", "") == health && s.value("sync", "") != "Unsupported") return health;
    }
  }
  return "Healthy";
}

}  // namespace amlc::reconciler
