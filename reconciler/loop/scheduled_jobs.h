#ifndef AMLC_RECONCILER_LOOP_SCHEDULED_JOBS_H_
#define AMLC_RECONCILER_LOOP_SCHEDULED_JOBS_H_

#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/graph.h"
#include "reconciler/loop/schedule.h"
#include "runtime/state/state_store.h"

namespace amlc::reconciler {

/// A job that runs on a schedule: a job spec's own `schedule`, or a
/// `schedule` spec whose `create_job` names a job.
struct ScheduledJob {
  std::string id;      // "job/nightly" or "schedule/retrain": the key its last fire is kept under
  std::string job_id;  // the job to run
  Schedule schedule;
};

/// The enabled schedules of `graph`. A trigger that cannot be read (e.g. a
/// time zone other than UTC) is left out and described in `problems`.
std::vector<ScheduledJob> ScheduledJobs(const compiler::ir::Graph& graph,
                                        std::vector<std::string>* problems = nullptr);

/// When `scheduled` last fired (unix ms), as the state store remembers it;
/// nullopt when it never did (or the value is unreadable: then it starts afresh).
std::optional<int64_t> LastFire(runtime::StateStore& state, const ScheduledJob& scheduled);
Status RememberFire(runtime::StateStore& state, const ScheduledJob& scheduled, int64_t fired_ms);

/// The earliest next fire (unix ms) of `graph`'s schedules after what `state`
/// remembers; nullopt when there is none.
std::optional<int64_t> NextScheduleFire(const compiler::ir::Graph& graph, runtime::StateStore& state);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_LOOP_SCHEDULED_JOBS_H_
