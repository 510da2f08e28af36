#ifndef AMLC_RECONCILER_LOOP_SCHEDULED_JOBS_H_
#define AMLC_RECONCILER_LOOP_SCHEDULED_JOBS_H_

#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"
#include "compiler/ir/schedule.h"
#include "runtime/state/state_store.h"

namespace amlc::reconciler {

/// A job that runs on a schedule: a job spec's own `schedule`, or a
/// `schedule` spec whose `create_job` names a job. The compiler parsed and
/// checked it (ir::Resource::scheduled); what reaches here can run.
struct ScheduledJob {
  std::string id;      // "job/nightly" or "schedule/retrain": the key its last fire is kept under
  std::string job_id;  // the job to run
  compiler::ir::Schedule schedule;
};

/// The schedules of `graph` that start runs, in graph order.
std::vector<ScheduledJob> ScheduledJobs(const compiler::ir::Graph& graph);

/// When `scheduled` last fired (unix ms), as the state store remembers it;
/// nullopt when it never did (or the value is unreadable: then it starts afresh).
std::optional<int64_t> LastFire(runtime::StateStore& state, const ScheduledJob& scheduled);
Status RememberFire(runtime::StateStore& state, const ScheduledJob& scheduled, int64_t fired_ms);

/// The earliest next fire (unix ms) of `graph`'s schedules after what `state`
/// remembers; nullopt when there is none.
std::optional<int64_t> NextScheduleFire(const compiler::ir::Graph& graph, runtime::StateStore& state);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_LOOP_SCHEDULED_JOBS_H_
