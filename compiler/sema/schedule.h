#ifndef AMLC_COMPILER_SEMA_SCHEDULE_H_
#define AMLC_COMPILER_SEMA_SCHEDULE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/schedule.h"
#include "compiler/ir/value.h"
#include "compiler/support/diagnostics.h"

namespace amlc::compiler::sema {

/// One problem of a schedule trigger, placed so that sema can underline it:
/// `field` leads from the trigger to the value ({"expression"},
/// {"schedule", "hours"}; empty for the trigger itself), `item` picks one
/// element of a list value, and `offset`/`length` one part of a string value
/// (a cron field); length 0 means the whole value.
struct ScheduleProblem {
  Severity severity = Severity::kError;
  DiagCode code = DiagCode::kInvalidValue;
  std::vector<std::string> field;
  std::optional<size_t> item;
  size_t offset = 0;
  size_t length = 0;
  std::string message;
  std::string hint;
};

/// A trigger read once. `schedule` is set when amlc can run it exactly as
/// written; otherwise `problems` holds at least one error (malformed) or
/// kUnsupported warning (valid for Azure ML, not run by amlc yet, e.g. a time
/// zone other than UTC). Other warnings (a field the trigger's type ignores)
/// leave the schedule set.
struct ParsedTrigger {
  std::optional<ir::Schedule> schedule;
  std::vector<ScheduleProblem> problems;
};

/// Reads a bound `schedule` / `trigger` value
/// (specs/common.schema.json $defs/schedule_trigger): `type` cron
/// (`expression`: five fields, minute hour day-of-month month day-of-week,
/// with `*`, lists, ranges, steps, jan..dec, sun..sat, 7 = Sunday, and cron's
/// rule that two restricted day fields match when EITHER does), recurrence
/// (`frequency` minute|hour|day|week|month, `interval` N, optional `schedule`
/// of hours, minutes, week_days, month_days; fields not given follow the
/// start time) or interval (`interval`: seconds or a duration such as "90s",
/// "15m", "6h", "1d"); optional `start_time`/`end_time` (ISO 8601, "Z", an
/// offset, or none meaning UTC) and `time_zone` (UTC or Etc/UTC).
/// Never throws; every problem found is returned, not only the first.
ParsedTrigger ParseScheduleTrigger(const ir::Value& trigger);

}  // namespace amlc::compiler::sema

#endif  // AMLC_COMPILER_SEMA_SCHEDULE_H_
