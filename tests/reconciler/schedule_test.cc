// Schedules of recurring runs: cron, recurrence and interval triggers as the
// compiler reads them (compiler/sema/schedule.h), their next fire times as
// the reconciler asks for them (compiler/ir/schedule.h) against known
// answers, and the errors bad ones give.
#include <catch2/catch.hpp>

#include <ctime>
#include <initializer_list>
#include <string>
#include <utility>

#include "compiler/ir/schedule.h"
#include "compiler/sema/schedule.h"
#include "base/civil_time.h"

using amlc::FormatUtc;
using amlc::ParseIsoTime;
using amlc::compiler::ir::CalendarMask;
using amlc::compiler::ir::DescribeSchedule;
using amlc::compiler::ir::NextFireAfter;
using amlc::compiler::ir::Schedule;
using amlc::compiler::ir::Value;
using amlc::compiler::sema::ParsedTrigger;
using amlc::compiler::sema::ParseScheduleTrigger;

namespace {

int64_t At(const std::string& iso) {
  std::optional<int64_t> time = ParseIsoTime(iso);
  REQUIRE(time.has_value());
  return *time;
}

Value Trigger(std::initializer_list<std::pair<std::string, Value>> fields) {
  Value trigger = Value::EmptyMap();
  for (const auto& [key, value] : fields) trigger.Set(key, value);
  return trigger;
}

Value Str(const std::string& text) { return Value::String(text); }

Value Ints(std::initializer_list<int64_t> values) {
  Value list = Value::EmptyList();
  for (int64_t value : values) list.Append(Value::Int(value));
  return list;
}

// A problem as one line: the message, then its hint.
std::string Text(const amlc::compiler::sema::ScheduleProblem& problem) {
  return problem.hint.empty() ? problem.message : problem.message + "; " + problem.hint;
}

Schedule Parsed(const Value& trigger) {
  ParsedTrigger parsed = ParseScheduleTrigger(trigger);
  INFO((parsed.problems.empty() ? "" : Text(parsed.problems.front())));
  REQUIRE(parsed.schedule);
  CHECK(parsed.problems.empty());
  return *parsed.schedule;
}

Schedule Cron(const std::string& expression) {
  return Parsed(Trigger({{"type", Str("cron")}, {"expression", Str(expression)}}));
}

// The next fire after `after`, as an ISO string ("none" when there is none).
std::string Next(const Schedule& schedule, const std::string& after) {
  std::optional<int64_t> fire = NextFireAfter(schedule, At(after));
  return fire ? FormatUtc(*fire) : "none";
}

std::string NextCron(const std::string& expression, const std::string& after) { return Next(Cron(expression), after); }

// The first problem of a trigger that cannot run.
std::string ErrorOf(const Value& trigger) {
  ParsedTrigger parsed = ParseScheduleTrigger(trigger);
  REQUIRE_FALSE(parsed.schedule);
  REQUIRE_FALSE(parsed.problems.empty());
  return Text(parsed.problems.front());
}

std::string CronError(const std::string& expression) {
  return ErrorOf(Trigger({{"type", Str("cron")}, {"expression", Str(expression)}}));
}

// Minute by minute, the plain definition of a cron match (gmtime, no skipping).
bool MatchesMinute(const CalendarMask& mask, int64_t unix_ms) {
  std::time_t seconds = unix_ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  bool month_day = mask.month_days.test(tm.tm_mday), week_day = mask.week_days.test(tm.tm_wday);
  bool day = mask.month_days_restricted && mask.week_days_restricted ? month_day || week_day : month_day && week_day;
  return day && mask.months.test(tm.tm_mon + 1) && mask.hours.test(tm.tm_hour) && mask.minutes.test(tm.tm_min);
}

}  // namespace

