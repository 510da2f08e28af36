#include "reconciler/loop/scheduled_jobs.h"

#include <algorithm>
#include <charconv>

namespace amlc::reconciler {

std::vector<ScheduledJob> ScheduledJobs(const compiler::ir::Graph& graph) {
  std::vector<ScheduledJob> scheduled;
  for (const compiler::ir::Resource& r : graph.resources()) {
    if (r.scheduled) scheduled.push_back({r.id(), r.scheduled->job_id, r.scheduled->schedule});
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
    std::optional<int64_t> next = compiler::ir::NextFireAfter(scheduled.schedule, *last);
    if (next) earliest = earliest ? std::min(*earliest, *next) : *next;
  }
  return earliest;
}

}  // namespace amlc::reconciler
