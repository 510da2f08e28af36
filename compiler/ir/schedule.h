#ifndef AMLC_COMPILER_IR_SCHEDULE_H_
#define AMLC_COMPILER_IR_SCHEDULE_H_

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>

namespace amlc::compiler::ir {

/// The three trigger types of a schedule: Azure ML's cron and recurrence,
/// and amlc's interval.
enum class ScheduleType { kCron, kRecurrence, kInterval };

/// A recurrence's unit (its `frequency`).
enum class RecurrenceUnit { kMinute, kHour, kDay, kWeek, kMonth };

/// Day names, index 0 = Sunday as in cron and CivilTime::week_day.
inline constexpr const char* kWeekDayNames[7] = {"sunday",   "monday", "tuesday", "wednesday",
                                                 "thursday", "friday", "saturday"};

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
/// `trigger`, parsed and checked by sema (compiler/sema/schedule.h), so
/// whatever holds one can run it. Times are unix milliseconds, UTC (the only
/// time zone amlc runs; sema warns about others and leaves such schedules out).
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

/// What the reconciler starts on a schedule. Sema sets it on a job with a
/// valid `schedule`, and on an enabled `schedule` spec whose create_job names
/// a job of these specs; nothing else is ever started on a schedule.
struct ScheduledRun {
  std::string job_id;  // "job/nightly"
  Schedule schedule;
};

/// Seconds in one unit of a recurrence. A month counts 31 days: an upper
/// bound for length checks, as monthly recurrences step calendar months.
int64_t UnitSeconds(RecurrenceUnit unit);

/// The first fire strictly after `after_unix_ms` and not before the start;
/// nullopt when it would come after end_time (or, for a calendar that can
/// never match, none within ten years: a calendar that can match at all
/// matches within eight, Feb 29 of 2096 -> 2104 being the longest gap).
std::optional<int64_t> NextFireAfter(const Schedule& schedule, int64_t after_unix_ms);

/// For people: "cron 0 2 * * *", "every 6h", "every 2 weeks on mon,fri at
/// 09:00", with " from START" / " until END" when given.
std::string DescribeSchedule(const Schedule& schedule);

}  // namespace amlc::compiler::ir

#endif  // AMLC_COMPILER_IR_SCHEDULE_H_