TEST_CASE("cron: steps, fixed times and weekday ranges", "[reconciler][schedule]") {
  CHECK(NextCron("*/15 * * * *", "2026-03-10T10:07:30Z") == "2026-03-10T10:15:00Z");
  CHECK(NextCron("*/15 * * * *", "2026-03-10T10:15:00Z") == "2026-03-10T10:30:00Z");  // strictly after
  CHECK(NextCron("*/15 * * * *", "2026-03-10T10:59:59Z") == "2026-03-10T11:00:00Z");
  CHECK(NextCron("0 2 * * *", "2026-03-10T01:00:00Z") == "2026-03-10T02:00:00Z");
  CHECK(NextCron("0 2 * * *", "2026-03-10T02:00:00Z") == "2026-03-11T02:00:00Z");
  CHECK(NextCron("0 9-17 * * mon-fri", "2026-03-13T12:30:00Z") == "2026-03-13T13:00:00Z");
  CHECK(NextCron("0 9-17 * * mon-fri", "2026-03-13T17:00:00Z") == "2026-03-16T09:00:00Z");  // Friday -> Monday
  CHECK(NextCron("0 9-17 * * 1-5", "2026-03-14T08:00:00Z") == "2026-03-16T09:00:00Z");
  CHECK(NextCron("1-5/2 * * * *", "2026-03-10T10:01:00Z") == "2026-03-10T10:03:00Z");
  CHECK(NextCron("1-5/2 * * * *", "2026-03-10T10:05:00Z") == "2026-03-10T11:01:00Z");
  CHECK(NextCron("5,35 */6 * * *", "2026-03-10T06:36:00Z") == "2026-03-10T12:05:00Z");
  CHECK(NextCron("30/10 * * * *", "2026-03-10T10:55:00Z") == "2026-03-10T11:30:00Z");
}

TEST_CASE("cron: year, month and leap-day rollovers", "[reconciler][schedule]") {
  CHECK(NextCron("59 23 31 12 *", "2025-12-31T23:59:00Z") == "2026-12-31T23:59:00Z");
  CHECK(NextCron("* * * * *", "2025-12-31T23:59:30Z") == "2026-01-01T00:00:00Z");
  CHECK(NextCron("0 0 1 * *", "2026-01-31T12:00:00Z") == "2026-02-01T00:00:00Z");
  CHECK(NextCron("0 0 31 * *", "2026-01-31T00:00:00Z") == "2026-03-31T00:00:00Z");  // February has no 31st
  CHECK(NextCron("0 0 29 2 *", "2025-01-01T00:00:00Z") == "2028-02-29T00:00:00Z");
  CHECK(NextCron("0 0 29 2 *", "2028-02-29T00:00:00Z") == "2032-02-29T00:00:00Z");
  CHECK(NextCron("0 0 29 2 *", "2096-03-01T00:00:00Z") == "2104-02-29T00:00:00Z");  // 2100 is not a leap year
  CHECK(NextCron("0 0 30 2 *", "2026-01-01T00:00:00Z") == "none");                  // never: searched, bounded
}

TEST_CASE("cron: names, Sunday as 7, and the day-of-month OR day-of-week rule", "[reconciler][schedule]") {
  CHECK(NextCron("0 12 * jan,jul sun", "2026-01-04T12:00:00Z") == "2026-01-11T12:00:00Z");
  CHECK(NextCron("0 12 * JAN,Jul SUN", "2026-01-31T00:00:00Z") == "2026-07-05T12:00:00Z");
  CHECK(NextCron("0 12 * 1,7 7", "2026-01-31T00:00:00Z") == "2026-07-05T12:00:00Z");
  CHECK(NextCron("0 0 * * 5-7", "2026-01-04T00:00:00Z") == "2026-01-09T00:00:00Z");  // fri..sun, then fri
  // Both day fields restricted: the 13th OR a Friday.
  CHECK(NextCron("0 0 13 * fri", "2026-01-01T00:00:00Z") == "2026-01-02T00:00:00Z");
  CHECK(NextCron("0 0 13 * fri", "2026-01-09T00:00:00Z") == "2026-01-13T00:00:00Z");
  // A day field starting with '*' restricts nothing for the rule: odd days AND Fridays.
  CHECK(NextCron("0 0 */2 * fri", "2026-01-01T00:00:00Z") == "2026-01-09T00:00:00Z");
  CHECK(NextCron("0 0 ? * fri", "2026-01-03T00:00:00Z") == "2026-01-09T00:00:00Z");
}

