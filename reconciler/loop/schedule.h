#ifndef AMLC_RECONCILER_LOOP_SCHEDULE_H_
#define AMLC_RECONCILER_LOOP_SCHEDULE_H_

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>

#include "compiler/ir/value.h"
#include "base/status.h"

namespace amlc::reconciler {

/// The three trigger types of Azure ML's schedules.
enum class ScheduleType { kCron, kRecurrence, kInterval };

/// A recurrence's unit (its `frequency`).
enum class RecurrenceUnit { kMinute, kHour, kDay, kWeek, kMonth };

/// The calendar fields a fire time may take, in UTC: a cron expression, or a
/// recurrence's hours / minutes / week_days / month_days. Bit i set = value i
/// allowed.
struct CalendarMask {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> month_days;  // 1..31
  std::bitset<13> months;      // 1..12
  std::bitset<7> week_days;    // 0 = Sunday
  // Cron's rule: when both day fields are restricted (neither starts with
  // '*'), a day matches if EITHER does; otherwise both must.
  bool month_days_restricted = false;
  bool week_days_restricted = false;
};

/// When a recurring run starts: a job spec's `schedule` or a schedule spec's
/// `trigger` (specs/common.schema.json $defs/schedule_trigger), read once.
/// Times are unix milliseconds, UTC (the only time zone supported yet).
struct Schedule {
  ScheduleType type = ScheduleType::kInterval;
  std::string cron_expression;  // cron: the expression, fields single-spaced

  RecurrenceUnit unit = RecurrenceUnit::kDay;  // recurrence
  int64_t interval = 1;                        // recurrence: units from one fire to the next
  bool has_pattern = false;                    // recurrence with schedule.hours/minutes/...

  int64_t period_seconds = 0;  // interval: seconds from one fire to the next

  CalendarMask calendar;  // cron, and a recurrence with a pattern

  // Fires are aligned on the start: start + k·period for intervals and plain
  // recurrences. Without start_time that is the Unix epoch, so "every 15m"
  // fires on :00, :15, :30 and :45.
  int64_t start_ms = 0;
  bool has_start = false;
  std::optional<int64_t> end_ms;  // no fire after it
};

/// Reads a trigger: `type` cron (`expression`: five fields, minute hour
/// day-of-month month day-of-week), recurrence (`frequency` minute|hour|day|
/// week|month, `interval` N, optional `schedule` of hours, minutes,
/// week_days, month_days) or interval (`interval`: seconds or a duration
/// such as "90s", "15m", "6h", "1d"); optional `start_time`/`end_time` (ISO
/// 8601, "Z", an offset, or none meaning UTC) and `time_zone` (UTC or
/// Etc/UTC only, yet). kInvalidArgument, saying what to write, otherwise.
StatusOr<Schedule> ParseSchedule(const compiler::ir::Value& trigger);

/// Reads a five-field cron expression alone (`*`, lists, ranges, steps,
/// jan..dec, sun..sat, 7 = Sunday).
StatusOr<Schedule> ParseCron(const std::string& expression);

/// The first fire strictly after `after_unix_ms` and not before the start;
/// nullopt when it would come after end_time (or, for a calendar that can
/// never match, none within ten years).
std::optional<int64_t> NextFireAfter(const Schedule& schedule, int64_t after_unix_ms);

/// For people: "cron 0 2 * * *", "every 6h", "every 2 weeks on mon,fri at
/// 09:00", with " from START" / " until END" when given.
std::string DescribeSchedule(const Schedule& schedule);

/// "2026-01-31T02:00:00Z" of unix milliseconds (whole seconds).
std::string FormatUtc(int64_t unix_ms);

/// Unix milliseconds of an ISO 8601 time ("2026-01-31T02:00:00Z", with
/// fractions, an offset such as +02:00, or none meaning UTC; or a date alone
/// meaning its midnight); nullopt when malformed.
std::optional<int64_t> ParseIsoTime(const std::string& text);

}  // namespace amlc::reconciler

#endif  // AMLC_RECONCILER_LOOP_SCHEDULE_H_
