// Schedule triggers, read once in the compiler: every rule of cron,
// recurrence and interval triggers lives here, and each problem says which
// value (or which cron field inside an expression) is at fault, so the
// diagnostic's caret lands on it. What this accepts is exactly what the
// reconciler runs: it gets the parsed ir::Schedule, never the spec text.
#include "compiler/sema/schedule.h"

#include <algorithm>
#include <cctype>
#include <tuple>
#include <utility>

#include "compiler/sema/analyzer.h"
#include "base/duration.h"  // ParseDurationSeconds: one duration syntax for every spec field
#include "compiler/sema/binder.h"
#include "base/civil_time.h"

namespace amlc::compiler::sema {

namespace {

using ir::CalendarMask;
using ir::RecurrenceUnit;
using ir::Value;

// Longer periods are surely mistakes, and this keeps millisecond sums far
// from overflow.
constexpr int64_t kMaxPeriodSeconds = int64_t{100} * 366 * 86'400;

const char kCronHint[] = "write five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\"";
const char kTimeHint[] = "write e.g. 2026-01-31T02:00:00Z (or +02:00 for an offset)";

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool AllDigits(const std::string& text) {
  return !text.empty() && text.size() <= 9 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A piece of a cron expression and where it starts in it, so a problem can
// point at the piece.
struct Token {
  std::string text;
  size_t offset = 0;
};

std::vector<Token> Words(const std::string& text) {
  std::vector<Token> words;
  for (size_t i = 0; i < text.size();) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    words.push_back({text.substr(start, i - start), start});
  }
  return words;
}

std::vector<Token> Split(const Token& token, char separator) {
  std::vector<Token> parts;
  size_t start = 0;
  while (true) {
    size_t end = token.text.find(separator, start);
    parts.push_back({token.text.substr(start, end - start), token.offset + start});
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

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

// Cron's rule: a field starting with '*' does not restrict the day.
bool RestrictsDays(const std::string& field) { return field[0] != '*' && field[0] != '?'; }

// The items of a scalar-or-list pattern field (hours: 9, hours: [9, 17]).
std::vector<const Value*> Items(const Value& value) {
  std::vector<const Value*> items;
  if (!value.is_list()) return {&value};
  for (const Value& item : value.items()) items.push_back(&item);
  return items;
}

// The fields each trigger type reads, besides type, start_time, end_time and time_zone.
std::vector<std::string> FieldsOf(const std::string& type) {
  if (type == "cron") return {"expression"};
  if (type == "recurrence") return {"frequency", "interval", "schedule"};
  if (type == "interval") return {"interval"};
  return {};
}

class TriggerReader {
 public:
  explicit TriggerReader(const Value& trigger) : trigger_(trigger) {}

  ParsedTrigger Read() {
    ParsedTrigger parsed;
    if (!trigger_.is_map()) {
      Problem({}, "a schedule trigger must be a mapping with a type: cron, recurrence or interval");
      parsed.problems = std::move(problems_);
      return parsed;
    }
    CheckTimeZone();
    ir::Schedule schedule;
    ReadStartAndEnd(schedule);
    std::string type = trigger_.StringAt("type");
    if (type == "cron") {
      ReadCron(schedule);
    } else if (type == "recurrence") {
      ReadRecurrence(schedule);
    } else if (type == "interval") {
      ReadInterval(schedule);
    } else if (type.empty()) {
      Problem({}, "a schedule trigger needs a type: cron, recurrence or interval");
    } else {
      Problem({"type"}, "schedule trigger type '" + type + "' is not one of cron, recurrence, interval");
    }
    WarnIgnoredFields(type);
    if (runnable_) parsed.schedule = std::move(schedule);
    parsed.problems = std::move(problems_);
    return parsed;
  }

 private:
  // ---- problems ----

  ScheduleProblem& Problem(std::vector<std::string> field, std::string message, std::string hint = "") {
    runnable_ = false;
    ScheduleProblem& problem = problems_.emplace_back();
    problem.field = std::move(field);
    problem.message = std::move(message);
    problem.hint = std::move(hint);
    return problem;
  }

  // A problem with one piece of the cron expression; an empty piece ("mon-"
  // ends in one) is shown by the whole cron field it belongs to.
  void CronProblem(const Token& token, std::string message, std::string hint = "") {
    const Token& where = token.text.empty() ? cron_field_ : token;
    ScheduleProblem& problem =
        Problem({"expression"}, "cron expression '" + cron_text_ + "': " + std::move(message), std::move(hint));
    problem.offset = where.offset;
    problem.length = std::max<size_t>(where.text.size(), 1);
  }

  void ItemProblem(const Value& list, const Value* item, const std::string& key, std::string message) {
    ScheduleProblem& problem = Problem({"schedule", key}, std::move(message));
    if (list.is_list()) problem.item = static_cast<size_t>(item - list.items().data());
  }

  // ---- fields every type has ----

  void CheckTimeZone() {
    const Value* zone = trigger_.Find("time_zone");
    if (!zone) return;
    std::string name = zone->is_string() ? zone->as_string() : zone->ToJson();
    if (name == "UTC" || name == "Etc/UTC") return;
    // Valid for Azure ML (it takes Windows zone names), but the reconciler
    // computes fire times in UTC only: running it would fire at other hours.
    ScheduleProblem& problem =
        Problem({"time_zone"}, "time zone '" + name + "' is not supported yet, so this schedule is not run",
                "amlc runs schedules in UTC: write time_zone: UTC and give the times in UTC");
    problem.severity = Severity::kWarning;
    problem.code = DiagCode::kUnsupported;
  }

  std::optional<int64_t> TimeField(const std::string& field) {
    const Value* value = trigger_.Find(field);
    if (!value || value->is_null()) return std::nullopt;
    std::optional<int64_t> time = value->is_string() ? ParseIsoTime(value->as_string()) : std::nullopt;
    if (!time) Problem({field}, field + " " + value->ToJson() + " is not an ISO 8601 time", kTimeHint);
    return time;
  }

  void ReadStartAndEnd(ir::Schedule& schedule) {
    std::optional<int64_t> start = TimeField("start_time");
    schedule.end_ms = TimeField("end_time");
    if (start) {
      schedule.start_ms = *start;
      schedule.has_start = true;
    }
    if (schedule.end_ms && schedule.has_start && *schedule.end_ms < schedule.start_ms) {
      Problem({"end_time"},
              "end_time " + FormatUtc(*schedule.end_ms) + " is before start_time " + FormatUtc(schedule.start_ms));
    }
  }

  // A field of another trigger type would be dropped without a word.
  void WarnIgnoredFields(const std::string& type) {
    std::vector<std::string> own = FieldsOf(type);
    if (own.empty()) return;  // an unknown type was reported already
    for (const auto& [key, value] : trigger_.entries()) {
      if (key == "type" || key == "start_time" || key == "end_time" || key == "time_zone") continue;
      if (std::find(own.begin(), own.end(), key) != own.end()) continue;
      std::string reads;
      for (const std::string& field : own) reads += field + ", ";
      ScheduleProblem& problem = problems_.emplace_back();
      problem.severity = Severity::kWarning;
      problem.field = {key};
      problem.message = "'" + key + "' has no meaning in a " + type + " trigger; it is ignored";
      problem.hint = "a " + type + " trigger reads " + reads + "start_time, end_time and time_zone";
    }
  }

  // ---- cron ----

  void ReadCron(ir::Schedule& schedule) {
    schedule.type = ir::ScheduleType::kCron;
    const Value* expression = trigger_.Find("expression");
    if (!expression || !expression->is_string() || expression->as_string().empty()) {
      Problem({}, "a cron trigger needs an expression, e.g. expression: \"0 2 * * *\"");
      return;
    }
    cron_text_ = expression->as_string();
    std::vector<Token> fields = Words(cron_text_);
    if (fields.size() != 5) {
      CronFieldCountProblem(fields);
      return;
    }
    const CronField* specs[] = {&kMinuteField, &kHourField, &kMonthDayField, &kMonthField, &kWeekDayField};
    uint64_t masks[5] = {};
    for (int i = 0; i < 5; ++i) masks[i] = CronFieldMask(fields[i], *specs[i]);
    schedule.cron_expression = fields[0].text;
    for (int i = 1; i < 5; ++i) schedule.cron_expression += " " + fields[i].text;
    CalendarMask& calendar = schedule.calendar;
    calendar.minutes = std::bitset<60>(masks[0]);
    calendar.hours = std::bitset<24>(masks[1]);
    calendar.month_days = std::bitset<32>(masks[2]);
    calendar.months = std::bitset<13>(masks[3]);
    calendar.week_days = std::bitset<7>(masks[4] | (masks[4] >> 7));  // 7 is Sunday, as 0 is
    calendar.month_days_restricted = RestrictsDays(fields[2].text);
    calendar.week_days_restricted = RestrictsDays(fields[4].text);
  }

  // Six fields are Quartz's or Spring's cron with seconds first: point at
  // the seconds and show the five-field form. Other counts get the shape.
  void CronFieldCountProblem(const std::vector<Token>& fields) {
    if (fields.size() == 6) {
      std::string five = fields[1].text;
      for (size_t i = 2; i < 6; ++i) five += " " + fields[i].text;
      ScheduleProblem& problem =
          Problem({"expression"}, "cron expression '" + cron_text_ + "' has six fields; seconds are not supported",
                  "amlc's cron counts minutes: drop the seconds field and write \"" + five + "\"");
      problem.offset = fields[0].offset;
      problem.length = fields[0].text.size();
      return;
    }
    Problem({"expression"},
            "cron expression '" + cron_text_ + "' has " + std::to_string(fields.size()) + " field" +
                (fields.size() == 1 ? "" : "s"),
            kCronHint);
  }

  // The values one cron field allows, as a bit mask (0 after a problem).
  uint64_t CronFieldMask(const Token& field, const CronField& spec) {
    cron_field_ = field;
    uint64_t mask = 0;
    for (const Token& item : Split(field, ',')) {
      if (!AddCronItem(item, spec, mask)) return 0;
    }
    return mask;
  }

  // One value of a field: a number in range or, for months and week days, a name.
  std::optional<int> CronValue(const Token& token, const CronField& field) {
    if (AllDigits(token.text)) {
      int value = std::stoi(token.text);
      if (value >= field.min && value <= field.max) return value;
      CronProblem(token, std::string(field.label) + " " + token.text + " is out of range " +
                             std::to_string(field.min) + "-" + std::to_string(field.max));
      return std::nullopt;
    }
    std::string lower = Lower(token.text);
    for (size_t i = 0; i < field.names.size(); ++i) {
      if (field.names[i] == lower) return field.min + static_cast<int>(i);
    }
    std::string expected = field.names.empty()
                               ? "a number"
                               : "a number or a name (" + field.names.front() + ".." + field.names.back() + ")";
    CronProblem(token, std::string(field.label) + " '" + token.text + "' is not " + expected);
    return std::nullopt;
  }

  // The values one comma-separated item allows: *, N, A-B, each with an optional /STEP.
  bool AddCronItem(const Token& item, const CronField& field, uint64_t& mask) {
    std::vector<Token> parts = Split(item, '/');
    if (parts.size() > 2 || parts[0].text.empty()) {
      CronProblem(item, std::string(field.label) + " '" + item.text + "' is not a value, range or step", kCronHint);
      return false;
    }
    int step = 1;
    if (parts.size() == 2) {
      const Token& step_token = parts[1];
      if (!AllDigits(step_token.text) || std::stoi(step_token.text) == 0 || std::stoi(step_token.text) > field.max) {
        CronProblem(step_token, std::string(field.label) + " step '" + step_token.text +
                                    "' must be a number from 1 to " + std::to_string(field.max));
        return false;
      }
      step = std::stoi(step_token.text);
    }
    int low = field.min, high = field.max;
    if (parts[0].text != "*" && parts[0].text != "?") {
      std::optional<std::pair<int, int>> range = CronRange(parts[0], field, parts.size() == 2);
      if (!range) return false;
      std::tie(low, high) = *range;
    }
    for (int value = low; value <= high; value += step) mask |= uint64_t{1} << value;
    return true;
  }

  // "N" or "A-B"; with a step, "N" alone runs to the field's end ("5/15"),
  // as in Vixie cron.
  std::optional<std::pair<int, int>> CronRange(const Token& range, const CronField& field, bool stepped) {
    std::vector<Token> bounds = Split(range, '-');
    if (bounds.size() > 2) {
      CronProblem(range, std::string(field.label) + " range '" + range.text + "' is malformed");
      return std::nullopt;
    }
    std::optional<int> low = CronValue(bounds[0], field);
    if (!low) return std::nullopt;
    if (bounds.size() == 1) return std::make_pair(*low, stepped ? field.max : *low);
    std::optional<int> high = CronValue(bounds[1], field);
    if (!high) return std::nullopt;
    if (*high < *low) {
      CronProblem(range, std::string(field.label) + " range '" + range.text +
                             "' runs backwards; write the smaller value first");
      return std::nullopt;
    }
    return std::make_pair(*low, *high);
  }

  // ---- recurrence ----

  void ReadRecurrence(ir::Schedule& schedule) {
    schedule.type = ir::ScheduleType::kRecurrence;
    std::optional<RecurrenceUnit> unit = ReadFrequency();
    if (!unit) return;
    schedule.unit = *unit;
    schedule.interval = ReadRecurrenceInterval(*unit);
    const Value* pattern = trigger_.Find("schedule");
    if (!pattern || pattern->is_null()) return;
    if (!pattern->is_map()) {
      Problem({"schedule"}, "a recurrence's schedule must be a mapping of hours, minutes, week_days, month_days");
      return;
    }
    schedule.calendar = RecurrencePattern(*pattern, *unit, schedule.start_ms);
    schedule.has_pattern = true;
  }

  std::optional<RecurrenceUnit> ReadFrequency() {
    static const std::pair<const char*, RecurrenceUnit> kUnits[] = {{"minute", RecurrenceUnit::kMinute},
                                                                     {"hour", RecurrenceUnit::kHour},
                                                                     {"day", RecurrenceUnit::kDay},
                                                                     {"week", RecurrenceUnit::kWeek},
                                                                     {"month", RecurrenceUnit::kMonth}};
    std::string frequency = Lower(trigger_.StringAt("frequency"));
    for (auto [name, unit] : kUnits) {
      if (frequency == name) return unit;
    }
    if (frequency.empty()) {
      Problem({}, "a recurrence trigger needs a frequency: minute, hour, day, week or month");
    } else {
      Problem({"frequency"}, "recurrence frequency '" + frequency + "' is not one of minute, hour, day, week, month");
    }
    return std::nullopt;
  }

  int64_t ReadRecurrenceInterval(RecurrenceUnit unit) {
    const Value* value = trigger_.Find("interval");
    if (!value) return 1;
    int64_t count = value->type() == Value::Type::kInt                     ? value->as_int()
                    : value->is_string() && AllDigits(value->as_string()) ? std::stoll(value->as_string())
                                                                            : 0;
    if (count < 1) {
      Problem({"interval"}, "recurrence interval " + value->ToJson() + " must be a whole number of " +
                                trigger_.StringAt("frequency") + "s, 1 or more");
    } else if (count > kMaxPeriodSeconds / ir::UnitSeconds(unit)) {
      Problem({"interval"}, "recurrence interval " + value->ToJson() + " is longer than 100 years");
    }
    return count;
  }

  // A recurrence's pattern as a calendar mask; fields not given follow the
  // start time (a daily recurrence starting at 09:30 fires at 09:30).
  CalendarMask RecurrencePattern(const Value& pattern, RecurrenceUnit unit, int64_t start_ms) {
    CivilTime start = ToCivil(start_ms);
    CalendarMask mask;
    mask.months.set();
    mask.month_days.set();
    mask.week_days.set();
    mask.hours.set();
    mask.minutes.set();
    if (unit >= RecurrenceUnit::kHour) mask.minutes = std::bitset<60>().set(start.minute);
    if (unit >= RecurrenceUnit::kDay) mask.hours = std::bitset<24>().set(start.hour);
    const Value* week_days = pattern.Find("week_days");
    if (unit == RecurrenceUnit::kWeek) mask.week_days = std::bitset<7>().set(start.week_day);
    if (unit == RecurrenceUnit::kMonth && !week_days) mask.month_days = std::bitset<32>().set(start.day);
    if (const Value* minutes = pattern.Find("minutes")) mask.minutes = std::bitset<60>(IntegerSet(*minutes, "minutes", 0, 59));
    if (const Value* hours = pattern.Find("hours")) mask.hours = std::bitset<24>(IntegerSet(*hours, "hours", 0, 23));
    if (week_days) mask.week_days = std::bitset<7>(WeekDaySet(*week_days));
    if (const Value* days = pattern.Find("month_days")) {
      mask.month_days = std::bitset<32>(IntegerSet(*days, "month_days", 1, 31));
    }
    return mask;  // both day fields must match: the OR rule is cron's alone
  }

  // An integer or a list of them, each in [low, high], as a bit mask.
  uint64_t IntegerSet(const Value& value, const std::string& key, int low, int high) {
    std::vector<const Value*> items = Items(value);
    if (items.empty()) Problem({"schedule", key}, "schedule." + key + " is empty; give at least one value");
    uint64_t mask = 0;
    for (const Value* item : items) {
      if (item->type() != Value::Type::kInt || item->as_int() < low || item->as_int() > high) {
        ItemProblem(value, item, key,
                    "schedule." + key + " takes whole numbers from " + std::to_string(low) + " to " +
                        std::to_string(high) + ", got " + item->ToJson());
        return 0;
      }
      mask |= uint64_t{1} << item->as_int();
    }
    return mask;
  }

  // "monday" or a list of days ("mon" and any case too), as a mask with bit 0 = Sunday.
  uint64_t WeekDaySet(const Value& value) {
    std::vector<const Value*> items = Items(value);
    if (items.empty()) Problem({"schedule", "week_days"}, "schedule.week_days is empty; give at least one day");
    uint64_t mask = 0;
    for (const Value* item : items) {
      std::string day = item->is_string() ? Lower(item->as_string()) : "";
      int found = -1;
      for (int i = 0; i < 7; ++i) {
        std::string name = ir::kWeekDayNames[i];
        if (!day.empty() && (day == name || day == name.substr(0, 3))) found = i;
      }
      if (found < 0) {
        ItemProblem(value, item, "week_days",
                    "schedule.week_days: " + item->ToJson() + " is not a day of the week (monday .. sunday)");
        return 0;
      }
      mask |= uint64_t{1} << found;
    }
    return mask;
  }

  // ---- interval ----

  void ReadInterval(ir::Schedule& schedule) {
    schedule.type = ir::ScheduleType::kInterval;
    const Value* value = trigger_.Find("interval");
    if (!value) {
      Problem({}, "an interval trigger needs an interval: seconds (300) or a duration such as 15m, 6h or 1d");
      return;
    }
    int64_t seconds = value->type() == Value::Type::kInt ? value->as_int()
                      : value->is_string()                ? ParseDurationSeconds(value->as_string())
                                                          : -1;
    if (seconds <= 0) {
      Problem({"interval"}, "interval " + value->ToJson() + " is not a duration",
              "write seconds (300) or a duration such as 90s, 15m, 6h or 1d");
    } else if (seconds > kMaxPeriodSeconds) {
      Problem({"interval"}, "interval " + value->ToJson() + " is longer than 100 years");
    }
    schedule.period_seconds = seconds;
  }

  const Value& trigger_;
  std::vector<ScheduleProblem> problems_;
  bool runnable_ = true;
  std::string cron_text_;  // the expression being read, for messages
  Token cron_field_;       // the cron field being read, shown for an empty piece of it
};

}  // namespace

ParsedTrigger ParseScheduleTrigger(const ir::Value& trigger) { return TriggerReader(trigger).Read(); }

// ---- the analyzer's schedule check ------------------------------------------------------------------

namespace {

// Where a resource keeps its trigger: a top-level job's `schedule`, a
// schedule spec's `trigger` (pipeline steps have no schedule of their own).
const char* TriggerField(const ir::Resource& resource) {
  if (resource.kind == "job" && resource.parent.empty()) return "schedule";
  if (resource.kind == "schedule") return "trigger";
  return nullptr;
}

}  // namespace

void Analyzer::CheckSchedule(size_t index) {
  const char* field = TriggerField(declared_[index].resource);
  const ir::Value* trigger = field ? declared_[index].resource.spec.Find(field) : nullptr;
  if (!trigger) return;  // a schedule spec's missing trigger is the binder's (it is required)
  const ast::Node* trigger_node = FieldNode(index, {field});
  ParsedTrigger parsed = ParseScheduleTrigger(*trigger);
  for (const ScheduleProblem& problem : parsed.problems) ReportScheduleProblem(index, trigger_node, problem);
  std::optional<std::string> job = ScheduledJob(index);  // its warnings too, whatever the trigger's
  if (!parsed.schedule || !job) return;
  // The reconciler's own question, asked once here: a schedule that can
  // never fire would otherwise wait forever without a word.
  const ir::Schedule& schedule = *parsed.schedule;
  if (!ir::NextFireAfter(schedule, schedule.start_ms - 1)) {
    ScheduleProblem never;
    if (schedule.type == ir::ScheduleType::kCron) never.field = {"expression"};
    diagnostics_
        .Warning(DiagCode::kInvalidValue, ScheduleProblemRange(index, trigger_node, never),
                 "this schedule never fires: " +
                     std::string(schedule.end_ms ? "no fire time falls between its start and end_time"
                                                 : "no date matches it"))
        .Hint("the reconciler starts no run for it; check the day and month fields");
    return;
  }
  declared_[index].resource.scheduled = ir::ScheduledRun{*job, *parsed.schedule};
}

// The job a scheduled resource starts: a job itself, or the job a schedule
// spec's create_job names. nullopt, with a warning saying why, when an
// enabled schedule spec would start nothing amlc can run.
std::optional<std::string> Analyzer::ScheduledJob(size_t index) {
  const ir::Resource& resource = declared_[index].resource;
  if (resource.kind == "job") return resource.id();
  const ir::Value* enabled = resource.spec.Find("is_enabled");
  if (enabled && enabled->type() == ir::Value::Type::kBool && !enabled->as_bool()) return std::nullopt;
  const ir::Value* job = resource.spec.Find("create_job");
  if (job && job->is_ref() && !job->as_ref().external) return job->as_ref().target;
  const std::string prefix = "schedule '" + resource.name + "' ";
  if (!job) {
    if (resource.spec.Find("create_monitor")) return std::nullopt;  // the binder warned: not supported
    diagnostics_.Warning(DiagCode::kMissingField, resource.range, prefix + "has no create_job, so it starts nothing")
        .Hint("name the job to run: create_job: azureml:NAME, or a job file such as ./job.yml");
  } else if (job->is_ref()) {
    diagnostics_
        .Warning(DiagCode::kUnsupported, FieldRange(index, {"create_job"}),
                 prefix + "is not run: its job '" + job->as_ref().target + "' is not declared in these specs")
        .Hint("the reconciler starts only jobs that these specs declare");
  } else {
    diagnostics_
        .Warning(DiagCode::kUnsupported, FieldRange(index, {"create_job"}),
                 prefix + "is not run: a create_job with fields of its own (a job file plus overrides) is not supported yet")
        .Hint("declare the job with those fields in a spec of its own and name it: create_job: azureml:NAME");
  }
  return std::nullopt;
}

void Analyzer::ReportScheduleProblem(size_t index, const ast::Node* trigger, const ScheduleProblem& problem) {
  SourceRange range = ScheduleProblemRange(index, trigger, problem);
  // The schema's rules (type, enums, mappings) are the binder's to report;
  // one error per place is enough.
  if (problem.severity == Severity::kError && HasErrorAt(range)) return;
  Diagnostic& diagnostic = problem.severity == Severity::kError
                               ? diagnostics_.Error(problem.code, range, problem.message)
                               : diagnostics_.Warning(problem.code, range, problem.message);
  if (!problem.hint.empty()) diagnostic.Hint(problem.hint);
}

// The problem's value in the source: down `field` from the trigger, to the
// list item, to the part of a string; as far down as the source goes.
SourceRange Analyzer::ScheduleProblemRange(size_t index, const ast::Node* trigger,
                                           const ScheduleProblem& problem) const {
  if (!trigger) return declared_[index].resource.range;
  const ast::Node* node = trigger;
  for (const std::string& key : problem.field) {
    const ast::Node* child = node->is_mapping() ? node->Find(key) : nullptr;
    if (!child) return node->range;
    node = child;
  }
  if (problem.item && node->kind == ast::NodeKind::kSequence && *problem.item < node->items.size()) {
    node = &node->items[*problem.item];
  }
  if (problem.length == 0 || !node->is_scalar() || !node->range.valid()) return node->range;
  return ast::PartRange(*node, specs_.sources().contents(node->range.file), problem.offset, problem.length);
}

bool Analyzer::HasErrorAt(SourceRange range) const {
  const std::vector<Diagnostic>& reported = diagnostics_.diagnostics();
  return std::any_of(reported.begin(), reported.end(), [&](const Diagnostic& diagnostic) {
    return diagnostic.severity == Severity::kError && diagnostic.range == range;
  });
}

}  // namespace amlc::compiler::sema