TEST_CASE("cron: the skipping search agrees with a minute-by-minute scan", "[reconciler][schedule]") {
  const char* expressions[] = {"*/7 3-5 * * *", "0 0 13 * fri", "15 10 1,15 * mon", "*/20 */5 10-20 feb-apr 1-5",
                               "59 23 28-31 * *", "0 0 29 2 *"};
  int64_t start = At("2026-02-25T22:13:00Z");
  for (const char* expression : expressions) {
    Schedule schedule = Cron(expression);
    int64_t after = start;
    for (int fire = 0; fire < 6; ++fire) {
      std::optional<int64_t> next = NextFireAfter(schedule, after);
      REQUIRE(next);
      int64_t scanned = after / 60'000 * 60'000 + 60'000;
      while (!MatchesMinute(schedule.calendar, scanned)) scanned += 60'000;
      INFO(expression << " after " << FormatUtc(after));
      REQUIRE(FormatUtc(*next) == FormatUtc(scanned));
      after = *next;
    }
  }
}

TEST_CASE("cron: a year of quarter hours in one pass", "[reconciler][schedule]") {
  Schedule schedule = Cron("*/15 * * * *");
  int64_t t = At("2026-01-01T00:00:00Z");
  int fires = 0;
  while (true) {
    std::optional<int64_t> next = NextFireAfter(schedule, t);
    REQUIRE(next);
    REQUIRE(*next - t == 15 * 60'000);
    t = *next;
    if (t >= At("2027-01-01T00:00:00Z")) break;
    ++fires;
  }
  CHECK(fires == 365 * 96 - 1);
}

TEST_CASE("cron: malformed expressions say what to write", "[reconciler][schedule]") {
  CHECK(CronError("0 2 * *").find("has 4 fields; write five fields: minute hour day-of-month month day-of-week") !=
        std::string::npos);
  CHECK(CronError("0 0 2 * * *").find("six fields; seconds are not supported") != std::string::npos);
  CHECK(CronError("61 * * * *") == "cron expression '61 * * * *': minute 61 is out of range 0-59");
  CHECK(CronError("0 24 * * *").find("hour 24 is out of range 0-23") != std::string::npos);
  CHECK(CronError("0 0 0 * *").find("day-of-month 0 is out of range 1-31") != std::string::npos);
  CHECK(CronError("0 0 * foo *").find("month 'foo' is not a number or a name (jan..dec)") != std::string::npos);
  CHECK(CronError("0 0 * * mon-").find("day-of-week '' is not") != std::string::npos);
  CHECK(CronError("5-1 * * * *").find("range '5-1' runs backwards") != std::string::npos);
  CHECK(CronError("*/0 * * * *").find("step '0' must be a number from 1 to 59") != std::string::npos);
  CHECK(CronError("1,,2 * * * *").find("is not a value, range or step") != std::string::npos);
  CHECK(ErrorOf(Trigger({{"type", Str("cron")}})) == "a cron trigger needs an expression, e.g. expression: \"0 2 * * *\"");
}

TEST_CASE("interval triggers fire on a grid from the start (the epoch by default)", "[reconciler][schedule]") {
  Schedule quarter = Parsed(Trigger({{"type", Str("interval")}, {"interval", Str("15m")}}));
  CHECK(Next(quarter, "2026-03-10T10:07:00Z") == "2026-03-10T10:15:00Z");
  CHECK(Next(quarter, "2026-03-10T10:15:00Z") == "2026-03-10T10:30:00Z");
  CHECK(DescribeSchedule(quarter) == "every 15m");

  Schedule six_hours = Parsed(Trigger({{"type", Str("interval")}, {"interval", Str("6h")}}));
  CHECK(Next(six_hours, "2026-03-10T07:00:00Z") == "2026-03-10T12:00:00Z");
  CHECK(DescribeSchedule(six_hours) == "every 6h");
  CHECK(DescribeSchedule(Parsed(Trigger({{"type", Str("interval")}, {"interval", Str("1d")}}))) == "every 1d");
  CHECK(DescribeSchedule(Parsed(Trigger({{"type", Str("interval")}, {"interval", Str("PT1H30M")}}))) ==
        "every 1h30m");

  Schedule seconds = Parsed(Trigger(
      {{"type", Str("interval")}, {"interval", Value::Int(90)}, {"start_time", Str("2026-01-01T00:00:10Z")}}));
  CHECK(Next(seconds, "2025-06-01T00:00:00Z") == "2026-01-01T00:00:10Z");  // before the start: the start
  CHECK(Next(seconds, "2026-01-01T00:00:10Z") == "2026-01-01T00:01:40Z");
  CHECK(Next(seconds, "2026-01-01T00:05:00Z") == "2026-01-01T00:06:10Z");  // 00:04:40 + 90s
  CHECK(DescribeSchedule(seconds) == "every 1m30s from 2026-01-01T00:00:10Z");
}

TEST_CASE("recurrence triggers: plain ones on a grid, patterns on their times", "[reconciler][schedule]") {
  Schedule hourly = Parsed(Trigger({{"type", Str("recurrence")}, {"frequency", Str("hour")}, {"interval", Value::Int(6)}}));
  CHECK(Next(hourly, "2026-03-10T07:00:00Z") == "2026-03-10T12:00:00Z");
  CHECK(DescribeSchedule(hourly) == "every 6 hours");
  Schedule minutes =
      Parsed(Trigger({{"type", Str("recurrence")}, {"frequency", Str("minute")}, {"interval", Value::Int(15)}}));
  CHECK(Next(minutes, "2026-03-10T10:00:00Z") == "2026-03-10T10:15:00Z");

  Value times = Value::EmptyMap();
  times.Set("hours", Ints({9, 17}));
  times.Set("minutes", Ints({0, 30}));
  Schedule daily = Parsed(Trigger({{"type", Str("recurrence")}, {"frequency", Str("day")}, {"interval", Value::Int(1)},
                                   {"schedule", times}}));
  CHECK(Next(daily, "2026-03-10T09:10:00Z") == "2026-03-10T09:30:00Z");
  CHECK(Next(daily, "2026-03-10T17:30:00Z") == "2026-03-11T09:00:00Z");
  CHECK(DescribeSchedule(daily) == "every day at 09:00,09:30,17:00,17:30");

  // Every other week on Monday at 09:00, counted from the start's week.
  Value monday = Value::EmptyMap();
  monday.Set("week_days", Str("Monday"));
  monday.Set("hours", Value::Int(9));
  Schedule fortnightly =
      Parsed(Trigger({{"type", Str("recurrence")}, {"frequency", Str("week")}, {"interval", Value::Int(2)},
                      {"schedule", monday}, {"start_time", Str("2026-03-02T00:00:00Z")}}));
  CHECK(Next(fortnightly, "2026-01-01T00:00:00Z") == "2026-03-02T09:00:00Z");
  CHECK(Next(fortnightly, "2026-03-02T09:00:00Z") == "2026-03-16T09:00:00Z");  // skips the 9th
  CHECK(DescribeSchedule(fortnightly) == "every 2 weeks on mon at 09:00 from 2026-03-02T00:00:00Z");

  // Monthly on the start's day and time; a month without that day is skipped.
  Schedule monthly = Parsed(Trigger(
      {{"type", Str("recurrence")}, {"frequency", Str("month")}, {"start_time", Str("2026-01-31T08:00:00Z")}}));
  CHECK(Next(monthly, "2026-01-31T08:00:00Z") == "2026-03-31T08:00:00Z");
  CHECK(Next(monthly, "2026-03-31T08:00:00Z") == "2026-05-31T08:00:00Z");
  Value first_and_fifteenth = Value::EmptyMap();
  first_and_fifteenth.Set("month_days", Ints({1, 15}));
  Schedule twice_monthly = Parsed(Trigger({{"type", Str("recurrence")}, {"frequency", Str("month")},
                                           {"schedule", first_and_fifteenth}}));
  CHECK(Next(twice_monthly, "2026-03-10T00:00:00Z") == "2026-03-15T00:00:00Z");
  CHECK(Next(twice_monthly, "2026-03-15T00:00:00Z") == "2026-04-01T00:00:00Z");
}

TEST_CASE("start and end times bound the fires", "[reconciler][schedule]") {
  Schedule bounded = Parsed(Trigger({{"type", Str("cron")},
                                     {"expression", Str("0 2 * * *")},
                                     {"start_time", Str("2026-03-01T00:00:00+02:00")},
                                     {"end_time", Str("2026-03-03T02:00:00Z")},
                                     {"time_zone", Str("Etc/UTC")}}));
  CHECK(bounded.start_ms == At("2026-02-28T22:00:00Z"));
  CHECK(Next(bounded, "2026-01-01T00:00:00Z") == "2026-03-01T02:00:00Z");
  CHECK(Next(bounded, "2026-03-02T02:00:00Z") == "2026-03-03T02:00:00Z");  // exactly at the end: still fires
  CHECK(Next(bounded, "2026-03-03T02:00:00Z") == "none");
  CHECK(DescribeSchedule(bounded) ==
        "cron 0 2 * * * from 2026-02-28T22:00:00Z until 2026-03-03T02:00:00Z");
  CHECK(DescribeSchedule(Cron("0  2 * *   *")) == "cron 0 2 * * *");
  // The reference example's start time has no offset: UTC.
  CHECK(Parsed(Trigger({{"type", Str("cron")}, {"expression", Str("0 2 * * *")},
                        {"start_time", Str("2025-01-01T02:00:00")}}))
            .start_ms == At("2025-01-01T02:00:00Z"));
  CHECK(ParseIsoTime("2026-01-01T00:00:00.250Z") == At("2026-01-01T00:00:00Z"));
  CHECK(ParseIsoTime("2026-01-01T05:30-0530") == At("2026-01-01T11:00:00Z"));
  CHECK(ParseIsoTime("2026-01-01") == At("2026-01-01T00:00:00Z"));
  CHECK_FALSE(ParseIsoTime("2026-02-29T00:00:00Z"));
  CHECK_FALSE(ParseIsoTime("2026-01-01T25:00:00Z"));
  CHECK_FALSE(ParseIsoTime("tomorrow"));
}

TEST_CASE("bad triggers, times and zones give clear errors", "[reconciler][schedule]") {
  CHECK(ErrorOf(Trigger({{"type", Str("cron")}, {"expression", Str("0 2 * * *")}, {"time_zone", Str("Europe/Berlin")}})) ==
        "time zone 'Europe/Berlin' is not supported yet, so this schedule is not run; amlc runs schedules in UTC: "
        "write time_zone: UTC and give the times in UTC");
  CHECK(ErrorOf(Trigger({{"type", Str("interval")}, {"interval", Str("6h")},
                         {"time_zone", Str("Pacific Standard Time")}})) ==
        "time zone 'Pacific Standard Time' is not supported yet, so this schedule is not run; amlc runs schedules in "
        "UTC: write time_zone: UTC and give the times in UTC");
  CHECK(ErrorOf(Trigger({{"type", Str("hourly")}})) ==
        "schedule trigger type 'hourly' is not one of cron, recurrence, interval");
  CHECK(ErrorOf(Value::String("0 2 * * *")).find("must be a mapping") != std::string::npos);
  CHECK(ErrorOf(Trigger({{"type", Str("interval")}, {"interval", Str("15x")}})) ==
        "interval \"15x\" is not a duration; write seconds (300) or a duration such as 90s, 15m, 6h or 1d");
  CHECK(ErrorOf(Trigger({{"type", Str("interval")}, {"interval", Value::Int(0)}})).find("is not a duration") !=
        std::string::npos);
  CHECK(ErrorOf(Trigger({{"type", Str("interval")}})).find("needs an interval") != std::string::npos);
  CHECK(ErrorOf(Trigger({{"type", Str("recurrence")}, {"frequency", Str("fortnight")}})) ==
        "recurrence frequency 'fortnight' is not one of minute, hour, day, week, month");
  CHECK(ErrorOf(Trigger({{"type", Str("recurrence")}, {"frequency", Str("day")}, {"interval", Value::Int(0)}})) ==
        "recurrence interval 0 must be a whole number of days, 1 or more");
  Value bad_hours = Value::EmptyMap();
  bad_hours.Set("hours", Ints({9, 24}));
  CHECK(ErrorOf(Trigger({{"type", Str("recurrence")}, {"frequency", Str("day")}, {"schedule", bad_hours}})) ==
        "schedule.hours takes whole numbers from 0 to 23, got 24");
  Value bad_day = Value::EmptyMap();
  bad_day.Set("week_days", Str("funday"));
  CHECK(ErrorOf(Trigger({{"type", Str("recurrence")}, {"frequency", Str("week")}, {"schedule", bad_day}})) ==
        "schedule.week_days: \"funday\" is not a day of the week (monday .. sunday)");
  CHECK(ErrorOf(Trigger({{"type", Str("cron")}, {"expression", Str("0 2 * * *")}, {"start_time", Str("soon")}})) ==
        "start_time \"soon\" is not an ISO 8601 time; write e.g. 2026-01-31T02:00:00Z (or +02:00 for an offset)");
  CHECK(ErrorOf(Trigger({{"type", Str("cron")},
                         {"expression", Str("0 2 * * *")},
                         {"start_time", Str("2026-02-01T00:00:00Z")},
                         {"end_time", Str("2026-01-01T00:00:00Z")}})) ==
        "end_time 2026-01-01T00:00:00Z is before start_time 2026-02-01T00:00:00Z");
}

TEST_CASE("problems say which value, item or cron field is at fault", "[reconciler][schedule]") {
  auto first = [](const Value& trigger) {
    ParsedTrigger parsed = ParseScheduleTrigger(trigger);
    REQUIRE_FALSE(parsed.problems.empty());
    return parsed.problems.front();
  };
  auto cron = first(Trigger({{"type", Str("cron")}, {"expression", Str("0  24 * * *")}}));
  CHECK(cron.field == std::vector<std::string>{"expression"});
  CHECK((cron.offset == 3 && cron.length == 2));  // "24", after two spaces
  auto listed = first(Trigger({{"type", Str("cron")}, {"expression", Str("5,61 * * * *")}}));
  CHECK((listed.offset == 2 && listed.length == 2));
  auto seconds = first(Trigger({{"type", Str("cron")}, {"expression", Str("30 0 2 * * *")}}));
  CHECK((seconds.offset == 0 && seconds.length == 2));
  CHECK(seconds.hint == "amlc's cron counts minutes: drop the seconds field and write \"0 2 * * *\"");
  auto empty_piece = first(Trigger({{"type", Str("cron")}, {"expression", Str("0 0 * * mon-")}}));
  CHECK((empty_piece.offset == 8 && empty_piece.length == 4));  // the whole field "mon-"

  Value hours = Value::EmptyMap();
  hours.Set("hours", Ints({9, 24}));
  auto item = first(Trigger({{"type", Str("recurrence")}, {"frequency", Str("day")}, {"schedule", hours}}));
  CHECK(item.field == std::vector<std::string>{"schedule", "hours"});
  CHECK(item.item == 1u);
  CHECK(item.length == 0);

  auto zone = first(Trigger({{"type", Str("cron")}, {"expression", Str("0 2 * * *")}, {"time_zone", Str("CET")}}));
  CHECK(zone.severity == amlc::compiler::Severity::kWarning);
  CHECK(zone.code == amlc::compiler::DiagCode::kUnsupported);
}

TEST_CASE("a field of another trigger type is a warning, and the schedule still runs", "[reconciler][schedule]") {
  ParsedTrigger parsed = ParseScheduleTrigger(
      Trigger({{"type", Str("cron")}, {"expression", Str("0 2 * * *")}, {"frequency", Str("day")}}));
  REQUIRE(parsed.schedule);
  REQUIRE(parsed.problems.size() == 1);
  CHECK(parsed.problems[0].severity == amlc::compiler::Severity::kWarning);
  CHECK(Text(parsed.problems[0]) ==
        "'frequency' has no meaning in a cron trigger; it is ignored; a cron trigger reads expression, start_time, "
        "end_time and time_zone");
}
