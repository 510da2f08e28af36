// What a schedule means: answering "when does it fire next?" by arithmetic
// (intervals, plain recurrences) or by a bounded calendar search that skips
// whole months, days and hours that cannot match (cron, recurrences with
// hours/minutes/week_days/month_days). It lives beside the type, not in the
// reconciler, so sema can ask the same question of a schedule it accepts
// (does it ever fire?) and both sides share one UTC calendar.
#include "compiler/ir/schedule.h"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

#include "base/civil_time.h"

namespace amlc::compiler::ir {

namespace {

// Long enough for any satisfiable calendar: Feb 29 can be eight years apart
// (2096 -> 2104).
constexpr int64_t kSearchDays = 10 * 366;

int64_t MonthIndex(const CivilTime& civil) { return civil.year * 12 + civil.month - 1; }
// ISO weeks start on Monday; 1969-12-29 (day -3) was one.
int64_t WeekIndex(int64_t day_index) { return FloorDiv(day_index + 3, 7); }

int64_t StartOfNextMonth(const CivilTime& civil) {
  int64_t next = MonthIndex(civil) + 1;
  return DaysFromCivil(FloorDiv(next, 12), static_cast<int>(next - FloorDiv(next, 12) * 12) + 1, 1) * kDayMs;
}

// The first of start + k·period (k >= 0) at or after `from`.
std::optional<int64_t> NextOnGrid(int64_t start, int64_t period_ms, int64_t from) {
  if (from <= start) return start;
  __int128 steps = (static_cast<__int128>(from) - start + period_ms - 1) / period_ms;
  __int128 fire = start + steps * period_ms;
  if (fire > INT64_MAX) return std::nullopt;
  return static_cast<int64_t>(fire);
}

// Monthly recurrences step calendar months from the start, keeping its day
// and time; a month without that day (the 31st, Feb 29) is skipped, as cron does.
std::optional<int64_t> NextMonthly(const Schedule& schedule, int64_t from) {
  CivilTime start = ToCivil(schedule.start_ms);
  int64_t time_of_day = schedule.start_ms - start.day_index * kDayMs;
  int64_t months_to_from = MonthIndex(ToCivil(from)) - MonthIndex(start);
  int64_t offset = std::max<int64_t>(0, FloorDiv(months_to_from, schedule.interval) * schedule.interval);
  for (int tries = 0; tries < 1000; ++tries, offset += schedule.interval) {
    int64_t month_index = MonthIndex(start) + offset;
    int64_t year = FloorDiv(month_index, 12);
    int month = static_cast<int>(month_index - year * 12) + 1;
    if (start.day > DaysInMonth(year, month)) continue;
    int64_t fire = DaysFromCivil(year, month, start.day) * kDayMs + time_of_day;
    if (fire >= from) return fire;
  }
  return std::nullopt;
}

int64_t UnitIndex(RecurrenceUnit unit, int64_t unix_ms) {
  switch (unit) {
    case RecurrenceUnit::kMinute: return FloorDiv(unix_ms, kMinuteMs);
    case RecurrenceUnit::kHour: return FloorDiv(unix_ms, kHourMs);
    case RecurrenceUnit::kDay: return FloorDiv(unix_ms, kDayMs);
    case RecurrenceUnit::kWeek: return WeekIndex(FloorDiv(unix_ms, kDayMs));
    case RecurrenceUnit::kMonth: return MonthIndex(ToCivil(unix_ms));
  }
  return 0;
}

// Whether `t` lies in an active period of a patterned recurrence: every
// `interval`-th minute/hour/day/week/month counted from the start's.
bool InActivePeriod(const Schedule& schedule, int64_t t) {
  if (schedule.type != ScheduleType::kRecurrence || schedule.interval == 1) return true;
  return (UnitIndex(schedule.unit, t) - UnitIndex(schedule.unit, schedule.start_ms)) % schedule.interval == 0;
}

// The start of the period after the one holding `t`.
int64_t StartOfNextPeriod(RecurrenceUnit unit, int64_t t) {
  switch (unit) {
    case RecurrenceUnit::kMinute: return (FloorDiv(t, kMinuteMs) + 1) * kMinuteMs;
    case RecurrenceUnit::kHour: return (FloorDiv(t, kHourMs) + 1) * kHourMs;
    case RecurrenceUnit::kDay: return (FloorDiv(t, kDayMs) + 1) * kDayMs;
    case RecurrenceUnit::kWeek: return ((WeekIndex(FloorDiv(t, kDayMs)) + 1) * 7 - 3) * kDayMs;
    case RecurrenceUnit::kMonth: return StartOfNextMonth(ToCivil(t));
  }
  return t + kMinuteMs;
}

bool DayMatches(const CalendarMask& mask, const CivilTime& civil) {
  bool month_day = mask.month_days.test(civil.day);
  bool week_day = mask.week_days.test(civil.week_day);
  if (mask.month_days_restricted && mask.week_days_restricted) return month_day || week_day;
  return month_day && week_day;
}

// The next set bit at or after `from`, or -1.
template <size_t N>
int NextSetBit(const std::bitset<N>& bits, int from) {
  for (int i = from; i < static_cast<int>(N); ++i) {
    if (bits.test(i)) return i;
  }
  return -1;
}

// The first minute at or after `from` that the calendar (and the
// recurrence's period, if any) allows. Months, days and hours that cannot
// match are skipped whole, so a search costs at most a few thousand steps.
std::optional<int64_t> NextCalendarFire(const Schedule& schedule, int64_t from) {
  const CalendarMask& mask = schedule.calendar;
  int64_t t = FloorDiv(from + kMinuteMs - 1, kMinuteMs) * kMinuteMs;
  const int64_t limit = t + kSearchDays * kDayMs;
  while (t <= limit) {
    if (!InActivePeriod(schedule, t)) {
      t = StartOfNextPeriod(schedule.unit, t);
      continue;
    }
    CivilTime civil = ToCivil(t);
    int64_t day_start = civil.day_index * kDayMs;
    if (!mask.months.test(civil.month)) {
      t = StartOfNextMonth(civil);
      continue;
    }
    if (!DayMatches(mask, civil)) {
      t = day_start + kDayMs;
      continue;
    }
    int hour = NextSetBit(mask.hours, civil.hour);
    if (hour < 0) {
      t = day_start + kDayMs;
      continue;
    }
    if (hour != civil.hour) {
      t = day_start + hour * kHourMs;
      continue;
    }
    int minute = NextSetBit(mask.minutes, civil.minute);
    if (minute < 0) {
      t = day_start + (hour + 1) * kHourMs;
      continue;
    }
    if (minute != civil.minute) {
      t = day_start + hour * kHourMs + minute * kMinuteMs;
      continue;  // the period check again: a minute recurrence may skip this one
    }
    return t;
  }
  return std::nullopt;
}

// ---- descriptions ------------------------------------------------------------------------------------

// 90 -> "1m30s", 21600 -> "6h", 86400 -> "1d".
std::string DurationText(int64_t seconds) {
  static const std::pair<int64_t, const char*> kUnits[] = {{86'400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  if (seconds == 0) return "0s";
  std::string text;
  for (auto [size, suffix] : kUnits) {
    if (seconds >= size) {
      text += std::to_string(seconds / size) + suffix;
      seconds %= size;
    }
  }
  return text;
}

const char* UnitName(RecurrenceUnit unit) {
  switch (unit) {
    case RecurrenceUnit::kMinute: return "minute";
    case RecurrenceUnit::kHour: return "hour";
    case RecurrenceUnit::kDay: return "day";
    case RecurrenceUnit::kWeek: return "week";
    case RecurrenceUnit::kMonth: return "month";
  }
  return "";
}

template <size_t N>
std::vector<int> SetBits(const std::bitset<N>& bits) {
  std::vector<int> values;
  for (size_t i = 0; i < N; ++i) {
    if (bits.test(i)) values.push_back(static_cast<int>(i));
  }
  return values;
}

std::string JoinNumbers(const std::vector<int>& values) {
  std::string text;
  for (int value : values) text += (text.empty() ? "" : ",") + std::to_string(value);
  return text;
}

// " at 09:00,17:30", or hours and minutes apart when the product is long.
std::string TimesText(const CalendarMask& mask) {
  std::vector<int> hours = SetBits(mask.hours), minutes = SetBits(mask.minutes);
  if (mask.hours.all() && mask.minutes.all()) return "";
  if (mask.hours.all()) return " at minute " + JoinNumbers(minutes);
  if (hours.size() * minutes.size() > 8) return " at hours " + JoinNumbers(hours) + " minutes " + JoinNumbers(minutes);
  std::string times;
  for (int hour : hours) {
    for (int minute : minutes) {
      char clock[8];
      std::snprintf(clock, sizeof clock, "%02d:%02d", hour, minute);
      times += (times.empty() ? "" : ",") + std::string(clock);
    }
  }
  return " at " + times;
}

// " on mon,fri", " on day 1,15", " at 09:00,17:30" for a recurrence's pattern.
std::string PatternText(const CalendarMask& mask) {
  std::string text;
  if (!mask.week_days.all()) {
    std::string days;
    for (int day : SetBits(mask.week_days)) {
      days += (days.empty() ? "" : ",") + std::string(kWeekDayNames[day]).substr(0, 3);
    }
    text += " on " + days;
  }
  if (mask.month_days.count() < 31) text += " on day " + JoinNumbers(SetBits(mask.month_days));
  return text + TimesText(mask);
}

std::string RecurrenceText(const Schedule& schedule) {
  std::string unit = UnitName(schedule.unit);
  std::string text = schedule.interval == 1 ? "every " + unit
                                            : "every " + std::to_string(schedule.interval) + " " + unit + "s";
  return schedule.has_pattern ? text + PatternText(schedule.calendar) : text;
}

}  // namespace

int64_t UnitSeconds(RecurrenceUnit unit) {
  switch (unit) {
    case RecurrenceUnit::kMinute: return 60;
    case RecurrenceUnit::kHour: return 3600;
    case RecurrenceUnit::kDay: return 86'400;
    case RecurrenceUnit::kWeek: return 7 * 86'400;
    case RecurrenceUnit::kMonth: return 31 * 86'400;
  }
  return 0;
}

std::optional<int64_t> NextFireAfter(const Schedule& schedule, int64_t after_unix_ms) {
  if (after_unix_ms == INT64_MAX) return std::nullopt;
  int64_t from = std::max(after_unix_ms + 1, schedule.start_ms);
  if (schedule.end_ms && from > *schedule.end_ms) return std::nullopt;
  std::optional<int64_t> fire;
  switch (schedule.type) {
    case ScheduleType::kInterval:
      fire = NextOnGrid(schedule.start_ms, schedule.period_seconds * 1000, from);
      break;
    case ScheduleType::kRecurrence:
      if (schedule.has_pattern) {
        fire = NextCalendarFire(schedule, from);
      } else if (schedule.unit == RecurrenceUnit::kMonth) {
        fire = NextMonthly(schedule, from);
      } else {
        fire = NextOnGrid(schedule.start_ms, schedule.interval * UnitSeconds(schedule.unit) * 1000, from);
      }
      break;
    case ScheduleType::kCron:
      fire = NextCalendarFire(schedule, from);
      break;
  }
  if (fire && schedule.end_ms && *fire > *schedule.end_ms) return std::nullopt;
  return fire;
}

std::string DescribeSchedule(const Schedule& schedule) {
  std::string text;
  switch (schedule.type) {
    case ScheduleType::kCron: text = "cron " + schedule.cron_expression; break;
    case ScheduleType::kInterval: text = "every " + DurationText(schedule.period_seconds); break;
    case ScheduleType::kRecurrence: text = RecurrenceText(schedule); break;
  }
  if (schedule.has_start) text += " from " + FormatUtc(schedule.start_ms);
  if (schedule.end_ms) text += " until " + FormatUtc(*schedule.end_ms);
  return text;
}

}  // namespace amlc::compiler::ir
