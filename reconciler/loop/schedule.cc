// Schedules of recurring runs: reading a trigger once, then answering "when
// does it fire next?" by arithmetic (intervals, plain recurrences) or by a
// bounded calendar search that skips whole months, days and hours that
// cannot match (cron, recurrences with hours/minutes/week_days/month_days).
#include "reconciler/loop/schedule.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <vector>

#include "base/duration.h"  // ParseDurationSeconds: one duration syntax for every spec field

namespace amlc::reconciler {

namespace {

using compiler::ir::Value;

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;
// Long enough for any satisfiable calendar: Feb 29 can be eight years apart
// (2096 -> 2104).
constexpr int64_t kSearchDays = 10 * 366;
// Longer periods are surely mistakes, and this keeps millisecond sums far
// from overflow.
constexpr int64_t kMaxPeriodSeconds = int64_t{100} * 366 * 86'400;

Status Invalid(std::string message) { return {StatusCode::kInvalidArgument, std::move(message)}; }

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool AllDigits(const std::string& text) {
  return !text.empty() && text.size() <= 9 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ---- the civil calendar (UTC), after Howard Hinnant's date algorithms ------------

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t DaysFromCivil(int64_t year, int month, int day) {
  year -= month <= 2;
  const int64_t era = FloorDiv(year, 400);
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

bool IsLeapYear(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int64_t year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

struct CivilTime {
  int64_t year = 1970;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int week_day = 4;        // 0 = Sunday; 1970-01-01 was a Thursday
  int64_t day_index = 0;   // days since 1970-01-01
};

CivilTime ToCivil(int64_t unix_ms) {
  CivilTime civil;
  civil.day_index = FloorDiv(unix_ms, kDayMs);
  int64_t ms_of_day = unix_ms - civil.day_index * kDayMs;
  civil.hour = static_cast<int>(ms_of_day / kHourMs);
  civil.minute = static_cast<int>(ms_of_day % kHourMs / kMinuteMs);
  civil.second = static_cast<int>(ms_of_day % kMinuteMs / 1000);
  civil.week_day = static_cast<int>(((civil.day_index + 4) % 7 + 7) % 7);
  const int64_t z = civil.day_index + 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t day_of_era = z - era * 146097;
  const int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t shifted_month = (5 * day_of_year + 2) / 153;
  civil.day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  civil.month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  civil.year = year_of_era + era * 400 + (civil.month <= 2);
  return civil;
}

int64_t MonthIndex(const CivilTime& civil) { return civil.year * 12 + civil.month - 1; }
// ISO weeks start on Monday; 1969-12-29 (day -3) was one.
int64_t WeekIndex(int64_t day_index) { return FloorDiv(day_index + 3, 7); }

int64_t StartOfNextMonth(const CivilTime& civil) {
  int64_t next = MonthIndex(civil) + 1;
  return DaysFromCivil(FloorDiv(next, 12), static_cast<int>(next - FloorDiv(next, 12) * 12) + 1, 1) * kDayMs;
}

// ---- ISO 8601 -----------------------------------------------------------------------

// Reads `count` digits at `pos` into `out`.
bool ReadDigits(const std::string& text, size_t& pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (size_t i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += count;
  return true;
}

bool ReadChar(const std::string& text, size_t& pos, char expected) {
  if (pos >= text.size() || text[pos] != expected) return false;
  ++pos;
  return true;
}

// "Z", "+02:00", "-0530", or nothing (UTC): the offset east of UTC, in minutes.
bool ReadOffset(const std::string& text, size_t& pos, int& offset_minutes) {
  offset_minutes = 0;
  if (pos == text.size()) return true;
  if (ReadChar(text, pos, 'Z') || ReadChar(text, pos, 'z')) return pos == text.size();
  int sign = text[pos] == '+' ? 1 : text[pos] == '-' ? -1 : 0;
  if (sign == 0) return false;
  ++pos;
  int hours = 0, minutes = 0;
  if (!ReadDigits(text, pos, 2, hours)) return false;
  if (pos < text.size()) {
    ReadChar(text, pos, ':');
    if (!ReadDigits(text, pos, 2, minutes)) return false;
  }
  if (hours > 23 || minutes > 59 || pos != text.size()) return false;
  offset_minutes = sign * (hours * 60 + minutes);
  return true;
}

}  // namespace

std::optional<int64_t> ParseIsoTime(const std::string& text) {
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offset = 0;
  if (!ReadDigits(text, pos, 4, year) || !ReadChar(text, pos, '-') || !ReadDigits(text, pos, 2, month) ||
      !ReadChar(text, pos, '-') || !ReadDigits(text, pos, 2, day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) return std::nullopt;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == 't' || text[pos] == ' ')) {
    ++pos;
    if (!ReadDigits(text, pos, 2, hour) || !ReadChar(text, pos, ':') || !ReadDigits(text, pos, 2, minute)) {
      return std::nullopt;
    }
    if (ReadChar(text, pos, ':') && !ReadDigits(text, pos, 2, second)) return std::nullopt;
    if (ReadChar(text, pos, '.') || ReadChar(text, pos, ',')) {  // fractions of a second do not matter to a schedule
      size_t digits = 0;
      while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) ++pos, ++digits;
      if (digits == 0) return std::nullopt;
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  }
  if (!ReadOffset(text, pos, offset)) return std::nullopt;
  int64_t seconds = DaysFromCivil(year, month, day) * 86'400 + hour * 3600 + minute * 60 + second - offset * 60;
  return seconds * 1000;
}

std::string FormatUtc(int64_t unix_ms) {
  CivilTime c = ToCivil(unix_ms);
  char text[40];
  std::snprintf(text, sizeof text, "%04lld-%02d-%02dT%02d:%02d:%02dZ", static_cast<long long>(c.year), c.month, c.day,
                c.hour, c.minute, c.second);
  return text;
}

namespace {

// ---- cron ---------------------------------------------------------------------------

struct CronField {
  const char* label;
  int min;
  int max;
  std::vector<std::string> names;  // names[i] means min + i
};

const CronField kMinuteField{"minute", 0, 59, {}};
const CronField kHourField{"hour", 0, 23, {}};
const CronField kMonthDayField{"day-of-month", 1, 31, {}};
const CronField kMonthField{
    "month", 1, 12, {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}};
// 0 and 7 are both Sunday.
const CronField kWeekDayField{"day-of-week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}};

const char kCronHint[] = "write five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\"";

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::vector<std::string> SplitWhitespace(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// One value of a field: a number in range or, for months and week days, a name.
StatusOr<int> CronValue(const std::string& token, const CronField& field, const std::string& context) {
  if (AllDigits(token)) {
    int value = std::stoi(token);
    if (value < field.min || value > field.max) {
      return Invalid(context + ": " + field.label + " " + token + " is out of range " + std::to_string(field.min) +
                     "-" + std::to_string(field.max));
    }
    return value;
  }
  std::string lower = Lower(token);
  for (size_t i = 0; i < field.names.size(); ++i) {
    if (field.names[i] == lower) return field.min + static_cast<int>(i);
  }
  std::string expected = field.names.empty() ? "a number"
                                              : "a number or a name (" + field.names.front() + ".." +
                                                    field.names.back() + ")";
  return Invalid(context + ": " + field.label + " '" + token + "' is not " + expected);
}

// The values one comma-separated item allows: *, N, A-B, each with an optional /STEP.
Status AddCronItem(const std::string& item, const CronField& field, const std::string& context, uint64_t& mask) {
  std::vector<std::string> parts = Split(item, '/');
  if (parts.size() > 2 || parts[0].empty()) {
    return Invalid(context + ": " + field.label + " '" + item + "' is not a value, range or step");
  }
  int step = 1;
  if (parts.size() == 2) {
    if (!AllDigits(parts[1]) || std::stoi(parts[1]) == 0 || std::stoi(parts[1]) > field.max) {
      return Invalid(context + ": " + field.label + " step '" + parts[1] + "' must be a number from 1 to " +
                     std::to_string(field.max));
    }
    step = std::stoi(parts[1]);
  }
  int low = field.min, high = field.max;
  if (parts[0] != "*" && parts[0] != "?") {
    std::vector<std::string> bounds = Split(parts[0], '-');
    if (bounds.size() > 2) return Invalid(context + ": " + field.label + " range '" + parts[0] + "' is malformed");
    auto first = CronValue(bounds[0], field, context);
    if (!first.ok()) return first.status();
    low = first.value();
    high = parts.size() == 2 ? field.max : low;  // "5/15" runs from 5 to the end, as in Vixie cron
    if (bounds.size() == 2) {
      auto last = CronValue(bounds[1], field, context);
      if (!last.ok()) return last.status();
      high = last.value();
      if (high < low) {
        return Invalid(context + ": " + field.label + " range '" + parts[0] +
                       "' runs backwards; write the smaller value first");
      }
    }
  }
  for (int value = low; value <= high; value += step) mask |= uint64_t{1} << value;
  return Status::Ok();
}

StatusOr<uint64_t> ParseCronField(const std::string& text, const CronField& field, const std::string& context) {
  uint64_t mask = 0;
  for (const std::string& item : Split(text, ',')) {
    if (Status added = AddCronItem(item, field, context, mask); !added.ok()) return added;
  }
  return mask;
}

// Cron's rule: a field starting with '*' does not restrict the day.
bool RestrictsDays(const std::string& field) { return field[0] != '*' && field[0] != '?'; }

// ---- trigger fields -------------------------------------------------------------------

const char* const kWeekDayNames[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};

// An integer or a list of them, each in [low, high], as a bit mask.
StatusOr<uint64_t> IntegerSet(const Value& value, const std::string& field, int low, int high) {
  std::vector<const Value*> items;
  if (value.is_list()) {
    for (const Value& item : value.items()) items.push_back(&item);
  } else {
    items.push_back(&value);
  }
  if (items.empty()) return Invalid("schedule." + field + " is empty; give at least one value");
  uint64_t mask = 0;
  for (const Value* item : items) {
    if (item->type() != Value::Type::kInt || item->as_int() < low || item->as_int() > high) {
      return Invalid("schedule." + field + " takes whole numbers from " + std::to_string(low) + " to " +
                     std::to_string(high) + ", got " + item->ToJson());
    }
    mask |= uint64_t{1} << item->as_int();
  }
  return mask;
}

// "monday" or a list of days ("mon" and any case too), as a mask with bit 0 = Sunday.
StatusOr<uint64_t> WeekDaySet(const Value& value) {
  std::vector<const Value*> items;
  if (value.is_list()) {
    for (const Value& item : value.items()) items.push_back(&item);
  } else {
    items.push_back(&value);
  }
  if (items.empty()) return Invalid("schedule.week_days is empty; give at least one day");
  uint64_t mask = 0;
  for (const Value* item : items) {
    std::string day = item->is_string() ? Lower(item->as_string()) : "";
    int found = -1;
    for (int i = 0; i < 7; ++i) {
      if (!day.empty() && (day == kWeekDayNames[i] || day == std::string(kWeekDayNames[i]).substr(0, 3))) found = i;
    }
    if (found < 0) {
      return Invalid("schedule.week_days: " + item->ToJson() + " is not a day of the week (monday .. sunday)");
    }
    mask |= uint64_t{1} << found;
  }
  return mask;
}

Status CheckTimeZone(const Value& trigger) {
  const Value* zone = trigger.Find("time_zone");
  if (!zone) return Status::Ok();
  std::string name = zone->is_string() ? zone->as_string() : zone->ToJson();
  if (name == "UTC" || name == "Etc/UTC") return Status::Ok();
  return Invalid("time zone " + name + " is not supported yet; use UTC");
}

StatusOr<std::optional<int64_t>> TimeField(const Value& trigger, const std::string& field) {
  const Value* value = trigger.Find(field);
  if (!value || value->is_null()) return std::optional<int64_t>();
  std::optional<int64_t> time = value->is_string() ? ParseIsoTime(value->as_string()) : std::nullopt;
  if (!time) {
    return Invalid(field + " " + value->ToJson() +
                   " is not an ISO 8601 time; write e.g. 2026-01-31T02:00:00Z (or +02:00 for an offset)");
  }
  return time;
}

Status ReadStartAndEnd(const Value& trigger, Schedule& schedule) {
  auto start = TimeField(trigger, "start_time");
  if (!start.ok()) return start.status();
  auto end = TimeField(trigger, "end_time");
  if (!end.ok()) return end.status();
  if (start.value()) {
    schedule.start_ms = *start.value();
    schedule.has_start = true;
  }
  schedule.end_ms = end.value();
  if (schedule.end_ms && schedule.has_start && *schedule.end_ms < schedule.start_ms) {
    return Invalid("end_time " + FormatUtc(*schedule.end_ms) + " is before start_time " +
                   FormatUtc(schedule.start_ms));
  }
  return Status::Ok();
}

StatusOr<RecurrenceUnit> ReadFrequency(const Value& trigger) {
  static const std::pair<const char*, RecurrenceUnit> kUnits[] = {{"minute", RecurrenceUnit::kMinute},
                                                                   {"hour", RecurrenceUnit::kHour},
                                                                   {"day", RecurrenceUnit::kDay},
                                                                   {"week", RecurrenceUnit::kWeek},
                                                                   {"month", RecurrenceUnit::kMonth}};
  std::string frequency = Lower(trigger.StringAt("frequency"));
  for (auto [name, unit] : kUnits) {
    if (frequency == name) return unit;
  }
  if (frequency.empty()) return Invalid("a recurrence trigger needs a frequency: minute, hour, day, week or month");
  return Invalid("recurrence frequency '" + frequency + "' is not one of minute, hour, day, week, month");
}

int64_t UnitSeconds(RecurrenceUnit unit) {
  switch (unit) {
    case RecurrenceUnit::kMinute: return 60;
    case RecurrenceUnit::kHour: return 3600;
    case RecurrenceUnit::kDay: return 86'400;
    case RecurrenceUnit::kWeek: return 7 * 86'400;
    case RecurrenceUnit::kMonth: return 31 * 86'400;  // an upper bound, for the length check only
  }
  return 0;
}

StatusOr<int64_t> ReadRecurrenceInterval(const Value& trigger, RecurrenceUnit unit) {
  const Value* value = trigger.Find("interval");
  if (!value) return int64_t{1};
  int64_t count = value->type() == Value::Type::kInt                     ? value->as_int()
                  : value->is_string() && AllDigits(value->as_string()) ? std::stoll(value->as_string())
                                                                          : 0;
  if (count < 1) {
    return Invalid("recurrence interval " + value->ToJson() + " must be a whole number of " +
                   trigger.StringAt("frequency") + "s, 1 or more");
  }
  if (count > kMaxPeriodSeconds / UnitSeconds(unit)) {
    return Invalid("recurrence interval " + value->ToJson() + " is longer than 100 years");
  }
  return count;
}

// ---- the three trigger types ----------------------------------------------------------------

StatusOr<Schedule> ParseCronTrigger(const Value& trigger) {
  const Value* expression = trigger.Find("expression");
  if (!expression || !expression->is_string() || expression->as_string().empty()) {
    return Invalid("a cron trigger needs an expression, e.g. expression: \"0 2 * * *\"");
  }
  return ParseCron(expression->as_string());
}

// A recurrence's pattern as a calendar mask; fields not given follow the
// start time (a daily recurrence starting at 09:30 fires at 09:30).
StatusOr<CalendarMask> RecurrencePattern(const Value& pattern, RecurrenceUnit unit, int64_t start_ms) {
  CivilTime start = ToCivil(start_ms);
  CalendarMask mask;
  mask.months.set();
  mask.month_days.set();
  mask.week_days.set();
  mask.hours.set();
  mask.minutes.set();
  if (unit >= RecurrenceUnit::kHour) mask.minutes = std::bitset<60>().set(start.minute);
  if (unit >= RecurrenceUnit::kDay) mask.hours = std::bitset<24>().set(start.hour);
  bool has_week_days = pattern.Find("week_days") != nullptr;
  if (unit == RecurrenceUnit::kWeek) mask.week_days = std::bitset<7>().set(start.week_day);
  if (unit == RecurrenceUnit::kMonth && !has_week_days) mask.month_days = std::bitset<32>().set(start.day);
  if (const Value* minutes = pattern.Find("minutes")) {
    auto set = IntegerSet(*minutes, "minutes", 0, 59);
    if (!set.ok()) return set.status();
    mask.minutes = std::bitset<60>(set.value());
  }
  if (const Value* hours = pattern.Find("hours")) {
    auto set = IntegerSet(*hours, "hours", 0, 23);
    if (!set.ok()) return set.status();
    mask.hours = std::bitset<24>(set.value());
  }
  if (has_week_days) {
    auto set = WeekDaySet(*pattern.Find("week_days"));
    if (!set.ok()) return set.status();
    mask.week_days = std::bitset<7>(set.value());
  }
  if (const Value* month_days = pattern.Find("month_days")) {
    auto set = IntegerSet(*month_days, "month_days", 1, 31);
    if (!set.ok()) return set.status();
    mask.month_days = std::bitset<32>(set.value());
  }
  return mask;  // both day fields must match: the OR rule is cron's alone
}

StatusOr<Schedule> ParseRecurrenceTrigger(const Value& trigger, Schedule schedule) {
  schedule.type = ScheduleType::kRecurrence;
  auto unit = ReadFrequency(trigger);
  if (!unit.ok()) return unit.status();
  schedule.unit = unit.value();
  auto interval = ReadRecurrenceInterval(trigger, schedule.unit);
  if (!interval.ok()) return interval.status();
  schedule.interval = interval.value();
  const Value* pattern = trigger.Find("schedule");
  if (pattern && !pattern->is_null()) {
    if (!pattern->is_map()) return Invalid("a recurrence's schedule must be a mapping of hours, minutes, week_days, month_days");
    auto mask = RecurrencePattern(*pattern, schedule.unit, schedule.start_ms);
    if (!mask.ok()) return mask.status();
    schedule.calendar = mask.value();
    schedule.has_pattern = true;
  }
  return schedule;
}

StatusOr<Schedule> ParseIntervalTrigger(const Value& trigger, Schedule schedule) {
  schedule.type = ScheduleType::kInterval;
  const Value* value = trigger.Find("interval");
  if (!value) return Invalid("an interval trigger needs an interval: seconds (300) or a duration such as 15m, 6h or 1d");
  int64_t seconds = value->type() == Value::Type::kInt ? value->as_int()
                    : value->is_string()                ? ParseDurationSeconds(value->as_string())
                                                        : -1;
  if (seconds <= 0) {
    return Invalid("interval " + value->ToJson() +
                   " is not a duration; write seconds (300) or a duration such as 90s, 15m, 6h or 1d");
  }
  if (seconds > kMaxPeriodSeconds) return Invalid("interval " + value->ToJson() + " is longer than 100 years");
  schedule.period_seconds = seconds;
  return schedule;
}

// ---- next fire ----------------------------------------------------------------------------------

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
  std::vector<int> hours = SetBits(mask.hours), minutes = SetBits(mask.minutes);
  if (mask.hours.all() && mask.minutes.all()) return text;
  if (mask.hours.all()) return text + " at minute " + JoinNumbers(minutes);
  if (hours.size() * minutes.size() > 8) {
    return text + " at hours " + JoinNumbers(hours) + " minutes " + JoinNumbers(minutes);
  }
  std::string times;
  for (int hour : hours) {
    for (int minute : minutes) {
      char clock[8];
      std::snprintf(clock, sizeof clock, "%02d:%02d", hour, minute);
      times += (times.empty() ? "" : ",") + std::string(clock);
    }
  }
  return text + " at " + times;
}

std::string RecurrenceText(const Schedule& schedule) {
  std::string unit = UnitName(schedule.unit);
  std::string text = schedule.interval == 1 ? "every " + unit
                                            : "every " + std::to_string(schedule.interval) + " " + unit + "s";
  return schedule.has_pattern ? text + PatternText(schedule.calendar) : text;
}

}  // namespace

StatusOr<Schedule> ParseCron(const std::string& expression) {
  std::vector<std::string> fields = SplitWhitespace(expression);
  std::string context = "cron expression '" + expression + "'";
  if (fields.size() == 6) {
    return Invalid(context + " has six fields; seconds are not supported, " + kCronHint);
  }
  if (fields.size() != 5) {
    return Invalid(context + " has " + std::to_string(fields.size()) + " field" + (fields.size() == 1 ? "" : "s") +
                   "; " + kCronHint);
  }
  const CronField* specs[] = {&kMinuteField, &kHourField, &kMonthDayField, &kMonthField, &kWeekDayField};
  uint64_t masks[5] = {};
  for (int i = 0; i < 5; ++i) {
    auto mask = ParseCronField(fields[i], *specs[i], context);
    if (!mask.ok()) return mask.status();
    masks[i] = mask.value();
  }
  Schedule schedule;
  schedule.type = ScheduleType::kCron;
  schedule.cron_expression = fields[0] + " " + fields[1] + " " + fields[2] + " " + fields[3] + " " + fields[4];
  CalendarMask& calendar = schedule.calendar;
  calendar.minutes = std::bitset<60>(masks[0]);
  calendar.hours = std::bitset<24>(masks[1]);
  calendar.month_days = std::bitset<32>(masks[2]);
  calendar.months = std::bitset<13>(masks[3]);
  calendar.week_days = std::bitset<7>(masks[4] | (masks[4] >> 7));  // 7 is Sunday, as 0 is
  calendar.month_days_restricted = RestrictsDays(fields[2]);
  calendar.week_days_restricted = RestrictsDays(fields[4]);
  return schedule;
}

StatusOr<Schedule> ParseSchedule(const Value& trigger) {
  if (!trigger.is_map()) {
    return Invalid("a schedule trigger must be a mapping with a type: cron, recurrence or interval");
  }
  if (Status zone = CheckTimeZone(trigger); !zone.ok()) return zone;
  Schedule times;
  if (Status read = ReadStartAndEnd(trigger, times); !read.ok()) return read;
  std::string type = trigger.StringAt("type");
  StatusOr<Schedule> schedule = Invalid("");
  if (type == "cron") {
    schedule = ParseCronTrigger(trigger);
  } else if (type == "recurrence") {
    schedule = ParseRecurrenceTrigger(trigger, times);
  } else if (type == "interval") {
    schedule = ParseIntervalTrigger(trigger, times);
  } else {
    return Invalid(type.empty() ? "a schedule trigger needs a type: cron, recurrence or interval"
                                : "schedule trigger type '" + type + "' is not one of cron, recurrence, interval");
  }
  if (!schedule.ok()) return schedule;
  schedule->start_ms = times.start_ms;
  schedule->has_start = times.has_start;
  schedule->end_ms = times.end_ms;
  return schedule;
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

}  // namespace amlc::reconciler
