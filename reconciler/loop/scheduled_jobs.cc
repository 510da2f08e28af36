#include "reconciler/loop/scheduled_jobs.h"

#include <algorithm>
#include <charconv>

namespace amlc::reconciler {

std::vector<ScheduledJob> ScheduledJobs(const compiler::ir::Graph& graph, std::vector<std::string>* problems) {
  std::vector<ScheduledJob> scheduled;
  for (const compiler::ir::Resource& r : graph.resources()) {
    const compiler::ir::Value* trigger = nullptr;
    std::string job_id;
    if (r.kind == "job" && r.parent.empty()) {
      trigger = r.spec.Find("schedule");
      job_id = r.id();
    } else if (r.kind == "schedule") {
      const compiler::ir::Value* enabled = r.spec.Find("is_enabled");
      if (enabled && enabled->type() == compiler::ir::Value::Type::kBool && !enabled->as_bool()) continue;
      trigger = r.spec.Find("trigger");
      const compiler::ir::Value* job = r.spec.Find("create_job");
      if (job && job->is_ref()) {
        job_id = job->as_ref().target;
      } else if (problems) {
        problems->push_back(r.id() + ": only a create_job naming a job (azureml:NAME) is run on schedule");
      }
    }
    if (!trigger || job_id.empty()) continue;
    auto schedule = ParseSchedule(*trigger);
    if (!schedule.ok()) {
      if (problems) problems->push_back(r.id() + ": " + schedule.status().message());
      continue;
    }
    scheduled.push_back({r.id(), job_id, std::move(schedule.value())});
  }
  return scheduled;
}

namespace {

std::string LastFireKey(const ScheduledJob& scheduled) { return "schedule/" + scheduled.id; }

}  // namespace

std::optional<int64_t> LastFire(runtime::StateStore& state, const ScheduledJob& scheduled) {
  auto text = state.GetReconcilerValue(LastFireKey(scheduled));
  if (!text.ok() || text->empty()) return std::nullopt;
  int64_t value = 0;
  auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (error != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

Status RememberFire(runtime::StateStore& state, const ScheduledJob& scheduled, int64_t fired_ms) {
  return state.SetReconcilerValue(LastFireKey(scheduled), std::to_string(fired_ms));
}

std::optional<int64_t> NextScheduleFire(const compiler::ir::Graph& graph, runtime::StateStore& state) {
  std::optional<int64_t> earliest;
  for (const ScheduledJob& scheduled : ScheduledJobs(graph)) {
    std::optional<int64_t> last = LastFire(state, scheduled);
    if (!last) continue;
    std::optional<int64_t> next = NextFireAfter(scheduled.schedule, *last);
    if (next) earliest = earliest ? std::min(*earliest, *next) : *next;
  }
  return earliest;
}

}  // namespace amlc::reconciler
